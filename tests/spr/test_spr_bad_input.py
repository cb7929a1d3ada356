"""SPR: wrong arguments and shapes raise ValueError/TypeError naming the argument before
any kernel runs; NaN/Inf keypoints are invisible; the documented deviations from
MMPose 1.3.2 (docs/deviations.md, SPR section) hold on every CPU backend."""
import warnings

import numpy as np
import pytest
import torch

import fastcodec

SIZE = dict(input_size=(256, 256), heatmap_size=(64, 64))


@pytest.mark.parametrize('kwargs, error, words', [
    (dict(root_type='centre'), ValueError, 'root_type'),
    (dict(sigma=(2.0,), generate_keypoint_heatmaps=True), ValueError, 'sigma must hold 2'),
    (dict(sigma=(2.0, 1.0, 0.5), generate_keypoint_heatmaps=True), ValueError, 'sigma'),
    (dict(sigma=()), ValueError, 'sigma'),
    (dict(sigma=-1.0), ValueError, 'sigma[0]'),
    (dict(sigma=(2.0, 0.0), generate_keypoint_heatmaps=True), ValueError, 'sigma[1]'),
    (dict(sigma=float('nan')), ValueError, 'sigma[0]'),
    (dict(sigma='2'), TypeError, 'sigma[0]'),
    (dict(decode_nms_kernel=4), ValueError, 'decode_nms_kernel'),
    (dict(decode_nms_kernel=0), ValueError, 'decode_nms_kernel'),
    (dict(decode_nms_kernel=-3), ValueError, 'decode_nms_kernel'),
    (dict(decode_nms_kernel=3.0), ValueError, 'decode_nms_kernel'),
    (dict(decode_nms_kernel=True), ValueError, 'decode_nms_kernel'),
    (dict(decode_nms_kernel='5'), ValueError, 'decode_nms_kernel'),
    (dict(decode_max_instances=-1), ValueError, 'decode_max_instances'),
    (dict(decode_max_instances=2.5), TypeError, 'decode_max_instances'),
    (dict(decode_thr='0.1'), TypeError, 'decode_thr'),
    (dict(background_weight=None), TypeError, 'background_weight'),
    (dict(minimal_diagonal_length='5'), TypeError, 'minimal_diagonal_length'),
    (dict(heatmap_size=(0, 64)), ValueError, 'heatmap_size'),
    (dict(input_size=(256,)), TypeError, 'input_size'),
])
def test_bad_constructor_arguments(kwargs, error, words):
    with pytest.raises(error, match=None) as info:
        fastcodec.SPR(**dict(SIZE, **kwargs))
    assert words in str(info.value)


def test_single_instance_is_false():
    assert fastcodec.SPR(**SIZE).single_instance is False
    assert fastcodec.SPR(**SIZE).support_batch_decoding is False  # as MMPose's SPR


@pytest.mark.parametrize('keypoints, visible, words', [
    (np.zeros((17, 2)), None, '(N, K, 2)'),
    (np.zeros((2, 17, 3)), None, 'last axis'),
    (np.zeros((2, 17, 2)), np.ones((2, 16)), 'keypoints_visible'),
    (np.zeros((2, 17, 2)), np.ones((17,)), 'keypoints_visible'),
])
def test_bad_encode_shapes(backend, keypoints, visible, words):
    with pytest.raises(ValueError) as info:
        fastcodec.SPR(**SIZE).encode(keypoints, visible)
    assert words in str(info.value)


def test_bad_encode_types(backend):
    codec = fastcodec.SPR(**SIZE)
    with pytest.raises(TypeError, match='keypoints'):
        codec.encode(np.array([[['a', 'b']]]))
    with pytest.raises(TypeError, match='keypoints_visible'):
        codec.encode(np.zeros((1, 2, 2)), np.array([['x', 'y']]))
    with pytest.raises(ValueError, match=r'\(B, N, K, 2\)'):
        codec.batch_encode(np.zeros((1, 17, 2)))


@pytest.mark.parametrize('heat_shape, disp_shape, words', [
    ((64, 64), (34, 64, 64), '(C, H, W)'),
    ((1, 64, 64), (1, 34, 64, 64), '(2K, H, W)'),
    ((1, 64, 64), (33, 64, 64), '(2K, 64, 64)'),
    ((1, 64, 64), (34, 64, 32), '(2K, 64, 64)'),
    ((1, 32, 64), (34, 64, 64), '(2K, 32, 64)'),
    ((0, 64, 64), (34, 64, 64), 'at least one channel'),
    ((1, 0, 64), (34, 0, 64), 'positive height'),
])
def test_bad_decode_shapes(backend, heat_shape, disp_shape, words):
    codec = fastcodec.SPR(**SIZE)
    with pytest.raises(ValueError) as info:
        codec.decode(np.zeros(heat_shape, np.float32), np.zeros(disp_shape, np.float32))
    assert words in str(info.value)
    with pytest.raises(ValueError):   # torch tensors are checked alike
        codec.decode(torch.zeros(heat_shape), torch.zeros(disp_shape))


