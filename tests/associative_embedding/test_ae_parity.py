"""AssociativeEmbedding against MMPose 1.3.2: encode, and batch_decode on network-like,
tie-heavy and degenerate maps, for every CPU backend; bad input; deviations.

MMPose's grouping calls the ``munkres`` package. Its 1.x releases (the classic
Munkres steps, which fastcodec reproduces) and its 2026 rewrite (2.x/3.x, another
solver) agree wherever the optimal assignment is unique, and may pick different ones
among equal-cost assignments; the tie tests need munkres 1.x (pyproject's test extra
pins it).
"""
import zlib

import numpy as np
import pytest

import fastcodec
from conftest import EMULATED, adversarial_keypoints, people_maps

torch = pytest.importorskip('torch')
munkres = pytest.importorskip('munkres')
MUNKRES_1 = munkres.__version__.startswith('1.')
needs_munkres_1 = pytest.mark.skipif(
    not MUNKRES_1, reason=f'munkres {munkres.__version__} breaks cost ties differently '
    'from munkres 1.x, which fastcodec reproduces (pip install "munkres<2")')

ORDER = [0, 1, 2, 3, 4, 5, 6, 11, 12, 7, 8, 9, 10, 13, 14, 15, 16]


def codecs(mmc, **cfg):
    cfg = dict(dict(input_size=(4 * cfg['heatmap_size'][0], 4 * cfg['heatmap_size'][1]),
                    decode_keypoint_order=ORDER), **cfg)
    return fastcodec.AssociativeEmbedding(**cfg), mmc.AssociativeEmbedding(**cfg)


def mmpose_decode(ref, heat, tags):
    """MMPose's batch_decode on copies (its UDP refinement overwrites the maps)."""
    out = ref.batch_decode(torch.from_numpy(heat.copy()), torch.from_numpy(tags.copy()))
    return [list(map(np.asarray, part)) for part in out]


def unstable_keypoints(ref, heat, tags, want, seed=0):
    """Per image, the keypoints whose MMPose result moves by more than 1e-3 px when the
    maps change by one part in a million (near-singular DARK-UDP Hessians:
    docs/deviations.md); compared for being finite only."""
    rng = np.random.default_rng(seed)
    nudged = heat * (1 + 1e-6 * rng.standard_normal(heat.shape)).astype(np.float32)
    again = mmpose_decode(ref, nudged.astype(np.float32), tags)
    out = []
    for a, w in zip(again[0], want[0]):
        assert a.shape == w.shape, 'a candidate sits at the threshold: choose another seed'
        with np.errstate(invalid='ignore'):
            out.append((np.abs(a - w) > 1e-3).any(-1))
    return out


def assert_same(got, want, unstable=None):
    assert isinstance(got, tuple) and len(got) == 3
    for part in got:
        assert isinstance(part, list)
    for b in range(len(want[0])):
        (kp, sc, inst), (kp_ref, sc_ref, inst_ref) = [[p[b] for p in r] for r in (got, want)]
        for mine, ref in ((kp, kp_ref), (sc, sc_ref), (inst, inst_ref)):
            assert type(mine) is np.ndarray
            assert mine.shape == ref.shape and mine.dtype == ref.dtype, (mine.shape, ref.shape)
        close = np.ones(kp.shape[:-1], bool) if unstable is None else ~unstable[b]
        assert np.isfinite(kp[~close]).all()
        np.testing.assert_allclose(kp[close], kp_ref[close], rtol=0, atol=2e-3)
        np.testing.assert_allclose(sc, sc_ref, rtol=0, atol=1e-4)
        np.testing.assert_allclose(inst, inst_ref, rtol=0, atol=1e-4)


# ---- encode ---------------------------------------------------------------------------

@EMULATED
@pytest.mark.parametrize('use_udp', [False, True])
def test_encode_matches_mmpose(mmc, backend, use_udp):
    ours, ref = codecs(mmc, heatmap_size=(32, 24), use_udp=use_udp)
    rng = np.random.default_rng(3 + use_udp)
    for trial in range(12):
        n = trial % 4
        kps = adversarial_keypoints(rng, ours.input_size, ours.scale_factor, n=n)
        if trial % 2:
            kps = kps.astype(np.float32)
        vis = rng.choice([0.0, 0.49, 0.5, 1.0, 2.0], (n, 17)).astype(np.float32)
        if trial == 4:
            vis = None
        if trial == 5 and n:
            kps[0, :3] = np.nan
        got, want = ours.encode(kps, vis), ref.encode(kps, vis)
        assert got.keys() == want.keys()
        for key in want:
            assert got[key].shape == want[key].shape and got[key].dtype == want[key].dtype, key
        np.testing.assert_allclose(got['heatmaps'], want['heatmaps'], rtol=0, atol=1e-5)
        np.testing.assert_array_equal(got['keypoint_indices'], want['keypoint_indices'])
        # NaN keypoints get weight 0 (docs/deviations.md, encode); their indices match
        finite = np.isfinite(kps).all(-1)
        np.testing.assert_array_equal(got['keypoint_weights'][finite],
                                      want['keypoint_weights'][finite])
        assert (got['keypoint_weights'][~finite] == 0).all()


