"""fastcodec against MMPose 1.3.2: the heatmap codecs, timed side by side.

    pytest benchmarks/bench_heatmap.py --benchmark-json RUN.json
    python benchmarks/report.py RUN.json --png speedups.png --md speedups.md

Every case is timed for ``mmpose`` (the MMPose 1.3.2 class) and for each backend in
``fastcodec.available_backends()``, on identical inputs from a fixed seed, in the same
run, next to its memory floor; conventions in _harness.py (numba's target: 3x
everywhere). Per-sample cases are timed hot and cold (``/cold``); the two DARK decodes
also after a full cache flush (``/flushed``), the per-sample one with every other core
busy (``/busy``).

Decoding inputs come in two kinds: network-like outputs (the plain case names):
MMPose-encoded targets of random keypoints scaled by 0.9 plus Gaussian noise (sigma
0.01), float32, so no value is denormal; and the encoded targets themselves
(``_encoded``), whose Gaussian tails hold thousands of denormal floats.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

import numpy as np
import pytest

import fastcodec as F
from _harness import (IMPLS, NUMBA_TARGET, TIMINGS, case_name, decoded_parity,
                      encoded_parity, mmpose_codecs, read_floor, time_case, time_floor,
                      write_floor)

SEED = 20240613
NOISE_SIGMA = 0.01
NETWORK_SCALE = 0.9


# ---- cases --------------------------------------------------------------------------
BASE = dict(input_size=(192, 256), heatmap_size=(48, 64))


@dataclass(frozen=True)
class Case:
    name: str
    codec: str                 # class name, identical in MMPose and fastcodec
    args: Dict[str, Any] = field(hash=False)
    op: str                    # 'encode' | 'decode' | 'batch_decode'
    target: float              # C++ speed-up over MMPose to reach
    num_keypoints: int = 17
    batch: int = 1             # batch_decode: instances decoded per call
    about: str = ''


CASES = [
    Case('encode_msra', 'MSRAHeatmap', dict(BASE, sigma=2.0), 'encode', 10,
         about='SimpleBaseline Gaussian targets'),
    Case('encode_msra_dark', 'MSRAHeatmap', dict(BASE, sigma=2.0, unbiased=True), 'encode',
         10, about='DARK sub-pixel Gaussian targets'),
    Case('encode_udp', 'UDPHeatmap', dict(BASE, heatmap_type='gaussian', sigma=2.0),
         'encode', 10, about='UDP Gaussian targets'),
    Case('encode_udp_combined', 'UDPHeatmap', dict(BASE, heatmap_type='combined'), 'encode',
         10, about='UDP combined targets (3K channels: mask + x/y offsets)'),
    Case('encode_megvii', 'MegviiHeatmap', dict(BASE, kernel_size=11), 'encode', 10,
         about='Megvii (MSPN/RSN) blurred impulse targets'),
    Case('decode_msra', 'MSRAHeatmap', dict(BASE, sigma=2.0), 'decode', 5,
         about='argmax + quarter-pixel shift'),
    Case('decode_msra_dark', 'MSRAHeatmap',
         dict(BASE, sigma=2.0, unbiased=True, blur_kernel_size=11), 'decode', 30,
         about='argmax + DARK blur and Taylor refinement'),
    Case('decode_udp', 'UDPHeatmap', dict(BASE, heatmap_type='gaussian', sigma=2.0),
         'decode', 20, about='argmax + DARK-UDP refinement'),
    Case('decode_udp_combined', 'UDPHeatmap', dict(BASE, heatmap_type='combined'), 'decode',
         10, about='blurred mask argmax + offset voting'),
    Case('decode_megvii', 'MegviiHeatmap', dict(BASE, kernel_size=11), 'decode', 10,
         about='blur + argmax + quarter-pixel shift'),
    Case('decode_wholebody_dark', 'MSRAHeatmap',
         dict(input_size=(288, 384), heatmap_size=(72, 96), sigma=3.0, unbiased=True,
              blur_kernel_size=17), 'decode', 50, num_keypoints=133,
         about='COCO-WholeBody DARK: K=133, 72x96 heatmaps, blur 17'),
    Case('batch_decode_dark_64', 'MSRAHeatmap',
         dict(BASE, sigma=2.0, unbiased=True, blur_kernel_size=11), 'batch_decode', 50,
         batch=64, about='64 DARK heatmaps: one batch_decode vs a Python loop of decode'),
]
CASE_BY_NAME = {case.name: case for case in CASES}

# Targets of the variants (issue 12); other cold / encoded variants are recorded.
VARIANT_TARGETS = {('decode_msra_dark', 'network', 'cold'): 20,
                   ('decode_msra_dark', 'network', 'busy'): 15,
                   ('decode_wholebody_dark', 'network', 'cold'): 40}


@dataclass(frozen=True)
class Run:
    """One timed variant of a case: the decode input kind and the timing."""
    case: Case
    kind: Optional[str]        # decoders: 'network' | 'encoded'; encoders: None
    timing: str                # 'hot' | 'cold' | 'busy'

    @property
    def base_name(self) -> str:
        return self.case.name + ('_encoded' if self.kind == 'encoded' else '')

    @property
    def name(self) -> str:
        return case_name(self.base_name, self.timing)

    @property
    def target(self) -> Optional[float]:
        if self.kind in (None, 'network') and self.timing == 'hot':
            return self.case.target
        return VARIANT_TARGETS.get((self.case.name, self.kind, self.timing))


def runs():
    out = []
    for case in CASES:
        per_sample = case.op in ('encode', 'decode')
        for kind in ((None,) if case.op == 'encode' else ('network', 'encoded')):
            for timing in (TIMINGS if per_sample else ('hot',)):
                out.append(Run(case, kind, timing))
        if case.name in ('decode_msra_dark', 'decode_wholebody_dark'):
            out.append(Run(case, 'network', 'flushed'))
        if case.name == 'decode_msra_dark':
            out.append(Run(case, 'network', 'busy'))
    return out


RUNS = runs()


# ---- inputs -------------------------------------------------------------------------
def random_keypoints(rng, input_size, n, k):
    """(n, 1, k, 2) keypoints inside the image, all visible (every keypoint costs)."""
    w, h = input_size
    keypoints = rng.uniform(0.0, 1.0, (n, 1, k, 2)) * [w - 1, h - 1]
    return keypoints, np.ones((n, 1, k), dtype=np.float32)


@functools.lru_cache(maxsize=None)
def case_inputs(name: str, kind: Optional[str] = 'network'):
    """Identical inputs for every implementation of a case (fixed seed per case)."""
    case = CASE_BY_NAME[name]
    rng = np.random.default_rng([SEED, CASES.index(case)])
    keypoints, visible = random_keypoints(rng, case.args['input_size'], case.batch,
                                          case.num_keypoints)
    if case.op == 'encode':
        return dict(keypoints=keypoints[0], keypoints_visible=visible[0])
    reference = getattr(mmpose_codecs(), case.codec)(**case.args)
    heatmaps = np.stack([reference.encode(kp, vis)['heatmaps']
                         for kp, vis in zip(keypoints, visible)])
    if kind == 'network':
        heatmaps = NETWORK_SCALE * heatmaps + rng.normal(0.0, NOISE_SIGMA, heatmaps.shape)
    heatmaps = np.ascontiguousarray(heatmaps, dtype=np.float32)
    return dict(heatmaps=heatmaps if case.op == 'batch_decode' else heatmaps[0])


def make_call(run: Run, impl: str):
    """The zero-argument callable that is timed, and the codec behind it."""
    case = run.case
    inputs = case_inputs(case.name, run.kind)
    module = mmpose_codecs() if impl == 'mmpose' else F
    codec = getattr(module, case.codec)(**case.args)
    if case.op == 'encode':
        kp, vis = inputs['keypoints'], inputs['keypoints_visible']
        return lambda: codec.encode(kp, vis)
    heatmaps = inputs['heatmaps']
    if case.op == 'decode':
        return lambda: codec.decode(heatmaps)
    if impl == 'mmpose':  # MMPose has no batch decode for heatmaps: one by one
        return lambda: [codec.decode(h) for h in heatmaps]
    return lambda: codec.batch_decode(heatmaps)


def make_floor(run: Run):
    if run.case.op == 'encode':
        return write_floor(make_call(run, 'mmpose')())
    return read_floor(case_inputs(run.case.name, run.kind)['heatmaps'])


# ---- the benchmark ------------------------------------------------------------------
def parity(case: Case, ours, ref) -> Optional[str]:
    """None when fastcodec's output matches MMPose's within the test tolerances."""
    if case.op == 'encode':
        return encoded_parity(ours, ref)
    if case.op == 'batch_decode':  # ours: (B, 1, K, 2), (B, 1, K); ref: list of decode
        ref = (np.stack([r[0] for r in ref]), np.stack([r[1] for r in ref]))
    return decoded_parity(ours, ref)


# MMPose 1.3.2's DARK refinement calls np.maximum(a, b, out) positionally, which NumPy 2
# deprecates: one DeprecationWarning per call. Outside pytest Python ignores it; recording
# it on every timed call would slow the MMPose rows down, so ignore it here too.
@pytest.mark.filterwarnings('ignore::DeprecationWarning')
@pytest.mark.parametrize('impl', IMPLS + ['floor'])
@pytest.mark.parametrize('run', RUNS, ids=[run.name for run in RUNS])
def test_heatmap_codec(benchmark, run: Run, impl: str):
    case = run.case
    if impl == 'floor':
        time_floor(benchmark, run.base_name, make_floor(run), run.timing)
        return
    time_case(benchmark, run.base_name, impl, NUMBA_TARGET if impl == 'numba' else run.target,
              make_call(run, impl), make_call(run, 'mmpose'),
              lambda ours, ref: parity(case, ours, ref), timing=run.timing,
              op=case.op, input_kind=run.kind, num_keypoints=case.num_keypoints,
              batch=case.batch, heatmap_size=list(case.args['heatmap_size']))
