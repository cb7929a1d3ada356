"""Data transforms as in MMPose 1.x's top-down pipeline, on a ``results`` dict.

Keys used: ``img`` (H, W, 3) uint8 RGB, ``bbox`` (N, 4) xyxy, ``bbox_center`` (N, 2),
``bbox_scale`` (N, 2), ``bbox_rotation`` (N,), ``keypoints`` (N, K, 2),
``keypoints_visible`` (N, K), ``flip_indices`` (K,), ``input_size`` (w, h),
``input_center`` / ``input_scale`` (2,) after TopdownAffine, ``targets`` after
GenerateTarget.
"""
from __future__ import annotations

import math
from typing import Dict, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch

import fastcodec


def _rotate_point(pt, angle_rad):
    s, c = np.sin(angle_rad), np.cos(angle_rad)
    return np.array([pt[0] * c - pt[1] * s, pt[0] * s + pt[1] * c])


def _third_point(a, b):
    d = a - b
    return b + np.r_[-d[1], d[0]]


def get_warp_matrix(center, scale, rot, output_size, inv=False) -> np.ndarray:
    """MMPose's ``get_warp_matrix`` (fix_aspect_ratio=True, no shift): the 2x3 affine
    that maps the box (center, scale) rotated by ``rot`` degrees onto output_size."""
    center = np.asarray(center, np.float64)
    src_w = float(scale[0])
    dst_w, dst_h = output_size
    rot_rad = np.deg2rad(rot)
    src_dir = _rotate_point(np.array([src_w * -0.5, 0.0]), rot_rad)
    dst_dir = np.array([dst_w * -0.5, 0.0])
    src = np.zeros((3, 2), np.float32)
    dst = np.zeros((3, 2), np.float32)
    src[0] = center
    src[1] = center + src_dir
    dst[0] = [dst_w * 0.5, dst_h * 0.5]
    dst[1] = np.array([dst_w * 0.5, dst_h * 0.5]) + dst_dir
    src[2] = _third_point(src[0], src[1])
    dst[2] = _third_point(dst[0], dst[1])
    if inv:
        return cv2.getAffineTransform(dst, src)
    return cv2.getAffineTransform(src, dst)


def get_udp_warp_matrix(center, scale, rot, output_size) -> np.ndarray:
    """MMPose's ``get_udp_warp_matrix`` (unbiased data processing)."""
    input_size = np.asarray(center, np.float64) * 2
    r = np.deg2rad(rot)
    m = np.zeros((2, 3), np.float32)
    sx = (output_size[0] - 1) / scale[0]
    sy = (output_size[1] - 1) / scale[1]
    m[0, 0] = math.cos(r) * sx
    m[0, 1] = -math.sin(r) * sx
    m[0, 2] = sx * (-0.5 * input_size[0] * math.cos(r) + 0.5 * input_size[1] * math.sin(r)
                    + 0.5 * scale[0])
    m[1, 0] = math.sin(r) * sy
    m[1, 1] = math.cos(r) * sy
    m[1, 2] = sy * (-0.5 * input_size[0] * math.sin(r) - 0.5 * input_size[1] * math.cos(r)
                    + 0.5 * scale[1])
    return m


def fix_aspect_ratio(scale: np.ndarray, aspect_ratio: float) -> np.ndarray:
    """Grow (w, h) boxes to the aspect ratio w / h (MMPose's ``_fix_aspect_ratio``)."""
    w, h = np.hsplit(np.asarray(scale, np.float32), [1])
    return np.where(w > h * aspect_ratio, np.hstack([w, w / aspect_ratio]),
                    np.hstack([h * aspect_ratio, h])).astype(np.float32)


def _truncnorm(rng, size, low=-1.0, high=1.0):
    out = rng.standard_normal(size)
    bad = (out < low) | (out > high)
    while bad.any():
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = (out < low) | (out > high)
    return out


class Compose:
    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, results: dict) -> dict:
        for t in self.transforms:
            results = t(results)
        return results


class LoadImage:
    """Read ``img_path`` (cv2) as RGB into ``img``; keeps a small cache when asked."""

    def __init__(self, cache: bool = False):
        self.cache = {} if cache else None

    def __call__(self, results):
        path = results['img_path']
        if self.cache is not None and path in self.cache:
            img = self.cache[path]
        else:
            img = cv2.imread(path, cv2.IMREAD_COLOR)
            if img is None:
                raise FileNotFoundError(path)
            img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
            if self.cache is not None:
                self.cache[path] = img
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        return results


