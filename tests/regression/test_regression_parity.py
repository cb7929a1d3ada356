"""RegressionLabel and IntegralRegressionLabel against MMPose 1.3.2, for each CPU
backend (and a representative subset, EMULATED, on the cuda-emulator backend): every option, random and adversarial keypoints (borders, exactly at the input
size, outside, negative, NaN-free here; see test_regression_bad_input.py), odd
visibilities, float32/float64, N > 1; batch == per sample; torch in -> torch out.
Tolerances (docs/design.md): targets 1e-5 absolute, keypoints 2e-3 px, scores 1e-4."""
import numpy as np
import pytest

import fastcodec
from conftest import EMULATED, adversarial_keypoints, adversarial_visibility

REGRESSION_SIZES = [(192, 256), (256, 192), (288, 384), (7, 5)]

INTEGRAL_CONFIGS = [
    dict(input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0),
    dict(input_size=(192, 256), heatmap_size=(48, 64), sigma=1.5, normalize=False),
    dict(input_size=(288, 384), heatmap_size=(72, 96), sigma=3.0),
    dict(input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0, unbiased=True),
    dict(input_size=(288, 384), heatmap_size=(72, 96), sigma=3.0, unbiased=True,
         blur_kernel_size=17, normalize=False),
    dict(input_size=(256, 256), heatmap_size=(64, 64), sigma=1.0, unbiased=True,
         blur_kernel_size=5),
]


def config_id(cfg):
    return '-'.join(str(v) for k, v in cfg.items() if k != 'input_size')


def edge_keypoints(rng, input_size, n, k):
    """(n, k, 2) keypoints on the decision edges of the inside rule: 0, -0, w - 1,
    just past w - 1, exactly w, tiny negatives, far outside, plus random ones."""
    w, h = input_size
    xs = np.array([0.0, -0.0, w - 1, w - 1 + 1e-6, w - 1 + 1e-3, w, w + 0.5, -1e-9, -0.5,
                   -w, 3 * w, (w - 1) / 2, 1e-7])
    ys = np.array([0.0, -0.0, h - 1, h - 1 + 1e-6, h - 1 + 1e-3, h, h + 0.5, -1e-9, -0.5,
                   -h, 3 * h, (h - 1) / 2, 1e-7])
    kps = rng.uniform(-0.1, 1.1, (n, k, 2)) * [w, h]
    pick = rng.integers(0, len(xs), (n, k, 2))
    use = rng.random((n, k, 2)) < 0.7
    kps[..., 0] = np.where(use[..., 0], xs[pick[..., 0]], kps[..., 0])
    kps[..., 1] = np.where(use[..., 1], ys[pick[..., 1]], kps[..., 1])
    return kps


def keypoint_sets(rng, input_size, n, k):
    scale = (input_size[0] / 48, input_size[1] / 64)
    yield adversarial_keypoints(rng, input_size, scale, n, k)
    yield edge_keypoints(rng, input_size, n, k)
    yield rng.uniform(0, 1, (n, k, 2)) * [input_size[0] - 1, input_size[1] - 1]


def assert_encoded_equal(ours, ref):
    assert list(ours) == list(ref)
    for key in ref:
        a, b = ours[key], ref[key]
        assert isinstance(a, np.ndarray), key
        assert a.shape == b.shape and a.dtype == b.dtype, (key, a.shape, b.shape, a.dtype, b.dtype)
        if key == 'keypoint_weights':
            np.testing.assert_array_equal(a, b, err_msg=key)
        else:
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-5, err_msg=key)


def assert_decoded_close(ours, ref):
    (kp, score), (kp_ref, score_ref) = ours, ref
    assert kp.shape == kp_ref.shape and kp.dtype == kp_ref.dtype, (kp.dtype, kp_ref.dtype)
    assert score.shape == score_ref.shape and score.dtype == score_ref.dtype, \
        (score.shape, score_ref.shape, score.dtype, score_ref.dtype)
    np.testing.assert_allclose(kp, kp_ref, rtol=0, atol=2e-3)
    np.testing.assert_allclose(score, score_ref, rtol=0, atol=1e-4)


