"""RegressionLabel / IntegralRegressionLabel: bad input raises ValueError/TypeError
naming the argument before any kernel runs; odd-but-valid input (float64, integers,
non-contiguous, empty N or K, NaN/Inf keypoints) gives defined results."""
import warnings

import numpy as np
import pytest

import fastcodec
from conftest import host_call
from fastcodec import _calls


@pytest.fixture(params=['regression', 'integral'])
def codec(request):
    if request.param == 'regression':
        return fastcodec.RegressionLabel((192, 256))
    return fastcodec.IntegralRegressionLabel((192, 256), (48, 64), 2.0)


@pytest.mark.parametrize('call,match', [
    (lambda c: c.encode(np.zeros((17, 2))), r'keypoints must have shape \(N, K, 2\)'),
    (lambda c: c.encode(np.zeros((1, 1, 17, 2))), r'keypoints must have shape \(N, K, 2\)'),
    (lambda c: c.encode(np.zeros((1, 17, 3))), r'\(x, y\)'),
    (lambda c: c.encode(np.zeros((1, 17, 2)), np.ones((1, 16))), 'keypoints_visible must have shape'),
    (lambda c: c.encode(np.zeros((1, 17, 2)), np.ones((17,))), 'keypoints_visible must have shape'),
    (lambda c: c.batch_encode(np.zeros((1, 17, 2))), r'\(B, N, K, 2\)'),
    (lambda c: c.batch_encode(np.zeros((2, 1, 17, 4))), r'\(x, y\)'),
    (lambda c: c.batch_encode(np.zeros((2, 1, 17, 2)), np.ones((2, 17))), 'keypoints_visible'),
    (lambda c: c.decode(np.zeros((17, 2))), r'encoded must have shape \(N, K, D\)'),
    (lambda c: c.decode(np.zeros((1, 1, 17, 2))), r'encoded must have shape \(N, K, D\)'),
    (lambda c: c.decode(np.zeros((1, 17, 3))), 'should be 2 or 4'),
    (lambda c: c.decode(np.zeros((1, 17, 1))), 'should be 2 or 4'),
    (lambda c: c.decode(np.zeros((1, 17, 0))), 'should be 2 or 4'),
    (lambda c: c.batch_decode(np.zeros((17, 2))), r'batch_encoded must have shape'),
    (lambda c: c.batch_decode(np.zeros((2, 1, 1, 17, 2))), r'batch_encoded must have shape'),
    (lambda c: c.batch_decode(np.zeros((2, 1, 17, 5))), 'should be 2 or 4'),
])
def test_shape_errors(codec, call, match):
    with pytest.raises(ValueError, match=match):
        call(codec)


def test_integral_is_single_instance():
    codec = fastcodec.IntegralRegressionLabel((192, 256), (48, 64), 2.0)
    with pytest.raises(ValueError, match='N = 2'):
        codec.encode(np.zeros((2, 17, 2)))
    with pytest.raises(ValueError, match='N = 0'):
        codec.encode(np.zeros((0, 17, 2)))


@pytest.mark.parametrize('call', [
    lambda c: c.encode('keypoints'),
    lambda c: c.encode(np.zeros((1, 17, 2), dtype=np.complex64)),
    lambda c: c.encode(np.zeros((1, 17, 2)), np.array([['a'] * 17])),
    lambda c: c.decode(np.array([[[None, None]]])),
    lambda c: c.batch_decode(np.zeros((1, 1, 17, 2), dtype=np.complex128)),
])
def test_type_errors(codec, call):
    with pytest.raises(TypeError):
        call(codec)