class GetBBoxCenterScale:
    """bbox (N, 4) xyxy -> bbox_center (N, 2), bbox_scale (N, 2) = size * padding."""

    def __init__(self, padding: float = 1.25):
        self.padding = padding

    def __call__(self, results):
        bbox = np.asarray(results['bbox'], np.float32)
        results['bbox_center'] = (bbox[:, :2] + bbox[:, 2:]) * 0.5
        results['bbox_scale'] = (bbox[:, 2:] - bbox[:, :2]) * self.padding
        return results


class RandomFlip:
    """Horizontal flip of image, box centre and keypoints (swapping left and right
    with ``flip_indices``), with probability ``prob``."""

    def __init__(self, prob: float = 0.5, seed: Optional[int] = None):
        self.prob = prob
        self.rng = np.random.default_rng(seed)

    def __call__(self, results):
        results['flip'] = False
        if self.rng.random() >= self.prob:
            return results
        results['flip'] = True
        img = results['img']
        w = img.shape[1]
        results['img'] = np.ascontiguousarray(img[:, ::-1])
        if 'bbox_center' in results:
            c = results['bbox_center'].copy()
            c[:, 0] = w - c[:, 0] - 1
            results['bbox_center'] = c
        if 'bbox' in results:
            b = results['bbox'].copy()
            b[:, [0, 2]] = w - b[:, [2, 0]] - 1
            results['bbox'] = b
        idx = results['flip_indices']
        kps = results['keypoints'][:, idx].copy()
        kps[..., 0] = w - 1 - kps[..., 0]
        results['keypoints'] = kps
        results['keypoints_visible'] = results['keypoints_visible'][:, idx].copy()
        return results


class RandomHalfBody:
    """With probability ``prob``, replace the box by one around the upper or the lower
    body's visible keypoints (MMPose's RandomHalfBody)."""

    def __init__(self, upper_body_ids: Sequence[int], lower_body_ids: Sequence[int],
                 min_total_keypoints: int = 9, min_upper_keypoints: int = 2,
                 min_lower_keypoints: int = 3, padding: float = 1.5, prob: float = 0.3,
                 upper_prioritized_prob: float = 0.7, seed: Optional[int] = None):
        self.upper, self.lower = list(upper_body_ids), list(lower_body_ids)
        self.min_total, self.min_upper, self.min_lower = (min_total_keypoints,
                                                          min_upper_keypoints,
                                                          min_lower_keypoints)
        self.padding, self.prob, self.upper_prob = padding, prob, upper_prioritized_prob
        self.rng = np.random.default_rng(seed)

    def __call__(self, results):
        centers, scales = results['bbox_center'].copy(), results['bbox_scale'].copy()
        for i, (kps, vis) in enumerate(zip(results['keypoints'], results['keypoints_visible'])):
            if vis.sum() < self.min_total or self.rng.random() > self.prob:
                continue
            up = [k for k in self.upper if vis[k] > 0]
            lo = [k for k in self.lower if vis[k] > 0]
            ids = None
            if len(up) >= self.min_upper and len(lo) >= self.min_lower:
                ids = up if self.rng.random() < self.upper_prob else lo
            elif len(up) >= self.min_upper:
                ids = up
            elif len(lo) >= self.min_lower:
                ids = lo
            if ids is None:
                continue
            pts = kps[ids]
            c = pts.mean(0)
            wh = (pts.max(0) - pts.min(0)) * self.padding
            aspect = scales[i, 0] / max(scales[i, 1], 1e-6)
            centers[i] = c
            scales[i] = fix_aspect_ratio(wh[None], aspect)[0]
        results['bbox_center'], results['bbox_scale'] = centers, scales
        return results


class RandomBBoxTransform:
    """Random shift, scale and rotation of the box (MMPose's RandomBBoxTransform,
    truncated normals in [-1, 1])."""

    def __init__(self, shift_factor=0.16, shift_prob=0.3, scale_factor=(0.5, 1.5),
                 scale_prob=1.0, rotate_factor=80.0, rotate_prob=0.6,
                 seed: Optional[int] = None):
        self.shift_factor, self.shift_prob = shift_factor, shift_prob
        self.scale_factor, self.scale_prob = scale_factor, scale_prob
        self.rotate_factor, self.rotate_prob = rotate_factor, rotate_prob
        self.rng = np.random.default_rng(seed)

    def __call__(self, results):
        n = results['bbox_center'].shape[0]
        r = self.rng
        offset = _truncnorm(r, (n, 2)) * self.shift_factor
        offset = np.where(r.random((n, 1)) < self.shift_prob, offset, 0.0)
        lo, hi = self.scale_factor
        scale = _truncnorm(r, (n, 1)) * (hi - lo) * 0.5 + (hi + lo) * 0.5
        scale = np.where(r.random((n, 1)) < self.scale_prob, scale, 1.0)
        rot = _truncnorm(r, (n,)) * self.rotate_factor
        rot = np.where(r.random(n) < self.rotate_prob, rot, 0.0)
        results['bbox_center'] = (results['bbox_center'] + offset * results['bbox_scale']
                                  ).astype(np.float32)
        results['bbox_scale'] = (results['bbox_scale'] * scale).astype(np.float32)
        results['bbox_rotation'] = rot.astype(np.float32)
        return results


