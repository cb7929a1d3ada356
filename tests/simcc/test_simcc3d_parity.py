"""SimCC3DLabel against MMPose's projects/rtmpose3d codec (loaded from a fetched MMPose
source: tests/rtmpose3d_oracle.py; skipped with the reason when there is none), for
each CPU backend and, on a representative subset (EMULATED), the CUDA kernels run by
the cuda-emulator backend: every encode output (labels within 1e-5, weights exactly, same keys,
shapes, dtypes) and decode (coordinates 2e-3, scores 1e-4) on random and adversarial
inputs; batched calls against the loop; bad input."""
import zlib

import numpy as np
import pytest

import fastcodec
from conftest import EMULATED
from rtmpose3d_oracle import SKIP_REASON, load_simcc3d_label

SIZE = (96, 128, 80)


@pytest.fixture(scope='module')
def Ref():
    cls = load_simcc3d_label()
    if cls is None:
        pytest.skip(SKIP_REASON)
    return cls


def sample(rng, n, k, kind, dtype):
    w, h, _ = SIZE
    kps = rng.uniform(0, 1, (n, k, 2)) * [w, h]
    k3d = rng.normal(0, 0.6, (n, k, 3))
    if kind == 'adversarial':
        sel = rng.integers(0, 5, (n, k))
        kps[sel == 1] = rng.uniform(-0.3, 1.3, (int((sel == 1).sum()), 2)) * [w, h]
        kps[sel == 2] = (rng.integers(-2, 130, (int((sel == 2).sum()), 2)) + 0.5) / 2  # .5 bins
        k3d[sel == 3, 2] = rng.choice([-3.0, 3.0, 10.0], int((sel == 3).sum()))
        kps[sel == 4] = rng.uniform(-40, 40, (int((sel == 4).sum()), 2)) * [w, h]
    vis = rng.choice([0.0, 0.49, 0.5, 1.0, 2.0], (n, k)).astype(np.float32)
    return kps.astype(dtype), k3d.astype(dtype), vis


def check(ours, theirs):
    assert list(ours) == list(theirs)
    for key, ref in theirs.items():
        got = ours[key]
        if isinstance(ref, list):
            assert got == ref if ref != [None] else got == [None], key
            continue
        assert np.shape(got) == np.shape(ref) and np.asarray(got).dtype == np.asarray(ref).dtype, key
        tol = 1e-5 if key.endswith('_labels') else 0
        np.testing.assert_allclose(got, ref, rtol=0, atol=tol, err_msg=key)


CASES = [dict(), dict(sigma=(4.0, 5.66, 3.2), normalize=False), dict(sigma=3, root_index=(2, 3)),
         dict(simcc_split_ratio=1.75, z_range=3), dict(simcc_split_ratio=3)]


@EMULATED(keep=lambda p: p['kind'] == 'adversarial' and p['with_3d'])
@pytest.mark.parametrize('cfg', CASES, ids=[str(c) for c in CASES])
@pytest.mark.parametrize('kind', ['random', 'adversarial'])
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('with_3d', [False, True])
def test_encode_matches_mmpose(Ref, backend, cfg, kind, dtype, with_3d):
    rng = np.random.default_rng(zlib.crc32(repr((cfg, kind, with_3d, np.dtype(dtype).name)).encode()))
    kps, k3d, vis = sample(rng, 1, 17, kind, dtype)
    theirs = Ref(SIZE, **cfg).encode(kps.copy(), k3d.copy() if with_3d else None, vis)
    ours = fastcodec.SimCC3DLabel(SIZE, **cfg).encode(kps, k3d if with_3d else None, vis)
    check(ours, theirs)


def test_encode_leaves_keypoints_3d(Ref, backend):
    """MMPose subtracts the root depth from the caller's keypoints_3d in place;
    fastcodec leaves it (docs/deviations.md)."""
    kps, k3d, vis = sample(np.random.default_rng(1), 1, 17, 'random', np.float32)
    before = k3d.copy()
    fastcodec.SimCC3DLabel(SIZE).encode(kps, k3d, vis)
    np.testing.assert_array_equal(k3d, before)
    Ref(SIZE).encode(kps, k3d, vis)
    assert not np.array_equal(k3d, before)


