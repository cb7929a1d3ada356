"""fastcodec against MMPose 1.3.2: SPR (bottom-up root heatmaps + displacement fields),
timed side by side.

    pytest benchmarks/bench_spr.py --benchmark-json RUN.json
    python benchmarks/report.py RUN.json

Conventions in _harness.py; identical inputs for every implementation (fixed seed per
case). The setting of issue 4: 10 people in a 512 x 512 input, 128 x 128 heatmaps,
K = 17. Decode takes torch tensors on both sides, as MMPose's heads pass them.
"""
from __future__ import annotations

import functools
from typing import Optional

import numpy as np
import pytest
import torch

import fastcodec as F
from _harness import (ATOL_KEYPOINT, ATOL_SCORE, IMPLS, encoded_parity, max_diff,
                      mmpose_codecs, time_case, variants)
from _harness import PeopleCase as Case

SEED = 20240615

SPR = dict(input_size=(512, 512), heatmap_size=(128, 128))


CASES = [
    Case('encode_spr', SPR, 'encode', 30,
         about='root heatmap + displacement fields, 10 people'),
    Case('encode_spr_keypoint_maps', dict(SPR, generate_keypoint_heatmaps=True), 'encode', 40,
         about='plus K keypoint heatmaps (DEKR; issue 12: 40x)'),
    Case('decode_spr', SPR, 'decode', 5,
         about='root NMS, top-30, displacements at the peaks (torch in, torch out)'),
    Case('decode_spr_keypoint_scores', dict(SPR, generate_keypoint_heatmaps=True), 'decode',
         None, about='plus grid_sample keypoint scores (recorded)'),
]
CASE_BY_NAME = {case.name: case for case in CASES}


@functools.lru_cache(maxsize=None)
def case_inputs(name: str):
    """Identical inputs for every implementation of a case (fixed seed per case)."""
    case = CASE_BY_NAME[name]
    rng = np.random.default_rng([SEED, CASES.index(case)])
    w, h = case.args['input_size']
    centres = rng.uniform(0.15, 0.85, (case.people, 1, 2)) * [w, h]
    keypoints = centres + rng.normal(0, 0.06, (case.people, case.num_keypoints, 2)) * [w, h]
    visible = (rng.random((case.people, case.num_keypoints)) < 0.9).astype(np.float32)
    if case.op == 'encode':
        return dict(keypoints=keypoints, keypoints_visible=visible)
    # Model outputs: the encoded targets with noise, float32 tensors.
    enc = F.SPR(**case.args).encode(keypoints, visible)
    heat = enc['heatmaps'] + rng.normal(0, 0.01, enc['heatmaps'].shape).astype(np.float32)
    disp = enc['displacements'] + rng.normal(0, 0.5, enc['displacements'].shape).astype(np.float32)
    return dict(heatmaps=torch.from_numpy(np.ascontiguousarray(heat, np.float32)),
                displacements=torch.from_numpy(np.ascontiguousarray(disp, np.float32)))


def make_call(case: Case, impl: str):
    inputs = case_inputs(case.name)
    module = mmpose_codecs() if impl == 'mmpose' else F
    codec = module.SPR(**case.args)
    if case.op == 'encode':
        kp, vis = inputs['keypoints'], inputs['keypoints_visible']
        return lambda: codec.encode(kp, vis)
    heat, disp = inputs['heatmaps'], inputs['displacements']
    return lambda: codec.decode(heat, disp)


def parity(case: Case, ours, ref) -> Optional[str]:
    """None when fastcodec's output matches MMPose's within the test tolerances."""
    if case.op == 'encode':
        return encoded_parity(ours, ref)
    problems = []
    for what, a, b, tol in (('keypoints', ours[0], ref[0], ATOL_KEYPOINT),
                            ('root_scores', ours[1][0], ref[1][0], ATOL_SCORE),
                            ('keypoint_scores', ours[1][1], ref[1][1], ATOL_SCORE)):
        if (a is None) != (b is None):
            problems.append(f'{what}: None on one side only')
        elif a is not None and max_diff(a, b) > tol:
            problems.append(f'{what} max|diff|={max_diff(a, b):.3g}')
    return '; '.join(problems) or None


@pytest.mark.parametrize('impl', IMPLS)
@pytest.mark.parametrize('case,timing', variants(CASES))
def test_spr_codec(benchmark, case: Case, timing: str, impl: str):
    time_case(benchmark, case.name, impl,
              None if timing != 'hot' else case.numba_target if impl == 'numba' else case.target,
              make_call(case, impl), make_call(case, 'mmpose'),
              lambda ours, ref: parity(case, ours, ref), timing=timing,
              op=case.op, num_keypoints=case.num_keypoints, people=case.people)
