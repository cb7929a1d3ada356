"""Non-finite keypoints give finite targets in the lifting codecs (docs/deviations.md,
``_lifting.non_finite``): a NaN or Inf target keypoint gets label and weight 0, a
non-finite root zeroes its frame's labels and weights, a non-finite 2D keypoint gets
labels (the visibility channel included) and visibility 0; everything else is what
the same inputs with finite values give (MMPose's numbers, tests/lifting/
test_lifting_parity.py). The same on every path: numpy and torch, batched and per
sample (fast path on and off), MotionBERTLabel's compiled pass (both CPU backends)
and its vectorised numpy / torch path."""
import importlib

import numpy as np
import pytest
import torch

import fastcodec
from conftest import EMULATED
from fastcodec.codecs import _lifting
from fastcodec.codecs.motionbert_label import MotionBERTLabel

K, B, N = 17, 2, 3
FLAGS = ('target_root_removed', 'target_root_index', 'camera_param')

CASES = [   # (config, camera f / c given)
    (dict(type='ImagePoseLifting', root_index=0, reshape_keypoints=False), False),
    (dict(type='ImagePoseLifting', root_index=0, remove_root=True, concat_vis=True), False),
    (dict(type='ImagePoseLifting', root_index=[0, 1], reshape_keypoints=False,
          concat_vis=True), False),
    (dict(type='VideoPoseLifting', root_index=0, remove_root=True, reshape_keypoints=False,
          concat_vis=True), False),
    (dict(type='VideoPoseLifting', zero_center=False), False),
    (dict(type='VideoPoseLifting', root_index=3, normalize_camera=True), True),
    (dict(type='MotionBERTLabel', root_index=0, concat_vis=True), False),
    (dict(type='MotionBERTLabel', root_index=0), True),
    (dict(type='MotionBERTLabel', root_index=2, mode='train', concat_vis=True), True),
]


def case_id(case):
    cfg, camera = case
    opts = [f'{k}={v}' for k, v in cfg.items() if k != 'type']
    return '-'.join([cfg['type']] + opts + (['fc'] if camera else []))


def roots(cfg):
    if cfg['type'] == 'VideoPoseLifting' and not cfg.get('zero_center', True):
        return []
    r = cfg['root_index']
    return r if isinstance(r, list) else [r]


def make_inputs(cfg, camera, target_visible):
    """Finite inputs (batched) and the same with non-finite values, and the masks of
    the corrupted 2D keypoints (B, N, K) and target keypoints (B, T, K)."""
    rng = np.random.default_rng(0)
    T = 1 if cfg['type'] == 'ImagePoseLifting' else N
    kp = rng.uniform(0, 1000, (B, N, K, 2)).astype(np.float32)
    lt = rng.uniform(-500, 500, (B, T, K, 3)).astype(np.float32)
    lt[..., 2] += 3000            # in front of the camera
    vis = rng.uniform(0, 1, (B, N, K)).astype(np.float32)
    ltv = (rng.uniform(0, 1, (B, T, K)) > 0.2).astype(np.float32) if target_visible else None
    bad_kp, bad_lt = kp.copy(), lt.copy()
    kp_mask, lt_mask = np.zeros((B, N, K), bool), np.zeros((B, T, K), bool)
    for (b, n, k, c), v in [((0, 0, 4, 1), np.nan), ((0, N - 1, 6, 0), -np.inf),
                            ((1, 0, 0, 0), np.inf)]:
        bad_kp[b, n, k, c] = v
        kp_mask[b, n, k] = True
    root = roots(cfg)[-1] if roots(cfg) else 0
    for (b, t, k, c), v in [((0, 0, 2, 0), np.inf), ((0, T - 1, 5, 2), np.nan),
                            ((1, T - 1, root, 1), np.nan)]:
        bad_lt[b, t, k, c] = v
        lt_mask[b, t, k] = True
    cam = None
    if cfg['type'] != 'ImagePoseLifting':
        cam = dict(w=1000, h=800)
        if camera:
            cam.update(f=np.array([1100., 1000.]), c=np.array([480., 410.]))
    return (kp, bad_kp, kp_mask), (lt, bad_lt, lt_mask), vis, ltv, cam


