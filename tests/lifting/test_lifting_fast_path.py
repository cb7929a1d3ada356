"""The lifting codecs' per-sample numpy fast path (``_lifting.SAMPLE_FAST_PATH``):
ImagePoseLifting.encode/decode, VideoPoseLifting.encode/decode and
MotionBERTLabel.decode compute one numpy sample with MMPose's expressions instead of
the batched path with B = 1. Here: the fast path is taken for the usual inputs, its
results equal the batched path's bit for bit (same keys in the same order, dtypes,
shapes, values; with the switch off, and against batch_encode / batch_decode), match
MMPose 1.3.2 within docs/design.md's tolerances, and bad input raises the same errors with
the switch on and off."""
import itertools

import numpy as np
import pytest

import fastcodec
from conftest import EMULATED
from fastcodec.codecs import _lifting

K = 17
ATOL_TARGET, ATOL_KEYPOINT, ATOL_SCORE = 1e-5, 2e-3, 1e-4


# ---- helpers ----------------------------------------------------------------------------
def assert_identical(ours, ref, path='out'):
    """Same structure, key order, types, shapes, dtypes and bits (NaN == NaN)."""
    if isinstance(ref, dict):
        assert isinstance(ours, dict) and list(ours) == list(ref), (path, list(ours), list(ref))
        for key in ref:
            assert_identical(ours[key], ref[key], f'{path}[{key!r}]')
    elif isinstance(ref, (tuple, list)):
        assert type(ours) is type(ref) and len(ours) == len(ref), path
        for i, (a, b) in enumerate(zip(ours, ref)):
            assert_identical(a, b, f'{path}[{i}]')
    elif isinstance(ref, np.ndarray):
        assert isinstance(ours, np.ndarray), (path, type(ours))
        assert ours.shape == ref.shape and ours.dtype == ref.dtype, \
            (path, ours.shape, ref.shape, ours.dtype, ref.dtype)
        np.testing.assert_array_equal(np.ascontiguousarray(ours).view(np.uint8),
                                      np.ascontiguousarray(ref).view(np.uint8), err_msg=path)
    else:
        assert type(ours) is type(ref) and ours == ref, (path, ours, ref)


def assert_close(ours, ref, atol, path='out'):
    if isinstance(ref, dict):
        assert list(ours) == list(ref), (path, list(ours), list(ref))
        for key in ref:
            assert_close(ours[key], ref[key], atol, f'{path}[{key!r}]')
    elif isinstance(ref, np.ndarray):
        assert ours.shape == ref.shape and ours.dtype == ref.dtype, \
            (path, ours.shape, ref.shape, ours.dtype, ref.dtype)
        np.testing.assert_allclose(ours, ref, rtol=0, atol=atol, err_msg=path)
    else:
        assert type(ours) is type(ref) and ours == ref, (path, ours, ref)


class Slow:
    """Within the block the per-sample calls take the batched path (B = 1)."""

    def __enter__(self):
        self.saved, _lifting.SAMPLE_FAST_PATH = _lifting.SAMPLE_FAST_PATH, False

    def __exit__(self, *exc):
        _lifting.SAMPLE_FAST_PATH = self.saved


def fast(codec, method, *args):
    """codec.<method>(*args) with the batched per-sample path disabled: fails unless the
    fast path handles it."""
    def fail(*a, **k):
        raise AssertionError(f'{type(codec).__name__}.{method}: fast path not taken')
    inner = '_encode' if method == 'encode' else '_decode'
    setattr(codec, inner, fail)
    try:
        return getattr(codec, method)(*args)
    finally:
        delattr(codec, inner)


def both(codec, method, *args):
    """(fast path result, batched path result) of one per-sample call."""
    got = fast(codec, method, *args)
    with Slow():
        want = getattr(codec, method)(*args)
    return got, want


def mmpose_delete_crashes(cfg, t, tvis_kind):
    """MMPose removes the root from a (T, K) target visibility along T: an IndexError
    when root_index >= T (docs/deviations.md)."""
    root = cfg.get('root_index', 0)
    return bool(cfg.get('remove_root') and not isinstance(root, list) and root >= t
                and tvis_kind != 'trailing')


def visibility(rng, shape, kind, dtype=np.float32):
    if kind == 'none':
        return None
    vis = rng.choice([0.0, 0.49, 0.5, 0.51, 1.0, 2.0], shape).astype(dtype)
    return vis[..., None] if kind == 'trailing' else vis