def test_bad_batch_decode_shapes(backend):
    codec = fastcodec.SPR(**SIZE)
    with pytest.raises(ValueError, match='same number of samples'):
        codec.batch_decode(np.zeros((2, 1, 64, 64)), np.zeros((3, 34, 64, 64)))
    with pytest.raises(ValueError, match=r'\(B, C, H, W\)'):
        codec.batch_decode(np.zeros((1, 64, 64)), np.zeros((2, 34, 64, 64)))
    with pytest.raises(ValueError, match=r'\(B, 2K, H, W\)'):
        codec.batch_decode(np.zeros((2, 1, 64, 64)), np.zeros((34, 64, 64)))
    with pytest.raises(TypeError, match='displacements'):
        codec.batch_decode(np.zeros((2, 1, 64, 64)), np.full((2, 2, 64, 64), 'x'))


@pytest.mark.parametrize('kmaps', [False, True])
def test_nan_and_inf_keypoints_are_invisible(mmc, backend, kmaps):
    """MMPose raises on a NaN root (int(NaN)) or paints garbage; fastcodec encodes as if
    those keypoints had visibility 0."""
    rng = np.random.default_rng(0)
    kps = rng.uniform(20, 230, (4, 17, 2))
    kps[0, 3] = np.nan
    kps[1, 5, 0] = np.inf
    kps[2, :, 1] = -np.inf                     # the whole instance
    kps[3, 0] = [np.nan, 7.0]
    vis = np.ones((4, 17))
    cfg = dict(SIZE, generate_keypoint_heatmaps=kmaps)
    got = fastcodec.SPR(**cfg).encode(kps, vis)
    masked = np.where(np.isfinite(kps).all(-1), vis, 0)
    clean = np.where(np.isfinite(kps), kps, 0)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        expected = mmc.SPR(**cfg).encode(clean, masked)
        with pytest.raises((ValueError, OverflowError)):
            mmc.SPR(**cfg).encode(kps.copy(), vis.copy())
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=0, atol=1e-5, err_msg=key)


def test_zero_keypoint_sigma_of_small_heatmaps(mmc, backend):
    """sigma=None on a heatmap under 64 x 64 gives the keypoint maps sigma // 2 = 0:
    MMPose's Gaussian is exp(0 / 0), NaN at each keypoint pixel; fastcodec draws
    nothing there (0, weight background_weight as MMPose's NaN gets)."""
    cfg = dict(input_size=(192, 192), heatmap_size=(48, 48), generate_keypoint_heatmaps=True)
    ours, ref = fastcodec.SPR(**cfg), mmc.SPR(**cfg)
    assert ours.sigma == ref.sigma == (1.5, 0.0)
    kps = np.random.default_rng(1).uniform(10, 180, (3, 17, 2))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        expected = ref.encode(kps)
    got = ours.encode(kps)
    nan = np.isnan(expected['heatmaps'])
    assert nan.any() and np.isfinite(got['heatmaps']).all()
    assert (got['heatmaps'][nan] == 0).all()
    np.testing.assert_allclose(got['heatmaps'][~nan], expected['heatmaps'][~nan], atol=1e-5)
    for key in ('heatmap_weights', 'displacements', 'displacement_weights'):
        np.testing.assert_array_equal(got[key], expected[key], err_msg=key)


def test_nan_and_inf_in_root_maps_follow_torch(mmc, backend):
    """NaN pixels win torch's max-pool and top-k, then fail the threshold; suppressed
    infinities become NaN (inf * 0). fastcodec reproduces both."""
    rng = np.random.default_rng(2)
    heat = rng.uniform(0, 1, (1, 32, 32)).astype(np.float32)
    heat[0, 3, 4] = np.nan
    heat[0, 20, 20] = np.inf
    heat[0, 20, 22] = -np.inf
    heat[0, 10, 10:13] = -np.inf
    disp = rng.normal(0, 2, (6, 32, 32)).astype(np.float32)
    for nms in (1, 3, 5):
        cfg = dict(input_size=(128, 128), heatmap_size=(32, 32), decode_nms_kernel=nms)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            expected = mmc.SPR(**cfg).decode(torch.from_numpy(heat), torch.from_numpy(disp))
        got = fastcodec.SPR(**cfg).decode(heat, disp)
        np.testing.assert_array_equal(got[1][0], expected[1][0].numpy())
        np.testing.assert_allclose(got[0], expected[0].numpy(), rtol=0, atol=2e-3)
