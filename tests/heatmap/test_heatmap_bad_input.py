"""Bad input raises ValueError/TypeError naming the argument before any kernel runs;
odd-but-valid input (float64, non-contiguous, empty N or K) gives defined results."""
import numpy as np
import pytest

import fastcodec
from fastcodec import ops


@pytest.fixture
def msra():
    return fastcodec.MSRAHeatmap((192, 256), (48, 64), 2.0)


@pytest.mark.parametrize('call,match', [
    (lambda c: c.encode(np.zeros((17, 2))), 'keypoints must have shape'),
    (lambda c: c.encode(np.zeros((1, 17, 3))), r'\(x, y\)'),
    (lambda c: c.encode(np.zeros((2, 17, 2))), 'N = 2'),
    (lambda c: c.encode(np.zeros((1, 17, 2)), np.ones((1, 16))), 'keypoints_visible must have shape'),
    (lambda c: c.decode(np.zeros((64, 48))), 'encoded must have shape'),
    (lambda c: c.decode(np.zeros((17, 0, 48))), 'positive height and width'),
    (lambda c: c.batch_encode(np.zeros((1, 17, 2))), r'\(B, N, K, 2\)'),
    (lambda c: c.batch_decode(np.zeros((17, 64, 48))), r'\(B, K, H, W\)'),
])
def test_shape_errors(msra, call, match):
    with pytest.raises(ValueError, match=match):
        call(msra)


@pytest.mark.parametrize('call', [
    lambda c: c.encode('keypoints'),
    lambda c: c.encode(np.zeros((1, 17, 2), dtype=np.complex64)),
    lambda c: c.decode(np.array([[[None]]])),
])
def test_type_errors(msra, call):
    with pytest.raises(TypeError):
        call(msra)


@pytest.mark.parametrize('kwargs,match', [
    (dict(input_size=(192, 256), heatmap_size=(48, -64), sigma=2), 'heatmap_size'),
    (dict(input_size=(192, 256), heatmap_size=(48, 64), sigma=0), 'sigma'),
    (dict(input_size=(192, 256), heatmap_size=(48, 64), sigma=2, blur_kernel_size=10), 'blur_kernel_size'),
    (dict(input_size=(192,), heatmap_size=(48, 64), sigma=2), 'input_size'),
])
def test_constructor_errors(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        fastcodec.MSRAHeatmap(**kwargs)


def test_unknown_options():
    with pytest.raises(ValueError, match='heatmap_type'):
        fastcodec.UDPHeatmap((192, 256), (48, 64), heatmap_type='offsets')
    with pytest.raises(ValueError, match='kernel_size'):
        fastcodec.MegviiHeatmap((192, 256), (48, 64), kernel_size=4)
    with pytest.raises(TypeError):
        fastcodec.MSRAHeatmap((192, 256), (48, 64), 2.0, gamma=1)
    with pytest.raises(ValueError, match='3 maps per keypoint'):
        fastcodec.UDPHeatmap((192, 256), (48, 64), heatmap_type='combined').decode(np.zeros((4, 64, 48)))


def test_function_errors():
    with pytest.raises(ValueError, match='sigma'):
        ops.generate_gaussian_heatmaps((48, 64), np.zeros((2, 3, 2)), np.ones((2, 3)), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match='heatmaps hold 3 maps'):
        ops.refine_keypoints(np.zeros((1, 4, 2), np.float32), np.zeros((3, 8, 8), np.float32))
    with pytest.raises(ValueError, match='kernel'):
        ops.gaussian_blur(np.zeros((1, 8, 8), np.float32), 6)
    with pytest.raises(TypeError, match='writeable float'):
        ops.refine_keypoints(np.zeros((1, 3, 2), np.int64), np.zeros((3, 8, 8), np.float32))


def test_non_finite_keypoints_are_invisible(backend, msra):
    kps = np.full((1, 17, 2), 100.0)
    kps[0, 3] = np.nan
    kps[0, 4, 0] = np.inf
    kps[0, 5, 1] = 1e300
    out = msra.encode(kps, np.ones((1, 17)))
    assert np.all(out['keypoint_weights'][0, 3:6] == 0)
    assert np.all(out['heatmaps'][3:6] == 0)
    assert np.all(out['keypoint_weights'][0, 6:] == 1)


def test_empty_and_odd_layouts(backend, msra):
    out = msra.batch_encode(np.zeros((0, 1, 17, 2)))
    assert out['heatmaps'].shape == (0, 17, 64, 48) and out['keypoint_weights'].shape == (0, 1, 17)
    out = msra.encode(np.zeros((1, 0, 2)))
    assert out['heatmaps'].shape == (0, 64, 48) and out['keypoint_weights'].shape == (1, 0)
    kp, score = msra.decode(np.zeros((0, 64, 48), np.float32))
    assert kp.shape == (1, 0, 2) and score.shape == (1, 0)
    kp, score = msra.batch_decode(np.zeros((0, 17, 64, 48), np.float32))
    assert kp.shape == (0, 1, 17, 2)
    rng = np.random.default_rng(0)
    kps = rng.uniform(0, 190, (1, 17, 4))[..., ::2]          # non-contiguous float64
    ref = msra.encode(np.ascontiguousarray(kps))
    got = msra.encode(kps)
    np.testing.assert_array_equal(got['heatmaps'], ref['heatmaps'])
    maps = np.asfortranarray(ref['heatmaps'].astype(np.float64))  # float64, Fortran order
    np.testing.assert_array_equal(msra.decode(maps)[0], msra.decode(ref['heatmaps'])[0])
    ops_maps = ops.generate_gaussian_heatmaps((48, 64), np.zeros((0, 17, 2)), np.zeros((0, 17)), 2.0)
    assert ops_maps[0].shape == (17, 64, 48) and not ops_maps[0].any()