def expected_masks(cfg, kp_mask, lt_mask):
    """(2D labels' mask (B, N, K), target labels' and weights' mask, frames whose root
    is non-finite (B, T))."""
    root = np.zeros(lt_mask.shape[:2], bool)
    for r in roots(cfg):
        root |= lt_mask[:, :, r]
    target = lt_mask | root[:, :, None]
    if cfg.get('remove_root'):
        target = np.delete(target, cfg['root_index'], axis=2)
    return kp_mask, target, root


def batch(codec, cfg, kp, vis, lt, ltv, cam):
    kwargs = {} if cam is None else dict(camera_param=[cam] * B)
    return codec.batch_encode(kp, vis, lt, ltv, **kwargs)


def per_sample(codec, cfg, kp, vis, lt, ltv, cam):
    """encode sample by sample, stacked (flags from the first sample)."""
    outs = []
    for b in range(B):
        kwargs = {} if cam is None else dict(camera_param=cam)
        outs.append(codec.encode(kp[b], vis[b], lt[b], None if ltv is None else ltv[b],
                                 **kwargs))
    return {key: (outs[0][key] if key in FLAGS else np.stack([o[key] for o in outs]))
            for key in outs[0]}


def host(x):
    return x.cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def keypoint_rows(cfg, labels):
    """Keypoint labels as (B, N, K, D')."""
    labels = host(labels)
    if cfg.get('reshape_keypoints', True) and cfg['type'] != 'MotionBERTLabel':
        return labels.reshape(B, K, -1, N).transpose(0, 3, 1, 2)
    return labels


def assert_same_bits(got, want, where):
    assert set(got) == set(want), where
    for key in want:
        if key in FLAGS:
            continue
        a, b = host(got[key]), host(want[key])
        assert a.dtype == b.dtype and a.shape == b.shape, (where, key)
        np.testing.assert_array_equal(np.ascontiguousarray(a).view(np.uint8),
                                      np.ascontiguousarray(b).view(np.uint8),
                                      err_msg=f'{where}: {key}')


def check_finite(got):
    for key, value in got.items():
        if key not in FLAGS and host(value).dtype.kind == 'f':
            assert np.isfinite(host(value)).all(), f'{key} holds non-finite values'


def split(cfg, encoded):
    """(the 2D keypoint outputs, the rest)."""
    keys = ('keypoint_labels', 'keypoints_visible', 'keypoint_labels_visible')
    return ({k: v for k, v in encoded.items() if k in keys},
            {k: v for k, v in encoded.items() if k not in keys})


def check_keypoints(cfg, got, clean, kp_mask):
    """The 2D labels and visibility: 0 at the non-finite keypoints, else ``clean``."""
    rows, clean_rows = keypoint_rows(cfg, got['keypoint_labels']), \
        keypoint_rows(cfg, clean['keypoint_labels'])
    assert (rows[kp_mask] == 0).all()
    np.testing.assert_array_equal(rows[~kp_mask], clean_rows[~kp_mask])
    key = 'keypoints_visible' if cfg['type'] == 'VideoPoseLifting' \
        else 'keypoint_labels_visible'
    vis = host(got[key])
    assert (vis[kp_mask] == 0).all()
    np.testing.assert_array_equal(vis[~kp_mask], host(clean[key])[~kp_mask])