class TopdownAffine:
    """Crop-and-resize the (first) box to ``input_size`` (w, h) with cv2.warpAffine and
    move the keypoints with it; ``use_udp`` picks MMPose's UDP warp."""

    def __init__(self, input_size: Tuple[int, int], use_udp: bool = False):
        self.input_size = tuple(int(v) for v in input_size)
        self.use_udp = use_udp

    def __call__(self, results):
        w, h = self.input_size
        scale = fix_aspect_ratio(results['bbox_scale'], w / h)
        center = results['bbox_center'][0]
        rot = float(results['bbox_rotation'][0]) if 'bbox_rotation' in results else 0.0
        if self.use_udp:
            m = get_udp_warp_matrix(center, scale[0], rot, (w, h))
        else:
            m = get_warp_matrix(center, scale[0], rot, (w, h))
        results['img'] = cv2.warpAffine(results['img'], m, (w, h), flags=cv2.INTER_LINEAR)
        if 'keypoints' in results:
            kps = results['keypoints']
            flat = kps.reshape(-1, 2).astype(np.float64)
            out = flat @ m[:, :2].T.astype(np.float64) + m[:, 2].astype(np.float64)
            results['keypoints'] = out.reshape(kps.shape).astype(np.float32)
        results['input_size'] = (w, h)
        results['input_center'] = center.astype(np.float32)
        results['input_scale'] = scale[0].astype(np.float32)
        return results


class BottomupRandomAffine:
    """Bottom-up training crop (MMPose's BottomupRandomAffine, 'short' scale type): the
    whole image fitted to ``input_size`` (w, h) with a random shift, scale and rotation;
    every instance's keypoints and boxes move with it."""

    def __init__(self, input_size: Tuple[int, int], shift_factor: float = 0.2,
                 scale_factor: Tuple[float, float] = (0.75, 1.5), rotate_factor: float = 30.0,
                 use_udp: bool = False, seed: Optional[int] = None):
        self.input_size = tuple(int(v) for v in input_size)
        self.shift_factor, self.scale_factor = shift_factor, scale_factor
        self.rotate_factor, self.use_udp = rotate_factor, use_udp
        self.rng = np.random.default_rng(seed)

    def __call__(self, results):
        h_img, w_img = results['img'].shape[:2]
        w, h = self.input_size
        center = np.array([w_img / 2, h_img / 2], np.float32)
        # 'short': the image's shorter side (relative to the input aspect) fills the input
        aspect = w / h
        scale = np.array([min(w_img, h_img * aspect), min(h_img, w_img / aspect)])
        r = self.rng
        center = center + _truncnorm(r, (2,)) * self.shift_factor * scale
        lo, hi = self.scale_factor
        scale = scale * (_truncnorm(r, (1,)) * (hi - lo) * 0.5 + (hi + lo) * 0.5)
        rot = float(_truncnorm(r, (1,))[0] * self.rotate_factor)
        results['bbox_center'] = center[None].astype(np.float32)
        results['bbox_scale'] = scale[None].astype(np.float32)
        results['bbox_rotation'] = np.array([rot], np.float32)
        return _warp_all(results, self.input_size, self.use_udp)


class BottomupResize:
    """Bottom-up test resize (MMPose's BottomupResize, 'fit' mode): the whole image
    scaled to fit ``input_size`` (w, h), keeping its aspect ratio, centred."""

    def __init__(self, input_size: Tuple[int, int], use_udp: bool = False):
        self.input_size = tuple(int(v) for v in input_size)
        self.use_udp = use_udp

    def __call__(self, results):
        h_img, w_img = results['img'].shape[:2]
        w, h = self.input_size
        results['bbox_center'] = np.array([[w_img / 2, h_img / 2]], np.float32)
        results['bbox_scale'] = fix_aspect_ratio(np.array([[w_img, h_img]], np.float32), w / h)
        results['bbox_rotation'] = np.zeros(1, np.float32)
        return _warp_all(results, self.input_size, self.use_udp)


