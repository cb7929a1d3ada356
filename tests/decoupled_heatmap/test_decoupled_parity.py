"""DecoupledHeatmap (CID) against MMPose 1.3.2, for each CPU backend, under identical
seeds of ``np.random`` and ``random``: every output, and the number of draws taken
from both generators. Tolerances (docs/design.md): targets 1e-5 absolute, keypoints
2e-3 px, scores 1e-4; instance coordinates and weights exactly. Where MMPose returns
NaN or raises (docs/deviations.md, DecoupledHeatmap) fastcodec's defined value is
checked instead. A representative subset (EMULATED) also runs on the cuda-emulator
backend: the CUDA kernels through the GPU's launch code."""
import random

import numpy as np
import pytest

import fastcodec
from conftest import EMULATED, host_call
from fastcodec import _calls

INPUT, HEATMAP = (512, 512), (128, 128)


def corners(kps, vis=None):
    """(N, 8) boxes in MMPose's corner order around all (or the visible) keypoints."""
    pts = np.where((vis > 0)[..., None], kps, np.nan) if vis is not None else kps
    with np.errstate(invalid='ignore'):
        lo, hi = np.nanmin(pts, axis=1), np.nanmax(pts, axis=1)
    lo, hi = np.nan_to_num(lo), np.nan_to_num(hi)
    return np.stack([lo[:, 0], lo[:, 1], lo[:, 0], hi[:, 1], hi[:, 0], lo[:, 1], hi[:, 0],
                     hi[:, 1]], axis=1)


def people(rng, n, k=17, spread=40.0, lo=60, hi=452):
    centres = rng.uniform(lo, hi, (n, 1, 2))
    return centres + rng.normal(0, spread, (n, k, 2))


def scenario(name, seed):
    """keypoints (N, K, 2), visibility (N, K), bbox (N, 8) or None."""
    rng = np.random.default_rng(seed)
    if name == 'several':
        kps = people(rng, 6)
        vis = np.ones(kps.shape[:2], np.float32)
        return kps, vis, corners(kps)
    if name == 'outside':  # partly and wholly outside the image
        kps = people(rng, 7, lo=-60, hi=572, spread=60)
        vis = np.ones(kps.shape[:2], np.float32)
        return kps, vis, None
    if name == 'invisible':  # invisible keypoints and whole instances, odd values
        kps = people(rng, 8)
        vis = rng.choice([0.0, 0.0, 0.49, 0.5, 1.0, 2.0], kps.shape[:2]).astype(np.float32)
        vis[[1, 5]] = 0
        vis[3] = 0  # one visible keypoint: a point box, sigma 0 (MMPose: NaN)
        vis[3, 5] = 1
        kps[6, :, 0] = kps[6, 0, 0]  # a vertical line: zero width, sigma 0
        return kps, vis, None
    if name == 'tiny':  # small boxes: a few heatmap pixels and below
        kps = people(rng, 6, spread=1.5)
        vis = np.ones(kps.shape[:2], np.float32)
        return kps, vis, corners(kps)
    if name == 'crowd':  # more people than encode_max_instances
        kps = people(rng, 12, spread=30)
        vis = rng.choice([0.0, 1.0, 1.0, 1.0], kps.shape[:2]).astype(np.float32)
        return kps, vis, corners(kps, vis)
    if name == 'duplicates':  # equal roots, and roots a pixel apart: the jitter collides
        base = people(rng, 1)
        shifts = [0, 0, 0, 0, 4, -4, 4, 0.5, 0]
        kps = np.concatenate([base + np.float64(d) for d in shifts])
        vis = np.ones(kps.shape[:2], np.float32)
        return kps, vis, corners(kps)
    if name == 'border':  # roots on the heatmap border: clipping after the jitter
        kps = np.stack([people(rng, 1, spread=3, lo=x, hi=x + 1)[0] for x in (1, 2, 509, 511)])
        vis = np.ones(kps.shape[:2], np.float32)
        return kps, vis, None
    if name == 'radius':  # boxes whose float32 sigma * 3 rounds onto (half-)integers
        # 15 x 70 heatmap px: radius 7 in float32, 6.99999976 in float64; 87.5 x 50: a
        # patch of 36 (float32) or 37 (float64) pixels; keypoints at the map borders,
        # where the window's truncation shows the difference
        kps = np.zeros((2, 17, 2))
        edge = np.r_[0.0, 1.4, 2.6, 3.2, 4.9, 5.5, 6.1, 7.7, 11.3]
        kps[:, :9, 0], kps[:, :9, 1] = edge * 4, (edge[::-1] + 30) * 4
        kps[:, 9:, 0], kps[:, 9:, 1] = (127 - edge[:8]) * 4, (edge[:8] + 60) * 4
        bbox = np.array([[100, 100, 100, 100 + 60, 100 + 280, 100, 100 + 280, 100 + 60],
                         [50, 50, 50, 50 + 350, 50 + 200, 50, 50 + 200, 50 + 350]], float)
        return kps + rng.uniform(0, 0.01, kps.shape), np.ones((2, 17), np.float32), bbox
    raise KeyError(name)