@pytest.mark.parametrize('make,match', [
    (lambda: fastcodec.RegressionLabel((192, -256)), 'input_size'),
    (lambda: fastcodec.RegressionLabel((192,)), 'input_size'),
    (lambda: fastcodec.RegressionLabel((0, 256)), 'input_size'),
    (lambda: fastcodec.IntegralRegressionLabel((192, 256), (48, 0), 2.0), 'heatmap_size'),
    (lambda: fastcodec.IntegralRegressionLabel((192, 256), (48, 64), -1), 'sigma'),
    (lambda: fastcodec.IntegralRegressionLabel((192, 256), (48, 64), 2.0, blur_kernel_size=4),
     'blur_kernel_size'),
])
def test_constructor_errors(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_unknown_options():
    with pytest.raises(TypeError):
        fastcodec.RegressionLabel((192, 256), sigma=2)
    with pytest.raises(TypeError):
        fastcodec.IntegralRegressionLabel((192, 256), (48, 64), 2.0, gamma=1)


def test_kernels_recheck_shapes(backend):
    """What would index out of bounds, the kernels refuse themselves."""
    call = host_call()
    with pytest.raises(ValueError):
        _calls.encode_regression(call, np.zeros((3, 3)), np.zeros(3), (10, 10), (3,))
    with pytest.raises(ValueError):
        _calls.encode_regression(call, np.zeros((3, 2)), np.zeros(4), (10, 10), (4,))
    with pytest.raises(ValueError):
        _calls.decode_regression(call, np.zeros((3, 3)), (10, 10), True, (3,))
    with pytest.raises(ValueError):  # an output buffer of the wrong shape
        call.kernels.encode_regression(np.zeros((3, 2)), np.zeros(3), (10, 10),
                                       np.empty((3, 2), np.float32), np.empty(4, np.float32))
    with pytest.raises((ValueError, TypeError)):
        call.kernels.normalize_heatmaps(np.zeros((2, 4, 4), np.float32)[:, ::2])


def test_non_finite_keypoints_get_weight_zero(mmc, backend, codec):
    """NaN/Inf/huge keypoints: weight 0, as in MMPose. Deviation (docs/deviations.md):
    MMPose's labels of NaN/Inf keypoints are NaN/Inf, and `NaN * 0` poisons a loss;
    fastcodec writes 0 for both coordinates of such a keypoint. Finite labels (a huge
    but representable coordinate included) are MMPose's; the heatmap channel is empty."""
    kps = np.full((1, 17, 2), 100.0, np.float32)
    kps[0, 3] = np.nan
    kps[0, 4, 0] = np.inf
    kps[0, 5, 1] = -np.inf
    kps[0, 6, 1] = 1e30
    kps[0, 7, 0] = np.nan
    out = codec.encode(kps)
    np.testing.assert_array_equal(out['keypoint_weights'][0, 3:8], 0)
    np.testing.assert_array_equal(out['keypoint_weights'][0, 8:], 1)
    ref = mmc.RegressionLabel((192, 256)).encode(kps)
    np.testing.assert_array_equal(out['keypoint_weights'], ref['keypoint_weights'])
    finite = np.isfinite(ref['keypoint_labels']).all(-1)
    assert finite.tolist() == [[True] * 3 + [False] * 3 + [True] + [False] + [True] * 9]
    np.testing.assert_array_equal(out['keypoint_labels'][finite], ref['keypoint_labels'][finite])
    np.testing.assert_array_equal(out['keypoint_labels'][~finite], 0)
    if 'heatmaps' in out:
        assert np.isfinite(out['heatmaps']).all()
        assert not out['heatmaps'][3:8].any()
        np.testing.assert_allclose(out['heatmaps'][8:].sum((1, 2)), 1, rtol=0, atol=1e-5)


def test_labels_beyond_float32_are_zero(backend):
    """A float64 keypoint whose label overflows float32 (1e300 / w) is outside the image
    (weight 0) and gets labels 0, like a NaN one; batch_encode follows the same rule, and
    a loss of labels times weights stays finite."""
    codec = fastcodec.RegressionLabel((192, 256))
    kps = np.full((2, 1, 4, 2), 50.0)
    kps[0, 0, 1, 0] = 1e300
    kps[1, 0, 2] = [-np.inf, np.nan]
    out = codec.batch_encode(kps)
    assert out['keypoint_weights'][0, 0].tolist() == [1, 0, 1, 1]
    assert out['keypoint_weights'][1, 0].tolist() == [1, 1, 0, 1]
    np.testing.assert_array_equal(out['keypoint_labels'][0, 0, 1], 0)
    np.testing.assert_array_equal(out['keypoint_labels'][1, 0, 2], 0)
    np.testing.assert_array_equal(out['keypoint_labels'][0, 0, 0],
                                  np.float32([50 / 192, 50 / 256]))
    assert np.isfinite(out['keypoint_labels'] * out['keypoint_weights'][..., None]).all()


def test_nan_keypoint_unbiased_deviation(mmc, backend):
    """Deviation (docs/deviations.md): with unbiased=True MMPose draws a NaN keypoint as
    a NaN heatmap channel (and normalises NaN / NaN); fastcodec leaves it all zero."""
    args = ((192, 256), (48, 64), 2.0, True)
    kps = np.full((1, 17, 2), 100.0, np.float32)
    kps[0, 2] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        ref = mmc.IntegralRegressionLabel(*args).encode(kps)
    assert np.isnan(ref['heatmaps'][2]).all()
    out = fastcodec.IntegralRegressionLabel(*args).encode(kps)
    assert not out['heatmaps'][2].any()
    np.testing.assert_allclose(out['heatmaps'][3:], ref['heatmaps'][3:], rtol=0, atol=1e-5)
    np.testing.assert_array_equal(out['keypoint_weights'], ref['keypoint_weights'])


def test_non_finite_outputs_decode_like_mmpose(mmc, backend):
    codec, ref = fastcodec.RegressionLabel((192, 256)), mmc.RegressionLabel((192, 256))
    enc = np.array([[[np.nan, 0.5, 0.1, np.inf], [np.inf, -np.inf, np.nan, 0.2]]], np.float32)
    (kp, sc), (kp_ref, sc_ref) = codec.decode(enc), ref.decode(enc)
    np.testing.assert_array_equal(kp, kp_ref)
    np.testing.assert_array_equal(sc, sc_ref)


def test_empty_layouts(backend, codec):
    out = codec.encode(np.zeros((1, 0, 2)))
    assert out['keypoint_labels'].shape == (1, 0, 2) and out['keypoint_weights'].shape == (1, 0)
    if 'heatmaps' in out:
        assert out['heatmaps'].shape == (0, 64, 48)
    out = codec.batch_encode(np.zeros((0, 1, 17, 2)))
    assert out['keypoint_labels'].shape == (0, 1, 17, 2)
    assert out['keypoint_weights'].shape == (0, 1, 17)
    if not codec.single_instance:
        out = codec.encode(np.zeros((0, 17, 2)))
        assert out['keypoint_labels'].shape == (0, 17, 2)
        assert out['keypoint_weights'].shape == (0, 17)
    for dim in (2, 4):
        kp, sc = codec.decode(np.zeros((0, 17, dim), np.float32))
        assert kp.shape == (0, 17, 2) and sc.shape == (0, 17)
        kp, sc = codec.decode(np.zeros((1, 0, dim), np.float32))
        assert kp.shape == (1, 0, 2) and sc.shape == (1, 0)
        kp, sc = codec.batch_decode(np.zeros((0, 1, 17, dim), np.float32))
        assert kp.shape == (0, 1, 17, 2) and sc.shape == (0, 1, 17)


def test_odd_dtypes_and_layouts(mmc, backend, codec):
    """Non-contiguous, float64, integer keypoints and bool/int visibility: same as MMPose."""
    ref = (mmc.RegressionLabel((192, 256)) if isinstance(codec, fastcodec.RegressionLabel)
           else mmc.IntegralRegressionLabel((192, 256), (48, 64), 2.0))
    rng = np.random.default_rng(0)
    base = rng.uniform(-10, 200, (1, 17, 4))
    cases = [
        (base[..., ::2], None),                                   # non-contiguous float64
        (np.asfortranarray(base[..., :2].astype(np.float32)), rng.random((1, 17)) > 0.3),
        (base[..., :2].astype(np.int64), rng.integers(0, 3, (1, 17))),
        (base[..., :2].astype(np.float16), None),
    ]
    for kps, vis in cases:
        got, want = codec.encode(kps, vis), ref.encode(kps, vis)
        assert list(got) == list(want)
        for key in want:
            assert got[key].dtype == want[key].dtype and got[key].shape == want[key].shape
            np.testing.assert_allclose(got[key], want[key], rtol=0, atol=1e-5, err_msg=key)
    enc = rng.uniform(0, 1, (2, 17, 8))[..., ::2]                  # non-contiguous float64
    (kp, sc), (kp_ref, sc_ref) = codec.decode(enc), ref.decode(enc)
    assert kp.dtype == kp_ref.dtype and sc.dtype == sc_ref.dtype
    np.testing.assert_allclose(kp, kp_ref, rtol=0, atol=2e-3)
    np.testing.assert_allclose(sc, sc_ref, rtol=0, atol=1e-4)


def test_normalize_heatmaps_kernel(backend):
    """The in-place normaliser against MMPose's formula on maps with empty rows,
    negative values, signed zeros, a NaN and an all-zero map, W not a multiple of 8."""
    rng = np.random.default_rng(5)
    maps = np.zeros((5, 9, 13), np.float32)
    maps[0, 3:6, 2:9] = rng.random((3, 7))
    maps[1] = rng.normal(0, 1, (9, 13))
    maps[2, 8, 12] = -0.0
    maps[2, 0, 0] = 2.5
    maps[3, 4, 4] = np.nan
    want = maps / (maps.sum(axis=(-1, -2)).reshape(-1, 1, 1) + 1e-24)
    got = maps.copy()
    host_call().kernels.normalize_heatmaps(got)
    np.testing.assert_allclose(got[[0, 2, 4]], want[[0, 2, 4]], rtol=0, atol=1e-5)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-4, atol=1e-5)  # cancelling sum
    assert np.isnan(got[3]).all() and np.isnan(want[3]).all()
    assert not got[4].any()