def check_targets(cfg, got, clean, target_mask, root_mask, target_visible):
    """Target labels and weights 0 at the masked keypoints, else ``clean``; roots,
    trajectory weights and factors ``clean`` or 0."""
    for key in ('lifting_target_label', 'lifting_target_weight'):
        value, want = host(got[key]), host(clean[key])
        assert (value[target_mask] == 0).all(), key
        np.testing.assert_array_equal(value[~target_mask], want[~target_mask], err_msg=key)
    if 'target_root' in got:
        value, want = host(got['target_root']), host(clean['target_root'])
        assert (value[root_mask] == 0).all()
        np.testing.assert_array_equal(value[~root_mask], want[~root_mask])
    if 'trajectory_weights' in got:
        value, want = host(got['trajectory_weights']), host(clean['trajectory_weights'])
        assert ((value == want) | (value == 0)).all()
        if not target_visible:       # 1 / target[:, 2]: keypoint 2 of sample 0 is Inf
            assert (value[0, 0] == 0).all()
    if cfg['type'] == 'MotionBERTLabel':
        if not target_visible:       # the target visibility is the weight
            np.testing.assert_array_equal(host(got['lifting_target_visible']),
                                          host(got['lifting_target_weight']))
        factor, want = host(got['factor']), host(clean['factor'])
        assert ((factor == want) | (factor == 0)).all()


@EMULATED(keep=lambda p: p['case'][0]['type'] == 'MotionBERTLabel')   # its CUDA kernels
@pytest.mark.parametrize('target_visible', [False, True], ids=['no-ltv', 'ltv'])
@pytest.mark.parametrize('case', CASES, ids=case_id)
def test_non_finite_keypoints_give_finite_targets(case, target_visible, backend,
                                                  monkeypatch):
    cfg, camera = case
    cfg = dict(cfg, num_keypoints=K)
    (kp, bad_kp, kp_mask), (lt, bad_lt, lt_mask), vis, ltv, cam = make_inputs(
        cfg, camera, target_visible)
    kp_mask, target_mask, root_mask = expected_masks(cfg, kp_mask, lt_mask)
    assert target_mask.any() and root_mask.any() == bool(roots(cfg))
    codec = fastcodec.build(cfg)
    clean = batch(codec, cfg, kp, vis, lt, ltv, cam)

    got = batch(codec, cfg, bad_kp, vis, lt, ltv, cam)        # 2D keypoints only
    check_finite(got)
    check_keypoints(cfg, got, clean, kp_mask)
    assert_same_bits(split(cfg, got)[1], split(cfg, clean)[1], '2d')

    got = batch(codec, cfg, kp, vis, bad_lt, ltv, cam)        # targets only
    check_finite(got)
    check_targets(cfg, got, clean, target_mask, root_mask, target_visible)
    assert_same_bits(split(cfg, got)[0], split(cfg, clean)[0], '3d')

    ref = batch(codec, cfg, bad_kp, vis, bad_lt, ltv, cam)    # both
    check_finite(ref)
    check_keypoints(cfg, ref, clean, kp_mask)
    check_targets(cfg, ref, clean, target_mask, root_mask, target_visible)

    # Every path gives the same bits as batched numpy.
    t = torch.from_numpy

    def torch_batch():
        return batch(codec, cfg, t(bad_kp), t(vis), t(bad_lt), None if ltv is None else t(ltv),
                     cam)

    assert_same_bits(torch_batch(), ref, 'torch')
    assert_same_bits(per_sample(codec, cfg, bad_kp, vis, bad_lt, ltv, cam), ref, 'fast path')
    monkeypatch.setattr(_lifting, 'SAMPLE_FAST_PATH', False)
    assert_same_bits(per_sample(codec, cfg, bad_kp, vis, bad_lt, ltv, cam), ref, 'sample')
    if cfg['type'] == 'MotionBERTLabel':   # the vectorised path the kernel replaces
        monkeypatch.setattr(MotionBERTLabel, '_kernel_applies',
                            staticmethod(lambda X, kp, lt: False))
        assert_same_bits(batch(codec, cfg, bad_kp, vis, bad_lt, ltv, cam), ref, 'vectorised')
        assert_same_bits(torch_batch(), ref, 'torch vectorised')


