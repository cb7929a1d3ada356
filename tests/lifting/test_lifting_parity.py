"""ImagePoseLifting, VideoPoseLifting and MotionBERTLabel against MMPose 1.3.2: every
constructor option, camera dicts, invisible keypoints, root removal, mean/std
normalisation, MotionBERT train/test, factor, rootrel; float32 and float64; several
instances and multi-frame sequences. Then batch_encode / batch_decode == a loop of
encode / decode, for numpy and torch CPU inputs.
Tolerances (docs/design.md): targets 1e-5 absolute, keypoints 2e-3, scores 1e-4."""
import itertools

import numpy as np
import pytest

import fastcodec

K = 17
CAMERA = dict(w=1000, h=1002, f=np.array([[1145.05], [1143.78]]),
              c=np.array([[512.54], [515.45]]), name='S1_cam0',
              R=np.eye(3), T=np.array([[1.0], [2.0], [3.0]]))


# ---- comparison -----------------------------------------------------------------------
def assert_same(ours, ref, atol=1e-5, path='encoded'):
    """Same keys in the same order, types, shapes, dtypes; arrays within atol."""
    if isinstance(ref, dict):
        assert isinstance(ours, dict), path
        assert list(ours) == list(ref), (path, list(ours), list(ref))
        for key in ref:
            assert_same(ours[key], ref[key], atol, f'{path}[{key!r}]')
    elif isinstance(ref, np.ndarray):
        assert isinstance(ours, np.ndarray), (path, type(ours))
        assert ours.shape == ref.shape, (path, ours.shape, ref.shape)
        assert ours.dtype == ref.dtype, (path, ours.dtype, ref.dtype)
        np.testing.assert_allclose(ours, ref, rtol=0, atol=atol, err_msg=path)
    else:
        assert type(ours) is type(ref) and ours == ref, (path, ours, ref)


def mmpose_delete_crashes(cfg, t, tvis_kind):
    """MMPose removes the root from a (T, K) target visibility along T (axis -2):
    an IndexError when root_index >= T (docs/deviations.md)."""
    root = cfg.get('root_index', 0)
    return (cfg.get('remove_root') and not isinstance(root, list) and root >= t
            and tvis_kind != 'trailing')


def assert_decoded(ours, ref):
    assert_same(ours[0], ref[0], 2e-3, 'keypoints')
    assert_same(ours[1], ref[1], 1e-4, 'scores')


def visibility(rng, shape, kind):
    if kind == 'none':
        return None
    vis = rng.choice([0.0, 0.49, 0.5, 0.51, 1.0, 2.0], shape).astype(np.float32)
    return vis[..., None] if kind == 'trailing' else vis


# ---- class surface ----------------------------------------------------------------------
@pytest.mark.parametrize('name', ['ImagePoseLifting', 'VideoPoseLifting', 'MotionBERTLabel'])
def test_class_attributes_match_mmpose(mmc, name):
    ours, ref = getattr(fastcodec, name), getattr(mmc, name)
    for attr in ('label_mapping_table', 'field_mapping_table', 'instance_mapping_table',
                 'auxiliary_encode_keys'):
        assert getattr(ours, attr) == getattr(ref, attr), attr
    assert fastcodec.CODECS[name] is ours
    assert ours(K).support_batch_decoding


def test_build_from_config():
    codec = fastcodec.build(dict(type='VideoPoseLifting', num_keypoints=17, zero_center=True,
                                 root_index=0, remove_root=False))
    assert isinstance(codec, fastcodec.VideoPoseLifting) and codec.root_index == [0]
    codec = fastcodec.build(dict(type='MotionBERTLabel', num_keypoints=17, concat_vis=True,
                                 mode='Train'))
    assert codec.mode == 'train' and codec.concat_vis
    codec = fastcodec.build(dict(type='ImagePoseLifting', num_keypoints=17, root_index=[0, 3],
                                 keypoints_mean=np.zeros((17, 2)), keypoints_std=np.ones((17, 2))))
    assert codec.keypoints_mean.shape == (1, 17, 2) and codec.keypoints_mean.dtype == np.float32


