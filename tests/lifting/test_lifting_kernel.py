"""MotionBERTLabel's compiled encode (csrc/include/fastcodec/lifting.h: the C++ loop and
its Numba mirror) against the vectorised numpy / torch path it replaces for CPU
inputs, bit for bit: random batches with adversarial values (NaN, Inf, zero depth,
tiny and huge coordinates), float32 / float64 keypoints and targets (also mixed),
train / test modes, with and without camera f / c (float32 / float64, (B, 2) and
(B, 2, 1)), given factors (float32 / float64, some starting with 0), concat_vis with
and without dtype promotion, other root indices and D = 3. The vectorised path is
bit-exact against MMPose 1.3.2 (tests/lifting/test_lifting_parity.py)."""
import contextlib
import itertools
import zlib

import numpy as np
import pytest

import fastcodec
from conftest import EMULATED
from fastcodec.codecs.motionbert_label import MotionBERTLabel

K = 17


@contextlib.contextmanager
def vectorised(monkeypatch):
    """A context in which MotionBERTLabel takes its vectorised numpy / torch path."""
    with monkeypatch.context() as m:
        m.setattr(MotionBERTLabel, '_kernel_applies', staticmethod(lambda X, kp, lt: False))
        yield


def to_numpy(x):
    return x.numpy() if hasattr(x, 'numpy') and not isinstance(x, np.ndarray) else x


def assert_bitwise(got, want, path):
    assert list(got) == list(want), path
    for key in want:
        a, b = to_numpy(got[key]), to_numpy(want[key])
        assert type(got[key]) is type(want[key]), (path, key)
        assert a.shape == b.shape and a.dtype == b.dtype, (path, key, a.shape, b.shape,
                                                           a.dtype, b.dtype)
        a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
        if a.dtype.kind == 'f':
            # Bits equal, except that any NaN matches any NaN (payloads are not numpy's
            # contract); the sign of zero is compared.
            nan = np.isnan(a)
            np.testing.assert_array_equal(nan, np.isnan(b), err_msg=f'{path} {key} NaN')
            ia = a.view(np.uint32 if a.dtype == np.float32 else np.uint64)[~nan]
            ib = b.view(np.uint32 if b.dtype == np.float32 else np.uint64)[~nan]
            bad = np.flatnonzero(ia != ib)
            assert bad.size == 0, (path, key, a[~nan][bad[:5]], b[~nan][bad[:5]])
        else:
            np.testing.assert_array_equal(a, b, err_msg=f'{path} {key}')


def adversarial(rng, shape, dtype, scale, offset=0.0):
    x = rng.normal(0, scale, shape) + offset
    kind = rng.integers(0, 40, shape)
    x[kind == 0] = np.nan
    x[kind == 1] = np.inf
    x[kind == 2] = -np.inf
    x[kind == 3] = 0.0
    x[kind == 4] = -0.0
    x[kind == 5] *= 1e-40
    x[kind == 6] *= 1e30
    return x.astype(dtype)


def batch(rng, B, T, kdt, ldt, D=2, vis_kind='plain', vis_dtype=np.float32,
          tvis_kind='plain', tvis_dtype=np.float32):
    kps = adversarial(rng, (B, T, K, D), kdt, 600, 500)
    target = adversarial(rng, (B, T, K, 3), ldt, 300)
    target[..., 2] += rng.uniform(3000, 6000, (B, T, 1)).astype(ldt)
    target[0, 0, :, 2] = 0                                # zero depth: 0 / 0, x / 0
    vis = None
    if vis_kind != 'none':
        vis = rng.choice([0.0, 0.49, 0.5, 1.0, 2.0], (B, T, K)).astype(vis_dtype)
        if vis_kind == 'trailing':
            vis = vis[..., None]
    tvis = None
    if tvis_kind != 'none':
        tvis = rng.choice([0.0, 0.49, 0.5, 0.51, 1.0, np.nan], (B, T, K))
        if np.dtype(tvis_dtype).kind != 'f':
            tvis = np.nan_to_num(tvis) * 2
        tvis = tvis.astype(tvis_dtype)
        if tvis_kind == 'trailing':
            tvis = tvis[..., None]
    return kps, vis, target, tvis


def cameras(rng, B, fc, fc_dtype):
    cam = dict(w=rng.integers(200, 1500, B), h=rng.integers(200, 1500, B))
    if fc is not None:
        cam['f'] = rng.uniform(500, 1500, (B,) + fc).astype(fc_dtype)
        cam['c'] = rng.uniform(200, 800, (B,) + fc).astype(fc_dtype)
    return cam


