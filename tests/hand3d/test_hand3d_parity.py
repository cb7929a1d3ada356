"""Hand3DHeatmap against MMPose 1.3.2, for each CPU backend and, on a representative
subset (EMULATED), the CUDA kernel run by the cuda-emulator backend: every encode output
exactly (the volumes too, bit for bit; same keys, shapes and dtypes) and decode
(coordinates within 2e-3, scores within 1e-4), on random and adversarial keypoints;
batched calls against the per-sample loop; bad input; the deviations of
docs/deviations.md (Hand3DHeatmap rows)."""
import zlib

import numpy as np
import pytest

import fastcodec
from conftest import EMULATED
from fastcodec.errors import MMPoseCheckError

SMALL = dict(image_size=[96, 80], heatmap_size=[24, 20, 16], heatmap3d_depth_bound=300.0)


def aux(k=21, valid=1.0, depth=np.float32(30.0)):
    return dict(dataset_keypoint_weights=np.linspace(0.5, 1.5, k),
                rel_root_depth=depth, rel_root_valid=valid,
                hand_type=np.array([[1, 0]]), hand_type_valid=np.array([1]),
                focal=np.array([1000., 1000.]), principal_pt=np.array([200., 200.]))


def hands(rng, n, k, image=(96, 80), bound=300.0, kind='random'):
    """(n, k, 3) keypoints: x, y in image pixels, depth in [-bound/2, bound/2) mostly,
    with borders, outside points, exact .5 voxel boundaries and depth out of range."""
    w, h = image
    kps = np.concatenate([rng.uniform(0, 1, (n, k, 1)) * w, rng.uniform(0, 1, (n, k, 1)) * h,
                          rng.uniform(-0.5, 0.5, (n, k, 1)) * bound], axis=-1)
    if kind == 'adversarial':
        sel = rng.integers(0, 6, (n, k))
        kps[sel == 1, :2] = rng.choice([0.0, 1.0], (int((sel == 1).sum()), 2)) * [w - 1, h - 1]
        kps[sel == 2, :2] = rng.uniform(-0.4, 1.4, (int((sel == 2).sum()), 2)) * [w, h]
        kps[sel == 3, 2] = rng.choice([-0.5, 0.5, -0.51, 0.6], int((sel == 3).sum())) * bound
        halves = (rng.integers(-1, 25, (n, k, 3)) + 0.5) * [w / 24, h / 20, bound / 16]
        halves[..., 2] -= bound / 2
        kps[sel == 4] = halves[sel == 4]
        kps[sel == 5, :2] = rng.uniform(-3, 3, (int((sel == 5).sum()), 2)) * [w, h]
    return kps


def check_encode(ours, theirs):
    assert list(ours) == list(theirs)
    for key, ref in theirs.items():
        got = ours[key]
        assert np.shape(got) == np.shape(ref) and np.asarray(got).dtype == np.asarray(ref).dtype, key
        # the volumes too are MMPose's bit for bit (hand3d.h: hand3d_rounds_clear)
        np.testing.assert_array_equal(got, ref, err_msg=key)


CASES = [
    dict(),
    dict(sigma=2.5),
    dict(sigma=1.3),
    dict(sigma=(2, 3.5, 1)),
    dict(use_different_joint_weights=True),
    dict(joint_indices=[0, 4, 8, -1]),
    dict(max_bound=0.7),
    dict(sigma=2.5, max_bound=255),  # InterNet's InterHand2.6M config
]


@EMULATED(keep=lambda p: p['kind'] == 'adversarial' and p['dtype'] is np.float32)
@pytest.mark.parametrize('cfg', CASES, ids=[str(c) for c in CASES])
@pytest.mark.parametrize('kind', ['random', 'adversarial'])
@pytest.mark.parametrize('dtype', [np.float32, np.float64, np.int64, np.float16])
def test_encode_matches_mmpose(mmc, backend, cfg, kind, dtype):
    rng = np.random.default_rng(zlib.crc32(repr((cfg, kind, np.dtype(dtype).name)).encode()))
    n = 3 if np.ndim(cfg.get('sigma', 2)) else rng.integers(1, 3)
    kps = hands(rng, n, 21, kind=kind).astype(dtype)
    vis = rng.choice([0.0, 0.3, 1.0, 2.0], (n, 21)).astype(np.float32)
    args = aux(valid=rng.choice([0.0, 1.0]), depth=np.float32(rng.uniform(-250, 250)))
    theirs = mmc.Hand3DHeatmap(**SMALL, **cfg).encode(kps, vis, **args)
    ours = fastcodec.Hand3DHeatmap(**SMALL, **cfg).encode(kps, vis, **args)
    check_encode(ours, theirs)


