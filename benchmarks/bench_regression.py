"""fastcodec against MMPose 1.3.2: the coordinate-regression codecs, timed side by side.

    pytest benchmarks/bench_regression.py --benchmark-json RUN.json
    python benchmarks/report.py RUN.json

Conventions in _harness.py; identical inputs for every implementation (fixed seed per
case).

RegressionLabel's work is a few flops per keypoint: a call is mostly fixed per-call
cost (argument checks, one kernel call), so these cases measure fastcodec's overhead
against MMPose's handful of numpy expressions.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

import numpy as np
import pytest

import fastcodec as F
from _harness import (IMPLS, decoded_parity, encoded_parity, mmpose_codecs,
                      time_case, variants)

SEED = 20240614


INTEGRAL = dict(input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0)
REGRESSION = dict(input_size=(192, 256))


@dataclass(frozen=True)
class Case:
    name: str
    codec: str
    args: Dict[str, Any] = field(hash=False)
    op: str                        # 'encode' | 'decode' | 'batch_encode' | 'batch_decode'
    target: Optional[float]        # C++ speed-up over MMPose; None: recorded only
    numba_target: Optional[float] = None  # the issue sets C++ targets only
    dim: int = 2                   # decode: 2 (x, y) or 4 (x, y, sigma_x, sigma_y)
    num_keypoints: int = 17
    batch: int = 1
    about: str = ''


CASES = [
    Case('encode_integral', 'IntegralRegressionLabel', INTEGRAL, 'encode', 10,
         about='normalised MSRA heatmaps + labels (DSNT / integral regression)'),
    Case('encode_integral_dark', 'IntegralRegressionLabel', dict(INTEGRAL, unbiased=True),
         'encode', 10, about='normalised DARK heatmaps + labels'),
    # RegressionLabel has no target in any issue: these rows are recorded only.
    Case('encode_regression', 'RegressionLabel', REGRESSION, 'encode', None, None,
         about='normalised coordinates + inside/visible weights'),
    Case('decode_regression', 'RegressionLabel', REGRESSION, 'decode', None, None, dim=2,
         about='(K, 2) outputs times the input size (MMPose: 3 numpy ops)'),
    Case('decode_regression_sigma', 'RegressionLabel', REGRESSION, 'decode', None, None,
         dim=4, about='(K, 4) outputs (RLE): coordinates and 1 - mean(sigma) scores'),
    Case('batch_encode_regression_64', 'RegressionLabel', REGRESSION, 'batch_encode', None,
         None, batch=64, about='64 samples: one batch_encode vs a Python loop of encode'),
    Case('batch_decode_regression_64', 'RegressionLabel', REGRESSION, 'batch_decode', None,
         None, dim=4, batch=64, about='64 samples: one batch_decode vs a Python loop of decode'),
]
CASE_BY_NAME = {case.name: case for case in CASES}


@functools.lru_cache(maxsize=None)
def case_inputs(name: str):
    """Identical inputs for every implementation of a case (fixed seed per case)."""
    case = CASE_BY_NAME[name]
    rng = np.random.default_rng([SEED, CASES.index(case)])
    w, h = case.args['input_size']
    keypoints = rng.uniform(0.0, 1.0, (case.batch, 1, case.num_keypoints, 2)) * [w - 1, h - 1]
    visible = np.ones((case.batch, 1, case.num_keypoints), dtype=np.float32)
    if case.op in ('encode', 'batch_encode'):
        return dict(keypoints=keypoints, keypoints_visible=visible)
    # Model outputs: normalised coordinates with noise, sigmas in (0, 1), float32.
    coords = keypoints / [w, h] + rng.normal(0.0, 0.01, keypoints.shape)
    if case.dim == 4:
        coords = np.concatenate([coords, rng.uniform(0.0, 1.0, coords.shape)], axis=-1)
    return dict(outputs=np.ascontiguousarray(coords, dtype=np.float32))


def make_call(case: Case, impl: str):
    inputs = case_inputs(case.name)
    module = mmpose_codecs() if impl == 'mmpose' else F
    codec = getattr(module, case.codec)(**case.args)
    if case.op == 'encode':
        kp, vis = inputs['keypoints'][0], inputs['keypoints_visible'][0]
        return lambda: codec.encode(kp, vis)
    if case.op == 'batch_encode':
        kps, vis = inputs['keypoints'], inputs['keypoints_visible']
        if impl == 'mmpose':
            return lambda: [codec.encode(k, v) for k, v in zip(kps, vis)]
        return lambda: codec.batch_encode(kps, vis)
    outputs = inputs['outputs']
    if case.op == 'decode':
        return lambda: codec.decode(outputs[0])
    if impl == 'mmpose':
        return lambda: [codec.decode(o) for o in outputs]
    return lambda: codec.batch_decode(outputs)


def parity(case: Case, ours, ref) -> Optional[str]:
    """None when fastcodec's output matches MMPose's within the test tolerances."""
    if case.op == 'batch_encode':
        ref = {key: np.stack([r[key] for r in ref]) for key in ref[0]}
    if case.op in ('encode', 'batch_encode'):
        return encoded_parity(ours, ref)
    if case.op == 'batch_decode':
        ref = (np.stack([r[0] for r in ref]), np.stack([r[1] for r in ref]))
    return decoded_parity(ours, ref)


@pytest.mark.parametrize('impl', IMPLS)
@pytest.mark.parametrize('case,timing', variants(CASES))
def test_regression_codec(benchmark, case: Case, timing: str, impl: str):
    time_case(benchmark, case.name, impl,
              None if timing != 'hot' else case.numba_target if impl == 'numba' else case.target,
              make_call(case, impl), make_call(case, 'mmpose'),
              lambda ours, ref: parity(case, ours, ref), timing=timing,
              op=case.op, num_keypoints=case.num_keypoints, batch=case.batch, dim=case.dim)