# ---- class surface ------------------------------------------------------------------
@pytest.mark.parametrize('name', ['RegressionLabel', 'IntegralRegressionLabel'])
def test_class_attributes_match_mmpose(mmc, name):
    ours, ref = getattr(fastcodec, name), getattr(mmc, name)
    for attr in ('label_mapping_table', 'field_mapping_table', 'instance_mapping_table',
                 'auxiliary_encode_keys'):
        assert getattr(ours, attr) == getattr(ref, attr), attr
    assert fastcodec.CODECS[name] is ours


def test_build_from_config():
    codec = fastcodec.build(dict(type='IntegralRegressionLabel', input_size=(192, 256),
                                 heatmap_size=(48, 64), sigma=2.0, normalize=False))
    assert isinstance(codec, fastcodec.IntegralRegressionLabel) and codec.normalize is False
    assert isinstance(codec.heatmap_codec, fastcodec.MSRAHeatmap)
    assert isinstance(codec.keypoint_codec, fastcodec.RegressionLabel)
    codec = fastcodec.build(dict(type='RegressionLabel', input_size=(192, 256)))
    assert codec.input_size == (192, 256) and codec.single_instance is False


# ---- RegressionLabel ----------------------------------------------------------------
@pytest.mark.parametrize('input_size', REGRESSION_SIZES, ids=str)
@pytest.mark.parametrize('dtype', [np.float32, np.float64], ids=['f32', 'f64'])
@EMULATED(keep=lambda p: p['input_size'] in ((192, 256), (7, 5)))
def test_regression_encode_matches_mmpose(mmc, backend, input_size, dtype):
    ours, ref = fastcodec.RegressionLabel(input_size), mmc.RegressionLabel(input_size)
    rng = np.random.default_rng([input_size[0], input_size[1], np.dtype(dtype).itemsize])
    for trial in range(12):
        n, k = [(1, 17), (3, 17), (5, 1), (2, 133)][trial % 4]
        vis = adversarial_visibility(rng, n, k).astype(dtype)
        for kps in keypoint_sets(rng, input_size, n, k):
            kps = kps.astype(dtype)
            assert_encoded_equal(ours.encode(kps, vis), ref.encode(kps, vis))
            assert_encoded_equal(ours.encode(kps), ref.encode(kps))


@EMULATED
def test_regression_weight_rule_at_the_edges(backend):
    """The exact comparisons: >= 0 and <= size - 1 on both axes, visibility > 0.5."""
    codec = fastcodec.RegressionLabel((10, 20))
    kps = np.array([[[0, 0], [9, 19], [9.0001, 5], [5, 19.0001], [-1e-12, 5], [5, -1e-12],
                     [10, 5], [4, 4], [4, 4], [4, 4]]], np.float64)
    vis = np.array([[1, 1, 1, 1, 1, 1, 1, 0.5, 0.49, 0.51]])
    weights = codec.encode(kps, vis)['keypoint_weights']
    np.testing.assert_array_equal(weights, [[1, 1, 0, 0, 0, 0, 0, 0, 0, 1]])
    np.testing.assert_array_equal(codec.encode(kps, vis)['keypoint_labels'],
                                  (kps / [10, 20]).astype(np.float32))


@pytest.mark.parametrize('input_size', REGRESSION_SIZES, ids=str)
@pytest.mark.parametrize('dim', [2, 4])
@pytest.mark.parametrize('dtype', [np.float32, np.float64], ids=['f32', 'f64'])
@EMULATED(keep=lambda p: p['input_size'] == (7, 5))
def test_regression_decode_matches_mmpose(mmc, backend, input_size, dim, dtype):
    ours, ref = fastcodec.RegressionLabel(input_size), mmc.RegressionLabel(input_size)
    rng = np.random.default_rng([dim, input_size[0], np.dtype(dtype).itemsize])
    for n, k in [(1, 17), (3, 17), (2, 133), (4, 1)]:
        for spread in (1.0, 3.0):
            enc = rng.uniform(-spread + 1, spread, (n, k, dim)).astype(dtype)
            assert_decoded_close(ours.decode(enc), ref.decode(enc))
    # Non-contiguous outputs, as a head's slice would give.
    enc = rng.uniform(0, 1, (2, 17, 2 * dim)).astype(dtype)[..., ::2]
    assert_decoded_close(ours.decode(enc), ref.decode(enc))