def test_kernel_dtype_paths_agree(backend):
    """float32/float64 inputs reach the kernels without conversion (other dtypes are
    converted to float64 by the codec); every pairing must give the float64 result."""
    call = host_call()
    rng = np.random.default_rng(9)
    kps = rng.uniform(-20, 220, (3, 17, 2)).astype(np.float32)
    vis = rng.choice([0.0, 0.49, 0.5, 0.51, 1.0], (3, 17)).astype(np.float32)
    want = _calls.encode_regression(call, kps.astype(np.float64), vis.astype(np.float64),
                                    (192, 256), vis.shape)
    for k_dtype in (np.float32, np.float64):
        for v_dtype in (np.float32, np.float64):
            got = _calls.encode_regression(call, kps.astype(k_dtype), vis.astype(v_dtype),
                                           (192, 256), vis.shape)
            np.testing.assert_array_equal(got[0], want[0])
            np.testing.assert_array_equal(got[1], want[1])
    codec = fastcodec.RegressionLabel((192, 256))
    for v_dtype in (np.int64, bool):
        got = codec.encode(kps, vis.astype(v_dtype))['keypoint_weights']
        np.testing.assert_array_equal(got, codec.encode(
            kps, vis.astype(v_dtype).astype(np.float64))['keypoint_weights'])
    enc = rng.uniform(-1, 2, (3, 17, 4)).astype(np.float32)
    for f32 in (True, False):
        k64, s64 = _calls.decode_regression(call, enc.astype(np.float64), (192, 256), f32,
                                            enc.shape[:-1])
        k32, s32 = _calls.decode_regression(call, enc, (192, 256), f32, enc.shape[:-1])
        assert s32.dtype == s64.dtype == (np.float32 if f32 else np.float64)
        np.testing.assert_array_equal(k32, k64)
        np.testing.assert_array_equal(s32, s64)