@pytest.mark.parametrize('case', CASES, ids=case_id)
def test_untested_masks_change_nothing_else(case, monkeypatch):
    """On a torch device the masks are applied without testing them first (no
    synchronisation): that branch, run on the host, gives the same bits as the tested
    one, for finite inputs (all-False masks: MMPose's numbers) and non-finite ones."""
    cfg, camera = case
    cfg = dict(cfg, num_keypoints=K)
    (kp, bad_kp, _), (lt, bad_lt, _), vis, ltv, cam = make_inputs(cfg, camera, True)
    codec = fastcodec.build(cfg)
    t = torch.from_numpy
    want = [batch(codec, cfg, a, vis, b, ltv, cam) for a, b in ((kp, lt), (bad_kp, bad_lt))]
    monkeypatch.setattr(_lifting, 'may_test', lambda X: False)
    for (a, b), w in zip(((kp, lt), (bad_kp, bad_lt)), want):
        assert_same_bits(batch(codec, cfg, t(a), t(vis), t(b), t(ltv), cam), w, 'torch')
        assert_same_bits(batch(codec, cfg, a, vis, b, ltv, cam), w, 'numpy')


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')
@pytest.mark.parametrize('case', CASES, ids=case_id)
def test_non_finite_keypoints_on_cuda(case):
    """CUDA tensors: finite targets, zeros where the host has them, the other values
    as on the host (to the CUDA tolerance of test_batch_on_cuda_matches_cpu)."""
    cfg, camera = case
    cfg = dict(cfg, num_keypoints=K)
    _, (_, bad_kp, _), (_, bad_lt, _), vis, ltv, cam = (None,) + make_inputs(cfg, camera, True)
    codec = fastcodec.build(cfg)
    want = batch(codec, cfg, bad_kp, vis, bad_lt, ltv, cam)
    dev = torch.device('cuda')
    args = [torch.as_tensor(a, device=dev) for a in (bad_kp, vis, bad_lt, ltv)]
    kwargs = {} if cam is None else dict(camera_param={
        k: torch.as_tensor(np.stack([np.asarray(v)] * B), device=dev) for k, v in cam.items()})
    got = codec.batch_encode(*args, **kwargs)
    for key, value in want.items():
        if isinstance(value, np.ndarray):
            g = got[key].cpu().numpy()
            assert got[key].device.type == 'cuda', key
            if g.dtype.kind == 'f':
                assert np.isfinite(g).all(), key
            np.testing.assert_array_equal(g == 0, value == 0, err_msg=key)
            np.testing.assert_allclose(g, value, rtol=0, atol=1e-5, err_msg=key)


@pytest.mark.parametrize('name', ['cpp', 'numba', 'cuda-emulator'])
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_all_finite_kernel(name, dtype):
    """The backends' ``all_finite`` (the per-sample fast path's test): False for a NaN,
    +Inf or -Inf anywhere in either array, True for finite values up to the dtype's
    largest, on any layout; the CUDA backends answer None (the front then runs the
    non-finite pass)."""
    if name not in fastcodec.available_backends():
        pytest.skip(f'{name} is not available here')
    kernels = importlib.import_module(fastcodec._backend.BACKENDS[name].module)
    big = np.finfo(dtype).max
    a = np.full((2, 5, 3), big, dtype)
    b = np.array([-big, big, 0.0, np.finfo(dtype).tiny] * 6, dtype).reshape(2, 4, 3)
    expected = None if name == 'cuda-emulator' else True
    assert kernels.all_finite(a, b) is expected
    assert kernels.all_finite(a[:, ::2], b.transpose(2, 0, 1)) is expected
    for bad in (np.nan, np.inf, -np.inf):
        for which in range(2):
            arrays = [a.copy(), b.copy()]
            arrays[which][1, -1, 2] = bad
            got = kernels.all_finite(*arrays)
            assert got is (None if name == 'cuda-emulator' else False)
            strided = kernels.all_finite(arrays[0][:, ::2], arrays[1][:, :, ::-1])
            assert strided is (None if name == 'cuda-emulator' else False)