def factors(rng, B, T, kind):
    if kind == 'none':
        return None
    f = rng.uniform(0.5, 4, (B, T)).astype(np.float64 if kind == 'f64' else np.float32)
    f[1, 0] = 0                                           # sample 1 takes the computed factor
    return f[..., None] if kind == '3d' else f


CASES = list(itertools.product(
    [(np.float32, np.float32), (np.float64, np.float64), (np.float32, np.float64),
     (np.float64, np.float32)],
    ['train', 'test'],
    [None, ((2,), np.float64), ((2, 1), np.float32)],
    ['none', 'f32', 'f64', '3d'],
))


@EMULATED(keep=lambda p: p['factor_kind'] == '3d')   # the CUDA kernels, 24 of 96 cases
@pytest.mark.parametrize('dtypes,mode,fc,factor_kind', CASES,
                         ids=[f'{np.dtype(d[0]).name}-{np.dtype(d[1]).name}-{m}-'
                              f'{"nofc" if f is None else np.dtype(f[1]).name + str(len(f[0]))}-{k}'
                              for d, m, f, k in CASES])
def test_kernel_equals_vectorised_numpy(backend, monkeypatch, dtypes, mode, fc, factor_kind):
    rng = np.random.default_rng(zlib.crc32(repr((dtypes, mode, fc, factor_kind)).encode()))
    B, T = 4, 5
    kdt, ldt = dtypes
    for cfg, D, vis_kind, vis_dtype, tvis_kind, tvis_dtype in [
            (dict(), 2, 'plain', np.float32, 'plain', np.float32),
            (dict(concat_vis=True), 2, 'plain', np.float32, 'plain', np.float64),
            (dict(concat_vis=True, root_index=5), 3, 'trailing', np.float32, 'trailing',
             np.float32),
            (dict(concat_vis=True), 2, 'none', np.float32, 'none', None),
            (dict(concat_vis=True), 2, 'plain', np.float64, 'trailing', np.float64),
            (dict(concat_vis=True, root_index=16), 2, 'plain', np.uint8, 'plain', np.uint8)]:
        codec = fastcodec.MotionBERTLabel(K, mode=mode, **cfg)
        kps, vis, target, tvis = batch(rng, B, T, kdt, ldt, D, vis_kind, vis_dtype, tvis_kind,
                                       tvis_dtype)
        cam = cameras(rng, B, None if fc is None else fc[0], None if fc is None else fc[1])
        factor = factors(rng, B, T, factor_kind)
        args = (kps, vis, target, tvis, cam, factor)
        got = codec.batch_encode(*args)
        with vectorised(monkeypatch):
            want = codec.batch_encode(*args)
        path = f'{backend} {cfg} D={D} {vis_kind} {np.dtype(vis_dtype).name}'
        assert_bitwise(got, want, path)
        # one sample, as encode takes it
        one = (kps[2], None if vis is None else vis[2], target[2],
               None if tvis is None else tvis[2],
               {k: v[2] for k, v in cam.items()}, None if factor is None else factor[2])
        got = codec.encode(*one)
        with vectorised(monkeypatch):
            want = codec.encode(*one)
        assert_bitwise(got, want, path + ' encode')


@pytest.mark.parametrize('mode', ['train', 'test'])
@pytest.mark.parametrize('dtype', [np.float32, np.float64], ids=['f32', 'f64'])
def test_kernel_equals_vectorised_torch(backend, monkeypatch, mode, dtype):
    """torch CPU tensors: the kernel path against the torch-op path (results are
    torch tensors on both)."""
    torch = pytest.importorskip('torch')
    rng = np.random.default_rng(11)
    B, T = 3, 6
    kps, vis, target, tvis = batch(rng, B, T, dtype, dtype)
    cam = cameras(rng, B, (2, 1), np.float64)
    factor = factors(rng, B, T, 'f32')
    tcam = {k: torch.from_numpy(v) for k, v in cam.items()}
    args = (torch.from_numpy(kps), torch.from_numpy(vis), torch.from_numpy(target),
            torch.from_numpy(tvis), tcam, torch.from_numpy(factor))
    for cfg in (dict(), dict(concat_vis=True, root_index=3)):
        codec = fastcodec.MotionBERTLabel(K, mode=mode, **cfg)
        got = codec.batch_encode(*args)
        with vectorised(monkeypatch):
            want = codec.batch_encode(*args)
        assert all(isinstance(v, torch.Tensor) for v in got.values())
        assert_bitwise(got, want, f'{backend} torch {cfg}')
        # and the numpy kernel path gives the same numbers
        np_got = codec.batch_encode(kps, vis, target, tvis, cam, factor)
        assert_bitwise({k: torch.from_numpy(v) for k, v in np_got.items()}, got,
                       f'{backend} numpy vs torch {cfg}')


