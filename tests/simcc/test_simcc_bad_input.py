"""SimCC bad input: errors naming the argument before any kernel runs, empty N/K, and
NaN/Inf keypoints as invisible; converted (not rejected) dtypes and layouts."""
import numpy as np
import pytest

import fastcodec

INPUT = (192, 256)


@pytest.fixture
def codec():
    return fastcodec.SimCCLabel(INPUT, sigma=(4.9, 5.66))


@pytest.mark.parametrize('kwargs, error, word', [
    (dict(smoothing_type='laplace'), ValueError, 'smoothing_type'),
    (dict(smoothing_type=None), ValueError, 'smoothing_type'),
    (dict(label_smooth_weight=0.1), ValueError, 'label_smooth_weight'),
    (dict(smoothing_type='standard', label_smooth_weight=-0.1), ValueError, 'label_smooth_weight'),
    (dict(smoothing_type='standard', label_smooth_weight=1.5), ValueError, 'label_smooth_weight'),
    (dict(sigma=-1.0), ValueError, 'sigma'),
    (dict(sigma=(1.0, 2.0, 3.0)), TypeError, 'sigma'),
    (dict(sigma='wide'), TypeError, 'sigma'),
    (dict(simcc_split_ratio=0), ValueError, 'simcc_split_ratio'),
    (dict(simcc_split_ratio='2'), TypeError, 'simcc_split_ratio'),
    (dict(decode_beta=None), TypeError, 'decode_beta'),
    (dict(use_dark=True, sigma=50.0), ValueError, 'sigma'),
])
def test_bad_options(kwargs, error, word):
    with pytest.raises(error, match=word):
        fastcodec.SimCCLabel(INPUT, **kwargs)


def test_bad_input_size():
    with pytest.raises(ValueError, match='input_size'):
        fastcodec.SimCCLabel((0, 10))
    with pytest.raises(TypeError, match='input_size'):
        fastcodec.SimCCLabel(192)


def test_mmpose_config_dict_builds():
    codec = fastcodec.build(dict(type='SimCCLabel', input_size=(192, 256), sigma=(4.9, 5.66),
                                 simcc_split_ratio=2.0, normalize=False, use_dark=False))
    assert isinstance(codec, fastcodec.SimCCLabel)


def test_encode_wrong_shapes(backend, codec):
    with pytest.raises(ValueError, match='keypoints'):
        codec.encode(np.zeros((17, 2)))
    with pytest.raises(ValueError, match='keypoints'):
        codec.encode(np.zeros((1, 17, 3)))
    with pytest.raises(ValueError, match='keypoints_visible'):
        codec.encode(np.zeros((1, 17, 2)), np.ones((1, 16)))
    with pytest.raises(ValueError, match='keypoints'):
        codec.batch_encode(np.zeros((1, 17, 2)))
    with pytest.raises(TypeError, match='keypoints'):
        codec.encode(np.zeros((1, 17, 2), dtype=complex))


def test_decode_wrong_shapes(backend, codec):
    sx, sy = np.zeros((1, 17, 384), np.float32), np.zeros((1, 17, 512), np.float32)
    with pytest.raises(ValueError, match='simcc_x'):
        codec.decode(sx[0, 0], sy)
    with pytest.raises(ValueError, match='simcc_y'):
        codec.decode(sx, sy[None])
    with pytest.raises(ValueError, match='simcc_x and simcc_y'):
        codec.decode(sx, sy[:, :16])
    with pytest.raises(ValueError, match='simcc_x and simcc_y'):
        codec.decode(sx, sy[0])
    with pytest.raises(ValueError, match='non-empty'):
        codec.decode(sx[..., :0], sy)
    with pytest.raises(ValueError, match='simcc_x'):
        codec.batch_decode(sx[0], sy[0])
    with pytest.raises(ValueError, match='simcc_x and simcc_y'):
        codec.batch_decode(sx, sy[None])
    with pytest.raises(ValueError, match='simcc_x and simcc_y'):
        fastcodec.ops.get_simcc_maximum(sx, sy[:, :3])
    with pytest.raises(ValueError, match='simcc'):
        fastcodec.ops.refine_simcc_dark(np.zeros((1, 16), np.float32), sx, 11)
    with pytest.raises(ValueError, match='blur_kernel_size'):
        fastcodec.ops.refine_simcc_dark(np.zeros((1, 17), np.float32), sx, 10)
    with pytest.raises(ValueError, match='batch_pred_simcc'):
        fastcodec.ops.get_simcc_normalized(sx[0])


