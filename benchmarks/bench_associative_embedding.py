"""fastcodec against MMPose 1.3.2: AssociativeEmbedding (HigherHRNet / AE bottom-up),
timed side by side.

    pytest benchmarks/bench_associative_embedding.py --benchmark-json RUN.json
    python benchmarks/report.py RUN.json

Setting of issue 16: a 512 x 512 input with 10 people, K = 17, 128 x 128 heatmaps,
top-30 candidates per keypoint, MMPose's COCO config otherwise (sigma 2, centre shift
0.5, at most 30 instances). Decode inputs are network-like: the encoded heatmaps with
noise, and tag maps holding each person's tag around its keypoints over background
noise, float32 torch tensors on both sides, as the head passes them. MMPose's UDP
refinement overwrites its input maps, so the UDP case decodes a fresh copy of the maps
on every call, on both sides.
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

SEED = 20241205

AE = dict(input_size=(512, 512), heatmap_size=(128, 128), sigma=2, decode_topk=30,
          decode_center_shift=0.5, decode_max_instances=30,
          decode_keypoint_order=[0, 1, 2, 3, 4, 5, 6, 11, 12, 7, 8, 9, 10, 13, 14, 15, 16])


CASES = [
    Case('decode_ae', AE, 'decode', 30,
         about='NMS, top-30, munkres grouping, 0.25 px refinement, filling (issue 16: 30x)'),
    Case('decode_ae_udp', dict(AE, use_udp=True), 'decode', None,
         about='the same with DARK-UDP refinement (recorded)'),
    Case('encode_ae', AE, 'encode', None,
         about='Gaussian heatmaps + keypoint indices, 10 people (recorded)'),
]
CASE_BY_NAME = {case.name: case for case in CASES}


@functools.lru_cache(maxsize=None)
def case_inputs(name: str):
    """Identical inputs for every implementation of a case (fixed seed per case)."""
    case = CASE_BY_NAME[name]
    rng = np.random.default_rng([SEED, CASES.index(case)])
    w, h = case.args['input_size']
    K = case.num_keypoints
    centres = rng.uniform(0.15, 0.85, (case.people, 1, 2)) * [w, h]
    keypoints = centres + rng.normal(0, 0.06, (case.people, K, 2)) * [w, h]
    visible = (rng.random((case.people, K)) < 0.9).astype(np.float32)
    if case.op == 'encode':
        return dict(keypoints=keypoints, keypoints_visible=visible)
    codec = F.AssociativeEmbedding(**case.args)
    enc = codec.encode(keypoints, visible)
    heat = enc['heatmaps'] + rng.normal(0, 0.01, enc['heatmaps'].shape).astype(np.float32)
    W, H = case.args['heatmap_size']
    tags = rng.normal(0, 0.3, (K, H, W)).astype(np.float32)
    person_tags = rng.uniform(-4, 4, case.people)
    for n, k in zip(*np.nonzero(enc['keypoint_indices'][..., 1])):
        y, x = divmod(int(enc['keypoint_indices'][n, k, 0]), W)
        tags[k, max(0, y - 2):y + 3, max(0, x - 2):x + 3] = person_tags[n] + rng.normal(0, 0.1)
    return dict(heatmaps=torch.from_numpy(np.ascontiguousarray(heat[None], np.float32)),
                tags=torch.from_numpy(np.ascontiguousarray(tags[None], np.float32)))


def make_call(case: Case, impl: str):
    inputs = case_inputs(case.name)
    module = mmpose_codecs() if impl == 'mmpose' else F
    codec = module.AssociativeEmbedding(**case.args)
    if case.op == 'encode':
        kp, vis = inputs['keypoints'], inputs['keypoints_visible']
        return lambda: codec.encode(kp, vis)
    heat, tags = inputs['heatmaps'], inputs['tags']
    if case.args.get('use_udp'):
        return lambda: codec.batch_decode(heat.clone(), tags)
    return lambda: codec.batch_decode(heat, tags)


def parity(case: Case, ours, ref) -> Optional[str]:
    """None when fastcodec's output matches MMPose's within the test tolerances."""
    if case.op == 'encode':
        return encoded_parity(ours, ref)
    problems = []
    for what, a, b, tol in (('keypoints', ours[0], ref[0], ATOL_KEYPOINT),
                            ('scores', ours[1], ref[1], ATOL_SCORE),
                            ('instance_scores', ours[2], ref[2], ATOL_SCORE)):
        diff = max(max_diff(x, y) for x, y in zip(a, b)) if len(a) == len(b) else float('inf')
        if diff > tol:
            problems.append(f'{what} max|diff|={diff:.3g}')
    return '; '.join(problems) or None


@pytest.mark.parametrize('impl', IMPLS)
@pytest.mark.parametrize('case,timing', variants(CASES))
def test_associative_embedding_codec(benchmark, case: Case, timing: str, impl: str):
    time_case(benchmark, case.name, impl,
              None if timing != 'hot' else case.numba_target if impl == 'numba' else case.target,
              make_call(case, impl), make_call(case, 'mmpose'),
              lambda ours, ref: parity(case, ours, ref), timing=timing,
              op=case.op, num_keypoints=case.num_keypoints, people=case.people)
