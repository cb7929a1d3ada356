"""SPR against MMPose 1.3.2, for each CPU backend: both root types, keypoint maps with
automatic and explicit sigma, crowds whose displacement windows overlap (the
smaller-instance rule), people partly outside the image, invisible keypoints, boxes
below minimal_diagonal_length, background_weight, float32 and float64 keypoints;
decoding of random, tied and peaked root maps with NMS kernels 1/3/5/7, thresholds,
instance caps, with and without keypoint maps, torch and numpy inputs; batch == per
sample; cpp == numba bit for bit. A subset (EMULATED) runs on the cuda-emulator backend
too: the CUDA kernels through the real launch code.
Tolerances (docs/design.md): targets 1e-5 absolute, keypoints 2e-3 px, scores 1e-4."""
import warnings

import numpy as np
import pytest
import torch

import fastcodec
from conftest import CPU_BACKENDS, EMULATED


ENCODE_CONFIGS = [
    dict(input_size=(512, 512), heatmap_size=(128, 128)),
    dict(input_size=(512, 512), heatmap_size=(128, 128), root_type='bbox_center'),
    dict(input_size=(512, 512), heatmap_size=(128, 128), generate_keypoint_heatmaps=True),
    dict(input_size=(384, 256), heatmap_size=(96, 64), sigma=(3.3, 1.7),
         generate_keypoint_heatmaps=True, root_type='bbox_center', background_weight=0.25),
    dict(input_size=(384, 256), heatmap_size=(96, 64), sigma=2.5, minimal_diagonal_length=16),
    dict(input_size=(256, 256), heatmap_size=(64, 64), sigma=3),
    # a float64 radius: numpy subtracts it from the float32 root in float64
    dict(input_size=(256, 320), heatmap_size=(64, 80), sigma=np.float64(2.7),
         background_weight=0.0, minimal_diagonal_length=0),
]


def cfg_id(cfg):
    return '-'.join(f'{k}={v}' for k, v in cfg.items() if k != 'input_size')


def scene(rng, input_size, n=8, k=17):
    """(n, k, 2) keypoints of a crowd: people in two tight clusters (their displacement
    windows overlap), one partly outside the image, one tiny (below the minimal
    diagonal), odd visibilities."""
    w, h = input_size
    anchors = rng.uniform(0.2, 0.8, (2, 2)) * [w, h]
    centres = anchors[rng.integers(0, 2, n)] + rng.normal(0, 0.03, (n, 2)) * [w, h]
    spread = rng.uniform(0.02, 0.2, (n, 1, 1)) * [w, h]
    kps = centres[:, None] + rng.normal(0, 1, (n, k, 2)) * spread
    kps[0] = rng.uniform(-0.3, 0.2, (k, 2)) * [w, h]                  # partly outside
    kps[1] = centres[1] + rng.uniform(-1.5, 1.5, (k, 2))             # tiny box
    vis = rng.choice([0.0, 0.5, 1.0, 1.0, 1.0, 2.0], (n, k))
    vis[2] = 0                                                       # no root at all
    return kps, vis


def assert_encoded(ours, ref):
    assert list(ours) == list(ref)
    for key in ref:
        a, b = ours[key], ref[key]
        assert a.shape == b.shape and a.dtype == b.dtype, (key, a.shape, b.shape, a.dtype, b.dtype)
        if key == 'heatmaps':
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-5, err_msg=key)
        else:
            np.testing.assert_array_equal(a, b, err_msg=key)


@EMULATED(keep=lambda p: p['cfg'].get('generate_keypoint_heatmaps')
           or p['cfg'].get('background_weight') == 0.0)
@pytest.mark.parametrize('cfg', ENCODE_CONFIGS, ids=cfg_id)
def test_encode_matches_mmpose(mmc, backend, cfg):
    rng = np.random.default_rng(len(cfg_id(cfg)))
    ours, ref = fastcodec.SPR(**cfg), mmc.SPR(**cfg)
    assert ours.sigma == tuple(ref.sigma)
    np.testing.assert_array_equal(ours.scale_factor, ref.scale_factor)
    assert ours.scale_factor.dtype == np.float32
    assert ours.field_mapping_table == ref.field_mapping_table
    overlaps = 0
    for trial in range(3):
        kps, vis = scene(rng, cfg['input_size'])
        for dtype in (np.float32, np.float64):
            k = kps.astype(dtype)
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                expected = ref.encode(k.copy(), vis.copy())
            got = ours.encode(k, vis)
            assert_encoded(got, expected)
            w = expected['displacement_weights']
            # the smaller-instance rule decided some pixels: weights of two instances meet
            overlaps += len(np.unique(w[w > 0])) > 1
    assert overlaps