def target(rng, t, dtype, k=K):
    tgt = rng.normal(0, 300, (t, k, 3))
    tgt[..., 2] += rng.uniform(3000, 6000, (t, 1))
    return tgt.astype(dtype)


def image_configs(rng):
    stats = dict(keypoints_mean=rng.uniform(0, 500, (K, 2)), keypoints_std=rng.uniform(50, 150, (K, 2)))
    tstats = dict(target_mean=rng.normal(0, 0.1, (K, 3)), target_std=rng.uniform(0.1, 1, (K, 3)))
    tstats_rr = dict(target_mean=rng.normal(0, 0.1, (K - 1, 3)),
                     target_std=rng.uniform(0.1, 1, (K - 1, 3)))
    return [dict(), dict(root_index=3), dict(remove_root=True),
            dict(remove_root=True, save_index=True, root_index=16),
            dict(root_index=[0, 4, 11]), dict(root_index=[0, 4], remove_root=True),
            dict(concat_vis=True), dict(concat_vis=True, reshape_keypoints=False),
            dict(reshape_keypoints=False), dict(**stats), dict(**stats, **tstats),
            dict(**stats, **tstats_rr, remove_root=True, save_index=True, concat_vis=True)]


VIDEO_CONFIGS = [
    dict(), dict(zero_center=False), dict(root_index=2), dict(remove_root=True),
    dict(remove_root=True, save_index=True, root_index=16),
    dict(zero_center=False, remove_root=True, save_index=True),
    dict(root_index=[1, 6], remove_root=True), dict(concat_vis=True),
    dict(concat_vis=True, reshape_keypoints=False), dict(reshape_keypoints=False),
    dict(normalize_camera=True),
    dict(normalize_camera=True, remove_root=True, save_index=True, concat_vis=True),
]


def camera(rng, fc_shape=(2, 1), wh=int):
    cam = dict(w=wh(rng.integers(200, 1500)), h=wh(rng.integers(200, 1500)),
               f=rng.uniform(500, 1500, fc_shape), c=rng.uniform(200, 800, fc_shape),
               name='S1_cam0', R=np.eye(3), T=np.array([[1.0], [2.0], [3.0]]))
    return cam


# ---- encode ----------------------------------------------------------------------------------
@pytest.mark.parametrize('dtype', [np.float32, np.float64], ids=['f32', 'f64'])
def test_image_encode_fast_equals_batched(mmc, dtype):
    rng = np.random.default_rng(31)
    for ci, cfg in enumerate(image_configs(rng)):
        codec, ref = fastcodec.ImagePoseLifting(K, **cfg), mmc.ImagePoseLifting(K, **cfg)
        ns = [1] if 'keypoints_mean' in cfg else [1, 4]
        for n, vk, tk, tdt in itertools.product(ns, ['none', 'plain', 'trailing'],
                                                 ['none', 'plain', 'trailing'],
                                                 [dtype, np.float32, np.float64]):
            kps = rng.uniform(-50, 1050, (n, K, 2)).astype(dtype)
            tgt = target(rng, 1, tdt)
            vis_dt = np.float32 if vk != 'plain' else np.int64
            args = (kps, visibility(rng, (n, K), vk, vis_dt), tgt, visibility(rng, (1, K), tk))
            path = f'cfg{ci} n={n} {vk} {tk} {np.dtype(tdt)}'
            got, want = both(codec, 'encode', *args)
            assert_identical(got, want, path)
            batched = codec.batch_encode(*[None if a is None else a[None] for a in args])
            assert_identical(got, {k: v if k in _lifting.FLAG_KEYS else v[0]
                                   for k, v in batched.items()}, path + ' batch')
            if mmpose_delete_crashes(cfg, 1, tk):
                continue
            assert_close(got, ref.encode(*args), ATOL_TARGET, path + ' mmpose')


