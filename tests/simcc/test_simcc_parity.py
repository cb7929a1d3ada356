"""SimCCLabel and the SimCC ops against MMPose 1.3.2, on random and adversarial inputs,
for each CPU backend, and a representative subset (EMULATED) on the cuda-emulator
backend. Tolerances (docs/design.md): targets 1e-5 absolute, keypoints 2e-3 px,
scores 1e-4. MMPose mutates the SimCC arrays it decodes with use_dark, so it always
gets copies here."""
import zlib

import numpy as np
import pytest

import fastcodec
from conftest import EMULATED, adversarial_visibility
from conftest import perturb as perturb_outputs

INPUT = (192, 256)

ENCODE_OPTIONS = [
    dict(),
    dict(sigma=(4.9, 5.66)),
    dict(sigma=3),
    dict(sigma=(2, 7.5), normalize=False),
    dict(simcc_split_ratio=1.5),
    dict(simcc_split_ratio=3.0, sigma=(6.93, 8.0)),
    dict(simcc_split_ratio=1.0, normalize=False),
    dict(smoothing_type='standard'),
    dict(smoothing_type='standard', label_smooth_weight=0.1),
    dict(smoothing_type='standard', label_smooth_weight=1.0, simcc_split_ratio=1.5),
]

DECODE_OPTIONS = [
    dict(),
    dict(sigma=(4.9, 5.66)),
    dict(simcc_split_ratio=1.5, sigma=(4.9, 5.66)),
    dict(simcc_split_ratio=3.0),
    dict(use_dark=True, sigma=(4.9, 5.66)),
    dict(use_dark=True, sigma=3.0, simcc_split_ratio=1.5),
    dict(use_dark=True, sigma=(2.0, 1.0)),
    dict(decode_visibility=True, sigma=(4.9, 5.66)),
    dict(decode_visibility=True, decode_beta=10.0, sigma=2),
    dict(use_dark=True, decode_visibility=True, sigma=(4.9, 5.66)),
]

SIMCC_KINDS = ('clean', 'noisy', 'negative', 'rescaled', 'plateau', 'shifted')


def rng_for(*parts):
    return np.random.default_rng(zlib.crc32(repr(parts).encode()))


def option_id(opts):
    return '-'.join(f'{k}={v}' for k, v in opts.items()) or 'default'


def simcc_keypoints(rng, n, k, ratio, w=INPUT[0], h=INPUT[1]):
    """(n, k, 2) float64 keypoints: inside, on borders, outside, exactly on the .5
    bin boundaries that np.around rounds to even, and far away."""
    kps = rng.uniform(0, 1, (n, k, 2)) * [w, h]
    kind = rng.integers(0, 6, (n, k))
    border = rng.choice([0.0, 1.0], (n, k, 2)) * [w - 1, h - 1]
    kps[kind == 1] = border[kind == 1]
    kps[kind == 2] = (rng.uniform(-0.3, 1.3, (n, k, 2)) * [w, h])[kind == 2]
    halves = (rng.integers(-30, 400, (n, k, 2)) + 0.5) / ratio
    kps[kind == 3] = halves[kind == 3]
    kps[kind == 4] = (rng.integers(-20, 20, (n, k, 2)) + [[[w, h]]] * rng.integers(0, 2, (n, k, 1)))[kind == 4]
    kps[kind == 5] = (rng.uniform(-3, 3, (n, k, 2)) * [w, h])[kind == 5]
    return kps


def perturb(rng, v, kind):
    """conftest's model-output perturbations, with SimCC-sized noise."""
    return perturb_outputs(rng, v, kind, noise=0.01)


def assert_encoded(ours, ref):
    assert set(ours) == set(ref)
    for key in ref:
        assert ours[key].shape == ref[key].shape, key
        assert ours[key].dtype == ref[key].dtype, key
        if key == 'keypoint_weights':
            np.testing.assert_array_equal(ours[key], ref[key])
        else:
            np.testing.assert_allclose(ours[key], ref[key], rtol=0, atol=1e-5, err_msg=key)


# ---- encode ----------------------------------------------------------------------------
@pytest.mark.parametrize('opts', ENCODE_OPTIONS, ids=option_id)
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@EMULATED(keep=lambda p: p['dtype'] is np.float32 and option_id(p['opts']) in (
    'default', 'simcc_split_ratio=1.5', 'smoothing_type=standard-label_smooth_weight=0.1'))