# ---- IntegralRegressionLabel --------------------------------------------------------
@pytest.mark.parametrize('cfg', INTEGRAL_CONFIGS, ids=config_id)
@pytest.mark.parametrize('dtype', [np.float32, np.float64], ids=['f32', 'f64'])
@EMULATED(keep=lambda p: p['dtype'] is np.float32 and (
    p['cfg'] in (INTEGRAL_CONFIGS[1], INTEGRAL_CONFIGS[4])))
def test_integral_encode_matches_mmpose(mmc, backend, cfg, dtype):
    ours, ref = fastcodec.IntegralRegressionLabel(**cfg), mmc.IntegralRegressionLabel(**cfg)
    rng = np.random.default_rng([len(str(cfg)), np.dtype(dtype).itemsize])
    for trial in range(6):
        k = (17, 17, 1, 133)[trial % 4]
        vis = adversarial_visibility(rng, 1, k).astype(dtype)
        for kps in keypoint_sets(rng, cfg['input_size'], 1, k):
            kps = kps.astype(dtype)
            assert_encoded_equal(ours.encode(kps, vis), ref.encode(kps, vis))
    kps = next(keypoint_sets(rng, cfg['input_size'], 1, 17)).astype(dtype)
    assert_encoded_equal(ours.encode(kps), ref.encode(kps))


@EMULATED
def test_integral_normalized_maps_sum_to_one(backend):
    codec = fastcodec.IntegralRegressionLabel((192, 256), (48, 64), 2.0)
    kps = np.array([[[100.0, 120.0], [-500.0, 10.0], [0.0, 0.0]]])
    heatmaps = codec.encode(kps)['heatmaps']
    sums = heatmaps.astype(np.float64).sum((1, 2))
    np.testing.assert_allclose(sums, [1, 0, 1], rtol=0, atol=1e-5)


@pytest.mark.parametrize('dim', [2, 4])
@pytest.mark.parametrize('dtype', [np.float32, np.float64], ids=['f32', 'f64'])
@EMULATED
def test_integral_decode_matches_mmpose(mmc, backend, dim, dtype):
    cfg = INTEGRAL_CONFIGS[0]
    ours, ref = fastcodec.IntegralRegressionLabel(**cfg), mmc.IntegralRegressionLabel(**cfg)
    rng = np.random.default_rng(dim)
    for n, k in [(1, 17), (2, 5)]:
        enc = rng.uniform(-0.5, 1.5, (n, k, dim)).astype(dtype)
        assert_decoded_close(ours.decode(enc), ref.decode(enc))


# ---- batch == per sample, torch -----------------------------------------------------
CODECS = {
    'regression': lambda: fastcodec.RegressionLabel((192, 256)),
    'integral': lambda: fastcodec.IntegralRegressionLabel((192, 256), (48, 64), 2.0),
    'integral_dark': lambda: fastcodec.IntegralRegressionLabel((192, 256), (48, 64), 2.0,
                                                               unbiased=True),
}


@pytest.mark.parametrize('name', list(CODECS))
def test_batch_encode_equals_per_sample(backend, name):
    codec = CODECS[name]()
    rng = np.random.default_rng(7)
    n = 1 if codec.single_instance else 3
    kps = np.stack([edge_keypoints(rng, (192, 256), n, 17) for _ in range(5)]).astype(np.float32)
    vis = np.stack([adversarial_visibility(rng, n, 17) for _ in range(5)]).astype(np.float32)
    batch = codec.batch_encode(kps, vis)
    for b in range(5):
        one = codec.encode(kps[b], vis[b])
        assert list(one) == list(batch)
        for key in one:
            np.testing.assert_array_equal(batch[key][b], one[key], err_msg=key)