# ---- ImagePoseLifting -----------------------------------------------------------------------
def image_configs(rng):
    stats = dict(keypoints_mean=rng.uniform(0, 500, (K, 2)), keypoints_std=rng.uniform(50, 150, (K, 2)))
    tstats = dict(target_mean=rng.normal(0, 0.1, (K, 3)), target_std=rng.uniform(0.1, 1, (K, 3)))
    tstats_rr = dict(target_mean=rng.normal(0, 0.1, (K - 1, 3)),
                     target_std=rng.uniform(0.1, 1, (K - 1, 3)))
    return [
        dict(),
        dict(root_index=3),
        dict(remove_root=True),
        dict(remove_root=True, save_index=True, root_index=5),
        dict(root_index=[0, 4, 11], remove_root=True),       # several roots: nothing removed
        dict(concat_vis=True),
        dict(concat_vis=True, reshape_keypoints=False),
        dict(reshape_keypoints=False),
        dict(**stats),
        dict(**stats, **tstats),
        dict(**stats, **tstats_rr, remove_root=True, save_index=True, concat_vis=True),
    ]


@pytest.mark.parametrize('dtype', [np.float32, np.float64], ids=['f32', 'f64'])
def test_image_pose_lifting_matches_mmpose(mmc, dtype):
    rng = np.random.default_rng(1)
    for ci, cfg in enumerate(image_configs(rng)):
        ours, ref = fastcodec.ImagePoseLifting(K, **cfg), mmc.ImagePoseLifting(K, **cfg)
        n_options = [1] if 'keypoints_mean' in cfg else [1, 3]
        for n, vis_kind, tvis_kind in itertools.product(n_options, ['none', 'plain', 'trailing'],
                                                         ['none', 'plain', 'trailing']):
            kps = rng.uniform(-50, 1050, (n, K, 2)).astype(dtype)
            target = rng.normal(0, 0.5, (1, K, 3)).astype(dtype)
            target[..., 2] += 5
            vis = visibility(rng, (n, K), vis_kind)
            tvis = visibility(rng, (1, K), tvis_kind)
            args = (kps, vis, target, tvis)
            enc = ours.encode(*args)
            if mmpose_delete_crashes(cfg, 1, tvis_kind):
                with pytest.raises(IndexError):    # docs/deviations.md
                    ref.encode(*args)
                continue
            enc_ref = ref.encode(*args)
            assert_same(enc, enc_ref, path=f'cfg{ci} n={n} {vis_kind} {tvis_kind}')
            # decode the label back (N = 1 with target statistics, as MMPose asserts)
            out = np.repeat(enc_ref['lifting_target_label'], 1 if 'target_mean' in cfg else 2, 0)
            out = out + rng.normal(0, 0.01, out.shape).astype(out.dtype)
            for root in (enc_ref['target_root'], None, np.zeros((0,), np.float32)):
                assert_decoded(ours.decode(out, root), ref.decode(out.copy(), root))


def test_image_pose_lifting_integer_and_2d_decode(mmc):
    """Integer keypoints and visibility promote as numpy does; MMPose's regression
    heads decode (K, C) per sample."""
    rng = np.random.default_rng(2)
    ours, ref = fastcodec.ImagePoseLifting(K, concat_vis=True), mmc.ImagePoseLifting(K, concat_vis=True)
    kps = rng.integers(0, 1000, (2, K, 2))
    vis = rng.integers(0, 2, (2, K))
    target = rng.normal(0, 1, (1, K, 3))
    assert_same(ours.encode(kps, vis, target, vis[:1]), ref.encode(kps, vis, target, vis[:1]))
    out = rng.normal(0, 1, (K, 3)).astype(np.float32)
    root = rng.normal(0, 1, (1, 3)).astype(np.float32)
    assert_decoded(ours.decode(out, root), ref.decode(out, root))
    assert_decoded(ours.decode(out), ref.decode(out))


