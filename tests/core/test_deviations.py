"""Each entry of docs/deviations.md: where MMPose 1.3.2 yields NaN or raises,
fastcodec returns the defined value documented there."""
import warnings

import numpy as np
import pytest

import fastcodec
from fastcodec import ops


def test_all_zero_map_decodes_to_minus_one(mmc, backend):
    udp = fastcodec.UDPHeatmap((192, 256), (48, 64))
    maps = np.zeros((17, 64, 48), np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        ref = mmc.UDPHeatmap((192, 256), (48, 64)).decode(maps.copy())
    assert np.isnan(ref[0]).all()                       # MMPose: 0 / 0
    kp, score = udp.decode(maps)
    np.testing.assert_allclose(kp, np.full((1, 17, 2), -1.0) / [47, 63] * [192, 256])
    assert (score == 0).all()

    megvii = fastcodec.MegviiHeatmap((192, 256), (48, 64), 11)
    kp, score = megvii.decode(maps)
    assert (kp == -4).all() and (score == 0.5).all()    # MMPose: score NaN

    assert np.isfinite(ops.gaussian_blur(maps.copy(), 11)).all()


def test_out_of_range_udp_index_leaves_keypoint(mmc, backend):
    maps = np.random.default_rng(0).random((3, 8, 8)).astype(np.float32)
    kps = np.array([[[100.0, 100.0], [2.0, 3.0], [-50.0, -50.0]]], np.float32)
    got = ops.refine_keypoints_dark_udp(kps.copy(), maps, 3)
    assert (got[0, 0] == 100).all() and (got[0, 2] == -50).all()   # MMPose: IndexError
    assert (got[0, 1] != [2.0, 3.0]).any()


def test_megvii_encode_without_visibility(backend):
    codec = fastcodec.MegviiHeatmap((192, 256), (48, 64), 11)
    out = codec.encode(np.full((1, 17, 2), 50.0))        # MMPose: TypeError on None
    assert out['keypoint_weights'].dtype == np.float32 and (out['keypoint_weights'] == 1).all()


def test_refinement_keeps_heatmaps_argument(backend):
    maps = np.random.default_rng(1).random((17, 64, 48)).astype(np.float32)
    before = maps.copy()
    locs, _ = ops.get_heatmap_maximum(maps)
    ops.refine_keypoints_dark(locs[None].copy(), maps, 11)
    ops.refine_keypoints_dark_udp(locs[None].copy(), maps, 11)
    np.testing.assert_array_equal(maps, before)          # MMPose blurs it in place


def test_dark_udp_keypoints_off_the_map(mmu, backend):
    """Keypoints at or beyond the right/left edge make MMPose's padded-map index wrap
    across rows; fastcodec follows it (this once overflowed a buffer)."""
    rng = np.random.default_rng(4)
    H, W = 27, 35
    maps = rng.random((3, H, W)).astype(np.float32)
    for x in (35.0, 34.0, -1.0, 36.0, 0.0):
        kps = np.array([[[x, 10.0], [5.0, 26.0], [x, 0.0]]], np.float32)
        want = mmu.refine_keypoints_dark_udp(kps.copy(), maps.copy(), 3)
        got = ops.refine_keypoints_dark_udp(kps.copy(), maps, 3)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)


def test_blur_kernel_of_one(mmu, backend):
    maps = np.random.default_rng(2).random((3, 9, 7)).astype(np.float32)
    try:
        mmu.gaussian_blur(maps.copy(), 1)
        raise AssertionError('MMPose 1.3.2 was expected to fail on kernel 1')
    except ValueError:
        pass                                            # its [0:-0] slice is empty
    np.testing.assert_array_equal(ops.gaussian_blur(maps.copy(), 1), maps)


def test_udp_combined_single_row_without_maximum(backend):
    codec = fastcodec.UDPHeatmap((192, 256), (48, 64), heatmap_type='combined')
    kp, score = codec.decode(np.full((3, 1, 48), -1.0, np.float32))  # MMPose: IndexError
    assert np.isfinite(kp).all() and (score == -1).all()


def test_udp_heatmap_size_one_is_refused(mmc):
    """MMPose's UDP scale_factor divides by size - 1 = 0 (inf: keypoints at pixel 0,
    decoded coordinates NaN); fastcodec refuses the size at construction."""
    for size in ((1, 11), (11, 1)):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', RuntimeWarning)
            ref = mmc.UDPHeatmap((8, 44), size)
            assert np.isinf(ref.scale_factor).any()
            assert np.isnan(ref.decode(np.ones((1, size[1], size[0]), np.float32))[0]).any()
        with pytest.raises(ValueError, match='at least'):
            fastcodec.UDPHeatmap((8, 44), size)
        with pytest.raises(ValueError, match='at least'):
            fastcodec.AssociativeEmbedding((8, 44), size, use_udp=True)


def test_invisible_non_finite_keypoint_gets_weight_zero(mmc, backend):
    """A NaN/Inf keypoint has weight 0 whatever its visibility; MMPose skips one with
    visibility < 0.5 and keeps that visibility as its weight (float16 keypoints beyond
    65504 are Inf)."""
    kps = np.array([[[np.inf, 10.0], [70000.0, 20.0], [30.0, 40.0]]]).astype(np.float16)
    vis = np.array([[0.3, 0.4, 0.3]], np.float32)
    cfg = dict(input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0)
    want = mmc.MSRAHeatmap(**cfg).encode(kps, vis)['keypoint_weights']
    got = fastcodec.MSRAHeatmap(**cfg).encode(kps, vis)['keypoint_weights']
    np.testing.assert_array_equal(want, vis)
    np.testing.assert_array_equal(got, np.array([[0, 0, 0.3]], np.float32))