def test_kernel_path_is_taken(monkeypatch):
    """The kernel runs for numpy float inputs and not for float16 / integer keypoints
    (which keep the vectorised path); guards against the comparison above silently
    comparing the vectorised path with itself."""
    calls = []
    from fastcodec import _backend
    real = _backend.kernels

    class Spy:
        def __init__(self, module):
            self.module = module

        def __getattr__(self, name):
            if name == 'motionbert_encode':
                calls.append(name)
            return getattr(self.module, name)

    spy = Spy(real(None))
    monkeypatch.setattr(_backend, 'kernels', lambda device=None: Spy(real(device)))
    monkeypatch.setattr(_backend, 'host_kernels', lambda: spy)
    rng = np.random.default_rng(12)
    kps, vis, target, tvis = batch(rng, 2, 3, np.float32, np.float32)
    cam = cameras(rng, 2, (2,), np.float64)
    codec = fastcodec.MotionBERTLabel(K, mode='train', concat_vis=True)
    codec.batch_encode(kps, vis, target, tvis, cam)
    assert calls == ['motionbert_encode']
    codec.batch_encode(kps.astype(np.float16), vis, target, tvis, cam)
    codec.batch_encode(np.round(kps).astype(np.int64), vis, target.astype(np.float16), tvis, cam)
    assert calls == ['motionbert_encode']


@pytest.mark.parametrize('fn', ['cpp', 'numba'])
def test_kernel_rejects_bad_shapes(fn):
    """The kernel's own checks (the codec checks first; these guard the memory)."""
    if fn not in fastcodec.available_backends():
        pytest.skip(f'{fn} unavailable')
    from conftest import host_call
    from fastcodec import _calls

    def enc(*args):
        target_visible = args[9] if len(args) > 9 else None
        with fastcodec.use_backend(fn):
            return _calls.motionbert_encode(host_call(), *args[:9], target_visible)
    kp = np.zeros((2, 3, K, 2), np.float32)
    lt = np.zeros((2, 3, K, 3), np.float32)
    ok = (np.zeros((2, 8)), np.ones((2, 1)), np.zeros(2, np.uint8))
    labels, out, computed, weights, finite = enc(kp, None, lt, *ok, 0, True, False)
    assert labels.shape == (2, 3, K, 2) and out.shape == lt.shape and computed.shape == (2, 3)
    assert weights is None and finite is True
    tv = np.array([0.5, 0.51, np.nan, -1.0, 2.0, 1.0], np.float64).repeat(17)[None, :, None]
    tv = np.ascontiguousarray(np.broadcast_to(tv.reshape(1, 6, K), (2, 6, K))[:, :3])
    weights = enc(kp, None, lt, *ok, 0, True, False, tv)[3]
    np.testing.assert_array_equal(weights, (tv > 0.5).astype(np.float32))
    assert weights.dtype == np.float32 and weights.shape == (2, 3, K)
    # the finiteness report: any NaN or Inf in keypoints or target, in any sample
    for array, index, value in ((kp, (1, 2, 16, 1), np.nan), (lt, (1, 0, 3, 2), -np.inf),
                                (lt, (0, 2, 16, 0), np.inf), (kp, (0, 0, 0, 0), -np.nan)):
        poisoned = array.copy()
        poisoned[index] = value
        args = (poisoned, None, lt) if array is kp else (kp, None, poisoned)
        assert enc(*args, *ok, 0, True, False)[4] is False
    bad = [
        (kp[:, :, :, :1].copy(), None, lt, *ok, 0, True, False),         # D < 2
        (kp, None, lt[:1], *ok, 0, True, False),                          # B mismatch
        (kp, None, lt, *ok, K, True, False),                              # root out of range
        (kp, None, lt[..., :2].copy(), *ok, 0, True, False),              # C != 3 projecting
        (kp, np.zeros((2, 3, K), np.float64), lt, *ok, 0, True, False),   # visible dtype
        (kp, np.zeros((2, 3, 5), np.float32), lt, *ok, 0, True, False),   # visible size
        (kp, None, lt, np.zeros((2, 7)), *ok[1:], 0, True, False),        # params
        (kp, None, lt, ok[0], np.ones((2, 2)), ok[2], 0, False, False),   # factor length
        (kp, None, lt, *ok[:2], np.zeros(3, np.uint8), 0, True, False),   # take_given
        (kp.astype(np.int32), None, lt, *ok, 0, True, False),             # dtype
        (kp, None, lt, *ok, 0, True, False, np.zeros((2, 3, 5))),         # target_visible size
        (kp, None, lt, *ok, 0, True, False, np.zeros((2, 3, K), np.int8)),  # its dtype
    ]
    for i, args in enumerate(bad):
        with pytest.raises((ValueError, TypeError)):
            enc(*args)
            pytest.fail(f'case {i} accepted')