@pytest.mark.parametrize('dtype', [np.float32, np.float64], ids=['f32', 'f64'])
def test_video_encode_fast_equals_batched(mmc, dtype):
    rng = np.random.default_rng(32)
    wh_kinds = [int, float, np.int64, np.float32, lambda v: np.array(v, np.int32)]
    for ci, cfg in enumerate(VIDEO_CONFIGS):
        codec, ref = fastcodec.VideoPoseLifting(K, **cfg), mmc.VideoPoseLifting(K, **cfg)
        for (t, tt, vk, tk, fc), wh in itertools.product(
                [(27, 1, 'none', 'none', (2, 1)), (27, 27, 'plain', 'plain', (2, 1)),
                 (1, 1, 'trailing', 'trailing', (2,)), (9, 1, 'plain', 'none', (2,)),
                 (9, 9, 'none', 'trailing', (2, 1))], wh_kinds):
            kps = rng.uniform(-50, 1500, (t, K, 2)).astype(dtype)
            cam = camera(rng, fc, wh)
            args = (kps, visibility(rng, (t, K), vk), target(rng, tt, dtype),
                    visibility(rng, (tt, K), tk), cam)
            path = f'cfg{ci} t={t} tt={tt} {vk} {tk} {fc}'
            got, want = both(codec, 'encode', *args)
            assert_identical(got, want, path)
            if 'camera_param' in got:      # a copy: the caller's camera is not shared
                for key in ('R', 'T'):
                    assert not np.shares_memory(got['camera_param'][key], cam[key])
            if cfg.get('zero_center', True) and mmpose_delete_crashes(cfg, tt, tk):
                continue
            assert_close(got, ref.encode(*args), ATOL_TARGET, path + ' mmpose')


@pytest.mark.parametrize('dtype', [np.float32, np.float64], ids=['f32', 'f64'])
def test_video_batched_labels_same_on_any_layout(dtype):
    """VideoPoseLifting.batch_encode subtracts the image centre from a C-contiguous
    batch as complex pairs and from any other layout channel by channel: the same bits,
    signed zeros, denormals, huge and non-finite values included."""
    rng = np.random.default_rng(41)
    B, T = 3, 9
    wide = rng.uniform(-50, 1500, (B, T, K, 4)).astype(dtype)
    special = [-0.0, 0.0, np.finfo(dtype).tiny / 8, -np.finfo(dtype).max, 1e30, np.nan,
               np.inf, 500.0]
    wide.reshape(-1)[:4 * len(special):4] = special                 # x channel
    wide.reshape(-1)[1:4 * len(special) + 1:4] = special[::-1]      # y channel
    strided = wide[..., ::2]
    contiguous = np.ascontiguousarray(strided)
    cam = dict(w=np.full(B, 1000), h=np.full(B, 1002), f=np.ones((B, 2, 1)),
               c=np.full((B, 2, 1), 500.0))
    codec = fastcodec.VideoPoseLifting(K, normalize_camera=True)
    tgt = target(rng, T, dtype)[None].repeat(B, 0)
    assert_identical(codec.batch_encode(contiguous, None, tgt, None, cam),
                     codec.batch_encode(strided, None, tgt, None, cam))


MOTIONBERT_CONFIGS = [dict(), dict(mode='train'), dict(mode='TRAIN', root_index=3), dict(root_index=16),
                      dict(concat_vis=True), dict(concat_vis=True, mode='train', remove_root=True),
                      dict(concat_vis=True, rootrel=True)]