def test_encode_batch_matches_per_sample(backend):
    codec = fastcodec.AssociativeEmbedding((128, 96), (32, 24), decode_keypoint_order=ORDER)
    rng = np.random.default_rng(0)
    kps = rng.uniform(-10, 140, (3, 2, 17, 2))
    vis = rng.choice([0.0, 1.0], (3, 2, 17))
    batch = codec.batch_encode(kps, vis)
    for b in range(3):
        one = codec.encode(kps[b], vis[b])
        for key in one:
            np.testing.assert_array_equal(batch[key][b], one[key])


# ---- decode ---------------------------------------------------------------------------

DECODE_CONFIGS = [
    dict(),
    dict(decode_nms_kernel=3, decode_topk=12, decode_keypoint_thr=0.3),
    dict(decode_nms_kernel=1, decode_topk=20, decode_tag_thr=0.5, decode_max_instances=3),
    dict(decode_center_shift=0.5, decode_tag_thr=3.0, decode_max_instances=30),
]


@EMULATED
@pytest.mark.parametrize('L', [1, 2])
@pytest.mark.parametrize('cfg', DECODE_CONFIGS, ids=lambda c: '-'.join(map(str, c.values())) or 'default')
def test_decode_matches_mmpose(mmc, backend, cfg, L):
    ours, ref = codecs(mmc, heatmap_size=(36, 28), **cfg)
    rng = np.random.default_rng(zlib.crc32(f'{cfg}{L}'.encode()))
    heat, tags = people_maps(rng, B=3, H=28, W=36, N=int(rng.integers(2, 7)), L=L)
    assert_same(ours.batch_decode(heat, tags), mmpose_decode(ref, heat, tags))


@EMULATED
@pytest.mark.parametrize('cfg', [dict(), dict(decode_gaussian_kernel=5, decode_center_shift=0.5)])
def test_decode_udp_matches_mmpose(mmc, backend, cfg):
    ours, ref = codecs(mmc, heatmap_size=(36, 28), use_udp=True, **cfg)
    rng = np.random.default_rng(11 + len(cfg))
    for L in (1, 2):
        heat, tags = people_maps(rng, B=2, H=28, W=36, N=4, L=L)
        want = mmpose_decode(ref, heat, tags)
        assert_same(ours.batch_decode(heat, tags), want, unstable_keypoints(ref, heat, tags, want))


@EMULATED
@needs_munkres_1
@pytest.mark.parametrize('thr', [0.1, 0.0, -1.0])
@pytest.mark.parametrize('size', [(48, 32), (12, 10)])  # top-k: partial_sort / nth_element
def test_decode_ties(mmc, backend, thr, size):
    """Quantised maps and tags: equal peak values (torch.topk's tie order), equal tag
    costs (munkres' choice among equal assignments), equal group keys (MMPose's dict
    merges groups whose first tags are equal). thr <= 0 makes the suppressed zeros
    candidates too, in torch's order of equal values."""
    W, H = size
    ours, ref = codecs(mmc, heatmap_size=size, decode_keypoint_thr=thr, decode_topk=20,
                       decode_tag_thr=1.0)
    rng = np.random.default_rng(int(thr * 10) + W)
    heat, tags = people_maps(rng, B=2, H=H, W=W, N=5, noise=0.05)
    heat = np.round(heat * 4) / np.float32(4)
    tags = np.round(tags * 2) / np.float32(2)
    assert_same(ours.batch_decode(heat, tags), mmpose_decode(ref, heat, tags))


@EMULATED
@needs_munkres_1
def test_decode_random_maps(mmc, backend):
    """Maps without people: noise, integer plateaus, negative values."""
    ours, ref = codecs(mmc, heatmap_size=(20, 16), decode_topk=8, decode_keypoint_thr=0.2)
    rng = np.random.default_rng(5)
    for heat in (rng.random((2, 17, 16, 20)), rng.integers(0, 3, (2, 17, 16, 20)),
                 rng.normal(size=(2, 17, 16, 20))):
        heat = heat.astype(np.float32)
        tags = rng.integers(-2, 3, (2, 17, 16, 20)).astype(np.float32)
        assert_same(ours.batch_decode(heat, tags), mmpose_decode(ref, heat, tags))