SCENARIOS = ['several', 'outside', 'invisible', 'tiny', 'crowd', 'duplicates', 'border',
             'radius']
CONFIGS = [
    dict(root_type='kpt_center'),
    dict(root_type='bbox_center'),
    dict(root_type='kpt_center', heatmap_min_overlap=0.3, encode_max_instances=3),
    dict(root_type='bbox_center', heatmap_min_overlap=0.95, encode_max_instances=1),
]


def build_both(mmc, **kw):
    args = dict(input_size=INPUT, heatmap_size=HEATMAP, **kw)
    return fastcodec.DecoupledHeatmap(**args), mmc.DecoupledHeatmap(**args)


def seeded(fn, seed):
    """fn() under np.random.seed / random.seed, and the next value of each generator
    (equal for two calls that took the same number of draws)."""
    np.random.seed(seed)
    random.seed(seed)
    with np.errstate(all='ignore'):
        out = fn()
    return out, (np.random.random(), random.random())


def assert_encoded_equal(ours, ref):
    assert set(ours) == set(ref)
    for key in ref:
        a, b = ours[key], ref[key]
        assert a.shape == b.shape and a.dtype == b.dtype, (key, a.shape, b.shape, a.dtype, b.dtype)
        if key in ('instance_coords', 'keypoint_weights'):
            np.testing.assert_array_equal(a, b, err_msg=key)
            continue
        defined = np.isfinite(b)
        # MMPose's NaN (sigma 0) is fastcodec's unit centre (docs/deviations.md)
        assert np.isfinite(a[~defined]).all(), key
        np.testing.assert_allclose(a[defined], b[defined], rtol=0, atol=1e-5, err_msg=key)


@EMULATED(keep=lambda p: (p['cfg'] is CONFIGS[0] and p['dtype'] is np.float32 and p['name'] in (
    'invisible', 'duplicates', 'border', 'radius'))
    or (p['cfg'] is CONFIGS[3] and p['name'] in ('crowd', 'invisible', 'radius')))
@pytest.mark.parametrize('dtype', [np.float64, np.float32])
@pytest.mark.parametrize('cfg', CONFIGS, ids=lambda c: '-'.join(str(v) for v in c.values()))
@pytest.mark.parametrize('name', SCENARIOS)
def test_encode_matches_mmpose(mmc, backend, name, cfg, dtype):
    ours, ref = build_both(mmc, **cfg)
    for seed in range(3):
        kps, vis, bbox = scenario(name, seed)
        kps = kps.astype(dtype)
        for box in (bbox, None) if bbox is not None else (None,):
            want, draws = seeded(lambda: ref.encode(kps, vis, box), seed)
            got, our_draws = seeded(lambda: ours.encode(kps, vis, box), seed)
            assert_encoded_equal(got, want)
            assert our_draws == draws  # the same number of draws from both generators


def test_encode_exercises_every_path(mmc):
    """The scenarios reach the paths they are named after (so the parity above covers
    them): subsampling, deduplication, MMPose's NaN of sigma 0."""
    ours, ref = build_both(mmc, encode_max_instances=3)
    got, _ = seeded(lambda: ours.encode(*scenario('crowd', 0)), 0)
    assert len(got['instance_coords']) == 3
    kps, vis, bbox = scenario('duplicates', 0)
    got, _ = seeded(lambda: fastcodec.DecoupledHeatmap(INPUT, HEATMAP).encode(kps, vis, bbox), 0)
    assert len(got['instance_coords']) < len(kps)
    kps, vis, _ = scenario('invisible', 0)
    want, _ = seeded(lambda: ref.encode(kps, vis), 0)
    assert np.isnan(want['heatmaps']).any()