@EMULATED
def test_root_depth_per_instance(Ref, backend):
    """MMPose subtracts an (N,) root depth from (N, K) depths, which broadcasts only
    for N = 1 (or N = K, then across keypoints); fastcodec subtracts each instance's own
    root depth, which is MMPose's result for each instance alone (docs/deviations.md)."""
    kps, k3d, vis = sample(np.random.default_rng(2), 3, 17, 'random', np.float32)
    with pytest.raises(ValueError, match='broadcast'):
        Ref(SIZE).encode(kps, k3d.copy(), vis)
    ours = fastcodec.SimCC3DLabel(SIZE).encode(kps, k3d, vis)
    for n in range(3):
        one = Ref(SIZE).encode(kps[n:n + 1], k3d[n:n + 1].copy(), vis[n:n + 1])
        for key in ('keypoint_z_labels', 'keypoint_weights', 'root_z'):
            np.testing.assert_allclose(ours[key][n:n + 1], one[key], rtol=0, atol=1e-5)


def test_placeholder_sample(Ref):
    theirs = Ref(SIZE).encode(np.zeros(()))
    ours = fastcodec.SimCC3DLabel(SIZE).encode(np.zeros(()))
    check(ours, theirs)


@EMULATED(keep=lambda p: p['noise'] > 0)
@pytest.mark.parametrize('use_dark', [False, True])
@pytest.mark.parametrize('noise', [0.0, 0.05])
@pytest.mark.parametrize('two_d', [False, True])
def test_decode_matches_mmpose(Ref, backend, use_dark, noise, two_d):
    rng = np.random.default_rng(int(use_dark) + 2 * int(noise > 0) + 4 * two_d)
    n = 1 if two_d else 3
    kps, k3d, vis = sample(rng, n, 17, 'random', np.float32)
    enc = fastcodec.SimCC3DLabel(SIZE).encode(kps, k3d, np.ones((n, 17), np.float32))
    maps = [enc[f'keypoint_{a}_labels'] + rng.normal(0, noise, enc[f'keypoint_{a}_labels'].shape)
            .astype(np.float32) for a in 'xyz']
    maps[0][0, 1] = -np.abs(maps[0][0, 1])  # a row without a positive maximum
    if two_d:
        maps = [m[0] for m in maps]
    ours = fastcodec.SimCC3DLabel(SIZE, use_dark=use_dark).decode(*maps)
    # MMPose's DARK blurs and logs its inputs in place: give it copies
    ref = Ref(SIZE, use_dark=use_dark)
    if two_d and use_dark:
        # MMPose's DARK unpacks (N, K, W) from (K, W) input and raises; fastcodec decodes
        # it as one instance, MMPose's result for (1, K, W) (docs/deviations.md)
        with pytest.raises(ValueError, match='unpack'):
            ref.decode(*[m.copy() for m in maps])
        maps = [m[None] for m in maps]
    theirs = ref.decode(*[m.copy() for m in maps])
    for got, ref, tol in zip(ours, theirs, (2e-3, 2e-3, 1e-4)):
        assert got.shape == ref.shape and got.dtype == ref.dtype
        # DARK on a row without a positive value: MMPose divides 0 by 0 (NaN), fastcodec
        # keeps the location (docs/deviations.md, refine_simcc_dark)
        nan = np.isnan(ref)
        assert not nan.any() or (use_dark and np.isfinite(got[nan]).all())
        np.testing.assert_allclose(got[~nan], ref[~nan], rtol=0, atol=tol)
    assert (ours[0][0, 1, :2] == -1 / 2).all()  # the -1 location, divided by the ratio