# ---- VideoPoseLifting ---------------------------------------------------------------------
VIDEO_CONFIGS = [
    dict(),
    dict(zero_center=False),
    dict(root_index=2),
    dict(remove_root=True),
    dict(remove_root=True, save_index=True, root_index=4),
    dict(zero_center=False, remove_root=True, save_index=True),   # removal needs zero_center
    dict(root_index=[1, 6], remove_root=True),
    dict(concat_vis=True),
    dict(concat_vis=True, reshape_keypoints=False),
    dict(reshape_keypoints=False),
    dict(normalize_camera=True),
    dict(normalize_camera=True, remove_root=True, save_index=True, concat_vis=True),
]


def camera(rng, fc_shape=(2, 1), **kw):
    cam = dict(CAMERA, w=int(rng.integers(200, 1500)), h=int(rng.integers(200, 1500)), **kw)
    cam['f'] = rng.uniform(500, 1500, fc_shape)
    cam['c'] = rng.uniform(200, 800, fc_shape)
    return cam


@pytest.mark.parametrize('dtype', [np.float32, np.float64], ids=['f32', 'f64'])
def test_video_pose_lifting_matches_mmpose(mmc, dtype):
    rng = np.random.default_rng(3)
    for ci, cfg in enumerate(VIDEO_CONFIGS):
        ours, ref = fastcodec.VideoPoseLifting(K, **cfg), mmc.VideoPoseLifting(K, **cfg)
        for t, tt, vis_kind, tvis_kind, fc in [
                (27, 1, 'none', 'none', (2, 1)), (27, 27, 'plain', 'plain', (2, 1)),
                (1, 1, 'trailing', 'trailing', (2,)), (9, 1, 'plain', 'none', (2,)),
                (9, 9, 'none', 'trailing', (2, 1))]:
            kps = rng.uniform(-50, 1500, (t, K, 2)).astype(dtype)
            target = rng.normal(0, 0.5, (tt, K, 3)).astype(dtype)
            target[..., 2] += 5
            cam = camera(rng, fc)
            before = {k: np.copy(v) for k, v in cam.items() if isinstance(v, np.ndarray)}
            args = (kps, visibility(rng, (t, K), vis_kind), target,
                    visibility(rng, (tt, K), tvis_kind), cam)
            enc = ours.encode(*args)
            if cfg.get('zero_center', True) and mmpose_delete_crashes(cfg, tt, tvis_kind):
                with pytest.raises(IndexError):    # docs/deviations.md
                    ref.encode(*args)
                continue
            enc_ref = ref.encode(*args)
            assert_same(enc, enc_ref, path=f'cfg{ci} t={t} tt={tt}')
            for key, value in before.items():          # the caller's camera is untouched
                np.testing.assert_array_equal(cam[key], value)
            out = enc_ref['lifting_target_label']
            out = out + rng.normal(0, 0.01, out.shape).astype(out.dtype)
            for root in (enc_ref.get('target_root'), None):
                if root is not None and tt > 1:
                    continue  # (T', C) roots broadcast against (T, K, C) only for T' = 1
                if root is None and cfg.get('remove_root') and cfg.get('zero_center', True) \
                        and not isinstance(cfg.get('root_index'), list):
                    continue  # without a root, MMPose returns K - 1 keypoints: same for us
                assert_decoded(ours.decode(out, root), ref.decode(out.copy(), root))


# ---- MotionBERTLabel ---------------------------------------------------------------------
MOTIONBERT_CONFIGS = [
    dict(),
    dict(mode='train'),
    dict(mode='TRAIN', root_index=3),
    dict(root_index=3),
    dict(concat_vis=True),
    dict(concat_vis=True, mode='train', remove_root=True, save_index=True),
]


def camera_target(rng, t, dtype):
    target = rng.normal(0, 300, (t, K, 3))
    target[..., 2] += rng.uniform(3000, 6000, (t, 1))
    return target.astype(dtype)