@EMULATED(keep=lambda p: p['overlap'] == 0.7)  # the emulator runs libm's pow, as the CPU
@pytest.mark.parametrize('overlap', [0.05, 0.3, 0.7, 0.9, 0.999])
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_instance_sigmas_bit_exact(mmc, backend, overlap, dtype):
    """The sigma kernel equals MMPose's per-instance loop bit for bit; the last block
    of heights makes pow(b, 2) differ from b * b in float32 (exact float32 midpoints),
    so computing b * b fails this test."""
    rng = np.random.default_rng(int(overlap * 1000))
    midpoints = np.arange(4097, 8193, 2)[:, None] / 64 * [1, 0]
    size = np.concatenate([rng.uniform(0, 200, (500, 2)), rng.integers(0, 50, (100, 2)),
                           np.array([[0, 0], [0, 5], [5, 0], [1e-3, 1e-3], [np.nan, 1],
                                     [np.inf, 2]]), midpoints]).astype(dtype)
    ref = mmc.DecoupledHeatmap(INPUT, HEATMAP, heatmap_min_overlap=overlap)
    box = np.zeros((len(size), 4, 2), dtype)
    box[:, 1, 1] = size[:, 0]
    box[:, 2, 0] = size[:, 1]
    with np.errstate(all='ignore'):
        want = ref._get_instance_wise_sigmas(box)
    got = _calls.instance_sigmas(host_call(), np.ascontiguousarray(size[:, 0]),
                                 np.ascontiguousarray(size[:, 1]), overlap)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_float32_sigma_geometry(mmu, backend):
    """A float32 sigma array gets numpy's float32 radius and size, as MMPose's global
    heatmaps do; the float64 geometry differs for this sigma (so the test can fail)."""
    s = np.float32(59 / 3)
    kp = np.array([[[3.0, 3.0], [20.2, 9.0]]])
    vis = np.ones((1, 2))
    want, _ = mmu.generate_gaussian_heatmaps((32, 24), kp, vis, np.array([s], np.float32))
    got, _ = _calls.encode_gaussian(host_call(), 'msra', kp[None], vis[None], np.array([s], np.float32),
                               (1.0, 1.0), False, 32, 24)
    np.testing.assert_allclose(got[0], want, rtol=0, atol=1e-5)
    other, _ = _calls.encode_gaussian(host_call(), 'msra', kp[None], vis[None], np.array([s], np.float64),
                                 (1.0, 1.0), False, 32, 24)
    assert np.abs(other[0] - want).max() > 1e-3
    # fastcodec.ops.generate_gaussian_heatmaps passes a float32 sigma array through
    got, _ = fastcodec.ops.generate_gaussian_heatmaps((32, 24), kp, vis,
                                                       np.array([s], np.float32))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)


def test_sigma_per_sample_matches_loop(backend):
    rng = np.random.default_rng(3)
    kps = rng.uniform(-5, 70, (4, 3, 5, 2))
    vis = rng.choice([0.0, 1.0], (4, 3, 5))
    sig = rng.uniform(0.5, 4, (4, 3))
    heat, inside = _calls.encode_gaussian(host_call(), 'msra', kps, vis, sig, (1.0, 1.0), False, 64, 48)
    for b in range(4):
        h, i = _calls.encode_gaussian(host_call(), 'msra', kps[b:b + 1], vis[b:b + 1], sig[b], (1.0, 1.0), False,
                                 64, 48)
        np.testing.assert_array_equal(heat[b], h[0])
        np.testing.assert_array_equal(inside[b], i[0])


# ---- decoding ---------------------------------------------------------------------------
def instance_maps(mmc, rng, kind, n=5, k=17):
    if kind == 'random':
        return rng.uniform(-0.2, 1.0, (n, k) + HEATMAP[::-1]).astype(np.float32)
    ref = mmc.DecoupledHeatmap(INPUT, HEATMAP)
    kps = people(rng, n)
    np.random.seed(0)
    maps = ref.encode(kps, np.ones((n, k), np.float32), corners(kps))['instance_heatmaps']
    maps = maps.reshape(-1, k, *HEATMAP[::-1])
    if kind == 'noisy':
        maps = maps + rng.normal(0, 0.02, maps.shape)
    elif kind == 'plateau':
        maps = np.round(maps * 4) / 4
    elif kind == 'negative':
        maps = maps - 0.5
    return np.ascontiguousarray(maps, dtype=np.float32)


@EMULATED(keep=lambda p: p['kind'] in ('noisy', 'plateau'))
@pytest.mark.parametrize('kind', ['random', 'peaked', 'noisy', 'plateau', 'negative'])
@pytest.mark.parametrize('score_dtype', [np.float32, np.float64])
def test_decode_matches_mmpose(mmc, backend, kind, score_dtype):
    rng = np.random.default_rng(len(kind))
    ours, ref = build_both(mmc)
    maps = instance_maps(mmc, rng, kind)
    scores = rng.uniform(0, 1, (len(maps), 1)).astype(score_dtype)
    want = ref.decode(maps.copy(), scores)
    got = ours.decode(maps, scores)
    for a, b, tol in zip(got, want, (2e-3, 1e-4)):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=0, atol=tol)