@EMULATED
def test_batch_encode_equals_loop(backend):
    rng = np.random.default_rng(9)
    codec = fastcodec.SimCC3DLabel(SIZE, root_index=(0, 1))
    samples = [sample(rng, 2, 17, 'adversarial', np.float32) for _ in range(3)]
    kps, k3d, vis = (np.stack(a) for a in zip(*samples))
    for with_3d in (False, True):
        batch = codec.batch_encode(kps, k3d if with_3d else None, vis)
        for b in range(3):
            one = codec.encode(kps[b], k3d[b] if with_3d else None, vis[b])
            for key, value in one.items():
                if key == 'with_z_label':
                    assert batch[key][b].tolist() == value
                elif key == 'lifting_target' and not with_3d:
                    assert batch[key] is None
                else:
                    np.testing.assert_array_equal(batch[key][b], np.asarray(value), err_msg=key)


@EMULATED
def test_batch_decode_equals_loop(backend):
    rng = np.random.default_rng(10)
    codec = fastcodec.SimCC3DLabel(SIZE, use_dark=True)
    x, y, z = (rng.normal(0, 1, (2, 3, 17, n)).astype(np.float32) for n in (192, 256, 160))
    batch = codec.batch_decode(x, y, z)
    for b in range(2):
        for got, ref in zip(batch, codec.decode(x[b], y[b], z[b])):
            np.testing.assert_array_equal(got[b], ref)
    flat = codec.batch_decode(x[:, 0], y[:, 0], z[:, 0])  # (B, K, W): N = 1
    assert flat[0].shape == (2, 1, 17, 3)
    np.testing.assert_array_equal(flat[0][:, 0], batch[0][:, 0])


@pytest.mark.parametrize('cfg, error, words', [
    (dict(input_size=(96, 128)), TypeError, 'input_size'),
    (dict(input_size=(96, 128, 0)), ValueError, 'input_size'),
    (dict(input_size=SIZE, sigma=(1, 2)), TypeError, 'sigma'),
    (dict(input_size=SIZE, sigma=-1.0), ValueError, 'sigma'),
    (dict(input_size=SIZE, simcc_split_ratio=0), ValueError, 'simcc_split_ratio'),
    (dict(input_size=SIZE, root_index=1.5), TypeError, 'root_index'),
    (dict(input_size=SIZE, z_range=0), ValueError, 'z_range'),
    (dict(input_size=SIZE, sigma=50.0, use_dark=True), ValueError, 'use_dark'),
])
def test_bad_config(cfg, error, words):
    with pytest.raises(error, match=words):
        fastcodec.SimCC3DLabel(**cfg)


def test_bad_input():
    codec = fastcodec.SimCC3DLabel(SIZE, root_index=(0, 20))
    kps = np.zeros((1, 17, 2))
    with pytest.raises(ValueError, match=r'\(N, K, 2\)'):
        codec.encode(np.zeros((17, 2)))
    with pytest.raises(ValueError, match='keypoints_3d'):
        codec.encode(kps, np.zeros((1, 17, 2)))
    with pytest.raises(ValueError, match='root_index'):
        codec.encode(kps, np.zeros((1, 17, 3)))
    with pytest.raises(ValueError, match='keypoints_visible'):
        codec.encode(kps, None, np.ones((1, 16)))
    with pytest.raises(TypeError, match='keypoints'):
        codec.encode(kps.astype(complex))
    x = np.zeros((1, 17, 192), np.float32)
    with pytest.raises(ValueError, match='agree'):
        codec.decode(x, np.zeros((1, 16, 256), np.float32), np.zeros((1, 17, 160), np.float32))
    with pytest.raises(ValueError, match='non-empty'):
        codec.decode(x, np.zeros((1, 17, 0), np.float32), np.zeros((1, 17, 160), np.float32))
    with pytest.raises(ValueError, match=r'\(B, K, W\)'):
        codec.batch_decode(x[0], x[0], x[0])


