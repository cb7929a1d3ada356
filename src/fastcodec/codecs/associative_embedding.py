"""AssociativeEmbedding: Gaussian heatmaps and tag grouping of HigherHRNet / AE (bottom-up).

Drop-in for ``mmpose.codecs.AssociativeEmbedding`` of MMPose 1.3.2 (Newell et al.,
NeurIPS 2017, "Associative Embedding: End-to-End Learning for Joint Detection and
Grouping"). Decoding runs in one kernel call for the whole batch: heatmap NMS and top-k,
the keypoint-by-keypoint grouping with the Hungarian matching of munkres 1.x (the same
assignment, ties included), the refinement and the filling of missing keypoints.
"""
from __future__ import annotations

from numbers import Real
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np

from fastcodec import _calls
from fastcodec._arrays import (NUMPY, Call, check_kernel_size, check_ndim, check_positive,
                               check_size, heatmaps_f32, open_call, weights_from)
from fastcodec.codecs.base import BaseKeypointCodec
from fastcodec.errors import mmpose_check_error
from fastcodec.registry import register

_NO_LIMIT = np.iinfo(np.int64).max  # decode_max_instances=None
_INT64_MIN = np.int64(np.iinfo(np.int64).min)
_TWO_63 = 2.0**63


def x86_int64(xp, v):
    """``v.astype(np.int64)`` as numpy computes it on x86 (MMPose's platform), on any
    device: truncation, and INT64_MIN for NaN and values out of range (a CUDA
    conversion saturates them, or gives 0 for NaN). Host arrays: numpy's own."""
    if xp is np:
        return v.astype(np.int64)
    inside = xp.less(xp.abs(v), _TWO_63)
    return xp.where(inside, xp.asarray(xp.where(inside, v, 0), dtype=np.int64), _INT64_MIN)


def _check_int(v: Any, name: str, low: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f'{name} must be an integer, got {v!r}')
    if v < low:
        raise ValueError(f'{name} must be >= {low}, got {v}')
    return int(v)


def _check_odd(k: Any, name: str, mmpose_wording: str) -> int:
    """An odd kernel size; an even integer fails MMPose's assertion (MMPose checks the
    NMS kernel in batch_heatmap_nms and the blur kernel in gaussian_blur, at decoding;
    fastcodec at construction)."""
    if isinstance(k, (int, np.integer)) and not isinstance(k, bool) and k % 2 == 0:
        raise mmpose_check_error(f'{name} must be an odd integer, got {k}', mmpose_wording)
    return check_kernel_size(k, name)


def _check_number(v: Any, name: str) -> float:
    if isinstance(v, bool) or not isinstance(v, Real):
        raise TypeError(f'{name} must be a number, got {v!r}')
    return float(v)


