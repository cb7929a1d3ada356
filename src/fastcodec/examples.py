"""Example configurations and inputs for every codec, in one place: ``fastcodec demo``,
``fastcodec bench``, ``benchmarks/`` and the tests draw from here.

A codec added to the registry gets an entry in :data:`CONFIGS` (``tests/test_cli.py``
checks that every registered codec has one); :func:`encode_inputs` and
:func:`model_output` say how to call its ``encode`` and ``decode`` when its arguments
are not MMPose's usual ``(keypoints, keypoints_visible)`` and ``(heatmaps,)``.
"""
from __future__ import annotations

import json
from importlib import resources
from typing import Any, Callable, Dict, List, Sequence, Tuple

import numpy as np

#: One or more MMPose-style configs per codec, in the settings MMPose's own configs
#: use (COCO-17, 192x256 input, 48x64 heatmaps; SimCC in RTMPose's setting).
CONFIGS: List[Dict[str, Any]] = [
    dict(type='MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0),
    dict(type='MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0,
         unbiased=True),
    dict(type='UDPHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0),
    dict(type='UDPHeatmap', input_size=(192, 256), heatmap_size=(48, 64),
         heatmap_type='combined'),
    dict(type='MegviiHeatmap', input_size=(192, 256), heatmap_size=(48, 64), kernel_size=11),
    dict(type='SimCCLabel', input_size=(192, 256), sigma=(4.9, 5.66), simcc_split_ratio=2.0),
    dict(type='SimCCLabel', input_size=(192, 256), sigma=(4.9, 5.66), simcc_split_ratio=2.0,
         use_dark=True),
    dict(type='RegressionLabel', input_size=(192, 256)),
    dict(type='IntegralRegressionLabel', input_size=(192, 256), heatmap_size=(48, 64),
         sigma=2.0),
    dict(type='SPR', input_size=(192, 256), heatmap_size=(48, 64), sigma=(2.0, 1.0),
         generate_keypoint_heatmaps=True),
    dict(type='DecoupledHeatmap', input_size=(192, 256), heatmap_size=(48, 64)),
    dict(type='AssociativeEmbedding', input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0,
         decode_keypoint_order=list(range(17))),
    dict(type='Hand3DHeatmap', image_size=[192, 256], heatmap_size=[48, 64, 64]),
    dict(type='SimCC3DLabel', input_size=(192, 256, 192), sigma=(4.9, 5.66, 4.9),
         root_index=0),
    dict(type='EDPoseLabel', num_select=1, num_keypoints=17),
    dict(type='YOLOXPoseAnnotationProcessor', expand_bbox=True),
    dict(type='ImagePoseLifting', num_keypoints=17, root_index=0),
    dict(type='VideoPoseLifting', num_keypoints=17, zero_center=True, root_index=0),
    dict(type='MotionBERTLabel', num_keypoints=17, root_index=0, mode='train'),
]

#: Codecs that lift 2-D keypoints to 3-D: encode also takes a 3-D target.
LIFTING = ('ImagePoseLifting', 'VideoPoseLifting', 'MotionBERTLabel')
#: Codecs whose decode returns nothing (MMPose's annotation processors).
ENCODE_ONLY = ('YOLOXPoseAnnotationProcessor',)
#: Codecs whose MMPose class decodes torch tensors only; AssociativeEmbedding's decode
#: raises NotImplementedError there, so MMPose is timed with batch_decode on a batch of one.
MMPOSE_TORCH = ('SPR', 'AssociativeEmbedding')
CAMERA = dict(w=192, h=256)

#: COCO-17 limbs (pairs of keypoint indices), for drawing the sample's skeleton.
COCO17_SKELETON = ((15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12),
                   (5, 6), (5, 7), (6, 8), (7, 9), (8, 10), (1, 2), (0, 1), (0, 2),
                   (1, 3), (2, 4), (3, 5), (4, 6))


def label(cfg: Dict[str, Any]) -> str:
    """A short name for a config: the codec and the options that set it apart."""
    extra = [f'{k}={v}' for k, v in cfg.items()
             if k not in ('type', 'input_size', 'image_size', 'heatmap_size', 'sigma',
                          'num_keypoints', 'root_index', 'decode_keypoint_order')]
    return cfg['type'] + (f"({', '.join(extra)})" if extra else '')


def load_sample() -> Tuple[np.ndarray, np.ndarray, dict]:
    """The bundled annotation: keypoints (1, 17, 2) float32, visibility (1, 17), and the
    JSON record (names, input size)."""
    text = resources.files('fastcodec').joinpath('data/sample_annotation.json').read_text()
    sample = json.loads(text)
    kps = np.asarray(sample['keypoints'], np.float32)
    return kps[None, :, :2], kps[None, :, 2], sample


def lifting_target(kps: np.ndarray) -> np.ndarray:
    """A 3-D target for a 2-D sample (..., K, 2): its x, y and a made-up depth per
    keypoint (1000 + 10 k)."""
    depth = 1000 + 10 * np.arange(kps.shape[-2], dtype=np.float32)
    depth = np.broadcast_to(depth[:, None], kps.shape[:-1] + (1,))
    return np.concatenate([kps, depth.astype(kps.dtype)], axis=-1)


def sample_depth(kps: np.ndarray) -> np.ndarray:
    """A made-up depth per keypoint (..., K, 1): 10 k - 80, inside Hand3DHeatmap's
    default depth range (+-200)."""
    depth = 10 * np.arange(kps.shape[-2], dtype=np.float32) - 80
    return np.broadcast_to(depth[:, None], kps.shape[:-1] + (1,)).astype(kps.dtype)


def keypoint_box(kps: np.ndarray, vis: np.ndarray, shrink: float = 0.0) -> np.ndarray:
    """Each instance's box (N, 4) x1y1x2y2 around its visible keypoints, each side moved
    inwards by ``shrink`` times the box's size."""
    shown = (vis > 0.5)[..., None]
    lo = np.where(shown, kps, np.inf).min(axis=-2)
    hi = np.where(shown, kps, -np.inf).max(axis=-2)
    return np.concatenate([lo + shrink * (hi - lo), hi - shrink * (hi - lo)], axis=-1)


def encode_inputs(cfg: Dict[str, Any], kps: np.ndarray, vis: np.ndarray) -> tuple:
    """``encode``'s positional and keyword arguments for keypoints (1, K, 2) and
    visibility (1, K), and the keypoints ``decode`` should give back (None for a codec
    that does not decode)."""
    kind = cfg['type']
    if kind == 'Hand3DHeatmap':  # x, y in image pixels, depth relative to the root
        kps3 = np.concatenate([kps, sample_depth(kps)], axis=-1)
        return (kps3, vis), dict(dataset_keypoint_weights=None, rel_root_depth=0.0,
                                 rel_root_valid=1.0, hand_type=np.array([[1, 0]]),
                                 hand_type_valid=np.array([1]), focal=None,
                                 principal_pt=None), kps3
    if kind == 'SimCC3DLabel':  # depth in metres; decoded relative to the root
        k3d = np.concatenate([kps, sample_depth(kps) / 100], axis=-1)
        rel = k3d[..., 2:] - k3d[:, :1, 2:]
        return (kps, k3d, vis), {}, np.concatenate([kps, rel], axis=-1)
    if kind == 'EDPoseLabel':  # img_shape (w, h), keypoints, visible, area, bboxes
        box = keypoint_box(kps, vis)
        area = np.prod(box[:, 2:] - box[:, :2], axis=-1)
        return ((CAMERA['w'], CAMERA['h']), kps, vis, area, box), {}, kps
    if kind == 'YOLOXPoseAnnotationProcessor':  # a box too small, expanded to the keypoints
        return (kps, vis, keypoint_box(kps, vis, shrink=0.25), [1]), {}, None
    if kind not in LIFTING:
        return (kps, vis), {}, kps
    target = lifting_target(kps)
    expected = target - target[:, :1] if cfg['type'] == 'MotionBERTLabel' else target
    camera = {} if cfg['type'] == 'ImagePoseLifting' else dict(camera_param=CAMERA)
    return (kps, vis, target), camera, expected


def model_output(cfg: Dict[str, Any], encoded: dict) -> tuple:
    """What a model trained on this codec's targets would output, from ``encoded``:
    ``decode``'s positional arguments."""
    kind = cfg['type']
    if kind in ENCODE_ONLY:
        return ()
    if kind == 'SimCCLabel':
        return encoded['keypoint_x_labels'], encoded['keypoint_y_labels']
    if kind == 'SimCC3DLabel':
        return tuple(encoded[f'keypoint_{axis}_labels'] for axis in 'xyz')
    if kind == 'Hand3DHeatmap':  # the (K * D, H, W) targets as the head's (K, D, H, W)
        heat = encoded['heatmaps']
        k = encoded['keypoint_weights'].shape[-1]
        return heat.reshape(k, -1, *heat.shape[1:]), np.array([32.0]), np.array([[1, 0]])
    if kind == 'EDPoseLabel':  # one query, certain, with the encoded box and keypoints
        points = np.concatenate([encoded['keypoints'].reshape(1, -1),
                                 encoded['keypoints_visible'].reshape(1, -1)], axis=1)
        return (np.array([CAMERA['h'], CAMERA['w']]), np.ones((1, 1), np.float32),
                encoded['bbox'].reshape(1, 4), points)
    if kind == 'AssociativeEmbedding':  # one tag map per keypoint: n + 1 on person n
        heatmaps = encoded['heatmaps']
        tags = np.zeros_like(heatmaps)
        index = encoded['keypoint_indices']
        for n, k in zip(*np.nonzero(index[..., 1])):
            tags[k].reshape(-1)[index[n, k, 0]] = n + 1
        return heatmaps, tags
    if kind in ('RegressionLabel', 'IntegralRegressionLabel'):
        return (encoded['keypoint_labels'],)
    if kind == 'SPR':
        return encoded['heatmaps'], encoded['displacements']
    if kind == 'MotionBERTLabel':  # root-relative, scaled back by w and h
        return (encoded['lifting_target_label'], np.array([CAMERA['w']], np.float64),
                np.array([CAMERA['h']], np.float64))
    if kind in LIFTING:
        return encoded['lifting_target_label'], encoded['target_root']
    if kind == 'DecoupledHeatmap':  # the instance maps, every root scored 1
        maps = encoded['instance_heatmaps']
        m, k = len(encoded['instance_coords']), len(encoded['keypoint_weights'][0])
        return maps.reshape(m, k, *maps.shape[1:]), np.ones((m, 1), np.float32)
    return (encoded['heatmaps'],)


def decoded_keypoints(cfg: Dict[str, Any], result: Any) -> Any:
    """The keypoints (N, K, D) among ``decode``'s results; None for a codec that does not
    decode."""
    if cfg['type'] in ENCODE_ONLY:
        return None
    return result[1] if cfg['type'] == 'EDPoseLabel' else result[0]


def mmpose_decoder(cfg: Dict[str, Any], ref: Any) -> Callable[[Sequence[np.ndarray]], Any]:
    """A function decoding ``model_output``'s arrays with MMPose's class ``ref``, on
    fresh copies (MMPose's DARK decoders overwrite their input), as torch tensors where
    MMPose takes only those (:data:`MMPOSE_TORCH`)."""
    kind = cfg['type']

    def decode(args: Sequence[np.ndarray]) -> Any:
        copies = [np.array(a, copy=True) for a in args]
        if kind in MMPOSE_TORCH:
            import torch
            copies = [torch.from_numpy(c) for c in copies]
        if kind == 'AssociativeEmbedding':
            return ref.batch_decode(*[c[None] for c in copies])
        return ref.decode(*copies)

    return decode
