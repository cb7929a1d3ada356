"""fastcodec against MMPose 1.3.2: the SimCC codec (RTMPose setting), timed side by side.

    pytest benchmarks/bench_simcc.py --benchmark-json RUN.json
    python benchmarks/report.py RUN.json --png speedups.png --md speedups.md

Conventions in _harness.py; the targets are C++ ones (numba's rows are recorded). Inputs: RTMPose's
SimCCLabel (input 192x256, sigma (4.9, 5.66), split ratio 2.0, K=17); decoding inputs
are MMPose-encoded labels of random keypoints plus Gaussian noise (sigma 0.01),
float32. MMPose's use_dark decode overwrites its inputs, so with use_dark every call,
MMPose's and fastcodec's alike, decodes fresh copies (copying is under 1% of either).
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
NOISE_SIGMA = 0.01

RTMPOSE = dict(input_size=(192, 256), sigma=(4.9, 5.66), simcc_split_ratio=2.0,
               normalize=False)


@dataclass(frozen=True)
class Case:
    name: str
    args: Dict[str, Any] = field(hash=False)
    op: str                    # 'encode' | 'decode' | 'batch_decode'
    target: float
    num_keypoints: int = 17
    batch: int = 1
    about: str = ''


CASES = [
    Case('encode_simcc', RTMPOSE, 'encode', 10, about='RTMPose Gaussian SimCC labels'),
    Case('decode_simcc', RTMPOSE, 'decode', 2, about='two 1-D argmaxes'),
    Case('decode_simcc_dark', dict(RTMPOSE, use_dark=True), 'decode', 30,
         about='argmax + 1-D blur (29 / 35 taps) + DARK step'),
    Case('batch_decode_simcc_256', RTMPOSE, 'batch_decode', 20, batch=256,
         about='256 SimCC outputs: one batch_decode vs a Python loop of decode'),
]
CASE_BY_NAME = {case.name: case for case in CASES}


@functools.lru_cache(maxsize=None)
def case_inputs(name: str):
    case = CASE_BY_NAME[name]
    rng = np.random.default_rng([SEED, CASES.index(case)])
    w, h = case.args['input_size']
    keypoints = rng.uniform(0.0, 1.0, (case.batch, 1, case.num_keypoints, 2)) * [w - 1, h - 1]
    visible = np.ones((case.batch, 1, case.num_keypoints), np.float32)
    if case.op == 'encode':
        return dict(keypoints=keypoints[0], keypoints_visible=visible[0])
    ref = mmpose_codecs().SimCCLabel(**case.args)
    enc = [ref.encode(kp, vis) for kp, vis in zip(keypoints, visible)]
    sx = np.stack([e['keypoint_x_labels'][0] for e in enc])      # (B, K, Wx)
    sy = np.stack([e['keypoint_y_labels'][0] for e in enc])
    sx = np.ascontiguousarray(sx + rng.normal(0, NOISE_SIGMA, sx.shape), np.float32)
    sy = np.ascontiguousarray(sy + rng.normal(0, NOISE_SIGMA, sy.shape), np.float32)
    if case.op == 'decode':  # one sample as a model head passes it: (N=1, K, W)
        return dict(simcc_x=sx[:1], simcc_y=sy[:1])
    return dict(simcc_x=sx, simcc_y=sy)


def make_call(case: Case, impl: str):
    inputs = case_inputs(case.name)
    module = mmpose_codecs() if impl == 'mmpose' else F
    codec = module.SimCCLabel(**case.args)
    if case.op == 'encode':
        kp, vis = inputs['keypoints'], inputs['keypoints_visible']
        return lambda: codec.encode(kp, vis)
    sx, sy = inputs['simcc_x'], inputs['simcc_y']
    if case.op == 'decode':
        if case.args.get('use_dark'):  # MMPose overwrites its input: fresh copies for all
            return lambda: codec.decode(sx.copy(), sy.copy())
        return lambda: codec.decode(sx, sy)
    if impl == 'mmpose':  # a head decodes each sample's (K, W) outputs one by one
        return lambda: [codec.decode(x, y) for x, y in zip(sx, sy)]
    return lambda: codec.batch_decode(sx, sy)


def parity(case: Case, ours, ref) -> Optional[str]:
    """None when fastcodec's output matches MMPose's within the test tolerances."""
    if case.op == 'encode':
        return encoded_parity(ours, ref)
    if case.op == 'batch_decode':
        ref = (np.stack([r[0] for r in ref]), np.stack([r[1] for r in ref]))
    return decoded_parity(ours, ref)


@pytest.mark.parametrize('impl', IMPLS)
@pytest.mark.parametrize('case,timing', variants(CASES))
def test_simcc_codec(benchmark, case: Case, timing: str, impl: str):
    time_case(benchmark, case.name, impl,
              None if impl == 'numba' or timing != 'hot' else case.target,  # C++ targets only
              make_call(case, impl), make_call(case, 'mmpose'),
              lambda ours, ref: parity(case, ours, ref), timing=timing,
              op=case.op, num_keypoints=case.num_keypoints, batch=case.batch,
              simcc_size=[int(round(v * case.args['simcc_split_ratio']))
                          for v in case.args['input_size']])