@EMULATED
def test_encode_defaults_and_integer_keypoints(mmc, backend):
    rng = np.random.default_rng(3)
    ours, ref = fastcodec.SPR((512, 512), (128, 128)), mmc.SPR((512, 512), (128, 128))
    kps, _ = scene(rng, (512, 512), n=5)
    k = np.round(kps).astype(np.int64)
    assert_encoded(ours.encode(k), ref.encode(k))
    # single person, keypoints exactly on the heatmap grid and the image border
    k = np.array([[[0, 0], [511, 511], [4, 8], [508, 0], [256, 256]]], np.float32)
    assert_encoded(ours.encode(k), ref.encode(k))


@EMULATED
def test_encode_empty(mmc, backend):
    ours, ref = fastcodec.SPR((64, 64), (32, 32)), mmc.SPR((64, 64), (32, 32))
    assert_encoded(ours.encode(np.zeros((0, 17, 2))), ref.encode(np.zeros((0, 17, 2))))
    assert_encoded(ours.encode(np.zeros((2, 0, 2))), ref.encode(np.zeros((2, 0, 2))))


# ---- decode -------------------------------------------------------------------------

def root_maps(rng, kind, C, H, W):
    if kind == 'random':
        return rng.uniform(-0.1, 1, (C, H, W)).astype(np.float32)
    if kind == 'tied':            # few distinct values: many equal NMS peaks
        return (np.round(rng.uniform(0, 1, (C, H, W)) * 3) / 3).astype(np.float32)
    if kind == 'sparse':          # isolated equal peaks on a zero background
        return (rng.uniform(0, 1, (C, H, W)) < 0.03).astype(np.float32)
    # 'peaked': encoded targets of a crowd, plus noise on half of them
    codec = fastcodec.SPR((W * 4, H * 4), (W, H), sigma=(2.0, 1.0),
                          generate_keypoint_heatmaps=True)
    kps, vis = scene(rng, (W * 4, H * 4), n=12, k=C - 1 if C > 1 else 3)
    with fastcodec.use_backend(CPU_BACKENDS[0]):   # inputs made on the host
        maps = codec.encode(kps, vis)['heatmaps'][-C:]
    if rng.random() < 0.5:
        maps = maps + rng.normal(0, 0.02, maps.shape).astype(np.float32)
    return np.ascontiguousarray(maps, dtype=np.float32)


DECODE_CASES = [
    # (H, W, K, keypoint maps, nms kernel, max instances, threshold)
    (128, 128, 17, False, 5, 30, 0.01),
    (128, 128, 17, True, 5, 30, 0.01),
    (64, 48, 17, True, 1, 30, 0.01),
    (64, 48, 5, False, 3, 10, -1.0),
    (32, 32, 3, True, 7, 30, 0.3),
    (20, 24, 4, False, 5, 100, 0.0),
    (8, 8, 2, True, 3, 7, -0.5),
]


def run_mmpose(ref, heat, disp):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return ref.decode(torch.from_numpy(heat.copy()), torch.from_numpy(disp.copy()))


def assert_decoded(ours, expected, numpy_out=False):
    kps, (roots, scores) = ours
    ekps, (eroots, escores) = expected
    kind = np.ndarray if numpy_out else torch.Tensor
    assert isinstance(kps, kind) and isinstance(roots, kind)
    kps, roots = np.asarray(kps), np.asarray(roots)
    assert kps.shape == tuple(ekps.shape) and kps.dtype == np.float32
    assert roots.shape == tuple(eroots.shape) and roots.dtype == np.float32
    np.testing.assert_array_equal(roots, eroots.numpy())
    np.testing.assert_allclose(kps, ekps.numpy(), rtol=0, atol=2e-3)
    if escores is None:
        assert scores is None
    else:
        assert isinstance(scores, kind)
        scores = np.asarray(scores)
        assert scores.shape == tuple(escores.shape) and scores.dtype == np.float32
        np.testing.assert_allclose(scores, escores.numpy(), rtol=0, atol=1e-4)