def test_integer_and_half_outputs_deviation(mmc, backend):
    """Deviation (docs/deviations.md): MMPose's decode keeps integer outputs integer
    (int64 keypoints, float64 sigma scores) and float16 scores float16; fastcodec
    always returns float64 keypoints and float32 scores for them (float64 outputs
    keep float64 scores, as in MMPose). The values agree."""
    codec, ref = fastcodec.RegressionLabel((192, 256)), mmc.RegressionLabel((192, 256))
    for enc in (np.arange(12).reshape(1, 3, 4) - 3, np.arange(6).reshape(1, 3, 2)):
        (kp, sc), (kp_ref, sc_ref) = codec.decode(enc), ref.decode(enc)
        assert kp.dtype == np.float64 and sc.dtype == np.float32
        np.testing.assert_allclose(kp, kp_ref, rtol=0, atol=2e-3)
        np.testing.assert_allclose(sc, sc_ref.astype(np.float64), rtol=0, atol=1e-4)
    # float16: MMPose rounds 1 - sigma and the mean to float16 (resolution ~5e-4 at
    # 0.5); fastcodec computes the scores in float32 from the exact float16 values.
    enc = np.linspace(0, 1, 12).reshape(1, 3, 4).astype(np.float16)
    (kp, sc), (kp_ref, sc_ref) = codec.decode(enc), ref.decode(enc)
    assert kp.dtype == np.float64 and sc.dtype == np.float32 and sc_ref.dtype == np.float16
    np.testing.assert_allclose(kp, kp_ref, rtol=0, atol=2e-3)
    exact = (1 - enc[..., 2:].astype(np.float32)).mean(-1)
    np.testing.assert_array_equal(sc, exact)
    np.testing.assert_allclose(sc, sc_ref.astype(np.float32), rtol=0, atol=1e-3)