@EMULATED   # the CUDA kernels against MMPose, per sample and batched
@pytest.mark.parametrize('dtype', [np.float32, np.float64], ids=['f32', 'f64'])
def test_motionbert_encode_fast_equals_batched(mmc, backend, dtype):
    """The per-sample front's checks and assembly around the same compiled pass."""
    rng = np.random.default_rng(36)
    for ci, cfg in enumerate(MOTIONBERT_CONFIGS):
        codec, ref = fastcodec.MotionBERTLabel(K, **cfg), mmc.MotionBERTLabel(K, **cfg)
        for t, d, fc, fk, vk, vdt, tdt in [
                (27, 2, (2, 1), 'none', 'none', np.float32, dtype),
                (27, 3, None, 'none', 'plain', np.float32, np.float64),
                (9, 2, (2,), 'given', 'trailing', np.float32, dtype),
                (9, 2, None, 'zero', 'plain', np.int64, dtype),
                (1, 2, (2, 1), 'given2d', 'none', np.float32, np.float32),
                (27, 2, None, 'given', 'none', np.float32, dtype),
                (9, 3, (2, 1), 'zero', 'plain', np.float64, dtype),
                (9, 2, (2, 1), 'given1', 'plain', np.float32, dtype)]:
            kps = rng.uniform(-50, 1500, (t, K, d)).astype(dtype)
            cam = camera(rng, fc) if fc else dict(w=int(rng.integers(200, 1500)),
                                                  h=float(rng.integers(200, 1500)))
            factor = None
            if fk != 'none':
                factor = rng.uniform(0.5, 4, (1 if fk == 'given1' else t,)).astype(np.float32)
                if fk == 'zero':
                    factor[0] = 0
                if fk == 'given2d':
                    factor = factor[:, None]
            args = (kps, visibility(rng, (t, K), vk, vdt), target(rng, t, tdt),
                    visibility(rng, (t, K), vk, vdt), cam, factor)
            path = f'cfg{ci} t={t} d={d} fc={fc} {fk} {vk}'
            got, want = both(codec, 'encode', *args)
            assert_identical(got, want, path)
            assert np.shares_memory(got['lifting_target'], got['lifting_target_label'])
            if fk != 'given1':
                batched = codec.batch_encode(*[None if a is None else a[None] for a in args[:4]],
                                             {k: (np.array([v]) if np.isscalar(v) else v[None])
                                              for k, v in cam.items() if k in 'whfc'},
                                             None if factor is None else factor[None])
                batched = {k: v[0] for k, v in batched.items()}
                # a batch's factor dtype promotes given and computed ones (class docstring)
                np.testing.assert_array_equal(batched['factor'], got['factor'])
                batched['factor'] = batched['factor'].astype(got['factor'].dtype)
                assert_identical(got, batched, path + ' batch')
            assert_close(got, ref.encode(*args), ATOL_TARGET, path + ' mmpose')


# ---- decode ----------------------------------------------------------------------------------
@pytest.mark.parametrize('dtype', [np.float32, np.float64], ids=['f32', 'f64'])
def test_rooted_decode_fast_equals_batched(mmc, dtype):
    rng = np.random.default_rng(33)
    stats = dict(target_mean=rng.normal(0, 1, (K, 3)), target_std=rng.uniform(0.5, 1, (K, 3)))
    for name, cfg in itertools.product(['ImagePoseLifting', 'VideoPoseLifting'],
                                       [dict(), dict(remove_root=True),
                                        dict(remove_root=True, root_index=16),
                                        dict(remove_root=True, root_index=[0, 3])]):
        codec, ref = getattr(fastcodec, name)(K, **cfg), getattr(mmc, name)(K, **cfg)
        removed = int(bool(cfg.get('remove_root')) and not isinstance(cfg.get('root_index'), list))
        for n, root in itertools.product(
                [1, 27], [None, np.zeros((0,), np.float32), (1, 3), (3,), (1, 3, np.float64),
                          (3, np.int64), (1, 1)]):
            out = rng.normal(0, 1, (n, K - removed, 3)).astype(dtype)
            if isinstance(root, tuple):
                shape, rdt = (root[:-1], root[-1]) if not isinstance(root[-1], int) else (root, np.float32)
                root = (rng.normal(0, 100, shape)).astype(rdt)
            got, want = both(codec, 'decode', out, root)
            assert_identical(got, want, f'{name} {cfg} n={n}')
            batched = codec.batch_decode(out[None], None if root is None else root[None])
            assert_identical(got, (batched[0][0], batched[1][0]), f'{name} {cfg} n={n} batch')
            if root is None and removed:
                continue
            if root is not None and root.dtype == np.int64 and removed:
                continue    # MMPose inserts with np.insert's own casting: same values
            ref_kp, ref_sc = ref.decode(out.copy(), root)
            assert_close(got[0], ref_kp, ATOL_KEYPOINT)
            assert_close(got[1], ref_sc, ATOL_SCORE)
        if not cfg:         # (K, C): MMPose's regression heads' per-sample layout
            out = rng.normal(0, 1, (K, 3)).astype(dtype)
            for root in (None, rng.normal(0, 1, (1, 3)).astype(np.float32)):
                got, want = both(codec, 'decode', out, root)
                assert_identical(got, want)
    codec, ref = fastcodec.ImagePoseLifting(K, **stats), mmc.ImagePoseLifting(K, **stats)
    out = rng.normal(0, 1, (1, K, 3)).astype(dtype)
    root = rng.normal(0, 1, (1, 3)).astype(np.float32)
    for r in (root, None):
        got, want = both(codec, 'decode', out, r)
        assert_identical(got, want)
        assert_close(got[0], ref.decode(out.copy(), r)[0], ATOL_KEYPOINT)
    assert not np.shares_memory(fast(fastcodec.VideoPoseLifting(K), 'decode', out, None)[0], out)


