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
from typing import Any, Dict, List, Tuple

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
    dict(type='ImagePoseLifting', num_keypoints=17, root_index=0),
    dict(type='VideoPoseLifting', num_keypoints=17, zero_center=True, root_index=0),
    dict(type='MotionBERTLabel', num_keypoints=17, root_index=0, mode='train'),
]

#: Codecs that lift 2-D keypoints to 3-D: encode also takes a 3-D target.
LIFTING = ('ImagePoseLifting', 'VideoPoseLifting', 'MotionBERTLabel')
CAMERA = dict(w=192, h=256)

#: COCO-17 limbs (pairs of keypoint indices), for drawing the sample's skeleton.
COCO17_SKELETON = ((15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12),
                   (5, 6), (5, 7), (6, 8), (7, 9), (8, 10), (1, 2), (0, 1), (0, 2),
                   (1, 3), (2, 4), (3, 5), (4, 6))


def label(cfg: Dict[str, Any]) -> str:
    """A short name for a config: the codec and the options that set it apart."""
    extra = [f'{k}={v}' for k, v in cfg.items()
             if k not in ('type', 'input_size', 'heatmap_size', 'sigma', 'num_keypoints',
                          'root_index')]
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


def encode_inputs(cfg: Dict[str, Any], kps: np.ndarray, vis: np.ndarray) -> tuple:
    """``encode``'s positional and keyword arguments for keypoints (1, K, 2) and
    visibility (1, K), and the keypoints ``decode`` should give back."""
    if cfg['type'] not in LIFTING:
        return (kps, vis), {}, kps
    target = lifting_target(kps)
    expected = target - target[:, :1] if cfg['type'] == 'MotionBERTLabel' else target
    camera = {} if cfg['type'] == 'ImagePoseLifting' else dict(camera_param=CAMERA)
    return (kps, vis, target), camera, expected


def model_output(cfg: Dict[str, Any], encoded: dict) -> tuple:
    """What a model trained on this codec's targets would output, from ``encoded``:
    ``decode``'s positional arguments."""
    if cfg['type'] == 'SimCCLabel':
        return encoded['keypoint_x_labels'], encoded['keypoint_y_labels']
    if cfg['type'] in ('RegressionLabel', 'IntegralRegressionLabel'):
        return (encoded['keypoint_labels'],)
    if cfg['type'] == 'SPR':
        return encoded['heatmaps'], encoded['displacements']
    if cfg['type'] == 'MotionBERTLabel':  # root-relative, scaled back by w and h
        return (encoded['lifting_target_label'], np.array([CAMERA['w']], np.float64),
                np.array([CAMERA['h']], np.float64))
    if cfg['type'] in LIFTING:
        return encoded['lifting_target_label'], encoded['target_root']
    if cfg['type'] == 'DecoupledHeatmap':  # the instance maps, every root scored 1
        maps = encoded['instance_heatmaps']
        m, k = len(encoded['instance_coords']), len(encoded['keypoint_weights'][0])
        return maps.reshape(m, k, *maps.shape[1:]), np.ones((m, 1), np.float32)
    return (encoded['heatmaps'],)