@register
class AssociativeEmbedding(BaseKeypointCodec):
    """Keypoints of several people as Gaussian heatmaps plus their heatmap position
    indices; decoded from heatmaps and tag maps by grouping candidates by tag.

    Args (MMPose 1.3.2's):
        input_size: image size (w, h). heatmap_size: heatmap size (W, H).
        sigma: Gaussian sigma; None for sqrt(W * H) / 64.
        use_udp: UDP Gaussians and DARK-UDP refinement in decoding.
        decode_keypoint_order: the order in which keypoints are grouped (length K).
        decode_nms_kernel: NMS window (odd). decode_gaussian_kernel: the DARK-UDP blur
            (odd, use_udp only). decode_keypoint_thr: candidates need a value above it.
        decode_tag_thr: the largest tag distance that joins a group.
        decode_topk: candidates per keypoint. decode_center_shift: added to detected
            keypoints (heatmap pixels). decode_max_instances: keep the first this many
            groups (Python slice semantics), None for all.

    encode(keypoints (N, K, 2), keypoints_visible (N, K)) -> heatmaps (K, H, W) float32,
        keypoint_indices (N, K, 2) int64 ([y * W + x, visible]), keypoint_weights (N, K).
    batch_decode(batch_heatmaps (B, K, H, W), batch_tags (B, L * K, H, W)) -> three
        lists of B numpy arrays, as MMPose: keypoints (N_b, K, 2) float32 in input-image
        pixels, keypoint scores (N_b, K) float32, instance scores (N_b,) float32.
    decode(heatmaps (K, H, W), tags (L * K, H, W)) -> the three arrays of one image.
    Decoding returns numpy arrays for torch and device inputs too, as MMPose's does
    (on the cuda backend the decode runs on the device; only its results are copied).
    """

    single_instance = False
    device_ready = True  # the cuda backend runs it on device arrays (decode returns numpy)

    def __init__(self, input_size: Tuple[int, int], heatmap_size: Tuple[int, int],
                 sigma: Optional[float] = None, use_udp: bool = False,
                 decode_keypoint_order: Sequence[int] = [], decode_nms_kernel: int = 5,
                 decode_gaussian_kernel: int = 3, decode_keypoint_thr: float = 0.1,
                 decode_tag_thr: float = 1.0, decode_topk: int = 30,
                 decode_center_shift: float = 0.0,
                 decode_max_instances: Optional[int] = None) -> None:
        check_size(input_size, 'input_size')
        W, H = check_size(heatmap_size, 'heatmap_size')
        if use_udp and (W < 2 or H < 2):
            raise ValueError(f'use_udp needs heatmap_size of at least (2, 2): it divides by '
                             f'(size - 1), got {heatmap_size!r}')
        try:
            order = [int(i) for i in decode_keypoint_order]
        except (TypeError, ValueError) as err:
            raise TypeError(f'decode_keypoint_order must be a sequence of integers, '
                            f'got {decode_keypoint_order!r}') from err
        if any(i != j for i, j in zip(order, decode_keypoint_order)):
            raise TypeError(f'decode_keypoint_order must hold integers, '
                            f'got {decode_keypoint_order!r}')
        self.input_size = input_size
        self.heatmap_size = heatmap_size
        self.use_udp = bool(use_udp)
        self.decode_nms_kernel = _check_odd(
            decode_nms_kernel, 'decode_nms_kernel',
            f'The kernel_size should be an odd integer, got {decode_nms_kernel}')
        self.decode_gaussian_kernel = _check_odd(decode_gaussian_kernel,
                                                 'decode_gaussian_kernel', 'kernel % 2 == 1')
        self._thresholds = (_check_number(decode_keypoint_thr, 'decode_keypoint_thr'),
                            _check_number(decode_tag_thr, 'decode_tag_thr'))
        self._center_shift = _check_number(decode_center_shift, 'decode_center_shift')
        self.decode_keypoint_thr = decode_keypoint_thr
        self.decode_tag_thr = decode_tag_thr
        self.decode_topk = _check_int(decode_topk, 'decode_topk', 0)
        self.decode_center_shift = decode_center_shift
        if decode_max_instances is not None:
            _check_int(decode_max_instances, 'decode_max_instances', -_NO_LIMIT)
        self.decode_max_instances = decode_max_instances
        self.decode_keypoint_order = list(decode_keypoint_order).copy()
        self._order = order
        if self.use_udp:
            self.scale_factor = ((np.array(input_size) - 1) /
                                 (np.array(heatmap_size) - 1)).astype(np.float32)
        else:
            self.scale_factor = (np.array(input_size) / heatmap_size).astype(np.float32)
        if sigma is None:
            sigma = (heatmap_size[0] * heatmap_size[1])**0.5 / 64
        check_positive(sigma, 'sigma')
        self.sigma = sigma

    # ---- encoding -------------------------------------------------------------------
    def _encode_batch(self, call, keypoints, visible):
        xy, vis, f32 = self._kernel_inputs(call, keypoints, visible)
        W, H = self.heatmap_size
        sigmas = call.full(xy.shape[1], float(self.sigma))
        heatmaps, inside = _calls.encode_gaussian(
            call, 'udp' if self.use_udp else 'msra', xy, vis, sigmas, self._scale, f32, W, H)
        # _encode_keypoint_indices: (keypoints / scale_factor + 0.5).astype(int64) in the
        # keypoints' precision, index y * W + x (int64, wrapping), visibility > 0.5 inside
        # (xp's functions, not operators: on a device they queue on the call's stream)
        xp = call.xp
        with np.errstate(invalid='ignore', over='ignore'):
            ij = x86_int64(xp, xp.add(xp.divide(keypoints, xp.asarray(self.scale_factor)), 0.5))
        x, y = ij[..., 0], ij[..., 1]
        vis_inside = xp.greater(visible, 0.5)
        for bound in (xp.greater_equal(x, 0), xp.less(x, W), xp.greater_equal(y, 0),
                      xp.less(y, H)):
            vis_inside = xp.logical_and(vis_inside, bound)
        indices = xp.stack((xp.add(xp.multiply(y, W), x), xp.asarray(vis_inside, dtype=np.int64)),
                           axis=-1)
        return dict(heatmaps=heatmaps, keypoint_indices=indices,
                    keypoint_weights=weights_from(call, visible, inside))

    # ---- decoding -------------------------------------------------------------------
    def decode(self, heatmaps: Any, tags: Any) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Decode one image: heatmaps (K, H, W) and tags (L * K, H, W) -> keypoints
        (N, K, 2) float32 in input-image pixels, scores (N, K), instance scores (N,).
        (MMPose's own ``decode`` raises NotImplementedError; this is its
        ``batch_decode`` on a batch of one.)"""
        call = open_call((heatmaps, tags), ('heatmaps', 'tags'), self)
        heat, tag = call.array(heatmaps, 'heatmaps'), call.array(tags, 'tags')
        check_ndim(heat, 'heatmaps', (3,), '(K, H, W)')
        check_ndim(tag, 'tags', (3,), '(L * K, H, W)')
        keypoints, scores, instance_scores = self._decode(call, heat[None], tag[None])
        return keypoints[0], scores[0], instance_scores[0]

    def batch_decode(self, batch_heatmaps: Any, batch_tags: Any
                     ) -> Tuple[List[np.ndarray], List[np.ndarray], List[np.ndarray]]:
        """Decode B images: heatmaps (B, K, H, W) and tags (B, L * K, H, W) -> lists of
        keypoints (N_b, K, 2) in input-image pixels, scores (N_b, K) and instance scores
        (N_b,), float32 numpy arrays, as MMPose's AssociativeEmbeddingHead expects."""
        call = open_call((batch_heatmaps, batch_tags), ('batch_heatmaps', 'batch_tags'), self)
        heat = call.array(batch_heatmaps, 'batch_heatmaps')
        check_ndim(heat, 'batch_heatmaps', (4,), '(B, K, H, W)')
        tag = call.array(batch_tags, 'batch_tags')
        check_ndim(tag, 'batch_tags', (4,), '(B, L * K, H, W)')
        return self._decode(call, heat, tag)

    def _decode(self, call: Call, heat: np.ndarray, tag: np.ndarray):
        B, K, H, W = heat.shape
        if tag.shape[0] != B or tag.shape[2:4] != (H, W):
            raise mmpose_check_error(
                'tags must be (B, L * K, H, W) to match heatmaps (B, K, H, W)',
                f'Mismatched shapes of heatmap ({tuple(heat.shape)}) and tagging map '
                f'({tuple(tag.shape)})')
        C = tag.shape[1]
        if K == 0 and C != 0 or K and (C % K or C < K):
            raise ValueError(f'tags must have L * K channels (L >= 1) for K = {K} heatmaps, '
                             f'got {C}')
        if len(self._order) != K:
            raise mmpose_check_error(f'decode_keypoint_order has {len(self._order)} entries; '
                                     f'the heatmaps have K = {K} keypoints',
                                     'len(keypoint_order) == K')
        if any(not -K <= i < K for i in self._order):
            raise ValueError(f'decode_keypoint_order entries must be in [-{K}, {K}), '
                             f'got {self.decode_keypoint_order}')
        if self.decode_topk > H * W:
            raise ValueError(f'decode_topk = {self.decode_topk} exceeds the {H * W} pixels '
                             f'of a {H} x {W} heatmap')
        heat = heatmaps_f32(call, heat)
        tag = call.xp.ascontiguousarray(tag, dtype=np.float32)
        order = call.xp.asarray(np.array([i % K for i in self._order], dtype=np.int64))
        limit = self.decode_max_instances
        G = K * self.decode_topk
        if limit is not None and limit >= 0:
            G = min(G, limit)
        keypoints, scores, instance_scores, counts = _calls.ae_decode(
            call, heat, tag, order, self.decode_nms_kernel, self.decode_topk,
            *self._thresholds, _NO_LIMIT if limit is None else int(limit), self.use_udp,
            self.decode_gaussian_kernel, self._center_shift, self._scale, G)
        if call.X is not NUMPY:  # MMPose's results are numpy arrays whatever the input
            keypoints, scores, instance_scores, counts = (
                call.xp.asnumpy(a) for a in (keypoints, scores, instance_scores, counts))
            if (counts < 0).any():  # a kernel's refusal (launch.ae_decode): never expected
                raise RuntimeError(f'the {call.X.device} decode refused its arguments '
                                   f'(counts {counts.tolist()})')
        return ([keypoints[b, :n] for b, n in enumerate(counts)],
                [scores[b, :n] for b, n in enumerate(counts)],
                [instance_scores[b, :n] for b, n in enumerate(counts)])

    def _config(self):
        return dict(input_size=self.input_size, heatmap_size=self.heatmap_size,
                    sigma=self.sigma, use_udp=self.use_udp,
                    decode_keypoint_order=self.decode_keypoint_order,
                    decode_nms_kernel=self.decode_nms_kernel,
                    decode_gaussian_kernel=self.decode_gaussian_kernel,
                    decode_keypoint_thr=self.decode_keypoint_thr,
                    decode_tag_thr=self.decode_tag_thr, decode_topk=self.decode_topk,
                    decode_center_shift=self.decode_center_shift,
                    decode_max_instances=self.decode_max_instances)
