"""What every benchmarks/bench_*.py shares: the MMPose oracle, the parity check recorded
before timing, and the timing of one (case, implementation) pair.

Timings: ``hot`` is pytest-benchmark's loop of back-to-back calls. ``cold`` puts other
work before every timed call, as a data pipeline does between two codec calls: it
writes 8 MiB (about one decoded 1080p frame) of other data, which evicts L1 and L2 and
much of L3; the kernels' worker threads are asleep by then (they never spin after a
call). ``flushed`` is the worst case: the gap writes twice the last-level cache (page
tables and code are evicted too) and sleeps 2 ms (on a virtual machine the first tens
of microseconds after a sleep run slowly, whatever runs). ``busy`` is the hot loop
while every other core runs a data-pipeline-like load (JPEG decode + affine warp in a
loop, one process per core), as in training with one DataLoader worker per core. A
variant is the hot case's name with ``/cold``, ``/flushed`` or ``/busy`` appended.

Memory floors: ``impl='floor'`` rows time what no implementation can avoid, on the
same bytes: writing the outputs (``np.empty(...).fill``) for an encoder, reading the
input once (``np.max``) for a decoder; report.py states each backend's ratio to it.
A sparse target (Hand3DHeatmap's volumes, under 10% non-zero) has a page floor instead:
the first write into each 4 KiB page its non-zero values occupy, in a fresh mapping (the
operating system zeroes each page on that write; the rest stays unmapped), on one
thread: an encoder writing on two threads can come in under it.

Conventions read by report.py: ``benchmark.group`` is the case name;
``extra_info['impl']`` is ``mmpose`` or a fastcodec backend; ``extra_info['target']``
is the speed-up over MMPose that implementation should reach (the MMPose row carries
the C++ target; ``None`` = recorded, not judged); ``extra_info['parity']`` describes an
output that differs from MMPose's (warned about, not failed: tests/ judge correctness).
"""
from __future__ import annotations

import contextlib
import mmap
import multiprocessing
import os
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, Optional

import numpy as np
import pytest

import fastcodec as F
from fastcodec.mmpose_oracle import import_mmpose_codecs

NUMBA_TARGET = 3.0
# The test suite's tolerances (docs/design.md).
ATOL_TARGET, ATOL_KEYPOINT, ATOL_SCORE = 1e-5, 2e-3, 1e-4

# Read once at collection: a backend that appears later (numba) shows on the next run.
# The CPU backends (cuda-emulator is a test of the CUDA kernels on the host, not a
# speed contender; the GPU has benchmarks/bench_cuda.py).
IMPLS = ['mmpose'] + [b for b in F.available_backends() if b in ('cpp', 'numba')]


@dataclass(frozen=True)
class PeopleCase:
    """A bottom-up case (bench_spr, bench_associative_embedding): a codec's arguments,
    the op, the C++ speed-up over MMPose to reach (None: recorded only; numba_target
    likewise, where an issue sets one), and the scene: people x num_keypoints."""
    name: str
    args: Dict[str, Any] = field(hash=False)
    op: str                        # 'encode' | 'decode'
    target: Optional[float]
    numba_target: Optional[float] = None
    people: int = 10
    num_keypoints: int = 17
    about: str = ''


def cuda_device() -> bool:
    """Whether a CUDA device is usable by both CuPy and torch (the GPU benchmarks'
    condition; they skip otherwise)."""
    import cupy
    import torch
    try:
        devices = cupy.cuda.runtime.getDeviceCount()
    except Exception:  # noqa: BLE001 - no driver: no device
        devices = 0
    return devices > 0 and torch.cuda.is_available()


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


# ---- timings ------------------------------------------------------------------------
TIMINGS = ('hot', 'cold')
COLD_ROUNDS = 60
COLD_GAP_BYTES = 8 << 20
_gap_buffers: dict = {}