@pytest.mark.parametrize('dtype', [np.float32, np.float64], ids=['f32', 'f64'])
def test_motionbert_encode_matches_mmpose(mmc, dtype):
    rng = np.random.default_rng(4)
    for ci, cfg in enumerate(MOTIONBERT_CONFIGS):
        ours, ref = fastcodec.MotionBERTLabel(K, **cfg), mmc.MotionBERTLabel(K, **cfg)
        for t, d, with_fc, fc, factor_kind, vis_kind in [
                (27, 2, True, (2, 1), 'none', 'none'), (27, 3, False, None, 'none', 'plain'),
                (9, 2, True, (2,), 'given', 'trailing'), (9, 2, False, None, 'zero', 'plain'),
                (1, 2, True, (2, 1), 'given2d', 'none'), (27, 2, False, None, 'given', 'none'),
                (9, 3, True, (2, 1), 'zero', 'plain')]:
            kps = rng.uniform(-50, 1500, (t, K, d)).astype(dtype)
            target = camera_target(rng, t, dtype)
            cam = camera(rng, fc) if with_fc else dict(w=int(rng.integers(200, 1500)),
                                                       h=int(rng.integers(200, 1500)))
            factor = None
            if factor_kind != 'none':
                factor = rng.uniform(0.5, 4, (t,)).astype(np.float32)
                if factor_kind == 'zero':
                    factor[0] = 0
                if factor_kind == 'given2d':
                    factor = factor[:, None]
            args = (kps, visibility(rng, (t, K), vis_kind), target,
                    visibility(rng, (t, K), vis_kind), cam, factor)
            enc_ref = ref.encode(*args)
            enc = ours.encode(*args)
            assert_same(enc, enc_ref, path=f'cfg{ci} t={t} d={d} fc={with_fc} {factor_kind}')
            assert np.shares_memory(enc['lifting_target'], enc['lifting_target_label'])


@pytest.mark.parametrize('cfg', [dict(), dict(rootrel=True), dict(root_index=3),
                                 dict(rootrel=True, root_index=2, mode='train')], ids=str)
@pytest.mark.parametrize('dtype', [np.float32, np.float64], ids=['f32', 'f64'])
def test_motionbert_decode_matches_mmpose(mmc, cfg, dtype):
    rng = np.random.default_rng(5)
    ours, ref = fastcodec.MotionBERTLabel(K, **cfg), mmc.MotionBERTLabel(K, **cfg)
    for t in (1, 27):
        out = rng.normal(0, 1, (t, K, 3)).astype(dtype)
        w = rng.integers(200, 1500, (t,))
        h = rng.integers(200, 1500, (t,))
        wf, hf = w.astype(np.float32), h.astype(np.float32)
        factor = rng.uniform(0.5, 4, (t, 1)).astype(np.float32)
        empty = np.zeros((0,), np.float32)
        for args in [(), (w, h), (wf, hf), (w[:, None], h[:, None]), (w, h, factor),
                     (None, None, factor), (empty, empty, empty), (wf, hf, factor[:, 0][:, None])]:
            assert_decoded(ours.decode(out, *args), ref.decode(out.copy(), *args))
    # factor (T,) broadcasts against (T, K, C) as MMPose does when T == K
    out = rng.normal(0, 1, (K, K, 3)).astype(dtype)
    factor = rng.uniform(0.5, 4, (K,)).astype(np.float32)
    assert_decoded(ours.decode(out, None, None, factor), ref.decode(out.copy(), None, None, factor))



@pytest.mark.parametrize('k', [1, 2])
@pytest.mark.parametrize('mode', ['test', 'train'])
def test_motionbert_encode_fewer_than_three_keypoints(mmc, backend, k, mode):
    """MotionBERTLabel has no trajectory weights, so MMPose never indexes keypoint 2:
    K = 1 or 2 without a target visibility encodes (found by tools/fuzz)."""
    rng = np.random.default_rng(16)
    kps = rng.uniform(0, 1000, (3, k, 2)).astype(np.float32)
    target = rng.uniform(-1, 1, (3, k, 3)).astype(np.float32)
    ours, ref = fastcodec.MotionBERTLabel(k, mode=mode), mmc.MotionBERTLabel(k, mode=mode)
    for cam in (dict(w=1000, h=1002), CAMERA):
        want = ref.encode(kps, None, target.copy(), camera_param=dict(cam))
        assert_same(ours.encode(kps, None, target, camera_param=dict(cam)), want)
        batch = ours.batch_encode(kps[None], None, target[None], camera_param=[dict(cam)])
        np.testing.assert_array_equal(batch['lifting_target_weight'][0],
                                      want['lifting_target_weight'])