def _warp_all(results, input_size, use_udp):
    """Warp the image by the (single) bbox_center/scale/rotation and move every
    instance's keypoints and boxes; boxes become the extent of their moved corners."""
    w, h = input_size
    center, scale = results['bbox_center'][0], results['bbox_scale'][0]
    rot = float(results['bbox_rotation'][0])
    m = (get_udp_warp_matrix(center, scale, rot, (w, h)) if use_udp
         else get_warp_matrix(center, scale, rot, (w, h)))
    results['img'] = cv2.warpAffine(results['img'], m, (w, h), flags=cv2.INTER_LINEAR)
    A, b = m[:, :2].astype(np.float64), m[:, 2].astype(np.float64)
    if 'keypoints' in results:
        kps = results['keypoints']
        results['keypoints'] = (kps.reshape(-1, 2) @ A.T + b).reshape(kps.shape).astype(
            np.float32)
    if 'bbox' in results and len(results['bbox']):
        bb = results['bbox']
        corners = np.stack([bb[:, [0, 1]], bb[:, [2, 1]], bb[:, [0, 3]], bb[:, [2, 3]]], 1)
        moved = corners.reshape(-1, 2) @ A.T + b
        moved = moved.reshape(-1, 4, 2)
        results['bbox'] = np.concatenate([moved.min(1), moved.max(1)], 1).astype(np.float32)
    results['input_size'] = (w, h)
    results['input_center'] = center.astype(np.float32)
    results['input_scale'] = scale.astype(np.float32)
    return results


class GenerateTarget:
    """Encode the keypoints with a fastcodec codec (built from its MMPose config dict):
    ``results['targets']`` holds the codec's arrays (heatmaps, labels, weights).
    Top-down codecs encode the first instance; ``multi_instance=True`` passes every
    instance (bottom-up codecs)."""

    def __init__(self, encoder: dict, multi_instance: bool = False):
        self.encoder_cfg = dict(encoder)
        self.codec = fastcodec.build(dict(encoder))
        self.multi_instance = multi_instance

    def __call__(self, results):
        n = None if self.multi_instance else 1
        enc = self.codec.encode(results['keypoints'][:n], results['keypoints_visible'][:n])
        results['targets'] = {k: np.asarray(v, np.float32) for k, v in enc.items()}
        return results


class PackPoseInputs:
    """Make the sample a flat dict of arrays that torch's default_collate can stack:
    inputs (3, h, w) uint8 RGB, keypoints (1, K, 2), keypoints_visible (1, K),
    targets (dict), meta arrays. ``max_instances`` (bottom-up) keeps up to that many
    instances, padded with invisible ones (and zero bbox_score), and adds
    ``num_instances``."""

    META = ('input_center', 'input_scale', 'bbox_score', 'img_id', 'id')

    def __init__(self, max_instances: Optional[int] = None):
        self.max_instances = max_instances

    def __call__(self, results):
        out = dict(inputs=torch.from_numpy(np.ascontiguousarray(
            results['img'].transpose(2, 0, 1))))
        kps = np.asarray(results['keypoints'], np.float32)
        vis = np.asarray(results['keypoints_visible'], np.float32)
        if self.max_instances is None:
            kps, vis = kps[:1], vis[:1]
        else:
            n = min(len(kps), self.max_instances)
            pk = np.zeros((self.max_instances,) + kps.shape[1:], np.float32)
            pv = np.zeros((self.max_instances,) + vis.shape[1:], np.float32)
            pk[:n], pv[:n] = kps[:n], vis[:n]
            kps, vis = pk, pv
            out['num_instances'] = np.int64(n)
        out['keypoints'] = kps
        out['keypoints_visible'] = vis
        if 'targets' in results:
            out['targets'] = results['targets']
        for k in self.META:
            if k in results:
                out[k] = np.asarray(results[k])
        if self.max_instances is not None and np.ndim(out.get('bbox_score')) == 1:
            bs = np.zeros(self.max_instances, np.float32)  # per instance: pad too
            n = min(len(out['bbox_score']), self.max_instances)
            bs[:n] = out['bbox_score'][:n]
            out['bbox_score'] = bs
        return out


def build_pipeline(cfgs: Sequence[Dict]) -> Compose:
    """Build transforms from MMPose-style dicts: dict(type='RandomFlip', prob=0.5)."""
    table = {c.__name__: c for c in (LoadImage, GetBBoxCenterScale, RandomFlip, RandomHalfBody,
                                     RandomBBoxTransform, TopdownAffine, BottomupRandomAffine,
                                     BottomupResize, GenerateTarget, PackPoseInputs)}
    out = []
    for cfg in cfgs:
        cfg = dict(cfg)
        typ = cfg.pop('type')
        if typ not in table:
            raise ValueError(f'unknown transform {typ!r}; known: {sorted(table)}')
        out.append(table[typ](**cfg))
    return Compose(out)