def test_encode_matches_mmpose(backend, mmc, opts, dtype):
    ours, ref = fastcodec.SimCCLabel(INPUT, **opts), mmc.SimCCLabel(INPUT, **opts)
    ratio = opts.get('simcc_split_ratio', 2.0)
    for trial in range(4):
        rng = rng_for('enc', option_id(opts), str(dtype), trial)
        n = (1, 3, 2, 5)[trial]
        kps = simcc_keypoints(rng, n, 17, ratio).astype(dtype)
        vis = adversarial_visibility(rng, n, 17).astype(np.float32)
        assert_encoded(ours.encode(kps, vis), ref.encode(kps, vis))
    kps = simcc_keypoints(rng, 2, 17, ratio).astype(dtype)
    assert_encoded(ours.encode(kps), ref.encode(kps))


@EMULATED
def test_encode_integer_keypoints_and_float64_visibility(backend, mmc):
    ours, ref = fastcodec.SimCCLabel(INPUT, sigma=(4.9, 5.66)), mmc.SimCCLabel(INPUT, sigma=(4.9, 5.66))
    rng = rng_for('int')
    kps = rng.integers(-20, 280, (2, 17, 2))
    vis = adversarial_visibility(rng, 2, 17)
    assert_encoded(ours.encode(kps, vis), ref.encode(kps, vis))


@EMULATED
def test_encode_non_integer_ratio_rounds_label_size(backend, mmc):
    for size, ratio in [((191, 255), 1.5), ((33, 17), 2.5), ((3, 5), 1.5), ((1, 1), 1.0)]:
        ours = fastcodec.SimCCLabel(size, simcc_split_ratio=ratio, sigma=1.0)
        ref = mmc.SimCCLabel(size, simcc_split_ratio=ratio, sigma=1.0)
        kps = rng_for('size', size).uniform(-1, max(size) + 1, (2, 5, 2))
        assert_encoded(ours.encode(kps), ref.encode(kps))


# ---- decode ----------------------------------------------------------------------------
def simcc_outputs(mmc, opts, rng, n, kind):
    enc = mmc.SimCCLabel(INPUT, **{k: v for k, v in opts.items() if k in (
        'sigma', 'simcc_split_ratio')})
    kps = rng.uniform(-0.05, 1.05, (n, 17, 2)) * INPUT
    e = enc.encode(kps)
    return perturb(rng, e['keypoint_x_labels'], kind), perturb(rng, e['keypoint_y_labels'], kind)


def assert_close_or_defined(ours, ref, atol):
    """Equal within atol; where MMPose gives NaN (an all-zero vector in its DARK blur
    divides 0 by 0), fastcodec must give a finite value."""
    nan = np.isnan(ref)
    assert np.all(np.isfinite(ours[nan])), 'NaN where MMPose has NaN: must be defined'
    np.testing.assert_allclose(ours[~nan], ref[~nan], rtol=0, atol=atol)


def assert_decoded(ours, ref, visibility):
    kps, scores = ours
    rkps, rscores = ref
    assert kps.shape == rkps.shape and kps.dtype == rkps.dtype
    assert_close_or_defined(kps, rkps, 2e-3)
    if visibility:
        assert isinstance(scores, tuple) and len(scores) == 2
        for a, b in zip(scores, rscores):
            assert a.shape == b.shape and a.dtype == b.dtype
            assert_close_or_defined(a, b, 1e-4)
    else:
        assert scores.shape == rscores.shape
        np.testing.assert_allclose(scores, rscores, rtol=0, atol=1e-4)


@pytest.mark.parametrize('opts', DECODE_OPTIONS, ids=option_id)
@pytest.mark.parametrize('kind', SIMCC_KINDS)
@EMULATED(keep=lambda p: p['kind'] == 'noisy' and option_id(p['opts']) in (
    'default', 'simcc_split_ratio=1.5-sigma=(4.9, 5.66)', 'use_dark=True-sigma=3.0-simcc_split_ratio=1.5',
    'decode_visibility=True-decode_beta=10.0-sigma=2',
    'use_dark=True-decode_visibility=True-sigma=(4.9, 5.66)'))
def test_decode_matches_mmpose(backend, mmc, opts, kind):
    ours, ref = fastcodec.SimCCLabel(INPUT, **opts), mmc.SimCCLabel(INPUT, **opts)
    vis = opts.get('decode_visibility', False)
    for trial, n in enumerate((1, 3)):
        sx, sy = simcc_outputs(mmc, opts, rng_for('dec', option_id(opts), kind, trial), n, kind)
        assert_decoded(ours.decode(sx, sy), ref.decode(sx.copy(), sy.copy()), vis)
        if not opts.get('use_dark'):  # MMPose's DARK needs (N, K, W)
            assert_decoded(ours.decode(sx[0], sy[0]), ref.decode(sx[0].copy(), sy[0].copy()), vis)