@pytest.mark.parametrize('cfg', [dict(), dict(rootrel=True), dict(root_index=3),
                                 dict(rootrel=True, root_index=16, mode='train')], ids=str)
@pytest.mark.parametrize('dtype', [np.float32, np.float64], ids=['f32', 'f64'])
def test_motionbert_decode_fast_equals_batched(mmc, cfg, dtype):
    rng = np.random.default_rng(34)
    codec, ref = fastcodec.MotionBERTLabel(K, **cfg), mmc.MotionBERTLabel(K, **cfg)
    for t in (1, 27):
        out = rng.normal(0, 1, (t, K, 3)).astype(dtype)
        out[0, :3] = [[-0.0, 0.0, -0.0], [1e30, -1e-30, 0.5], [-1.0, 1.0, -0.0]]   # adversarial
        w = rng.integers(200, 1500, (t,))
        h = rng.integers(200, 1500, (t,))
        factor = rng.uniform(0.5, 4, (t, 1)).astype(np.float32)
        empty = np.zeros((0,), np.float32)
        cases = [(), (w, h), (w[:, None], h[:, None]), (w, h, factor),
                 (w.astype(np.int32), h.astype(np.float64), factor.astype(np.float64)),
                 (w.astype(np.float64), h.astype(np.float64), factor[:, 0][:, None]),
                 (None, None, factor), (empty, empty, empty), (w, h, empty)]
        if dtype == np.float64:
            cases.append((w.astype(np.float32), h.astype(np.float32), factor))
        if t == 1:
            cases.append((w, h, factor[0]))
        for args in cases:
            got, want = both(codec, 'decode', out, *args)
            assert_identical(got, want, f't={t} {[getattr(a, "shape", a) for a in args]}')
            bargs = [None if a is None else (a.reshape(1, 0) if a.size == 0 else a[None])
                     for a in args]
            batched = codec.batch_decode(out[None], *bargs)
            assert_identical(got, (batched[0][0], batched[1][0]))
            ref_kp, ref_sc = ref.decode(out.copy(), *args)
            finite = np.isfinite(ref_kp)
            assert_close(np.where(finite, got[0], 0), np.where(finite, ref_kp, 0), ATOL_KEYPOINT)
            assert_close(got[1], ref_sc, ATOL_SCORE)
    # float32 w with float32 outputs computes z in float32 (MMPose): the batched path
    out = rng.normal(0, 1, (9, K, 3)).astype(np.float32)
    wf = rng.integers(200, 1500, (9,)).astype(np.float32)
    with pytest.raises(AssertionError, match='fast path not taken'):
        fast(codec, 'decode', out, wf, wf)


def test_fast_path_falls_back_for_other_inputs():
    """torch tensors, integer arrays and lists take the batched path (same results as
    before the fast path existed: numpy in, numpy out; torch in, torch out)."""
    import torch
    rng = np.random.default_rng(35)
    kps = rng.uniform(0, 1000, (1, K, 2))
    tgt = target(rng, 1, np.float64)
    codec = fastcodec.ImagePoseLifting(K)
    for args in [(kps.astype(np.int64), None, tgt), (kps.tolist(), None, tgt),
                 (torch.from_numpy(kps), None, torch.from_numpy(tgt))]:
        with pytest.raises(AssertionError, match='fast path not taken'):
            fast(codec, 'encode', *args)
    enc = codec.encode(torch.from_numpy(kps), None, torch.from_numpy(tgt))
    assert isinstance(enc['keypoint_labels'], torch.Tensor)
    with pytest.raises(AssertionError, match='fast path not taken'):
        fast(codec, 'decode', rng.integers(0, 5, (1, K, 3)), None)