EXACT_BACKENDS = [b for b in ('cpp', 'numba', 'cuda-emulator') if b in fastcodec.available_backends()]
needs_two_backends = pytest.mark.skipif(len(EXACT_BACKENDS) < 2, reason='one backend only')


def assert_backends_equal(codec, heat, tags):
    """batch_decode's results on the cpp and numba backends and the CUDA kernels (run
    by the emulator, whose libm math is the CPU's), equal bit for bit."""
    results = []
    for name in EXACT_BACKENDS:
        with fastcodec.use_backend(name):
            results.append(codec.batch_decode(heat, tags))
    for other, name in zip(results[1:], EXACT_BACKENDS[1:]):
        for a, b in zip(results[0], other):
            for x, y in zip(a, b):
                np.testing.assert_array_equal(x, y, err_msg=name)


@EMULATED
@needs_munkres_1
@pytest.mark.parametrize('nms', [1, 3])
def test_decode_negative_maps_every_candidate(mmc, backend, nms):
    """All-negative maps with a threshold below them: every top-k candidate is grouped,
    so their order is checked whole, including top-k over a negative heap top (no
    suppressed zeros with nms 1) on the partial_sort path (10 * 64 <= 40 * 40)."""
    ours, ref = codecs(mmc, heatmap_size=(40, 40), decode_nms_kernel=nms, decode_topk=10,
                       decode_keypoint_thr=-10.0)
    rng = np.random.default_rng(nms)
    heat = -rng.integers(1, 20, (1, 17, 40, 40)).astype(np.float32) / np.float32(8)
    tags = rng.integers(-2, 3, (1, 17, 40, 40)).astype(np.float32)
    assert_same(ours.batch_decode(heat, tags), mmpose_decode(ref, heat, tags))


@needs_two_backends
def test_backends_agree_on_extreme_maps():
    """NaN, +-inf and huge values on both top-k paths: the C++ selects the top-k in one
    pass over the raw map, the Numba backend and the CUDA kernel NMS the whole map
    first."""
    rng = np.random.default_rng(12)
    heat, tags = people_maps(rng, B=2, H=40, W=40, N=3)
    for value in (np.nan, np.inf, -np.inf, 3e38):
        heat[0, rng.integers(0, 17, 6), rng.integers(0, 40, 6), rng.integers(0, 40, 6)] = value
    heat[1, 2] = -np.inf
    heat[1, 3, :20] = np.nan
    for cfg in (dict(decode_topk=10, decode_nms_kernel=3), dict(decode_topk=30, decode_nms_kernel=1),
                dict(decode_topk=10, decode_nms_kernel=5, decode_keypoint_thr=-1e30)):
        codec = fastcodec.AssociativeEmbedding((160, 160), (40, 40), decode_keypoint_order=ORDER,
                                               **cfg)
        assert_backends_equal(codec, heat, tags)