def test_decode_needs_three_axes_deviation(mmc):
    """Deviation: MMPose decodes (K, 4) outputs of any rank; fastcodec's decode takes
    (N, K, D) only (batch_decode takes (B, N, K, D) or (B, K, D)) and says so."""
    enc = np.full((17, 4), 0.5, np.float32)
    assert mmc.RegressionLabel((192, 256)).decode(enc)[0].shape == (17, 2)
    with pytest.raises(ValueError, match=r'\(N, K, D\)'):
        fastcodec.RegressionLabel((192, 256)).decode(enc)


def test_cpp_kernels_read_dtypes_not_type_numbers():
    """The C++ bindings test dtypes by their type number first (a fast path): a
    byte-swapped float32 array has float32's number but not its bytes, so as an
    input it is converted (the results equal the native array's) and as an output
    buffer it is refused."""
    cpp = pytest.importorskip('fastcodec.backends.cpp')
    kps = np.random.default_rng(0).uniform(0, 150, (1, 17, 2)).astype(np.float32)
    vis = np.ones((1, 17), np.float32)
    swapped = kps.astype(kps.dtype.newbyteorder())
    outs = [(np.empty((1, 17, 2), np.float32), np.empty((1, 17), np.float32)) for _ in '12']
    cpp.encode_regression(kps, vis, (192.0, 256.0), *outs[0])
    cpp.encode_regression(swapped, vis, (192.0, 256.0), *outs[1])
    np.testing.assert_array_equal(outs[0][0], outs[1][0])
    np.testing.assert_array_equal(outs[0][1], outs[1][1])
    with pytest.raises(TypeError, match='dtype float32 expected'):
        cpp.encode_regression(kps, vis, (192.0, 256.0),
                              np.empty((1, 17, 2), np.dtype('f4').newbyteorder()),
                              np.empty((1, 17), np.float32))


@pytest.mark.parametrize('k_dtype', [np.float32, np.float64], ids=['kf32', 'kf64'])
@pytest.mark.parametrize('v_dtype', [np.float32, np.float64], ids=['vf32', 'vf64'])
def test_encode_kernel_lanes_equal_numba(k_dtype, v_dtype):
    """The cpp encode loop takes four keypoints per vector step (AVX2) and the rest one
    by one; numba runs regression.h's functions one keypoint at a time. Every special
    value at every lane position and every length mod 4 gives the same bits."""
    w, h = 10.0, 20.0
    specials = [0.0, -0.0, 9.0, 19.0, 9.000001, 19.000001, -1e-300, 5.5, np.nan, np.inf,
                -np.inf, 3e38, 1e300, -1e300, 1e-310, 123456.7]
    vis_values = [0.5, 0.49, 0.51, np.nan, 1.0, 0.0, -np.inf, np.inf]
    rng = np.random.default_rng(4)
    for M in list(range(1, 13)) + [257]:
        kps = rng.choice(specials, (M, 2)).astype(k_dtype)
        vis = rng.choice(vis_values, M).astype(v_dtype)
        got = {}
        for backend in ('cpp', 'numba'):
            with fastcodec.use_backend(backend), warnings.catch_warnings():
                warnings.simplefilter('ignore', RuntimeWarning)  # float32 overflow
                got[backend] = _calls.encode_regression(host_call(), kps, vis, (w, h), (M,))
        for ours, theirs in zip(got['cpp'], got['numba']):
            np.testing.assert_array_equal(ours.view(np.uint32), theirs.view(np.uint32))