@EMULATED
@pytest.mark.parametrize('dtype', [np.float16, np.float32])
def test_depth_bracket_in_numpys_dtype(mmc, backend, dtype):
    """MMPose's depth bracket ``keypoints[..., 2] / heatmap3d_depth_bound + 0.5`` is
    computed in numpy's result type: float16 for float16 keypoints and a Python bound,
    float64 for a numpy float64 bound."""
    rng = np.random.default_rng(12)
    kps = hands(rng, 2, 21, kind='adversarial').astype(dtype)
    for bound in (300.0, np.float64(300.0), np.float32(299.5)):
        cfg = dict(SMALL, heatmap3d_depth_bound=bound)
        theirs = mmc.Hand3DHeatmap(**cfg).encode(kps, None, **aux())
        ours = fastcodec.Hand3DHeatmap(**cfg).encode(kps, None, **aux())
        check_encode(ours, theirs)


@EMULATED
def test_encode_default_size(mmc, backend):
    """MMPose's defaults (42 keypoints, 64^3 volumes) as InterNet trains them."""
    rng = np.random.default_rng(5)
    kps = hands(rng, 1, 42, image=(256, 256), bound=400.0, kind='adversarial').astype(np.float32)
    args = aux(42)
    theirs = mmc.Hand3DHeatmap().encode(kps, None, **args)
    ours = fastcodec.Hand3DHeatmap().encode(kps, None, **args)
    check_encode(ours, theirs)
    assert np.count_nonzero(ours['heatmaps']) > 42 * 100  # the windows were drawn


def test_encode_visibility_dtypes(mmc, backend):
    """The weights keep the visibility's dtype through MMPose's in-place products."""
    rng = np.random.default_rng(3)
    kps = hands(rng, 1, 21, kind='adversarial')
    for vis in (np.ones((1, 21), np.int64), rng.uniform(0, 2, (1, 21)), None):
        for djw in (False, True):
            cfg = dict(SMALL, use_different_joint_weights=djw)
            theirs = mmc.Hand3DHeatmap(**cfg).encode(kps, vis, **aux())
            ours = fastcodec.Hand3DHeatmap(**cfg).encode(kps, vis, **aux())
            check_encode(ours, theirs)


def volumes(rng, k, kind):
    heat = rng.normal(0, 1, (k, 16, 20, 24)).astype(np.float32)
    if kind == 'negative':
        heat = -np.abs(heat)
        heat[0, 3, 4, 5] = 0.0
    elif kind == 'plateau':
        heat = np.round(heat)
    elif kind == 'nan':
        heat[1, 2, 3, 4] = np.nan
    return heat


@EMULATED
@pytest.mark.parametrize('kind', ['noise', 'negative', 'plateau', 'nan', 'encoded'])
def test_decode_matches_mmpose(mmc, backend, kind):
    rng = np.random.default_rng(11)
    if kind == 'encoded':
        heat = mmc.Hand3DHeatmap(**SMALL).encode(hands(rng, 1, 21), None, **aux())['heatmaps']
        heat = heat.reshape(21, 16, 20, 24)
    else:
        heat = volumes(rng, 21, kind)
    root, hand = np.array([rng.uniform(0, 64)]), rng.normal(0, 1, (1, 2))
    theirs = mmc.Hand3DHeatmap(**SMALL).decode(heat.copy(), root, hand)
    ours = fastcodec.Hand3DHeatmap(**SMALL).decode(heat, root, hand)
    assert len(ours) == 4
    for got, ref, tol in zip(ours, theirs, (2e-3, 1e-4, 0, 0)):
        assert got.shape == ref.shape and got.dtype == ref.dtype
        np.testing.assert_allclose(got, ref, rtol=0, atol=tol)
    if kind == 'encoded':  # the maxima lie at the encoded keypoints' voxels
        assert (theirs[1] > 0.8).all()


@EMULATED
def test_batch_encode_equals_loop(backend):
    rng = np.random.default_rng(2)
    codec = fastcodec.Hand3DHeatmap(**SMALL, use_different_joint_weights=True)
    kps = np.stack([hands(rng, 2, 21, kind='adversarial') for _ in range(3)])
    vis = rng.choice([0.0, 1.0], (3, 2, 21)).astype(np.float32)
    depth = rng.uniform(-200, 200, 3).astype(np.float32)
    valid = np.array([1.0, 0.0, 1.0], np.float32)
    types = np.array([[1, 0], [0, 1], [1, 1]])
    jw = np.linspace(0.5, 1.5, 21)
    batch = codec.batch_encode(kps, vis, jw, depth, valid, types, np.ones(3))
    for b in range(3):
        one = codec.encode(kps[b], vis[b], jw, depth[b], valid[b], types[b], 1.0)
        for key in ('heatmaps', 'keypoint_weights', 'root_depth', 'root_depth_weight', 'type'):
            np.testing.assert_array_equal(batch[key][b], one[key], err_msg=key)
            assert batch[key][b].dtype == np.asarray(one[key]).dtype, key


