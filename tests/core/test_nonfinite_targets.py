"""Non-finite keypoints give finite targets in every encoder (docs/deviations.md): a
NaN or Inf keypoint is invisible (weight 0) and nothing it touches is NaN or Inf, so a
loss of targets times weights stays finite. The lifting codecs (2D network inputs and
a root-relative 3D target) have their own test: tests/lifting/test_lifting_nonfinite.py."""
import numpy as np
import pytest

import fastcodec
from fastcodec import examples

CONFIGS = [cfg for cfg in examples.CONFIGS if cfg['type'] not in examples.LIFTING]
# Results that are the caller's annotations passed through, normalised at most (as the
# lifting codecs' 2-D keypoints), not targets a kernel draws: NaN in, NaN out, as MMPose.
PASSED_THROUGH = {'SimCC3DLabel': {'lifting_target'},
                  'EDPoseLabel': {'keypoints', 'bbox', 'area'},
                  'YOLOXPoseAnnotationProcessor': {'bbox'}}


@pytest.mark.parametrize('cfg', CONFIGS, ids=examples.label)
def test_non_finite_keypoints_give_finite_targets(cfg, backend):
    kps, vis, _ = examples.load_sample()
    kps, vis = kps.copy(), np.ones_like(vis)
    kps[0, 1] = np.nan
    kps[0, 2, 0] = np.inf
    kps[0, 3, 1] = -np.inf
    kps[0, 4] = [np.nan, 50.0]
    args, kwargs, _ = examples.encode_inputs(cfg, kps, vis)
    encoded = fastcodec.build(cfg).encode(*args, **kwargs)
    for key, value in encoded.items():
        if key in PASSED_THROUGH.get(cfg['type'], ()):
            continue
        value = np.asarray(value)
        if value.dtype.kind == 'f':
            assert np.isfinite(value).all(), f'{key} holds non-finite values'
    weights = np.asarray(encoded.get('keypoint_weights', np.zeros((0, 17))))
    if weights.size:   # DecoupledHeatmap drops an instance without a valid root
        assert (weights[..., 1:5] == 0).all() and (weights[..., 0] > 0).all()
    if 'keypoint_labels' in encoded:   # coordinate labels: 0 where the weight is 0
        assert (np.asarray(encoded['keypoint_labels'])[0, 1:5] == 0).all()