def test_fast_path_layouts_and_byte_order(backend):
    """Non-contiguous and Fortran-ordered inputs take the fast path with the same
    results; big-endian arrays take the batched path (the compiled passes read native
    float32 / float64) and give the same values."""
    rng = np.random.default_rng(37)
    cam = camera(rng)
    kps = np.asfortranarray(rng.uniform(0, 1000, (9, K, 4)).astype(np.float32))[..., ::2]
    tgt = target(rng, 18, np.float64)[::2]
    vis = rng.uniform(0, 1, (K, 9)).astype(np.float32).T
    out = rng.normal(0, 1, (9, K, 6)).astype(np.float32)[..., ::2]
    w = np.full(18, 1000)[::2]
    cases = [(fastcodec.ImagePoseLifting(K, concat_vis=True), 'encode', (kps, vis, tgt[:1], vis[:1])),
             (fastcodec.VideoPoseLifting(K, normalize_camera=True), 'encode', (kps, vis, tgt, vis, cam)),
             (fastcodec.MotionBERTLabel(K, concat_vis=True, mode='train'), 'encode', (kps, vis, tgt, vis, cam)),
             (fastcodec.VideoPoseLifting(K, remove_root=True), 'decode', (out[:, 1:], tgt[0, :1])),
             (fastcodec.MotionBERTLabel(K, rootrel=True), 'decode', (out, w, w, w[:, None]))]
    for codec, method, args in cases:
        got, want = both(codec, method, *args)
        assert_identical(got, want, f'{type(codec).__name__}.{method}')
        swapped = [a.astype(a.dtype.newbyteorder('>')) if isinstance(a, np.ndarray) else a
                   for a in args]
        with pytest.raises(AssertionError, match='fast path not taken'):
            fast(codec, method, *swapped)
        be = getattr(codec, method)(*swapped)
        if isinstance(be, dict):
            for key, value in want.items():
                if isinstance(value, np.ndarray):
                    np.testing.assert_array_equal(be[key], value, err_msg=key)
        else:
            np.testing.assert_array_equal(be[0], want[0])


# ---- bad input --------------------------------------------------------------------------------
KP = np.zeros((1, K, 2), np.float32)
TGT = np.ones((1, K, 3), np.float32)
CAM = dict(w=1000, h=1002, f=np.ones((2, 1)), c=np.ones((2, 1)))
IMG = fastcodec.ImagePoseLifting(K)
VID = fastcodec.VideoPoseLifting(K)
VIDN = fastcodec.VideoPoseLifting(K, normalize_camera=True)
MB = fastcodec.MotionBERTLabel(K)
RR = fastcodec.ImagePoseLifting(K, remove_root=True)
STATS = fastcodec.ImagePoseLifting(K, target_mean=np.zeros((K, 3)), target_std=np.ones((K, 3)),
                                   keypoints_mean=np.zeros((K, 2)), keypoints_std=np.ones((K, 2)))
W = np.full((27,), 1000)
OUT = np.zeros((27, K, 3), np.float32)