# ---- batch == loop ------------------------------------------------------------------------
def stack(results):
    """The batched form of per-sample results: arrays stacked, flags kept."""
    first = results[0]
    if isinstance(first, dict):
        return {key: stack([r[key] for r in results]) for key in first}
    if isinstance(first, np.ndarray):
        return np.stack(results)
    if all(type(r) is type(first) and r == first for r in results):
        return first
    return np.array(results)       # per-sample camera w / h: (B,)


def to_numpy(x):
    import torch
    if isinstance(x, dict):
        return {k: to_numpy(v) for k, v in x.items()}
    if isinstance(x, torch.Tensor):
        return x.numpy()
    return x


def batch_inputs(rng, B, t, tt, dtype, fc=(2, 1)):
    kps = rng.uniform(-50, 1500, (B, t, K, 2)).astype(dtype)
    vis = visibility(rng, (B, t, K), 'plain')
    target = camera_target(rng, tt, dtype)[None].repeat(B, 0) * rng.uniform(0.5, 1.5, (B, 1, 1, 1)).astype(dtype)
    tvis = visibility(rng, (B, tt, K), 'plain')
    cams = [camera(rng, fc) for _ in range(B)]
    return kps, vis, target, tvis, cams


def stacked_camera(cams):
    return dict(w=np.array([c['w'] for c in cams]), h=np.array([c['h'] for c in cams]),
                f=np.stack([c['f'] for c in cams]), c=np.stack([c['c'] for c in cams]))


def check_batch(codec, per_sample_args, batch_args, kind, batch_kwargs=None):
    """batch_encode(*batch_args) against stacking encode over per_sample_args, for
    numpy and torch inputs; returns the numpy batch result."""
    import torch
    want = stack([codec.encode(*a) for a in per_sample_args])
    got = codec.batch_encode(*batch_args, **(batch_kwargs or {}))
    if 'camera_param' in want:
        cam = want['camera_param']
        want['camera_param'] = {k: cam[k] for k in got['camera_param']}
    assert_same(got, want, path=f'{kind} numpy')
    targs = [torch.from_numpy(a) if isinstance(a, np.ndarray) else a for a in batch_args]
    tgot = codec.batch_encode(*targs, **(batch_kwargs or {}))
    for key, value in tgot.items():
        if isinstance(value, np.ndarray):
            raise AssertionError(f'{kind}: {key} is numpy for torch input')
    assert_same(to_numpy(tgot), want, path=f'{kind} torch')
    return got


@pytest.mark.parametrize('dtype', [np.float32, np.float64], ids=['f32', 'f64'])
def test_batch_encode_equals_loop(dtype):
    rng = np.random.default_rng(6)
    B = 5
    kps, vis, target, tvis, cams = batch_inputs(rng, B, 9, 9, dtype)
    for cfg in VIDEO_CONFIGS:
        codec = fastcodec.VideoPoseLifting(K, **cfg)
        per = [(kps[b], vis[b], target[b], tvis[b], cams[b]) for b in range(B)]
        check_batch(codec, per, (kps, vis, target, tvis, stacked_camera(cams)), f'video {cfg}')
        if cfg.get('normalize_camera'):
            # a sequence of per-sample dicts: extra keys come back as lists
            got = codec.batch_encode(kps, vis, target, tvis, cams)
            assert got['camera_param']['name'] == [c['name'] for c in cams]
            np.testing.assert_array_equal(
                got['camera_param']['f'],
                np.stack([codec.encode(*p)['camera_param']['f'] for p in per]))
    for cfg in MOTIONBERT_CONFIGS:
        codec = fastcodec.MotionBERTLabel(K, **cfg)
        factor = rng.uniform(0.5, 4, (B, 9)).astype(np.float32)
        factor[1, 0] = 0                           # sample 1 takes the computed factor
        for cam_b, cam_s in [(stacked_camera(cams), cams), (cams, cams),
                             (dict(w=np.array([c['w'] for c in cams]), h=1000),
                              [dict(w=c['w'], h=1000) for c in cams])]:
            for fac in (None, factor, factor[..., None]):
                per = [(kps[b], vis[b], target[b], tvis[b], cam_s[b],
                        None if fac is None else fac[b]) for b in range(B)]
                check_batch(codec, per, (kps, vis, target, tvis, cam_b, fac), f'motionbert {cfg}')
    target1 = target[:, :1]
    for cfg in image_configs(rng):
        codec = fastcodec.ImagePoseLifting(K, **cfg)
        n = 1 if 'keypoints_mean' in cfg else 9
        per = [(kps[b, :n], vis[b, :n], target1[b], tvis[b, :1]) for b in range(B)]
        check_batch(codec, per, (kps[:, :n], vis[:, :n], target1, tvis[:, :1]), f'image {cfg}')
        per = [(kps[b, :n], None, target1[b], None) for b in range(B)]
        check_batch(codec, per, (kps[:, :n], None, target1, None), f'image {cfg} no vis')