@EMULATED
def test_decode_ties_and_nonpositive_maxima(backend, mmc):
    ours, ref = fastcodec.SimCCLabel(INPUT), mmc.SimCCLabel(INPUT)
    sx = np.zeros((2, 6, 384), np.float32)
    sy = np.zeros((2, 6, 512), np.float32)
    sx[0, 0, [5, 9]] = 1.0               # tie: first occurrence
    sy[0, 0, [7, 300, 301]] = 0.5
    sx[0, 1] = -1.0                      # all negative: location -1
    sy[0, 1, 3] = 2.0
    sx[0, 2, 10] = 1.0                   # y all zero: score 0, location -1
    sx[0, 3, -1] = 3.0                   # last bins
    sy[0, 3, -1] = 3.0
    sx[1] = np.float32(1e-30)            # tiny positive plateau
    sy[1] = np.float32(1e-30)
    sx[1, 4, 100] = -np.float32(1e-30)
    sy[1, 5, :] = np.linspace(-1, 1, 512, dtype=np.float32)
    assert_decoded(ours.decode(sx, sy), ref.decode(sx.copy(), sy.copy()), False)


@pytest.mark.parametrize('opts', [dict(), dict(use_dark=True, sigma=(4.9, 5.66)),
                                  dict(decode_visibility=True)], ids=option_id)
def test_decode_float64_simcc(backend, mmc, opts):
    ours, ref = fastcodec.SimCCLabel(INPUT, **opts), mmc.SimCCLabel(INPUT, **opts)
    sx, sy = simcc_outputs(mmc, opts, rng_for('f64', option_id(opts)), 2, 'noisy')
    sx, sy = sx.astype(np.float64), sy.astype(np.float64)
    kps, scores = ours.decode(sx, sy)
    rkps, rscores = ref.decode(sx.copy(), sy.copy())
    assert_close_or_defined(kps, rkps, 2e-3)
    s, r = (scores[0], rscores[0]) if isinstance(rscores, tuple) else (scores, rscores)
    assert_close_or_defined(s, r, 1e-4)


@EMULATED
def test_round_trip_recovers_keypoints(backend):
    codec = fastcodec.SimCCLabel(INPUT, sigma=(4.9, 5.66), simcc_split_ratio=2.0)
    kps = rng_for('rt').uniform(10, 180, (1, 17, 2))
    e = codec.encode(kps)
    out, _ = codec.decode(e['keypoint_x_labels'], e['keypoint_y_labels'])
    np.testing.assert_allclose(out, kps, rtol=0, atol=0.5 / 2.0 + 1e-6)


# ---- ops -------------------------------------------------------------------------------
@pytest.mark.parametrize('softmax', [False, True])
@pytest.mark.parametrize('kind', SIMCC_KINDS)
@EMULATED(keep=lambda p: p['kind'] == 'plateau')
def test_get_simcc_maximum(backend, mmc, mmu, softmax, kind):
    rng = rng_for('max', kind, softmax)
    sx, sy = simcc_outputs(mmc, dict(sigma=(4.9, 5.66)), rng, 3, kind)
    for a, b in [(sx, sy), (sx[0], sy[0])]:
        locs, vals = fastcodec.ops.get_simcc_maximum(a, b, apply_softmax=softmax)
        rlocs, rvals = mmu.get_simcc_maximum(a.copy(), b.copy(), apply_softmax=softmax)
        assert locs.shape == rlocs.shape and locs.dtype == rlocs.dtype
        np.testing.assert_array_equal(locs, rlocs)
        assert vals.dtype == rvals.dtype
        np.testing.assert_allclose(vals, rvals, rtol=0, atol=1e-4)


@pytest.mark.parametrize('sigma', [None, 2.0, 5.66])
def test_get_simcc_normalized(mmu, sigma):
    import torch
    rng = rng_for('norm', sigma)
    x = torch.from_numpy(rng.normal(0.5, 2.0, (4, 17, 384)).astype(np.float32))
    x[0, 0] = 0.0
    x[0, 1] = -1.0
    ours = fastcodec.ops.get_simcc_normalized(x, sigma)
    ref = mmu.get_simcc_normalized(x.clone(), sigma)
    assert isinstance(ours, torch.Tensor) and ours.dtype == ref.dtype and ours.shape == ref.shape
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=0, atol=1e-6)
    np.testing.assert_allclose(fastcodec.ops.get_simcc_normalized(x.numpy(), sigma),
                               ref.numpy(), rtol=0, atol=1e-6)


