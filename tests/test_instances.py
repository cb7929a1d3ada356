"""The bottom-up codecs' instance roots, diagonals and boxes against MMPose 1.3.2
(instance_property.get_instance_root / get_diagonal_lengths / get_instance_bbox)."""
import numpy as np
import pytest

from conftest import host_call
from fastcodec import _calls
from fastcodec.codecs._instances import instance_bboxes
from fastcodec.mmpose_oracle import import_mmpose_codecs


@pytest.fixture(scope='module')
def utils():
    import_mmpose_codecs()
    from mmpose.codecs.utils import instance_property
    return instance_property


def cases():
    rng = np.random.default_rng(7)
    for trial in range(40):
        n, k = int(rng.integers(0, 6)), int(rng.integers(1, 18))
        dtype = (np.float32, np.float64)[trial % 2]
        kps = rng.uniform(-40, 160, (n, k, 2)).astype(dtype)
        if trial % 5 == 0:      # repeated values and .5 centres
            kps = np.round(kps * 2) / 2
        vis = (rng.uniform(size=(n, k)) < 0.7).astype(np.float32)
        if n:
            vis[0] = 0          # an instance without visible keypoints
        if trial % 3 == 0:
            vis = vis * rng.choice([-1.0, 0.5, 2.0], size=vis.shape)   # odd visibilities
        if trial % 7 == 0 and n > 1:
            kps[1, 0] = np.nan  # NaN propagates through mean, min and max
        yield kps, vis


@pytest.mark.parametrize('root_type', ['kpt_center', 'bbox_center'])
def test_instance_geometry_matches_mmpose(utils, backend, root_type):
    for kps, vis in cases():
        roots, roots_vis, diagonals = _calls.instance_geometry(host_call(), 
            kps, vis.astype(np.float64), root_type == 'kpt_center')
        ref, ref_vis = utils.get_instance_root(kps, vis, root_type)
        np.testing.assert_array_equal(roots, ref)
        np.testing.assert_array_equal(roots_vis, ref_vis)
        ref_diag = utils.get_diagonal_lengths(kps, vis)
        np.testing.assert_array_equal(diagonals, ref_diag)
        assert roots.dtype == ref.dtype and diagonals.dtype == ref_diag.dtype


def test_boxes_match_mmpose(utils):
    for kps, vis in cases():
        np.testing.assert_array_equal(instance_bboxes(kps, vis),
                                      utils.get_instance_bbox(kps, vis))