@pytest.mark.parametrize('dtype', [np.float32, np.float64], ids=['f32', 'f64'])
def test_batch_decode_equals_loop(dtype):
    import torch
    rng = np.random.default_rng(7)
    B, T = 4, 9

    def check(codec, outputs, *operands):
        per = [codec.decode(outputs[b], *[None if o is None else o[b] for o in operands])
               for b in range(B)]
        want = (np.stack([p[0] for p in per]), np.stack([p[1] for p in per]))
        assert_decoded(codec.batch_decode(outputs, *operands), want)
        tops = [None if o is None else torch.from_numpy(o) for o in operands]
        kp, score = codec.batch_decode(torch.from_numpy(outputs), *tops)
        assert isinstance(kp, torch.Tensor) and isinstance(score, torch.Tensor)
        assert_decoded((kp.numpy(), score.numpy()), want)

    outputs = rng.normal(0, 1, (B, T, K - 1, 3)).astype(dtype)
    roots = rng.normal(0, 1, (B, 1, 3)).astype(np.float32)
    for cfg in [dict(), dict(remove_root=True), dict(remove_root=True, root_index=16)]:
        for name in ('ImagePoseLifting', 'VideoPoseLifting'):
            codec = getattr(fastcodec, name)(K, **cfg)
            check(codec, outputs, roots)
            check(codec, outputs, None)
            if not cfg:
                check(codec, outputs[:, 0], roots)     # (B, K, C): MMPose heads' layout
    stats = dict(target_mean=rng.normal(0, 1, (K, 3)), target_std=rng.uniform(0.5, 1, (K, 3)))
    codec = fastcodec.ImagePoseLifting(K, **stats)
    check(codec, rng.normal(0, 1, (B, 1, K, 3)).astype(dtype), roots)
    outputs = rng.normal(0, 1, (B, T, K, 3)).astype(dtype)
    w = rng.integers(200, 1500, (B, T))
    h = rng.integers(200, 1500, (B, T))
    factor = rng.uniform(0.5, 4, (B, T, 1)).astype(np.float32)
    for cfg in [dict(), dict(rootrel=True, root_index=3)]:
        codec = fastcodec.MotionBERTLabel(K, **cfg)
        check(codec, outputs, w, h, factor)
        check(codec, outputs, w[..., None].astype(np.float32), h[..., None].astype(np.float32))
        check(codec, outputs, None, None, factor)


def test_empty_sequences(mmc):
    """Empty N / T give empty arrays of the right shapes (MMPose: same where it runs)."""
    target = np.random.default_rng(8).normal(0, 1, (1, K, 3))
    kps = np.zeros((0, K, 2))
    cfg = dict(reshape_keypoints=False)
    assert_same(fastcodec.ImagePoseLifting(K, **cfg).encode(kps, None, target),
                mmc.ImagePoseLifting(K, **cfg).encode(kps, None, target))
    assert_same(fastcodec.VideoPoseLifting(K, **cfg).encode(kps, None, target, None, CAMERA),
                mmc.VideoPoseLifting(K, **cfg).encode(kps, None, target, None, CAMERA))
    enc = fastcodec.VideoPoseLifting(K).encode(kps, None, target, None, CAMERA)
    assert enc['keypoint_labels'].shape == (K * 2, 0)       # MMPose: reshape error
    got = fastcodec.MotionBERTLabel(K).batch_encode(
        np.zeros((0, 9, K, 2)), None, np.zeros((0, 9, K, 3)), None, dict(w=np.zeros(0), h=np.zeros(0)))
    assert got['keypoint_labels'].shape == (0, 9, K, 2) and got['factor'].shape == (0, 9, 1)
    kp, score = fastcodec.VideoPoseLifting(K).batch_decode(np.zeros((0, 9, K, 3)))
    assert kp.shape == (0, 9, K, 3) and score.shape == (0, 9, K)