@pytest.mark.parametrize('ksize', [3, 5, 11, 29, 35])
@pytest.mark.parametrize('kind', ('clean', 'noisy', 'negative', 'shifted'))
@EMULATED(keep=lambda p: p['kind'] == 'noisy' and p['ksize'] in (3, 35))
def test_refine_simcc_dark(backend, mmc, mmu, ksize, kind):
    rng = rng_for('dark', ksize, kind)
    sx, _ = simcc_outputs(mmc, dict(sigma=(4.9, 5.66)), rng, 3, kind)
    locs, _ = mmu.get_simcc_maximum(sx, sx)
    kps = locs[..., 0].copy()
    ours = fastcodec.ops.refine_simcc_dark(kps, sx, ksize)
    ref = mmu.refine_simcc_dark(kps.copy(), sx.copy(), ksize)
    # The DARK step is a sub-bin correction. Steps of many bins come from near-flat
    # log maps (dxx ~ 1e-9), where numpy's SIMD float32 log and libm's logf, one ulp
    # apart, give different far-off values (docs/deviations.md): there both must be
    # finite and far from the argmax alike.
    wild = np.abs(ref - kps) > 2
    assert_close_or_defined(ours[~wild], ref[~wild], 2e-3)
    assert np.all(np.isfinite(ours[wild])) and np.all(np.abs(ours - kps)[wild] > 1)
    assert wild.mean() < 0.25
    np.testing.assert_array_equal(kps, locs[..., 0])  # inputs are not modified


def test_dark_on_clean_labels_is_tight(backend, mmc, mmu):
    """gaussian_blur1d's cv2 row pass is reproduced exactly; what remains is libm's
    logf against numpy's SIMD float32 log (at most an ulp apart), so on clean labels
    the refined keypoints stay within 1e-4 bins of MMPose's, far inside 2e-3 px."""
    enc = mmc.SimCCLabel(INPUT, sigma=(4.9, 5.66))
    e = enc.encode(rng_for('bits').uniform(20, 170, (4, 17, 2)))
    sx = e['keypoint_x_labels']
    locs, _ = mmu.get_simcc_maximum(sx, sx)
    ours = fastcodec.ops.refine_simcc_dark(locs[..., 0].copy(), sx, 29)
    ref = mmu.refine_simcc_dark(locs[..., 0].copy(), sx.copy(), 29)
    assert np.abs(ours - ref).max() <= 1e-4


# ---- batch and array kinds -----------------------------------------------------------
@pytest.mark.parametrize('opts', [dict(sigma=(4.9, 5.66)), dict(smoothing_type='standard', label_smooth_weight=0.2),
                                  dict(use_dark=True, decode_visibility=True, sigma=(4.9, 5.66))],
                         ids=option_id)
def test_batch_equals_per_sample(backend, opts):
    codec = fastcodec.SimCCLabel(INPUT, **opts)
    rng = rng_for('batch', option_id(opts))
    kps = simcc_keypoints(rng, 6 * 2, 17, 2.0).reshape(6, 2, 17, 2)
    vis = adversarial_visibility(rng, 12, 17).reshape(6, 2, 17)
    batch = codec.batch_encode(kps, vis)
    for b in range(6):
        single = codec.encode(kps[b], vis[b])
        for key in single:
            np.testing.assert_array_equal(batch[key][b], single[key])
    sx = perturb(rng, batch['keypoint_x_labels'][:, 0], 'noisy')
    sy = perturb(rng, batch['keypoint_y_labels'][:, 0], 'noisy')
    bk, bs = codec.batch_decode(sx, sy)
    assert bk.shape == (6, 1, 17, 2)
    for b in range(6):
        k1, s1 = codec.decode(sx[b], sy[b])
        np.testing.assert_array_equal(bk[b], k1)
        if isinstance(s1, tuple):
            for x, y in zip(bs, s1):
                np.testing.assert_array_equal(x[b].reshape(np.shape(y)), y)
        else:
            np.testing.assert_array_equal(bs[b], s1)
    # (B, N, K, W) form: N instances per sample
    sx4 = perturb(rng, batch['keypoint_x_labels'], 'noisy')
    sy4 = perturb(rng, batch['keypoint_y_labels'], 'noisy')
    bk4, _ = codec.batch_decode(sx4, sy4)
    assert bk4.shape == (6, 2, 17, 2)
    for b in range(6):
        np.testing.assert_array_equal(bk4[b], codec.decode(sx4[b], sy4[b])[0])