@EMULATED
def test_batch_decode_equals_loop(backend):
    rng = np.random.default_rng(4)
    codec = fastcodec.Hand3DHeatmap(**SMALL)
    heat = np.stack([volumes(rng, 21, kind) for kind in ('noise', 'negative', 'nan')])
    root, hand = rng.uniform(0, 64, (3, 1)), rng.normal(0, 1, (3, 2))
    batch = codec.batch_decode(heat, root, hand)
    for b in range(3):
        for got, ref in zip(batch, codec.decode(heat[b], root[b], hand[b])):
            np.testing.assert_array_equal(got[b], ref)


def test_torch_in_torch_out(backend):
    torch = pytest.importorskip('torch')
    rng = np.random.default_rng(6)
    kps = hands(rng, 1, 21)
    codec = fastcodec.Hand3DHeatmap(**SMALL)
    out = codec.encode(torch.from_numpy(kps), None, **aux())
    assert isinstance(out['heatmaps'], torch.Tensor)
    np.testing.assert_array_equal(out['heatmaps'].numpy(), codec.encode(kps, None, **aux())['heatmaps'])


# ---- deviations (docs/deviations.md) --------------------------------------------------
@EMULATED
def test_non_finite_keypoints_are_skipped(mmc, backend):
    """MMPose turns a NaN / infinite x or y into INT64_MIN and raises IndexError;
    fastcodec draws nothing for such a keypoint and gives it weight 0 (MMPose's weight
    rule reads only the depth: a NaN or infinite depth gives 0 there too)."""
    rng = np.random.default_rng(7)
    kps = hands(rng, 1, 21)
    kps[0, 3, 0] = np.nan
    kps[0, 5, 2] = np.inf
    kps[0, 6, 1] = -np.inf
    with pytest.raises(IndexError):
        mmc.Hand3DHeatmap(**SMALL).encode(kps, None, **aux())
    out = fastcodec.Hand3DHeatmap(**SMALL).encode(kps, None, **aux())
    heat = out['heatmaps'].reshape(21, 16, 20, 24)
    assert not heat[[3, 5, 6]].any() and heat[[0, 1, 2, 4]].any()
    assert (out['keypoint_weights'][0, [3, 5, 6]] == 0).all()
    assert (out['keypoint_weights'][0, [0, 1, 2, 4]] == 1).all()
    clean = kps.copy()
    clean[0, [3, 5, 6]] = 1e9  # far outside: MMPose clips, and exp() is 0 there too
    ref = mmc.Hand3DHeatmap(**SMALL).encode(clean, None, **aux())['heatmaps']
    np.testing.assert_allclose(out['heatmaps'], ref, rtol=0, atol=1e-5)


def test_float_heatmaps_are_decoded_in_float32(mmc, backend):
    heat = np.random.default_rng(8).normal(0, 1, (21, 16, 20, 24))
    ours = fastcodec.Hand3DHeatmap(**SMALL).decode(heat, np.ones(1), np.ones((1, 2)))
    theirs = mmc.Hand3DHeatmap(**SMALL).decode(heat.astype(np.float32), np.ones(1), np.ones((1, 2)))
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_array_equal(ours[1], theirs[1])


# ---- bad input -----------------------------------------------------------------------
@pytest.mark.parametrize('cfg, error, words', [
    (dict(heatmap_size=[64, 64]), TypeError, 'heatmap_size'),
    (dict(heatmap_size=[64.5, 64, 64]), TypeError, 'heatmap_size'),
    (dict(heatmap_size=[64, 0, 64]), ValueError, 'heatmap_size'),
    (dict(image_size=[256]), TypeError, 'image_size'),
    (dict(sigma=0), ValueError, 'sigma'),
    (dict(sigma='2'), TypeError, 'sigma'),
    (dict(sigma=2e4), ValueError, 'sigma'),
    (dict(heatmap3d_depth_bound=0.0), ValueError, 'heatmap3d_depth_bound'),
    (dict(max_bound=float('inf')), ValueError, 'max_bound'),
    (dict(joint_indices=[0.5]), TypeError, 'joint_indices'),
])
def test_bad_config(cfg, error, words):
    with pytest.raises(error, match=words):
        fastcodec.Hand3DHeatmap(**cfg)