@pytest.mark.parametrize('name', list(CODECS))
@pytest.mark.parametrize('dim', [2, 4])
def test_batch_decode_equals_per_sample(backend, name, dim):
    codec = CODECS[name]()
    rng = np.random.default_rng(dim)
    enc = rng.uniform(-0.2, 1.2, (6, 2, 17, dim)).astype(np.float32)
    keypoints, scores = codec.batch_decode(enc)
    assert keypoints.shape == (6, 2, 17, 2) and scores.shape == (6, 2, 17)
    for b in range(6):
        kp, sc = codec.decode(enc[b])
        np.testing.assert_array_equal(keypoints[b], kp)
        np.testing.assert_array_equal(scores[b], sc)
    # (B, K, D): one instance per sample, as regression heads emit.
    keypoints1, scores1 = codec.batch_decode(enc[:, 0])
    assert keypoints1.shape == (6, 1, 17, 2) and scores1.shape == (6, 1, 17)
    np.testing.assert_array_equal(keypoints1[:, 0], keypoints[:, 0])
    np.testing.assert_array_equal(scores1[:, 0], scores[:, 0])


@pytest.mark.parametrize('name', list(CODECS))
def test_torch_in_torch_out(backend, name):
    torch = pytest.importorskip('torch')
    codec = CODECS[name]()
    rng = np.random.default_rng(3)
    n = 1 if codec.single_instance else 2
    kps = (rng.uniform(0, 1, (n, 17, 2)) * [191, 255]).astype(np.float32)
    vis = np.ones((n, 17), np.float32)
    want = codec.encode(kps, vis)
    got = codec.encode(torch.from_numpy(kps), torch.from_numpy(vis))
    assert list(got) == list(want)
    for key in want:
        assert isinstance(got[key], torch.Tensor), key
        np.testing.assert_array_equal(got[key].numpy(), want[key])
    got = codec.batch_encode(torch.from_numpy(kps[None]), torch.from_numpy(vis[None]))
    for key in want:
        assert isinstance(got[key], torch.Tensor), key
        np.testing.assert_array_equal(got[key].numpy()[0], want[key])
    enc = rng.uniform(0, 1, (n, 17, 4)).astype(np.float32)
    kp, sc = codec.decode(torch.from_numpy(enc))
    kp_np, sc_np = codec.decode(enc)
    assert isinstance(kp, torch.Tensor) and isinstance(sc, torch.Tensor)
    np.testing.assert_array_equal(kp.numpy(), kp_np)
    np.testing.assert_array_equal(sc.numpy(), sc_np)
    kp, sc = codec.batch_decode(torch.from_numpy(enc[None]))
    assert isinstance(kp, torch.Tensor) and isinstance(sc, torch.Tensor)
    np.testing.assert_array_equal(kp.numpy()[0], kp_np)


@pytest.mark.parametrize('unbiased', [False, True])
def test_backends_agree(unbiased):
    """Bit for bit, DARK's denormal tails included (both flush them to zero)."""
    if len(fastcodec.available_backends()) < 2:
        pytest.skip('one CPU backend only')
    rng = np.random.default_rng(11)
    codec = fastcodec.IntegralRegressionLabel((192, 256), (48, 64), 2.0, unbiased=unbiased)
    kps = np.stack([edge_keypoints(rng, (192, 256), 1, 17) for _ in range(8)])
    vis = np.stack([adversarial_visibility(rng, 1, 17) for _ in range(8)])
    enc = rng.uniform(0, 1, (8, 1, 17, 4))
    results = {}
    for name in ('cpp', 'numba'):
        with fastcodec.use_backend(name):
            results[name] = codec.batch_encode(kps, vis), codec.batch_decode(enc)
    (e1, d1), (e2, d2) = results['cpp'], results['numba']
    for key in e1:
        np.testing.assert_array_equal(e1[key], e2[key], err_msg=key)
    for a, b in zip(d1, d2):
        np.testing.assert_array_equal(a, b)