BAD = [
    lambda: IMG.encode(np.zeros((K, 2), np.float32), None, TGT),
    lambda: IMG.encode(np.zeros((1, K, 0), np.float32), None, TGT),
    lambda: IMG.encode(KP, np.ones((1, K - 1)), TGT),
    lambda: IMG.encode(KP, np.ones((1, K), complex), TGT),
    lambda: IMG.encode(KP, 'visible', TGT),
    lambda: IMG.encode(KP),
    lambda: IMG.encode(KP, None, np.ones((K, 3), np.float32)),
    lambda: IMG.encode(KP, None, TGT, np.ones((1, K, 2))),
    lambda: fastcodec.ImagePoseLifting(K, root_index=5).encode(KP, None, np.ones((1, 4, 3), np.float32)),
    lambda: IMG.encode(KP, None, np.ones((2, K, 3), np.float32)),
    lambda: IMG.encode(np.zeros((1, 2, 2), np.float32), None, np.ones((1, 2, 3), np.float32)),
    lambda: STATS.encode(np.zeros((1, K, 3), np.float32), None, TGT),
    lambda: STATS.encode(KP, None, np.ones((1, K, 2), np.float32)),
    lambda: IMG.decode(np.zeros((K,), np.float32)),
    lambda: IMG.decode(np.zeros((1, K, 3), np.float32), np.zeros((2, 3))),
    lambda: IMG.decode(np.zeros((1, K, 3), np.float32), np.zeros((1, 1, 1, 3))),
    lambda: IMG.decode(np.zeros((1, K, 3), np.float32), 'root'),
    lambda: STATS.decode(np.zeros((2, K, 3), np.float32)),
    lambda: RR.decode(np.zeros((1, 2, 3), np.float32), np.zeros((2, 3))),
    lambda: RR.decode(np.zeros((K - 1, 3), np.float32), np.zeros((1, 3))),
    lambda: RR.decode(np.zeros((1, K - 1, 3), np.float32), np.zeros((1, 2))),
    lambda: fastcodec.ImagePoseLifting(K, remove_root=True, root_index=16).decode(
        np.zeros((1, 4, 3), np.float32), np.zeros((1, 3))),
    lambda: VID.encode(KP, None, TGT),
    lambda: VID.encode(KP, None, TGT, None, dict(w=10)),
    lambda: VID.encode(KP, None, TGT, None, dict(w='10', h=10)),
    lambda: VID.encode(KP, None, TGT, None, dict(w=True, h=10)),
    lambda: VIDN.encode(KP, None, TGT, None, dict(w=1, h=1)),
    lambda: VIDN.encode(KP, None, TGT, None, dict(w=1, h=1, f=[1, 1], c=np.ones(3))),
    lambda: VID.encode(KP, None, TGT, None, dict(CAM, f=np.ones(3))),
    lambda: VID.encode(KP, None, TGT, None, dict(w=np.ones(2), h=1)),
    lambda: VID.encode(np.zeros((1, K, 3), np.float32), None, TGT, None, CAM),
    lambda: VID.encode(KP, np.ones((2, K)), TGT, None, CAM),
    lambda: fastcodec.VideoPoseLifting(K, root_index=20).encode(KP, None, TGT, None, CAM),
    lambda: MB.encode(KP, None, TGT, None, dict(w=10)),
    lambda: MB.encode(KP, None, TGT, None, None),
    lambda: MB.encode(KP[..., :1], None, TGT, None, CAM),
    lambda: MB.encode(KP, None, TGT[..., :2], None, CAM),
    lambda: MB.encode(KP, None, TGT, None, dict(CAM, c=np.ones(3))),
    lambda: MB.encode(KP, None, TGT, None, CAM, np.ones((2, 2))),
    lambda: MB.encode(KP, None, TGT, None, CAM, np.ones((0,))),
    lambda: MB.encode(KP, None, np.ones((3, K, 3), np.float32), None, CAM, np.ones((2,))),
    lambda: MB.encode(np.zeros((3, K, 2), np.float32), None, np.ones((2, K, 3), np.float32), None,
                      dict(w=1, h=1)),
    lambda: MB.encode(KP, np.ones((1, K - 1)), TGT, None, CAM),
    lambda: MB.encode(KP, None, TGT, np.ones((2, K)), CAM),
    lambda: fastcodec.MotionBERTLabel(K, root_index=20).encode(KP, None, TGT, None, CAM),
    lambda: MB.decode(np.zeros((K, 3), np.float32)),
    lambda: MB.decode(OUT, W),
    lambda: MB.decode(OUT, W, W[:5]),
    lambda: MB.decode(OUT, W[:5], W[:5]),
    lambda: MB.decode(OUT, np.ones((27, 2)), np.ones((27, 2))),
    lambda: MB.decode(OUT[..., :1], W, W),
    lambda: MB.decode(OUT, None, None, np.ones((5,))),
    lambda: MB.decode(OUT, None, None, np.ones((27, 2))),
    lambda: MB.decode(OUT, None, None, 'factor'),
    lambda: MB.decode(OUT, [1000] * 27, None),
    lambda: fastcodec.MotionBERTLabel(K, root_index=20).decode(OUT),
]


def outcome(call):
    try:
        result = call()
    except Exception as err:   # noqa: BLE001 - the error is the outcome compared
        return type(err), str(err)
    return 'ok', result


@pytest.mark.parametrize('i', range(len(BAD)))
def test_bad_input_same_with_and_without_fast_path(i):
    got = outcome(BAD[i])
    with Slow():
        want = outcome(BAD[i])
    assert got[0] == want[0], (got, want)
    if got[0] == 'ok':
        assert_identical(got[1], want[1])
    else:
        assert got[1] == want[1]
        assert issubclass(got[0], (ValueError, TypeError, IndexError)), got
