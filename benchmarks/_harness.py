"""What every benchmarks/bench_*.py shares: the MMPose oracle, the parity check recorded
before timing, and the timing of one (case, implementation) pair.

Conventions read by report.py: ``benchmark.group`` is the case name;
``extra_info['impl']`` is ``mmpose`` or a fastcodec backend; ``extra_info['target']``
is the speed-up over MMPose that implementation should reach (the MMPose row carries
the C++ target; ``None`` = recorded, not judged); ``extra_info['parity']`` describes an
output that differs from MMPose's (warned about, not failed: tests/ judge correctness).
"""
from __future__ import annotations

import warnings
from typing import Any, Callable, Optional

import numpy as np
import pytest

import fastcodec as F
from fastcodec.mmpose_oracle import import_mmpose_codecs

NUMBA_TARGET = 3.0
# The test suite's tolerances (DESIGN.md).
ATOL_TARGET, ATOL_KEYPOINT, ATOL_SCORE = 1e-5, 2e-3, 1e-4

# Read once at collection: a backend that appears later (numba) shows on the next run.
IMPLS = ['mmpose'] + list(F.available_backends())


def mmpose_codecs():
    try:
        return import_mmpose_codecs()
    except ImportError as err:  # pragma: no cover - environment without the oracle
        pytest.skip(f'MMPose 1.3.2 not importable: {err}')


def max_diff(ours, ref) -> float:
    """Largest |ours - ref| where MMPose's result is defined (fastcodec replaces
    MMPose's NaN with defined values: docs/deviations.md); inf on a shape mismatch."""
    ours, ref = np.asarray(ours, np.float64), np.asarray(ref, np.float64)
    if ours.shape != ref.shape:
        return float('inf')
    defined = np.isfinite(ref)
    if not np.isfinite(ours[~defined]).all():
        return float('inf')
    return float(np.abs(ours[defined] - ref[defined]).max(initial=0.0))


def encoded_parity(ours: dict, ref: dict) -> Optional[str]:
    problems = []
    for key in ref:
        diff = max_diff(ours[key], ref[key]) if key in ours else float('inf')
        if diff > ATOL_TARGET:
            problems.append(f'{key} max|diff|={diff:.3g}')
    return '; '.join(problems) or None


def decoded_parity(ours, ref) -> Optional[str]:
    """ours, ref: (keypoints, scores)."""
    problems = []
    for what, a, b, tol in (('keypoints', ours[0], ref[0], ATOL_KEYPOINT),
                            ('scores', ours[1], ref[1], ATOL_SCORE)):
        diff = max_diff(a, b)
        if diff > tol:
            problems.append(f'{what} max|diff|={diff:.3g}')
    return '; '.join(problems) or None


def time_case(benchmark, case: str, impl: str, target: Optional[float], call: Callable[[], Any],
              reference: Callable[[], Any], parity: Callable[[Any, Any], Optional[str]],
              **extra) -> None:
    """Time ``call`` (the implementation ``impl`` of ``case``) with pytest-benchmark.
    A fastcodec implementation is first run once (numba compiles on the first call)
    and its output compared with ``reference()`` (MMPose on the same inputs)."""
    benchmark.group = case
    benchmark.extra_info.update(impl=impl, case=case,
                                target=None if target is None else float(target), **extra)
    if impl == 'mmpose':
        call()  # warm caches like the others
        benchmark(call)
        return
    benchmark.extra_info['num_threads'] = F.get_num_threads()
    with F.use_backend(impl):
        problem = parity(call(), reference())
        if problem:
            benchmark.extra_info['parity'] = problem
            warnings.warn(f'{case}/{impl}: output differs from MMPose: {problem}')
        benchmark(call)
