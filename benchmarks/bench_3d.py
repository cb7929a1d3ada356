"""fastcodec against MMPose: the 3-D codecs, timed side by side.

    pytest benchmarks/bench_3d.py --benchmark-json RUN.json
    python benchmarks/report.py RUN.json --png speedups.png --md speedups.md

Conventions in _harness.py; the targets are C++ ones (numba's rows are recorded).
Inputs:
- Hand3DHeatmap as InterNet trains it on InterHand2.6M (MMPose's config: image
  256x256, 64^3 volumes, sigma 2.5, max_bound 255, 42 keypoints, one instance);
  keypoints uniform in the padded box, depths within the bound. Decoding inputs are
  MMPose-encoded volumes plus Gaussian noise (sigma 0.01).
- SimCC3DLabel as RTMW3D-L trains it (projects/rtmpose3d: input 288x384x288, sigma
  (6, 6.93, 6), split ratio 2, K = 133 whole-body keypoints, root (11, 12)), with a
  3-D target. MMPose's reference is loaded from a fetched MMPose source
  (tests/rtmpose3d_oracle.py); without one these cases skip. Its encode subtracts the
  root depth from keypoints_3d in place, so every call, MMPose's and fastcodec's,
  encodes a fresh copy (a copy of 133 x 3 values).
"""
from __future__ import annotations

import functools
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

import numpy as np
import pytest

import fastcodec as F
from _harness import (IMPLS, decoded_parity, encoded_parity, mmpose_codecs, page_floor,
                      read_floor, time_case, time_floor, variants, write_floor)

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'tests'))
from rtmpose3d_oracle import SKIP_REASON, load_simcc3d_label  # noqa: E402

SEED = 20251205
NOISE_SIGMA = 0.01

INTERNET = dict(image_size=[256, 256], root_heatmap_size=64, heatmap_size=[64, 64, 64],
                sigma=2.5, max_bound=255, depth_size=64)
RTMW3D = dict(input_size=(288, 384, 288), sigma=(6., 6.93, 6.), simcc_split_ratio=2.0,
              normalize=False, use_dark=False, root_index=(11, 12))


@dataclass(frozen=True)
class Case:
    name: str
    codec: str
    args: Dict[str, Any] = field(hash=False)
    op: str                    # 'encode' | 'decode'
    target: Optional[float]
    num_keypoints: int
    about: str = ''


CASES = [
    Case('encode_hand3d', 'Hand3DHeatmap', INTERNET, 'encode', 20, 42,
         about='42 Gaussian windows into 42 x 64^3 volumes'),
    Case('decode_hand3d', 'Hand3DHeatmap', INTERNET, 'decode', None, 42,
         about='42 argmaxes over 64^3 volumes'),
    Case('encode_simcc3d', 'SimCC3DLabel', RTMW3D, 'encode', 10, 133,
         about='133 x three 1-D Gaussian labels'),
    Case('decode_simcc3d', 'SimCC3DLabel', RTMW3D, 'decode', None, 133,
         about='133 x three 1-D argmaxes'),
]
CASE_BY_NAME = {case.name: case for case in CASES}


def reference_class(case: Case):
    if case.codec == 'SimCC3DLabel':
        cls = load_simcc3d_label()
        if cls is None:
            pytest.skip(SKIP_REASON)
        return cls
    return getattr(mmpose_codecs(), case.codec)


HAND_AUX = dict(dataset_keypoint_weights=np.ones(42), rel_root_depth=np.float32(20.0),
                rel_root_valid=1.0, hand_type=np.array([[1, 0]]),
                hand_type_valid=np.array([1]), focal=np.array([1000., 1000.]),
                principal_pt=np.array([128., 128.]))