@pytest.mark.parametrize('name', ['cpp', 'numba'])
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_all_finite_kernel_on_a_batch(name, dtype):
    """A batch's ``all_finite`` (the batched paths' test): the C++ backend splits the
    pair into 64 KiB blocks over the pool, Numba tests sums of squares first (an
    overflow falls back to the exact test). One bad value anywhere (block edges, the
    last value, either array) answers False; finite values that overflow a sum of
    squares answer True."""
    if name not in fastcodec.available_backends():
        pytest.skip(f'{name} is not available here')
    kernels = importlib.import_module(fastcodec._backend.BACKENDS[name].module)
    rng = np.random.default_rng(5)
    a = rng.uniform(-1e3, 1e3, 700_001).astype(dtype)    # >= 3.75 MB in float64: two threads
    b = rng.uniform(-1e3, 1e3, (1_000, 27, 3)).astype(dtype)
    assert kernels.all_finite(a, b) is True
    big = a.copy()
    big[::1000] = np.finfo(dtype).max
    assert kernels.all_finite(big, b) is True
    block = (1 << 16) // np.dtype(dtype).itemsize
    for bad in (np.nan, np.inf, -np.inf):
        for which, index in ((0, 0), (0, block - 1), (0, block), (0, a.size - 1),
                             (1, 0), (1, b.size // 2), (1, b.size - 1)):
            arrays = [a.copy(), b.copy()]
            arrays[which].reshape(-1)[index] = bad
            assert kernels.all_finite(*arrays) is False, (bad, which, index)


@pytest.mark.parametrize('name', ['cpp', 'numba'])
@pytest.mark.parametrize('mode', ['train', 'test'])
def test_compiled_motionbert_pass_finds_a_bad_value_in_any_sample(name, mode):
    """The compiled MotionBERT pass reports whether its inputs were finite; the C++ one
    tests them a group of samples at a time (16). One NaN or Inf in the first sample, at
    either edge of a group, or in the last, partial group, in either array, is found:
    the outputs come back finite, and the other samples' equal the finite batch's."""
    if name not in fastcodec.available_backends():
        pytest.skip(f'{name} is not available here')
    batch_size, frames = 37, 5
    rng = np.random.default_rng(3)
    kp = rng.uniform(0, 1000, (batch_size, frames, K, 2)).astype(np.float32)
    lt = rng.uniform(-500, 500, (batch_size, frames, K, 3)).astype(np.float32)
    lt[..., 2] += 3000
    vis = np.ones((batch_size, frames, K), np.float32)
    cam = dict(w=1000, h=800, f=np.array([1100., 1000.]), c=np.array([480., 410.]))
    codec = MotionBERTLabel(num_keypoints=K, root_index=0, mode=mode)
    with fastcodec.use_backend(name):
        clean = codec.batch_encode(kp, vis, lt, vis, camera_param=[cam] * batch_size)
        for sample in (0, 15, 16, 31, 32, 36):
            for bad_kp, bad_lt in ((True, False), (False, True)):
                kp_in, lt_in = kp.copy(), lt.copy()
                if bad_kp:
                    kp_in[sample, 2, 4, 1] = np.nan
                if bad_lt:
                    lt_in[sample, 3, 6, 2] = np.inf
                got = codec.batch_encode(kp_in, vis, lt_in, vis,
                                         camera_param=[cam] * batch_size)
                others = np.arange(batch_size) != sample
                for key, value in got.items():
                    if isinstance(value, np.ndarray) and value.dtype.kind == 'f':
                        assert np.isfinite(value).all(), (sample, key)
                        np.testing.assert_array_equal(value[others], clean[key][others])