def test_empty_instances_and_keypoints(backend, codec):
    e = codec.encode(np.zeros((0, 17, 2)), np.zeros((0, 17)))
    assert e['keypoint_x_labels'].shape == (0, 17, 384)
    assert e['keypoint_y_labels'].shape == (0, 17, 512)
    assert e['keypoint_weights'].shape == (0, 17)
    e = codec.encode(np.zeros((2, 0, 2)))
    assert e['keypoint_x_labels'].shape == (2, 0, 384) and e['keypoint_weights'].shape == (2, 0)
    kps, scores = codec.decode(np.zeros((0, 384), np.float32), np.zeros((0, 512), np.float32))
    assert kps.shape == (1, 0, 2) and scores.shape == (1, 0)
    kps, scores = codec.batch_decode(np.zeros((0, 17, 384), np.float32),
                                     np.zeros((0, 17, 512), np.float32))
    assert kps.shape == (0, 1, 17, 2) and scores.shape == (0, 1, 17)


@pytest.mark.parametrize('smoothing', ['gaussian', 'standard'])
def test_non_finite_keypoints_get_weight_zero(backend, smoothing):
    codec = fastcodec.SimCCLabel(INPUT, smoothing_type=smoothing)
    kps = np.full((1, 5, 2), 50.0)
    kps[0, 0, 0] = np.nan
    kps[0, 1, 1] = np.inf
    kps[0, 2, 0] = -np.inf
    kps[0, 3] = 1e300
    vis = np.array([[1.0, 1.0, 1.0, 1.0, 1.0]], np.float32)
    e = codec.encode(kps, vis)
    np.testing.assert_array_equal(e['keypoint_weights'], [[0, 0, 0, 0, 1]])
    assert np.all(e['keypoint_x_labels'][0, :4] == 0) and np.all(e['keypoint_y_labels'][0, :4] == 0)
    assert e['keypoint_x_labels'][0, 4].max() > 0


def test_non_contiguous_and_float64_inputs(backend, codec):
    rng = np.random.default_rng(0)
    kps = rng.uniform(0, 190, (2, 17, 4))[..., ::2]          # strided
    assert not kps.flags.c_contiguous
    ref = codec.encode(np.ascontiguousarray(kps))
    out = codec.encode(kps)
    for key in ref:
        np.testing.assert_array_equal(out[key], ref[key])
    sx = rng.random((2, 17, 768)).astype(np.float64)[..., ::2]
    sy = rng.random((2, 17, 1024)).astype(np.float64)[..., ::2]
    k1, s1 = codec.decode(sx, sy)
    k2, s2 = codec.decode(np.ascontiguousarray(sx, np.float32), np.ascontiguousarray(sy, np.float32))
    np.testing.assert_array_equal(k1, k2)
    np.testing.assert_array_equal(s1, s2)


def test_nan_simcc_is_defined(backend):
    codec = fastcodec.SimCCLabel(INPUT, sigma=(4.9, 5.66), use_dark=True, decode_visibility=True)
    sx = np.random.default_rng(1).random((1, 3, 384)).astype(np.float32)
    sy = np.random.default_rng(2).random((1, 3, 512)).astype(np.float32)
    sx[0, 0, 7] = np.nan
    sy[0, 1, :] = np.inf
    kps, (scores, vis) = codec.decode(sx, sy)
    assert kps.shape == (1, 3, 2) and scores.shape == (1, 3) and vis.shape == (1, 3)
    assert np.isnan(scores[0, 0])                     # numpy's amax: NaN propagates
    assert np.all(np.isfinite(kps[0, 2])) and np.isfinite(scores[0, 2])  # others untouched


def test_dark_visibility_with_an_all_zero_row(backend, mmc):
    """docs/deviations.md (all-zero SimCC row with use_dark): MMPose's visibility is
    the x row's value when only the y row is all zero (its NaN loses the comparison) and
    NaN when the x row is; fastcodec's is the smaller of both rows' (1 / bins for the
    flat one). Pinned by tools/fuzz."""
    cfg = dict(input_size=(192, 256), sigma=(4.9, 5.66), use_dark=True, decode_visibility=True)
    enc = mmc.SimCCLabel(**cfg).encode(np.array([[[60.3, 100.7]]], np.float32))
    sx, sy = enc['keypoint_x_labels'], enc['keypoint_y_labels']
    for x, y in ((sx, np.zeros_like(sy)), (np.zeros_like(sx), sy)):
        _, (_, want) = mmc.SimCCLabel(**cfg).decode(x.copy(), y.copy())
        kps, (_, vis) = fastcodec.SimCCLabel(**cfg).decode(x, y)
        assert np.isnan(want).all() == (x is not sx)          # MMPose: NaN only for x
        assert np.isfinite(kps).all()
        np.testing.assert_allclose(vis, 1 / (sy.shape[-1] if x is sx else sx.shape[-1]), rtol=1e-6)
