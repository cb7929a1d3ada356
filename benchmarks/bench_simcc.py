"""fastcodec against MMPose 1.3.2: the SimCC codec (RTMPose setting), timed side by side.

    pytest benchmarks/bench_simcc.py --benchmark-json RUN.json
    python benchmarks/report.py RUN.json --png speedups.png --md speedups.md

Same conventions as bench_heatmap.py: ``benchmark.group`` is the case name,
``extra_info['impl']`` the implementation (mmpose / cpp / numba) and
``extra_info['target']`` the speed-up it should reach over MMPose (numba: 3x; the
MMPose row carries the C++ target). Inputs: RTMPose's SimCCLabel (input 192x256,
sigma (4.9, 5.66), split ratio 2.0, K=17); decoding inputs are MMPose-encoded labels of
random keypoints plus Gaussian noise (sigma 0.01), float32. MMPose's use_dark decode
overwrites its inputs, so every MMPose call gets fresh copies (outside the timing for
one-shot decodes is not possible with pytest-benchmark; the copies are made for both
sides alike, see ``make_call``). A parity mismatch is recorded in
``extra_info['parity']`` and warned about, not failed (tests/ judge correctness).
"""
from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

import numpy as np
import pytest

import fastcodec as F
from fastcodec.mmpose_oracle import import_mmpose_codecs

SEED = 20240614
NOISE_SIGMA = 0.01
NUMBA_TARGET = 3.0
ATOL_TARGET, ATOL_KEYPOINT, ATOL_SCORE = 1e-5, 2e-3, 1e-4

RTMPOSE = dict(input_size=(192, 256), sigma=(4.9, 5.66), simcc_split_ratio=2.0,
               normalize=False)


def mmpose_codecs():
    try:
        return import_mmpose_codecs()
    except ImportError as err:  # pragma: no cover
        pytest.skip(f'MMPose 1.3.2 not importable: {err}')


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
BACKENDS = list(F.available_backends())
IMPLS = ['mmpose'] + BACKENDS


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
        if impl == 'mmpose' and case.args.get('use_dark'):
            return lambda: codec.decode(sx.copy(), sy.copy())  # it overwrites its input
        return lambda: codec.decode(sx, sy)
    if impl == 'mmpose':  # a head decodes each sample's (K, W) outputs one by one
        return lambda: [codec.decode(x, y) for x, y in zip(sx, sy)]
    return lambda: codec.batch_decode(sx, sy)


def _max_diff(ours, ref) -> float:
    ours, ref = np.asarray(ours, np.float64), np.asarray(ref, np.float64)
    if ours.shape != ref.shape:
        return float('inf')
    defined = np.isfinite(ref)
    if not np.isfinite(ours[~defined]).all():
        return float('inf')
    return float(np.abs(ours[defined] - ref[defined]).max(initial=0.0))


def parity(case: Case, ours, ref) -> Optional[str]:
    problems = []
    if case.op == 'encode':
        for key in ref:
            diff = _max_diff(ours[key], ref[key]) if key in ours else float('inf')
            if diff > ATOL_TARGET:
                problems.append(f'{key} max|diff|={diff:.3g}')
        return '; '.join(problems) or None
    if case.op == 'batch_decode':
        ref = (np.stack([r[0] for r in ref]), np.stack([r[1] for r in ref]))
    for what, a, b, tol in (('keypoints', ours[0], ref[0], ATOL_KEYPOINT),
                            ('scores', ours[1], ref[1], ATOL_SCORE)):
        diff = _max_diff(a, b)
        if diff > tol:
            problems.append(f'{what} max|diff|={diff:.3g}')
    return '; '.join(problems) or None


@pytest.mark.parametrize('impl', IMPLS)
@pytest.mark.parametrize('case', CASES, ids=[case.name for case in CASES])
def test_simcc_codec(benchmark, case: Case, impl: str):
    benchmark.group = case.name
    benchmark.extra_info.update(
        impl=impl, case=case.name, op=case.op,
        target=NUMBA_TARGET if impl == 'numba' else float(case.target),
        num_keypoints=case.num_keypoints, batch=case.batch,
        simcc_size=[int(round(v * case.args['simcc_split_ratio']))
                    for v in case.args['input_size']])
    call = make_call(case, impl)
    if impl == 'mmpose':
        call()
        benchmark(call)
        return
    benchmark.extra_info['num_threads'] = F.get_num_threads()
    with F.use_backend(impl):
        ours = call()
        problem = parity(case, ours, make_call(case, 'mmpose')())
        if problem:
            benchmark.extra_info['parity'] = problem
            warnings.warn(f'{case.name}/{impl}: output differs from MMPose: {problem}')
        benchmark(call)