def test_bad_encode_input(mmc):
    codec = fastcodec.Hand3DHeatmap(**SMALL)
    with pytest.raises(ValueError, match=r'keypoints.*\(N, K, 3\)'):
        codec.encode(np.zeros((21, 3)), None, **aux())
    with pytest.raises(ValueError, match='x, y, depth'):
        codec.encode(np.zeros((1, 21, 2)), None, **aux())
    with pytest.raises(ValueError, match='keypoints_visible'):
        codec.encode(np.zeros((1, 21, 3)), np.ones((1, 20)), **aux())
    with pytest.raises(ValueError, match='joint_indices'):
        fastcodec.Hand3DHeatmap(**SMALL, joint_indices=[25]).encode(np.zeros((1, 21, 3)), None,
                                                                     **aux())
    with pytest.raises(ValueError, match='dataset_keypoint_weights'):
        fastcodec.Hand3DHeatmap(**SMALL, use_different_joint_weights=True).encode(
            np.zeros((1, 21, 3)), None, **dict(aux(), dataset_keypoint_weights=np.ones(20)))
    with pytest.raises(ValueError, match='one per instance'):
        fastcodec.Hand3DHeatmap(**SMALL, sigma=(2, 2)).encode(np.zeros((3, 21, 3)), None, **aux())
    # MMPose asserts; fastcodec's error is both kinds and carries MMPose's words
    args = dict(aux(), dataset_keypoint_weights=None)
    with pytest.raises(AssertionError, match='cannot be None'):
        mmc.Hand3DHeatmap(use_different_joint_weights=True).encode(np.zeros((1, 21, 3)), None, **args)
    with pytest.raises(MMPoseCheckError, match='cannot be None') as err:
        fastcodec.Hand3DHeatmap(**SMALL, use_different_joint_weights=True).encode(
            np.zeros((1, 21, 3)), None, **args)
    assert isinstance(err.value, ValueError) and isinstance(err.value, AssertionError)


def test_bad_decode_input():
    codec = fastcodec.Hand3DHeatmap(**SMALL)
    with pytest.raises(ValueError, match=r'\(K, D, H, W\)'):
        codec.decode(np.zeros((21 * 16, 20, 24), np.float32), np.ones(1), np.ones((1, 2)))
    with pytest.raises(ValueError, match='positive depth'):
        codec.decode(np.zeros((21, 0, 20, 24), np.float32), np.ones(1), np.ones((1, 2)))
    with pytest.raises(TypeError, match='heatmaps'):
        codec.decode(np.zeros((21, 2, 2, 2), complex), np.ones(1), np.ones((1, 2)))
    with pytest.raises(ValueError, match=r'\(B, K, D, H, W\)'):
        codec.batch_decode(np.zeros((21, 16, 20, 24), np.float32), np.ones(1), np.ones((1, 2)))


@pytest.mark.parametrize('name', ['cpp', 'numba'])
def test_kernel_rejects_bad_outputs(name):
    if name not in fastcodec.available_backends():
        pytest.skip(f'{name} backend not available')
    import importlib
    k = importlib.import_module(f'fastcodec.backends.{name}')
    kps = np.zeros((1, 1, 2, 3))
    sigma = np.full((1, 1), 2.0)
    ok_heat = np.zeros((1, 2, 4, 4, 4), np.float32)
    ok_inside = np.zeros((1, 1, 2), np.uint8)
    k.hand3d_encode(kps, sigma, False, (16.0, 16.0), 100.0, 1.0, ok_heat, ok_inside)
    for heat, inside in ((np.zeros((1, 2, 4, 4, 4)), ok_inside),               # float64
                         (np.zeros((1, 3, 4, 4, 4), np.float32), ok_inside),   # K mismatch
                         (np.zeros((1, 2, 4, 4, 4), np.float32)[..., ::2], ok_inside),
                         (ok_heat, np.zeros((1, 1, 3), np.uint8))):
        with pytest.raises((ValueError, TypeError)):  # the contract: TypeError for a dtype
            k.hand3d_encode(kps, sigma, False, (16.0, 16.0), 100.0, 1.0, heat, inside)
    with pytest.raises(ValueError):
        k.hand3d_encode(kps, sigma, False, (16.0, 16.0), 100.0, 0.0, ok_heat, ok_inside)
    with pytest.raises(ValueError):
        k.hand3d_encode(kps, np.zeros((1, 1)), False, (16.0, 16.0), 100.0, 1.0, ok_heat, ok_inside)


def test_rounding_guard():
    """The separable Gaussian falls back to MMPose's formula where float64 p is near a
    float32 rounding boundary (the Numba mirror of hand3d.h's hand3d_rounds_clear)."""
    from fastcodec.backends.numba.hand3d import hand3d_rounds_clear
    f = np.float32(0.7)
    up = float(np.nextafter(f, np.float32(1)))
    midpoint = (float(f) + up) / 2
    assert hand3d_rounds_clear(float(f)) and hand3d_rounds_clear(0.7)
    assert not hand3d_rounds_clear(midpoint)
    assert not hand3d_rounds_clear(midpoint + 1e-16) and not hand3d_rounds_clear(midpoint - 1e-16)
    assert hand3d_rounds_clear(midpoint + 1e-11)
    assert not hand3d_rounds_clear(0.0) and not hand3d_rounds_clear(1e-39)