def test_torch_in_torch_out(backend):
    import torch
    codec = fastcodec.SimCCLabel(INPUT, sigma=(4.9, 5.66), decode_visibility=True)
    kps = torch.from_numpy(rng_for('torch').uniform(0, 190, (3, 1, 17, 2)).astype(np.float32))
    enc = codec.batch_encode(kps)
    assert all(isinstance(v, torch.Tensor) for v in enc.values())
    ref = codec.batch_encode(kps.numpy())
    for key in ref:
        np.testing.assert_array_equal(enc[key].numpy(), ref[key])
    kp, (scores, vis) = codec.batch_decode(enc['keypoint_x_labels'][:, 0], enc['keypoint_y_labels'][:, 0])
    assert isinstance(kp, torch.Tensor) and isinstance(scores, torch.Tensor) and isinstance(vis, torch.Tensor)
    one, _ = codec.decode(enc['keypoint_x_labels'][0], enc['keypoint_y_labels'][0])
    assert isinstance(one, torch.Tensor) and tuple(one.shape) == (1, 17, 2)
    locs, vals = fastcodec.ops.get_simcc_maximum(enc['keypoint_x_labels'][0], enc['keypoint_y_labels'][0])
    assert isinstance(locs, torch.Tensor) and isinstance(vals, torch.Tensor)


def test_backends_agree_bit_for_bit():
    if len([b for b in ('cpp', 'numba') if b in fastcodec.available_backends()]) < 2:
        pytest.skip('needs both CPU backends')
    rng = rng_for('agree')
    for opts in DECODE_OPTIONS + ENCODE_OPTIONS:
        codec = fastcodec.SimCCLabel(INPUT, **opts)
        kps = simcc_keypoints(rng, 2, 17, opts.get('simcc_split_ratio', 2.0)).astype(np.float32)
        out = {}
        for be in ('cpp', 'numba'):
            with fastcodec.use_backend(be):
                e = codec.encode(kps)
                sx = perturb(np.random.default_rng(1), e['keypoint_x_labels'], 'noisy')
                sy = perturb(np.random.default_rng(2), e['keypoint_y_labels'], 'noisy')
                out[be] = (e, codec.decode(sx, sy))
        for key in out['cpp'][0]:
            np.testing.assert_array_equal(out['cpp'][0][key], out['numba'][0][key])
        np.testing.assert_array_equal(out['cpp'][1][0], out['numba'][1][0])


# ---- defined values where MMPose crashes or returns NaN (docs/deviations.md) -----------------
def test_dark_with_tiny_sigma_is_defined(backend, mmc):
    """sigma < 0.8 gives a blur size <= 1, which crashes MMPose's gaussian_blur1d;
    fastcodec skips the blur (size 1)."""
    codec = fastcodec.SimCCLabel(INPUT, sigma=0.5, use_dark=True)
    e = codec.encode(np.array([[[50.3, 70.8]]]))
    with pytest.raises(ValueError):
        mmc.SimCCLabel(INPUT, sigma=0.5, use_dark=True).decode(
            e['keypoint_x_labels'].copy(), e['keypoint_y_labels'].copy())
    kps, scores = codec.decode(e['keypoint_x_labels'], e['keypoint_y_labels'])
    assert np.all(np.isfinite(kps)) and np.abs(kps - [50.5, 71.0]).max() < 1.0


def test_dark_on_two_dim_input_is_defined(backend, mmc):
    """MMPose's refine_simcc_dark needs (N, K, W) and crashes on decode((K, W), ...)."""
    codec = fastcodec.SimCCLabel(INPUT, sigma=(4.9, 5.66), use_dark=True)
    e = codec.encode(np.array([[[50.3, 70.8], [10.0, 20.0]]]))
    kps, _ = codec.decode(e['keypoint_x_labels'][0], e['keypoint_y_labels'][0])
    ref, _ = codec.decode(e['keypoint_x_labels'], e['keypoint_y_labels'])
    np.testing.assert_array_equal(kps, ref)
    with pytest.raises(ValueError):
        mmc.SimCCLabel(INPUT, sigma=(4.9, 5.66), use_dark=True).decode(
            e['keypoint_x_labels'][0].copy(), e['keypoint_y_labels'][0].copy())


