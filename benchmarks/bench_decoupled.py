"""fastcodec against MMPose 1.3.2: DecoupledHeatmap (CID), timed side by side.

    pytest benchmarks/bench_decoupled.py --benchmark-json RUN.json
    python benchmarks/report.py RUN.json

Setting of the issue: 10 people, K = 17, input 512x512, heatmaps 128x128, boxes given
(and, ``encode_decoupled_no_boxes``, not given: the boxes are then derived from the
keypoints, as MMPose does).
Encoding draws random numbers (the 3x3 root jitter, the instance subsampling): every
timed call, MMPose's and fastcodec's alike, first reseeds ``np.random`` and
``random`` with the same seed, so the parity check before timing compares identical
draws and each call encodes the same thing. Only the C++ encodes carry targets (20x
with boxes, issue 4; 10x without, issue 12); numba's and the decode row are recorded,
not judged. The encodes are also timed against their write floor (12 MB per call).
"""
from __future__ import annotations

import functools
import random
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

import numpy as np
import pytest

import fastcodec as F
from _harness import (IMPLS, decoded_parity, encoded_parity, mmpose_codecs, time_case,
                      time_floor, variants, write_floor)

SEED = 20240613
NOISE_SIGMA = 0.01
ARGS = dict(input_size=(512, 512), heatmap_size=(128, 128))


@dataclass(frozen=True)
class Case:
    name: str
    args: Dict[str, Any] = field(hash=False)
    op: str                        # 'encode' | 'decode'
    target: Optional[float]        # C++ speed-up over MMPose to reach (None: recorded)
    boxes: bool = True             # encode: bbox given
    people: int = 10
    num_keypoints: int = 17
    about: str = ''


CASES = [
    Case('encode_decoupled', ARGS, 'encode', 20,
         about='CID targets: K+1 global maps, 10 instance map sets, boxes given'),
    Case('encode_decoupled_no_boxes', ARGS, 'encode', 10, boxes=False,
         about='the same without boxes (derived from the keypoints)'),
    Case('decode_decoupled', ARGS, 'decode', None,
         about='argmax + quarter-pixel shift of 10 instance map sets'),
]
CASE_BY_NAME = {case.name: case for case in CASES}


def people(rng, n, k, input_size):
    """(n, k, 2) keypoints of people 120-200 px tall around random centres, a few
    invisible; (n, 8) boxes around them in MMPose's corner order."""
    w, h = input_size
    centres = rng.uniform(0.2, 0.8, (n, 1, 2)) * [w, h]
    kps = centres + rng.normal(0, 1, (n, k, 2)) * rng.uniform(30, 50, (n, 1, 1))
    vis = (rng.uniform(0, 1, (n, k)) > 0.1).astype(np.float32)
    lo, hi = kps.min(1), kps.max(1)
    bbox = np.stack([lo[:, 0], lo[:, 1], lo[:, 0], hi[:, 1], hi[:, 0], lo[:, 1], hi[:, 0],
                     hi[:, 1]], axis=1)
    return kps, vis, bbox


@functools.lru_cache(maxsize=None)
def case_inputs(name: str):
    case = CASE_BY_NAME[name]
    rng = np.random.default_rng([SEED, CASES.index(case)])
    kps, vis, bbox = people(rng, case.people, case.num_keypoints, case.args['input_size'])
    if case.op == 'encode':
        return dict(keypoints=kps, keypoints_visible=vis, bbox=bbox)
    reference = mmpose_codecs().DecoupledHeatmap(**case.args)
    np.random.seed(SEED)
    random.seed(SEED)
    maps = reference.encode(kps, vis, bbox)['instance_heatmaps']
    maps = maps.reshape(-1, case.num_keypoints, *maps.shape[1:])
    maps = maps + rng.normal(0.0, NOISE_SIGMA, maps.shape)
    return dict(instance_heatmaps=np.ascontiguousarray(maps, dtype=np.float32),
                instance_scores=rng.uniform(0.2, 1.0, (len(maps), 1)).astype(np.float32))


def make_call(case: Case, impl: str):
    inputs = case_inputs(case.name)
    module = mmpose_codecs() if impl == 'mmpose' else F
    codec = module.DecoupledHeatmap(**case.args)
    if case.op == 'encode':
        kp, vis = inputs['keypoints'], inputs['keypoints_visible']
        bbox = inputs['bbox'] if case.boxes else None

        def encode():
            np.random.seed(SEED)
            random.seed(SEED)
            return codec.encode(kp, vis, bbox)
        return encode
    maps, scores = inputs['instance_heatmaps'], inputs['instance_scores']
    return lambda: codec.decode(maps, scores)


def parity(case: Case, ours, ref) -> Optional[str]:
    return encoded_parity(ours, ref) if case.op == 'encode' else decoded_parity(ours, ref)


@pytest.mark.parametrize('impl', IMPLS + ['floor'])
@pytest.mark.parametrize('case,timing', variants(CASES))
def test_decoupled_codec(benchmark, case: Case, timing: str, impl: str):
    if impl == 'floor':
        if case.op != 'encode':
            pytest.skip('write floors are for encoders')
        time_floor(benchmark, case.name, write_floor(make_call(case, 'mmpose')()), timing)
        return
    target = case.target if impl in ('mmpose', 'cpp') and timing == 'hot' else None
    time_case(benchmark, case.name, impl, target, make_call(case, impl),
              make_call(case, 'mmpose'), lambda ours, ref: parity(case, ours, ref),
              timing=timing, op=case.op, num_keypoints=case.num_keypoints, people=case.people,
              heatmap_size=list(case.args['heatmap_size']))