@pytest.mark.skipif(not __import__('torch').cuda.is_available(), reason='needs a CUDA device')
def test_batch_on_cuda_matches_cpu():
    """CUDA tensors in -> CUDA tensors out, equal to the numpy results."""
    import torch
    rng = np.random.default_rng(9)
    B = 4
    kps, vis, target, tvis, cams = batch_inputs(rng, B, 9, 9, np.float32)
    cam = stacked_camera(cams)
    dev = torch.device('cuda')
    tcam = {k: torch.as_tensor(v, device=dev) for k, v in cam.items()}
    for codec, extra, textra in [
            (fastcodec.VideoPoseLifting(K, normalize_camera=True, concat_vis=True), (cam,), (tcam,)),
            (fastcodec.MotionBERTLabel(K), (cam,), (tcam,)),
            (fastcodec.MotionBERTLabel(K, mode='train', concat_vis=True), (cam,), (tcam,)),
            (fastcodec.ImagePoseLifting(K, remove_root=True), (), ())]:
        t = target[:, :1] if isinstance(codec, fastcodec.ImagePoseLifting) else target
        tv = tvis[:, :1] if isinstance(codec, fastcodec.ImagePoseLifting) else tvis
        want = codec.batch_encode(kps, vis, t, tv, *extra)
        got = codec.batch_encode(*[torch.as_tensor(a, device=dev) for a in (kps, vis, t, tv)], *textra)
        for key, value in want.items():
            if isinstance(value, np.ndarray):
                assert got[key].device.type == 'cuda', key
                np.testing.assert_allclose(got[key].cpu().numpy(), value, rtol=0, atol=1e-5, err_msg=key)


def test_inputs_are_not_modified():
    """Every codec leaves its arguments untouched (planes are computed in copies),
    including one-coordinate targets and outputs, numpy and torch."""
    import torch
    rng = np.random.default_rng(10)
    B, T = 2, 5
    for C in (1, 3):
        kps = rng.uniform(0, 1000, (B, T, K, 2))
        target = rng.normal(0, 300, (B, T, K, C))
        target[..., -1] += 5000
        outputs = rng.normal(0, 1, (B, T, K, C))
        factor = rng.uniform(0.5, 4, (B, T))
        w = np.full((B, T), 1000)
        args = [kps, target, outputs, factor]
        for as_torch in (False, True):
            conv = (lambda a: torch.from_numpy(a.copy())) if as_torch else (lambda a: a.copy())
            k2, t2, o2, f2 = [conv(a) for a in args]
            cam = dict(w=1000, h=1000)
            codecs = [fastcodec.MotionBERTLabel(K, rootrel=True),
                      fastcodec.VideoPoseLifting(K), fastcodec.ImagePoseLifting(K)]
            if C == 3:
                codecs.append(fastcodec.MotionBERTLabel(K, mode='train'))
            for codec in codecs:
                if isinstance(codec, fastcodec.ImagePoseLifting):
                    codec.batch_encode(k2, None, t2[:, :1])
                    codec.batch_decode(o2, t2[:, :1, 0])
                else:
                    codec.batch_encode(k2, None, t2, None, cam)
                if isinstance(codec, fastcodec.MotionBERTLabel):
                    codec.batch_decode(o2, *((conv(w), conv(w)) if C == 3 else (None, None)),
                                       f2[..., None])
                    codec.batch_encode(k2, None, t2, None, cam, f2)
                for got, want in zip((k2, t2, o2, f2), args):
                    np.testing.assert_array_equal(np.asarray(got), want)