@pytest.mark.parametrize('name', ['cpp', 'numba'])
def test_kernel_rejects_bad_outputs(name):
    if name not in fastcodec.available_backends():
        pytest.skip(f'{name} backend not available')
    import importlib
    k = importlib.import_module(f'fastcodec.backends.{name}')
    kps, vis = np.zeros((1, 1, 2, 3)), np.ones((1, 1, 2))

    def outputs(**bad):
        out = dict(x_labels=np.empty((1, 1, 2, 8), np.float32),
                   y_labels=np.empty((1, 1, 2, 6), np.float32),
                   z_labels=np.empty((1, 1, 2, 4), np.float32),
                   inside=np.empty((1, 1, 2), np.uint8))
        out.update(bad)
        return out
    good = outputs()
    k.simcc3d_encode(kps, vis, (1.0, 1.0, 1.0), 2.0, False, True, **good)
    assert good['x_labels'][0, 0, 0, 0] == pytest.approx(np.exp(-0.0) / np.sqrt(2 * np.pi), abs=1e-6)
    assert (good['inside'] == 1).all()
    for bad in (dict(x_labels=np.empty((1, 1, 2, 8))),                     # float64
                dict(y_labels=np.empty((1, 1, 3, 6), np.float32)),         # K mismatch
                dict(z_labels=np.empty((1, 1, 2, 8), np.float32)[..., ::2]),
                dict(z_labels=np.empty((1, 1, 2, 0), np.float32)),
                dict(inside=np.empty((1, 1, 2), np.int64))):
        with pytest.raises((ValueError, TypeError)):  # the contract: TypeError for a dtype
            k.simcc3d_encode(kps, vis, (1.0, 1.0, 1.0), 2.0, False, True, **outputs(**bad))
    with pytest.raises(ValueError):
        k.simcc3d_encode(kps, vis, (1.0, 0.0, 1.0), 2.0, False, True, **outputs())


def test_class_attributes_match_mmpose(Ref):
    for attr in ('auxiliary_encode_keys', 'label_mapping_table', 'instance_mapping_table',
                 'field_mapping_table'):
        assert getattr(fastcodec.SimCC3DLabel, attr) == getattr(Ref, attr), attr
    ours, theirs = fastcodec.SimCC3DLabel(SIZE, sigma=4), Ref(SIZE, sigma=4)
    for attr in ('sigma', 'root_index', 'root_z', 'z_range', 'input_size', 'simcc_split_ratio'):
        np.testing.assert_array_equal(getattr(ours, attr), getattr(theirs, attr), err_msg=attr)


def test_encode_float16_keypoints_bin_in_float16(Ref, backend):
    """float16 keypoints_3d: MMPose's depth and ``* simcc_split_ratio`` steps stay float16
    (as SimCCLabel's); the bins follow that product. Found by tools/fuzz."""
    kps = np.array([[[300.25, 100.0], [0.25, 41.3], [150.3, 10.1]]], np.float16)
    k3d = np.concatenate([kps, np.array([[[0.1], [0.37], [-0.2]]], np.float16)], -1)
    vis = np.ones((1, 3), np.float32)
    for ratio in (2.5, 3.0):
        cfg = dict(input_size=(400, 300, 288), sigma=2.0, simcc_split_ratio=ratio,
                   root_index=(0,))
        got = fastcodec.SimCC3DLabel(**cfg).encode(kps, k3d, vis)
        want = Ref(**cfg).encode(kps.copy(), k3d.copy(), vis.copy())
        for axis in 'xyz':
            key = f'keypoint_{axis}_labels'
            np.testing.assert_allclose(got[key], want[key], rtol=0, atol=1e-5, err_msg=key)


def test_dark_with_small_sigma_decodes(Ref, backend):
    """docs/deviations.md (SimCC3DLabel): sigma < 0.8 gives MMPose a blur size <= 1 and
    a ValueError at decode; fastcodec decodes without a blur (as SimCCLabel)."""
    cfg = dict(input_size=(64, 64, 64), sigma=(0.5, 2.0, 2.0), use_dark=True)
    kps = np.array([[[20.3, 30.7]]], np.float32)
    k3d = np.concatenate([kps, np.full((1, 1, 1), 0.2, np.float32)], -1)
    enc = Ref(**cfg).encode(kps.copy(), k3d.copy(), np.ones((1, 1), np.float32))
    rows = [enc[f'keypoint_{a}_labels'] for a in 'xyz']
    with pytest.raises(ValueError):
        Ref(**cfg).decode(*[r.copy() for r in rows])
    kp = fastcodec.SimCC3DLabel(**cfg).decode(*rows)[0]
    np.testing.assert_allclose(kp[0, 0, :2], [20.3, 30.7], atol=0.5)