@EMULATED(keep=lambda p: p['case'][0] in (128, 8) or p['case'][5] == 10)
@pytest.mark.parametrize('case', DECODE_CASES, ids=lambda c: '-'.join(map(str, c)))
def test_decode_matches_mmpose(mmc, backend, case):
    H, W, K, kmaps, nms, top, thr = case
    rng = np.random.default_rng(H * W + K + nms)
    cfg = dict(input_size=(W * 4, H * 3), heatmap_size=(W, H), sigma=(2.0, 1.0),
               generate_keypoint_heatmaps=kmaps, decode_nms_kernel=nms,
               decode_max_instances=top, decode_thr=thr)
    ours, ref = fastcodec.SPR(**cfg), mmc.SPR(**cfg)
    found = 0
    for kind in ('random', 'tied', 'sparse', 'peaked'):
        C = K + 1 if kmaps else 1
        heat = root_maps(rng, kind, C, H, W)
        disp = rng.normal(0, 4, (2 * K, H, W)).astype(np.float32)
        expected = run_mmpose(ref, heat, disp)
        found += len(expected[1][0])
        assert_decoded(ours.decode(torch.from_numpy(heat), torch.from_numpy(disp)), expected)
        assert_decoded(ours.decode(heat, disp), expected, numpy_out=True)
        if kmaps:  # K + 1 maps but no keypoint maps configured, and C != K + 1
            plain = mmc.SPR(**dict(cfg, generate_keypoint_heatmaps=False, sigma=2.0))
            mine = fastcodec.SPR(**dict(cfg, generate_keypoint_heatmaps=False, sigma=2.0))
            assert_decoded(mine.decode(heat, disp), run_mmpose(plain, heat, disp), True)
            assert_decoded(ours.decode(heat[-2:], disp), run_mmpose(ref, heat[-2:], disp), True)
    assert found


@EMULATED(keep=lambda p: p['nms'] in (1, 5))
@pytest.mark.parametrize('nms', [1, 3, 5, 7])
def test_decode_ties_follow_torch_topk(mmc, backend, nms):
    """Equal root scores come out in torch.topk's order, on both of its CPU paths
    (partial sort when k * 64 <= H * W, nth_element + sort otherwise)."""
    rng = np.random.default_rng(nms)
    for H, W, top in ((64, 64, 30), (16, 16, 30), (12, 10, 120), (40, 40, 25)):
        cfg = dict(input_size=(W, H), heatmap_size=(W, H), decode_nms_kernel=nms,
                   decode_max_instances=top, decode_thr=-10.0)
        ours, ref = fastcodec.SPR(**cfg), mmc.SPR(**cfg)
        for levels in (1, 2, 5):
            heat = (rng.integers(0, levels + 1, (1, H, W)) / levels).astype(np.float32)
            disp = rng.normal(0, 3, (4, H, W)).astype(np.float32)
            expected = run_mmpose(ref, heat, disp)
            got = ours.decode(heat, disp)
            np.testing.assert_array_equal(got[0], expected[0].numpy())


@EMULATED
def test_decode_fewer_pixels_than_instances(mmc, backend):
    """H * W < decode_max_instances: MMPose's topk raises; fastcodec ranks every pixel,
    as MMPose does with decode_max_instances = H * W (docs/deviations.md)."""
    rng = np.random.default_rng(5)
    heat = rng.uniform(0, 1, (1, 4, 5)).astype(np.float32)
    disp = rng.normal(0, 1, (6, 4, 5)).astype(np.float32)
    cfg = dict(input_size=(20, 16), heatmap_size=(5, 4), decode_nms_kernel=1, decode_thr=-1.0)
    with pytest.raises(RuntimeError):
        run_mmpose(mmc.SPR(**cfg, decode_max_instances=30), heat, disp)
    expected = run_mmpose(mmc.SPR(**cfg, decode_max_instances=20), heat, disp)
    got = fastcodec.SPR(**cfg, decode_max_instances=30).decode(heat, disp)
    assert got[0].shape == (20, 3, 2)
    assert_decoded(got, expected, numpy_out=True)
    empty = fastcodec.SPR(**cfg, decode_max_instances=0).decode(heat, disp)
    assert empty[0].shape == (0, 3, 2) and empty[1][0].shape == (0,)


# ---- batches and backends -----------------------------------------------------------

def padded_batch(rng, input_size, B=4, n_max=6, k=17):
    kps = rng.uniform(-50, 600, (B, n_max, k, 2))
    vis = np.zeros((B, n_max, k))
    counts = []
    for b in range(B):
        n = int(rng.integers(0, n_max + 1))
        people, seen = scene(rng, input_size, n=max(n, 3), k=k)
        kps[b, :n], vis[b, :n] = people[:n], seen[:n]
        counts.append(n)
    return kps, vis, counts