@EMULATED
def test_batch_encode_equals_loop(backend):
    codec = fastcodec.DecoupledHeatmap(INPUT, HEATMAP, encode_max_instances=4)
    rng = np.random.default_rng(5)
    kps = np.stack([people(rng, 7) for _ in range(3)])
    vis = rng.choice([0.0, 1.0, 1.0], kps.shape[:3]).astype(np.float32)
    vis[1] = 0  # an image without a visible instance
    bbox = np.stack([corners(k) for k in kps])
    for box in (bbox, bbox.reshape(3, 7, 4, 2), None):
        batch, draws = seeded(lambda: codec.batch_encode(kps, vis, box), 1)
        loop, loop_draws = seeded(
            lambda: [codec.encode(kps[b], vis[b], None if box is None else box[b])
                     for b in range(3)], 1)
        assert draws == loop_draws and len(batch) == 3
        for got, want in zip(batch, loop):
            assert_encoded_equal(got, want)
        assert batch[1]['instance_heatmaps'].shape == (0,) + HEATMAP[::-1]
    assert codec.batch_encode(np.zeros((0, 7, 17, 2))) == []


def test_batch_decode_equals_loop(mmc, backend):
    codec = fastcodec.DecoupledHeatmap(INPUT, HEATMAP)
    rng = np.random.default_rng(6)
    maps = np.stack([instance_maps(mmc, rng, 'noisy', n=4) for _ in range(3)])
    scores = rng.uniform(0, 1, (3, 4, 1))
    kps, sc = codec.batch_decode(maps, scores)
    assert kps.shape == (3, 4, 17, 2) and sc.shape == (3, 4, 17)
    for b in range(3):
        k1, s1 = codec.decode(maps[b], scores[b])
        np.testing.assert_array_equal(kps[b], k1)
        np.testing.assert_array_equal(sc[b], s1)


def test_torch_in_torch_out(mmc, backend):
    torch = pytest.importorskip('torch')
    codec = fastcodec.DecoupledHeatmap(INPUT, HEATMAP)
    kps, vis, bbox = scenario('several', 0)
    enc, _ = seeded(lambda: codec.encode(torch.from_numpy(kps), torch.from_numpy(vis),
                                         torch.from_numpy(bbox)), 0)
    ref, _ = seeded(lambda: codec.encode(kps, vis, bbox), 0)
    for key, value in enc.items():
        assert isinstance(value, torch.Tensor)
        np.testing.assert_array_equal(value.numpy(), ref[key])
    batch, _ = seeded(lambda: codec.batch_encode(torch.from_numpy(kps[None])), 0)
    assert all(isinstance(v, torch.Tensor) for v in batch[0].values())
    maps = instance_maps(mmc, np.random.default_rng(0), 'noisy', n=3)
    out = codec.decode(torch.from_numpy(maps), torch.ones(3, 1))
    assert all(isinstance(o, torch.Tensor) for o in out)
    np.testing.assert_array_equal(out[0].numpy(), codec.decode(maps, np.ones((3, 1)))[0])
    out = codec.batch_decode(torch.from_numpy(maps[None]), torch.ones(1, 3, 1))
    assert all(isinstance(o, torch.Tensor) for o in out) and out[0].shape == (1, 3, 17, 2)


def test_private_generator(backend):
    """rng= draws from its own generator: reproducible, global state untouched."""
    codec = fastcodec.DecoupledHeatmap(INPUT, HEATMAP, encode_max_instances=3)
    kps, vis, bbox = scenario('crowd', 1)
    np.random.seed(0)
    random.seed(0)
    state = np.random.get_state()[1].copy(), random.getstate()
    a = codec.encode(kps, vis, bbox, rng=7)
    b = codec.encode(kps, vis, bbox, rng=np.random.default_rng(7))
    assert np.array_equal(np.random.get_state()[1], state[0]) and random.getstate() == state[1]
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert len(a['instance_coords']) == 3


def test_api_surface(mmc):
    ours, ref = build_both(mmc)
    assert ours.auxiliary_encode_keys == ref.auxiliary_encode_keys == {'bbox'}
    assert ours.label_mapping_table == ref.label_mapping_table
    assert ours.field_mapping_table == ref.field_mapping_table
    assert ours.instance_mapping_table == ref.instance_mapping_table
    assert ours.scale_factor.dtype == np.float32
    np.testing.assert_array_equal(ours.scale_factor, ref.scale_factor)
    assert ours.support_batch_decoding is ref.support_batch_decoding is False
    assert not ours.single_instance
    built = fastcodec.build(dict(type='DecoupledHeatmap', input_size=INPUT, heatmap_size=HEATMAP,
                                 root_type='bbox_center'))
    assert isinstance(built, fastcodec.DecoupledHeatmap) and built.root_type == 'bbox_center'
    empty = ours.encode(np.zeros((0, 17, 2)))
    want = ref.encode(np.zeros((0, 17, 2)))
    assert_encoded_equal(empty, want)