def last_level_cache_bytes() -> int:
    """The largest CPU cache (sysfs), 32 MiB when unknown."""
    sizes = []
    base = '/sys/devices/system/cpu/cpu0/cache'
    for index in (os.listdir(base) if os.path.isdir(base) else []):
        try:
            with open(os.path.join(base, index, 'size'), encoding='ascii') as f:
                text = f.read().strip()
        except OSError:
            continue
        unit = {'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30}.get(text[-1:], 1)
        sizes.append(int(text.rstrip('KMG')) * unit)
    return max(sizes, default=32 << 20)


def _write(nbytes: int) -> None:
    if nbytes not in _gap_buffers:
        _gap_buffers[nbytes] = np.zeros(nbytes // 4, np.float32)
    _gap_buffers[nbytes] += 1.0


def cold_gap() -> None:
    """A pipeline step of other work between two calls: 8 MiB written."""
    _write(COLD_GAP_BYTES)


def flushing_gap() -> None:
    """The worst case: twice the last-level cache written, then a 2 ms sleep."""
    _write(2 * last_level_cache_bytes())
    time.sleep(0.002)


def _pipeline_load(stop) -> None:  # pragma: no cover - runs in a child process
    """One DataLoader-worker-like process: decode a JPEG, warp it, normalise, forever."""
    import cv2
    cv2.setNumThreads(1)
    rng = np.random.default_rng(os.getpid())
    image = rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)
    jpeg = cv2.imencode('.jpg', cv2.GaussianBlur(image, (9, 9), 3))[1]
    while not stop.is_set():
        img = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
        angle = rng.uniform(-30, 30)
        warp = cv2.getRotationMatrix2D((320, 240), angle, rng.uniform(0.75, 1.25))
        crop = cv2.warpAffine(img, warp, (192, 256), flags=cv2.INTER_LINEAR)
        (crop.astype(np.float32) - 127.5) / 58.0


@contextlib.contextmanager
def busy_machine(processes: Optional[int] = None) -> Iterator[int]:
    """Every other core runs a pipeline-like load (one process each) while inside."""
    n = max(1, (os.cpu_count() or 2) - 1) if processes is None else processes
    ctx = multiprocessing.get_context('fork')
    stop = ctx.Event()
    workers = [ctx.Process(target=_pipeline_load, args=(stop,), daemon=True) for _ in range(n)]
    for w in workers:
        w.start()
    time.sleep(0.5)  # imports done, load running
    try:
        yield n
    finally:
        stop.set()
        for w in workers:
            w.join(5)
            if w.is_alive():
                w.terminate()


def per_sample_timings(case) -> tuple:
    """Per-sample calls (``op`` encode / decode) hot and cold; batched calls hot."""
    return TIMINGS if case.op in ('encode', 'decode') else ('hot',)


def variants(cases, timings_of: Callable[[Any], tuple] = per_sample_timings):
    """pytest params (case, timing) with ids 'name' / 'name/cold' / ..."""
    return [pytest.param(case, timing, id=case_name(case.name, timing))
            for case in cases for timing in timings_of(case)]


def case_name(name: str, timing: str) -> str:
    return name if timing == 'hot' else f'{name}/{timing}'


def _run_timed(benchmark, call: Callable[[], Any], timing: str) -> None:
    if timing in ('cold', 'flushed'):
        call()
        benchmark.pedantic(call, setup=cold_gap if timing == 'cold' else flushing_gap,
                           rounds=COLD_ROUNDS, iterations=1)
    elif timing == 'busy':
        with busy_machine() as n:
            benchmark.extra_info['busy_processes'] = n
            benchmark(call)
    else:
        benchmark(call)


# ---- memory floors --------------------------------------------------------------------
def nbytes(result: Any) -> int:
    """Bytes of every array in a (nested) result."""
    if isinstance(result, dict):
        return sum(nbytes(v) for v in result.values())
    if isinstance(result, (list, tuple)):
        return sum(nbytes(v) for v in result)
    return int(getattr(result, 'nbytes', 0))


def write_floor(result: Any) -> Callable[[], Any]:
    """Allocating and writing as many float32 bytes as ``result`` holds."""
    n = nbytes(result) // 4
    return lambda: np.empty(n, np.float32).fill(0.0)


def page_floor(result: Any) -> Callable[[], Any]:
    """Writing one float into each 4 KiB page that ``result``'s non-zero values occupy,
    in a fresh private mapping of ``result``'s size (and unmapping the previous one, as
    dropping the previous result does)."""
    flat = np.ascontiguousarray(result, np.float32).reshape(-1)
    floats_per_page = mmap.PAGESIZE // 4
    first_floats = np.unique(np.flatnonzero(flat) // floats_per_page) * floats_per_page

    def floor():
        fresh = np.frombuffer(mmap.mmap(-1, flat.nbytes, flags=mmap.MAP_PRIVATE), np.float32)
        fresh[first_floats] = 1.0
        return fresh
    return floor


def read_floor(array: Any) -> Callable[[], Any]:
    """Reading ``array`` once (np.max over its bytes)."""
    flat = np.asarray(array).reshape(-1)
    return lambda: np.max(flat)


def time_floor(benchmark, case: str, floor: Callable[[], Any], timing: str = 'hot') -> None:
    benchmark.group = case_name(case, timing)
    benchmark.extra_info.update(impl='floor', case=benchmark.group, timing=timing, target=None)
    _run_timed(benchmark, floor, timing)


def time_case(benchmark, case: str, impl: str, target: Optional[float], call: Callable[[], Any],
              reference: Callable[[], Any], parity: Callable[[Any, Any], Optional[str]],
              timing: str = 'hot', **extra) -> None:
    """Time ``call`` (the implementation ``impl`` of ``case``) with pytest-benchmark,
    ``timing`` 'hot', 'cold', 'flushed' or 'busy' (module docstring). A fastcodec implementation
    is first run once (numba compiles on the first call) and its output compared with
    ``reference()`` (MMPose on the same inputs)."""
    benchmark.group = case_name(case, timing)
    benchmark.extra_info.update(impl=impl, case=benchmark.group, timing=timing,
                                target=None if target is None else float(target), **extra)
    if impl == 'mmpose':
        call()  # warm caches like the others
        _run_timed(benchmark, call, timing)
        return
    benchmark.extra_info['num_threads'] = F.get_num_threads()
    with F.use_backend(impl):
        problem = parity(call(), reference())
        if problem:
            benchmark.extra_info['parity'] = problem
            warnings.warn(f'{case}/{impl}: output differs from MMPose: {problem}')
        _run_timed(benchmark, call, timing)