@EMULATED
def test_label_smoothing_with_one_bin_is_defined(backend, mmc):
    """W == 1 with label_smooth_weight > 0: MMPose fills inf (numpy divides by
    W - 1 = 0), then overwrites the only bin with the peak 1 - weight."""
    codec = fastcodec.SimCCLabel((1, 4), smoothing_type='standard', label_smooth_weight=0.25,
                                 simcc_split_ratio=1.0)
    ref = mmc.SimCCLabel((1, 4), smoothing_type='standard', label_smooth_weight=0.25,
                         simcc_split_ratio=1.0).encode(np.array([[[0.2, 1.0]]]))
    e = codec.encode(np.array([[[0.2, 1.0]]]))
    assert_encoded(e, ref)
    np.testing.assert_array_equal(e['keypoint_x_labels'], [[[0.75]]])
    np.testing.assert_allclose(e['keypoint_y_labels'], [[[0.25 / 3, 0.75, 0.25 / 3, 0.25 / 3]]], atol=1e-7)


def test_decode_does_not_modify_inputs(backend, mmc):
    """MMPose's use_dark decode overwrites simcc_x/simcc_y with log maps; fastcodec
    leaves them alone but decodes the visibility from those log maps as MMPose does."""
    codec = fastcodec.SimCCLabel(INPUT, sigma=(4.9, 5.66), use_dark=True, decode_visibility=True)
    sx, sy = simcc_outputs(mmc, dict(sigma=(4.9, 5.66)), rng_for('mut'), 2, 'noisy')
    keep = sx.copy(), sy.copy()
    codec.decode(sx, sy)
    np.testing.assert_array_equal(sx, keep[0])
    np.testing.assert_array_equal(sy, keep[1])


@EMULATED
def test_dark_on_all_zero_rows_is_defined(backend, mmc):
    """An all-zero row in MMPose's DARK blur rescale divides 0 by 0: NaN keypoints.
    fastcodec keeps the blurred row unscaled (the heatmap codecs' rule) and returns
    the argmax rule's location."""
    opts = dict(sigma=(4.9, 5.66), use_dark=True)
    sx, sy = simcc_outputs(mmc, opts, rng_for('zero-rows'), 1, 'noisy')
    sx[0, 3] = 0.0
    with np.errstate(all='ignore'):
        rkps, _ = mmc.SimCCLabel(INPUT, **opts).decode(sx.copy(), sy.copy())
    kps, _ = fastcodec.SimCCLabel(INPUT, **opts).decode(sx, sy)
    assert np.isnan(rkps[0, 3, 0])
    assert np.all(np.isfinite(kps))
    others = np.arange(17) != 3
    np.testing.assert_allclose(kps[0, others], rkps[0, others], rtol=0, atol=2e-3)


@EMULATED
def test_refine_simcc_dark_leaves_unindexable_keypoints(backend, mmu):
    """MMPose raises IndexError for a keypoint whose five bins leave the padded row;
    fastcodec leaves that keypoint unrefined and refines the others."""
    simcc = np.random.default_rng(3).random((1, 2, 64)).astype(np.float32)
    kps = np.array([[10.0, 1e6]], np.float32)
    with pytest.raises(IndexError):
        mmu.refine_simcc_dark(kps.copy(), simcc.copy(), 11)
    out = fastcodec.ops.refine_simcc_dark(kps.copy(), simcc, 11)
    assert out[0, 1] == np.float32(1e6)
    assert np.isfinite(out[0, 0])


@pytest.mark.parametrize('smoothing_type', ['gaussian', 'standard'])
def test_encode_float16_keypoints_bin_in_float16(backend, mmc, smoothing_type):
    """MMPose's ``keypoints * simcc_split_ratio`` stays float16 for float16 keypoints:
    300.25 * 2.5 = 750.625 rounds to 750.5 there, bin 750 (751 in float32). Found by
    tools/fuzz."""
    kps = np.array([[[300.25, 100.0], [0.25, 41.3], [1000.5, -3.0]]], np.float16)
    vis = np.ones((1, 3), np.float32)
    for ratio in (2.5, 3.0, 2):
        cfg = dict(input_size=(400, 300), smoothing_type=smoothing_type, sigma=2.0,
                   simcc_split_ratio=ratio)
        got = fastcodec.SimCCLabel(**cfg).encode(kps, vis)
        want = mmc.SimCCLabel(**cfg).encode(kps, vis)
        for key in want:
            np.testing.assert_allclose(got[key], want[key], rtol=0, atol=1e-5, err_msg=key)