@functools.lru_cache(maxsize=None)
def case_inputs(name: str):
    case = CASE_BY_NAME[name]
    rng = np.random.default_rng([SEED, CASES.index(case)])
    K = case.num_keypoints
    if case.codec == 'Hand3DHeatmap':
        kps = np.concatenate([rng.uniform(25, 231, (1, K, 2)),
                              rng.uniform(-180, 180, (1, K, 1))], axis=-1).astype(np.float32)
        if case.op == 'encode':
            return dict(keypoints=kps)
        heat = reference_class(case)(**case.args).encode(kps, None, **HAND_AUX)['heatmaps']
        heat = heat.reshape(K, 64, 64, 64) / np.float32(255)
        return dict(heatmaps=np.ascontiguousarray(
            heat + rng.normal(0, NOISE_SIGMA, heat.shape).astype(np.float32)))
    w, h, _ = case.args['input_size']
    kps = (rng.uniform(0, 1, (1, K, 2)) * [w - 1, h - 1]).astype(np.float32)
    k3d = np.concatenate([rng.normal(0, 0.3, (1, K, 2)), rng.normal(0, 0.5, (1, K, 1))],
                         axis=-1).astype(np.float32)
    vis = np.ones((1, K), np.float32)
    if case.op == 'encode':
        return dict(keypoints=kps, keypoints_3d=k3d, keypoints_visible=vis)
    enc = reference_class(case)(**case.args).encode(kps, k3d.copy(), vis)
    return {axis: np.ascontiguousarray(
        enc[f'keypoint_{axis}_labels']
        + rng.normal(0, NOISE_SIGMA, enc[f'keypoint_{axis}_labels'].shape).astype(np.float32))
        for axis in 'xyz'}


def make_call(case: Case, impl: str):
    inputs = case_inputs(case.name)
    cls = reference_class(case) if impl == 'mmpose' else getattr(F, case.codec)
    codec = cls(**case.args)
    if case.codec == 'Hand3DHeatmap':
        if case.op == 'encode':
            kps = inputs['keypoints']
            return lambda: codec.encode(kps, None, **HAND_AUX)
        heat = inputs['heatmaps']  # MMPose's decode copies the volumes itself
        return lambda: codec.decode(heat, np.array([30.0]), np.array([[0.3, -0.2]]))
    if case.op == 'encode':
        kps, k3d, vis = inputs['keypoints'], inputs['keypoints_3d'], inputs['keypoints_visible']
        return lambda: codec.encode(kps, k3d.copy(), vis)
    x, y, z = inputs['x'], inputs['y'], inputs['z']
    return lambda: codec.decode(x, y, z)


def parity(case: Case, ours, ref) -> Optional[str]:
    """None when fastcodec's output matches MMPose's within the test tolerances."""
    if case.op == 'encode':
        return encoded_parity(ours, ref)
    if case.codec == 'SimCC3DLabel':  # (keypoints, keypoints_simcc, scores)
        return decoded_parity((ours[0], ours[2]), (ref[0], ref[2]))
    return decoded_parity(ours, ref)


def make_floor(case: Case):
    """The case's memory floor (_harness.py). Hand3DHeatmap's volumes are sparse: their
    floor is the pages MMPose's non-zero values occupy, not the whole 44 MB."""
    if case.op == 'encode':
        encoded = make_call(case, 'mmpose')()
        if case.codec == 'Hand3DHeatmap':
            return page_floor(encoded['heatmaps'])
        return write_floor(encoded)
    inputs = case_inputs(case.name)
    return read_floor(np.concatenate([np.ravel(v) for v in inputs.values()]))


@pytest.mark.parametrize('impl', IMPLS + ['floor'])
@pytest.mark.parametrize('case,timing', variants(CASES))
def test_3d_codec(benchmark, case: Case, timing: str, impl: str):
    if impl == 'floor':
        time_floor(benchmark, case.name, make_floor(case), timing)
        return
    time_case(benchmark, case.name, impl,
              None if impl == 'numba' or timing != 'hot' else case.target,  # C++ targets only
              make_call(case, impl), make_call(case, 'mmpose'),
              lambda ours, ref: parity(case, ours, ref), timing=timing,
              op=case.op, num_keypoints=case.num_keypoints, codec=case.codec)