@needs_two_backends
def test_backends_agree_on_map_edges():
    """The C++ top-k takes window maxima only for blocks of 16 pixels of a row that hold
    a pixel above the heap top, 8 lanes at a time: rows shorter than a block or than 8
    lanes, row tails, windows wider than the map, plateaus and signed zeros, on the
    partial_sort path (topk * 64 <= H * W), against the Numba backend, which NMS-es the
    whole map first."""
    rng = np.random.default_rng(21)
    for W, H, nms in ((5, 26, 3), (7, 40, 1), (16, 12, 5), (33, 20, 7), (21, 13, 45)):
        heat, tags = people_maps(rng, B=1, H=H, W=W, N=3, noise=0.05)
        heat[0, :4] = np.round(heat[0, :4] * 8) / np.float32(8)  # plateaus, ties
        heat[0, 4:6] = np.where(rng.random((2, H, W)) < 0.5, np.float32(-0.0), heat[0, 4:6])
        codec = fastcodec.AssociativeEmbedding((4 * W, 4 * H), (W, H), decode_keypoint_order=ORDER,
                                               decode_topk=max(1, H * W // 64),
                                               decode_nms_kernel=nms, decode_keypoint_thr=-1.0)
        assert_backends_equal(codec, heat, tags)


@EMULATED
def test_decode_no_detections(mmc, backend):
    ours, ref = codecs(mmc, heatmap_size=(16, 12))
    heat = np.full((2, 17, 12, 16), 0.05, np.float32)
    tags = np.zeros((2, 17, 12, 16), np.float32)
    got, want = ours.batch_decode(heat, tags), mmpose_decode(ref, heat, tags)
    assert_same(got, want)
    assert got[0][0].shape == (0, 17, 2) and got[1][0].shape == (0, 17)
    assert got[2][0].shape == (0,)


@EMULATED
def test_decode_topk_zero(mmc, backend):
    ours, ref = codecs(mmc, heatmap_size=(16, 12), decode_topk=0)
    heat, tags = people_maps(np.random.default_rng(1), B=2, H=12, W=16, N=2)
    assert_same(ours.batch_decode(heat, tags), mmpose_decode(ref, heat, tags))


@EMULATED
def test_decode_no_keypoints(backend):
    """K = 0: MMPose divides by K (ZeroDivisionError); fastcodec returns empties."""
    codec = fastcodec.AssociativeEmbedding((64, 64), (16, 16), decode_keypoint_order=[])
    kps, scores, inst = codec.batch_decode(np.zeros((2, 0, 16, 16)), np.zeros((2, 0, 16, 16)))
    assert [k.shape for k in kps] == [(0, 0, 2)] * 2 and [s.shape for s in scores] == [(0, 0)] * 2
    assert [i.shape for i in inst] == [(0,)] * 2


@EMULATED
@pytest.mark.parametrize('limit', [0, 1, 2, -1, None])
def test_decode_max_instances(mmc, backend, limit):
    """More groups than decode_max_instances: MMPose keeps list(keys)[:limit]."""
    ours, ref = codecs(mmc, heatmap_size=(24, 24), decode_max_instances=limit)
    rng = np.random.default_rng(2)
    heat, tags = people_maps(rng, B=1, H=24, W=24, N=6)
    got, want = ours.batch_decode(heat, tags), mmpose_decode(ref, heat, tags)
    assert_same(got, want)
    if limit is not None and limit >= 0:
        assert len(got[0][0]) == limit


@EMULATED
def test_decode_nan_in_maps(mmc, backend):
    """NaN heatmap pixels take top-k places and suppress their window but never pass
    the threshold; NaN tags away from candidates make the filling pick the first NaN."""
    ours, ref = codecs(mmc, heatmap_size=(24, 20), decode_nms_kernel=3)
    rng = np.random.default_rng(9)
    heat, tags = people_maps(rng, B=2, H=20, W=24, N=3)
    heat[0, :, 5, 5] = np.nan
    heat[1, 3] = np.nan
    tags[:, 4, 0, 3] = np.nan
    assert_same(ours.batch_decode(heat, tags), mmpose_decode(ref, heat, tags))
    ours, ref = codecs(mmc, heatmap_size=(24, 20), decode_nms_kernel=3, decode_topk=5)
    assert_same(ours.batch_decode(heat, tags), mmpose_decode(ref, heat, tags))  # partial_sort


@EMULATED
def test_decode_per_image_and_torch(mmc, backend):
    ours, ref = codecs(mmc, heatmap_size=(24, 20))
    rng = np.random.default_rng(4)
    heat, tags = people_maps(rng, B=3, H=20, W=24, N=3)
    batch = ours.batch_decode(torch.from_numpy(heat), torch.from_numpy(tags))
    assert_same(batch, mmpose_decode(ref, heat, tags))
    for b in range(3):
        one = ours.decode(heat[b], tags[b])
        for part, whole in zip(one, batch):
            np.testing.assert_array_equal(part, whole[b])


@needs_two_backends
def test_backends_agree_exactly():
    rng = np.random.default_rng(8)
    codec = fastcodec.AssociativeEmbedding((96, 80), (24, 20), decode_keypoint_order=ORDER,
                                           decode_keypoint_thr=0.0, use_udp=True)
    heat, tags = people_maps(rng, B=2, H=20, W=24, N=4, L=2)
    assert_backends_equal(codec, heat, tags)


# ---- deviations ------------------------------------------------------------------------

@EMULATED
def test_nan_tag_candidate_is_grouped_alone(backend):
    """A candidate with a NaN tag: munkres 1.x never ends on its NaN costs (munkres 2+
    raises); fastcodec stops there and the candidate opens a group of its own
    (docs/deviations.md)."""
    codec = fastcodec.AssociativeEmbedding((64, 64), (16, 16), decode_keypoint_order=[0, 1])
    heat = np.zeros((1, 2, 16, 16), np.float32)
    tags = np.zeros((1, 2, 16, 16), np.float32)
    heat[0, :, 4, 4] = heat[0, :, 10, 10] = 1.0
    tags[0, :, 10, 10] = 5.0
    tags[0, 1, 4, 4] = np.nan
    kps, scores, _ = codec.batch_decode(heat, tags)
    assert kps[0].shape == (3, 2, 2)
    assert np.isfinite(kps[0]).all() and np.isfinite(scores[0]).all()


@EMULATED
def test_udp_all_zero_map_is_finite(mmc, backend):
    """An all-zero heatmap under use_udp: MMPose's blur rescale divides 0 by 0 and
    fills that keypoint with a NaN score; fastcodec keeps the blurred map unscaled
    (docs/deviations.md), so the filled keypoint is finite."""
    ours, ref = codecs(mmc, heatmap_size=(16, 16), use_udp=True, decode_keypoint_order=[0, 1],
                       input_size=(64, 64))
    heat = np.zeros((1, 2, 16, 16), np.float32)
    tags = np.zeros((1, 2, 16, 16), np.float32)
    heat[0, 0, 5, 5] = 1.0
    want = mmpose_decode(ref, heat, tags)
    kps, scores, _ = ours.batch_decode(heat, tags)
    assert np.isnan(want[1][0][0, 1]) and np.isfinite(scores[0][0, 1])
    np.testing.assert_allclose(kps[0][0, 0], want[0][0][0, 0], atol=2e-3)


# ---- bad input -------------------------------------------------------------------------

def test_bad_constructor_arguments():
    good = dict(input_size=(64, 64), heatmap_size=(16, 16), decode_keypoint_order=[0])
    for bad, err in ((dict(decode_nms_kernel=4), ValueError), (dict(decode_nms_kernel=2.5), TypeError),
                     (dict(decode_gaussian_kernel=0), ValueError), (dict(decode_topk=-1), ValueError),
                     (dict(decode_topk=3.0), TypeError), (dict(decode_keypoint_thr='a'), TypeError),
                     (dict(decode_max_instances=2.0), TypeError), (dict(sigma=-1), ValueError),
                     (dict(heatmap_size=(1, 16), use_udp=True), ValueError),
                     (dict(heatmap_size=(0, 16)), ValueError),
                     (dict(decode_keypoint_order=[0.5]), TypeError)):
        with pytest.raises(err):
            fastcodec.AssociativeEmbedding(**dict(good, **bad))


@EMULATED
def test_bad_decode_input(backend):
    codec = fastcodec.AssociativeEmbedding((64, 64), (16, 16), decode_keypoint_order=[0, 1])
    heat = np.zeros((1, 2, 16, 16), np.float32)
    tags = np.zeros((1, 2, 16, 16), np.float32)
    for h, t in ((heat[0], tags), (heat, tags[0]), (heat, tags[:, :, :8]),
                 (heat, np.zeros((2, 2, 16, 16))), (heat, np.zeros((1, 3, 16, 16))),
                 (heat, np.zeros((1, 1, 16, 16))), (np.zeros((1, 3, 16, 16)), np.zeros((1, 3, 16, 16)))):
        with pytest.raises(ValueError):
            codec.batch_decode(h, t)
    with pytest.raises(TypeError):
        codec.batch_decode(heat.astype(complex), tags)
    with pytest.raises(ValueError):  # top-k beyond the pixels (torch raises)
        fastcodec.AssociativeEmbedding((16, 16), (4, 4), decode_keypoint_order=[0, 1],
                                       decode_topk=17).batch_decode(heat[..., :4, :4], tags[..., :4, :4])
    with pytest.raises(ValueError):  # an order entry out of range
        fastcodec.AssociativeEmbedding((64, 64), (16, 16), decode_keypoint_order=[0, 2]).batch_decode(heat, tags)
    with pytest.raises(ValueError):
        codec.decode(heat, tags)


def test_mapping_tables_and_build(mmc):
    ref = mmc.AssociativeEmbedding((64, 64), (16, 16), decode_keypoint_order=[0])
    ours = fastcodec.build(dict(type='AssociativeEmbedding', input_size=(64, 64),
                                heatmap_size=(16, 16), decode_keypoint_order=[0]))
    for name in ('label_mapping_table', 'field_mapping_table', 'instance_mapping_table',
                 'auxiliary_encode_keys'):
        assert getattr(ours, name) == getattr(ref, name), name
    assert ours.sigma == ref.sigma
    np.testing.assert_array_equal(ours.scale_factor, ref.scale_factor)
    assert ours.support_batch_decoding