@EMULATED(keep=lambda p: p['kmaps'])
@pytest.mark.parametrize('kmaps', [False, True])
def test_batch_encode_equals_per_sample(backend, kmaps):
    rng = np.random.default_rng(11)
    codec = fastcodec.SPR((512, 512), (128, 128), generate_keypoint_heatmaps=kmaps)
    kps, vis, counts = padded_batch(rng, (512, 512))
    batch = codec.batch_encode(kps, vis)
    for b, n in enumerate(counts):                  # padding instances are invisible
        single = codec.encode(kps[b, :max(n, 1)], vis[b, :max(n, 1)])
        for key, value in single.items():
            np.testing.assert_array_equal(batch[key][b], value, err_msg=key)
    tb = codec.batch_encode(torch.from_numpy(kps), torch.from_numpy(vis))
    assert all(isinstance(v, torch.Tensor) for v in tb.values())
    np.testing.assert_array_equal(tb['displacements'].numpy(), batch['displacements'])


@EMULATED
def test_batch_decode_equals_per_sample(backend):
    rng = np.random.default_rng(12)
    codec = fastcodec.SPR((256, 256), (64, 64), generate_keypoint_heatmaps=True,
                          decode_thr=0.2)
    heat = np.stack([root_maps(rng, kind, 18, 64, 64)
                     for kind in ('random', 'peaked', 'sparse', 'peaked')])
    disp = rng.normal(0, 4, (4, 34, 64, 64)).astype(np.float32)
    batch = codec.batch_decode(torch.from_numpy(heat), torch.from_numpy(disp))
    assert isinstance(batch, list) and len(batch) == 4
    assert len({len(r[1][0]) for r in batch}) > 1       # N varies per sample
    for b, (kps, (roots, scores)) in enumerate(batch):
        one = codec.decode(torch.from_numpy(heat[b]), torch.from_numpy(disp[b]))
        assert torch.equal(kps, one[0]) and torch.equal(roots, one[1][0])
        assert torch.equal(scores, one[1][1])


def test_cpp_and_numba_agree_bit_for_bit():
    if set(fastcodec.available_backends()) < {'cpp', 'numba'}:
        pytest.skip('needs both CPU backends')
    rng = np.random.default_rng(13)
    for cfg in ENCODE_CONFIGS[2:5]:
        codec = fastcodec.SPR(**cfg)
        kps, vis, _ = padded_batch(rng, cfg['input_size'])
        outs = []
        for name in ('cpp', 'numba'):
            with fastcodec.use_backend(name):
                enc = codec.batch_encode(kps.astype(np.float32), vis)
                noise = np.random.default_rng(0).random(enc['heatmaps'].shape, np.float32)
                dec = codec.batch_decode(enc['heatmaps'] + np.float32(0.01) * noise,
                                         enc['displacements'])
            outs.append((enc, dec))
        (e1, d1), (e2, d2) = outs
        for key in e1:
            np.testing.assert_array_equal(e1[key], e2[key], err_msg=key)
        for a, b in zip(d1, d2):
            np.testing.assert_array_equal(a[0], b[0])
            np.testing.assert_array_equal(a[1][0], b[1][0])
            if a[1][1] is not None:
                np.testing.assert_array_equal(a[1][1], b[1][1])


@EMULATED(keep=lambda p: not isinstance(p['sigma'], int))
@pytest.mark.parametrize('sigma', [2.0000001, np.float64(2.0000001), np.float32(2.0000001), 2])
def test_window_radius_precision(mmc, backend, sigma):
    """numpy subtracts a Python or float32 radius from the float32 root in float32 (12 -
    2.0000001 -> 10) and a float64 one in float64 (-> 9.9999999 -> 9): the window's
    first column differs, and fastcodec follows."""
    cfg = dict(input_size=(32, 32), heatmap_size=(32, 32), sigma=sigma)
    kps = np.array([[[10.0, 10.0], [14.0, 14.0], [12.0, 11.0]]])
    if isinstance(sigma, np.float32):
        # MMPose's Gaussian indexes a numpy float32 sigma (not a Python float): it
        # raises; fastcodec encodes as with float(sigma) (docs/deviations.md)
        with pytest.raises(IndexError):
            mmc.SPR(**cfg).encode(kps)
        cfg_ref = dict(cfg, sigma=float(sigma))
    else:
        cfg_ref = cfg
    ref = mmc.SPR(**cfg_ref).encode(kps)
    got = fastcodec.SPR(**cfg).encode(kps)
    assert_encoded(got, ref)
    cols = np.nonzero(ref['displacement_weights'][0].any(axis=0))[0]
    assert cols[0] == (9 if isinstance(sigma, np.float64) else 10)