# ---- deviations (docs/deviations.md, DecoupledHeatmap) -----------------------------------
@EMULATED
def test_deviation_zero_sigma_is_a_unit_impulse(mmc, backend):
    """One visible keypoint: the pseudo box is a point, sigma 0. MMPose writes NaN at
    the keypoint (0/0 in its Gaussian); fastcodec writes the limit, 1."""
    ours, ref = build_both(mmc)
    kps = np.array([[[100.0, 60.0], [0, 0]]])
    vis = np.array([[1.0, 0.0]], np.float32)
    want, _ = seeded(lambda: ref.encode(kps, vis), 0)
    got, _ = seeded(lambda: ours.encode(kps, vis), 0)
    assert np.isnan(want['heatmaps'][0, 15, 25]) and np.isnan(want['instance_heatmaps'][0, 15, 25])
    assert got['heatmaps'][0, 15, 25] == 1 and got['instance_heatmaps'][0, 15, 25] == 1
    assert got['heatmaps'][0].sum() == 1 and got['heatmaps'][2].sum() == 1  # keypoint, root
    np.testing.assert_array_equal(got['instance_coords'], want['instance_coords'])


@EMULATED
@pytest.mark.parametrize('bad', [np.nan, np.inf])
def test_deviation_nonfinite_box_drops_the_instance(mmc, backend, bad):
    """A box with NaN/Inf (given, or from a visible NaN keypoint): MMPose raises in
    np.arange; fastcodec leaves that instance out (not drawn, not selected)."""
    ours, ref = build_both(mmc)
    kps, vis, bbox = scenario('several', 0)
    bbox = bbox.copy()
    bbox[2, 3] = bad
    with pytest.raises(ValueError):
        seeded(lambda: ref.encode(kps, vis, bbox), 0)
    got, _ = seeded(lambda: ours.encode(kps, vis, bbox), 0)
    keep = np.arange(len(kps)) != 2
    want, _ = seeded(lambda: ref.encode(kps[keep], vis[keep], np.delete(bbox, 2, 0)), 0)
    assert_encoded_equal(got, want)
    kps = kps.copy()
    kps[2, 4] = bad
    got, _ = seeded(lambda: ours.encode(kps, vis), 0)
    want, _ = seeded(lambda: ref.encode(kps[keep], vis[keep]), 0)
    assert_encoded_equal(got, want)


def test_deviation_decode_no_instances(mmc):
    ours, ref = build_both(mmc)
    maps = np.zeros((0, 17) + HEATMAP[::-1], np.float32)
    with pytest.raises(ValueError):
        ref.decode(maps, np.zeros((0, 1)))
    kps, scores = ours.decode(maps, np.zeros((0, 1)))
    assert kps.shape == (0, 17, 2) and scores.shape == (0, 17)
    assert kps.dtype == scores.dtype == np.float32


@EMULATED
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('root_type', ['kpt_center', 'bbox_center'])
def test_instance_geometry_bit_exact(mmu, backend, dtype, root_type):
    """Roots, root visibility and diagonals in one kernel pass equal MMPose's
    get_instance_root / get_diagonal_lengths bit for bit (NaN, Inf, -0.0, ties)."""
    for seed in range(40):
        rng = np.random.default_rng(seed)
        R, K = int(rng.integers(0, 8)), int(rng.integers(0, 20))
        kps = rng.uniform(-50, 200, (R, K, 2))
        kind = rng.integers(0, 12, (R, K, 2))
        kps[kind == 0], kps[kind == 1], kps[kind == 2] = np.nan, np.inf, -np.inf
        kps[kind == 3] = -0.0
        if seed % 3 == 0:
            kps = np.round(kps)
        kps = kps.astype(dtype)
        vis = rng.choice([0, 0.3, 1, 2, np.nan], (R, K))
        with np.errstate(all='ignore'):
            roots, roots_vis = mmu.get_instance_root(kps, vis, root_type)
            diag = mmu.get_diagonal_lengths(kps, vis)
        got = _calls.instance_geometry(host_call(), kps, vis, root_type == 'kpt_center')
        for a, b in zip(got, (roots, roots_vis, diag)):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)
