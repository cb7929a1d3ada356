"""Property tests (hypothesis): encode -> decode recovers keypoints within each codec's
resolution, and the cpp and numba backends agree exactly on arbitrary inputs."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastcodec

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

# (config, worst per-axis round-trip error in heatmap pixels, for keypoints >= 3 px
# inside the heatmap)
ROUND_TRIP = [
    (dict(type='MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2), 0.75),
    (dict(type='MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2,
          unbiased=True), 0.1),
    (dict(type='UDPHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2), 0.1),
    (dict(type='UDPHeatmap', input_size=(192, 256), heatmap_size=(48, 64),
          heatmap_type='combined'), 0.01),
    (dict(type='MegviiHeatmap', input_size=(192, 256), heatmap_size=(48, 64), kernel_size=11), 1.0),
]


@pytest.mark.parametrize('cfg,tolerance', ROUND_TRIP, ids=lambda v: str(v)[:40])
@SETTINGS
@given(data=st.data())
def test_round_trip(cfg, tolerance, data):
    codec = fastcodec.build(cfg)
    scale = np.asarray(codec.scale_factor, np.float64)
    W, H = cfg['heatmap_size']
    xs = data.draw(st.lists(st.floats(3, W - 4), min_size=17, max_size=17))
    ys = data.draw(st.lists(st.floats(3, H - 4), min_size=17, max_size=17))
    kps = (np.stack([xs, ys], -1) * scale)[None]
    decoded, scores = codec.decode(codec.encode(kps)['heatmaps'])
    assert (scores > 0).all()
    if cfg['type'] == 'UDPHeatmap':
        # MMPose's UDP encodes with (input - 1) / (heatmap - 1) but decodes with
        # input / (heatmap - 1): compare in heatmap pixels through each mapping.
        decoded = decoded / cfg['input_size'] * [W - 1, H - 1] * scale
    err = np.abs(decoded[0] - kps[0]) / scale
    assert err.max() <= tolerance, err.max()


def both_backends(fn):
    with fastcodec.use_backend('cpp'):
        a = fn()
    with fastcodec.use_backend('numba'):
        b = fn()
    return a, b


@SETTINGS
@given(h=st.integers(1, 40), w=st.integers(1, 40), k=st.integers(0, 5),
       ksize=st.sampled_from([1, 3, 5, 7, 9, 11, 17]), seed=st.integers(0, 2**31),
       kind=st.sampled_from(['uniform', 'signed', 'ties', 'zeros']))
def test_backends_agree_on_decoding(h, w, k, ksize, seed, kind):
    rng = np.random.default_rng(seed)
    maps = {'uniform': rng.random((k, h, w)), 'signed': rng.normal(size=(k, h, w)),
            'ties': rng.integers(0, 3, (k, h, w)), 'zeros': np.zeros((k, h, w))}[kind]
    maps = maps.astype(np.float32)
    ops = fastcodec.ops
    a, b = both_backends(lambda: ops.get_heatmap_maximum(maps))
    np.testing.assert_array_equal(a[0], b[0])
    locs = a[0][None].copy()
    for refine in (lambda m, p: ops.refine_keypoints(p, m),
                   lambda m, p: ops.refine_keypoints_dark(p, m, ksize),
                   lambda m, p: ops.refine_keypoints_dark_udp(p, m, ksize)):
        a, b = both_backends(lambda: refine(maps, locs.copy()))
        np.testing.assert_array_equal(a, b)
    if k:
        a, b = both_backends(lambda: ops.gaussian_blur(maps.copy(), ksize))
        np.testing.assert_array_equal(a, b)


@SETTINGS
@given(h=st.integers(2, 70), w=st.integers(2, 70), k=st.integers(1, 4),
       ksize=st.sampled_from([3, 5, 11, 17]), noise=st.sampled_from([0.0, 0.01, 0.3]),
       seed=st.integers(0, 2**31))
def test_backends_agree_on_peaked_maps(h, w, k, ksize, noise, seed):
    """The C++ decoders blur only where the maximum can be (bounds against a floor);
    numba's DARK decoders blur whole maps: on peaked maps, where the pruning cuts most,
    both must give the same bits."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:h, 0:w]
    centres = rng.uniform(-2, [w + 1, h + 1], (3 * k, 2))
    sigmas = rng.uniform(0.5, 4, 3 * k)
    maps = np.exp(-((xs - centres[:, :1, None]) ** 2 + (ys - centres[:, 1:, None]) ** 2)
                  / (2 * sigmas[:, None, None] ** 2))
    maps = (maps + rng.normal(0, noise, maps.shape)).astype(np.float32)
    size = dict(input_size=(4 * w, 4 * h), heatmap_size=(w, h))
    codecs = [fastcodec.MSRAHeatmap(sigma=2, unbiased=True, blur_kernel_size=ksize, **size),
              fastcodec.UDPHeatmap(blur_kernel_size=ksize, **size),
              fastcodec.UDPHeatmap(heatmap_type='combined', blur_kernel_size=ksize, **size),
              fastcodec.MegviiHeatmap(kernel_size=ksize, **size)]
    for codec in codecs:
        combined = getattr(codec, 'heatmap_type', '') == 'combined'  # 3 maps per keypoint
        batch = maps if combined else maps[:k]
        a, b = both_backends(lambda: codec.batch_decode(batch[None]))
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


@SETTINGS
@given(n=st.integers(0, 3), k=st.integers(0, 6), w=st.integers(1, 30), h=st.integers(1, 30),
       sigma=st.floats(0.3, 4), seed=st.integers(0, 2**31), f32=st.booleans())
def test_backends_agree_on_encoding(n, k, w, h, sigma, seed, f32):
    rng = np.random.default_rng(seed)
    kps = rng.uniform(-0.5, 1.5, (n, k, 2)) * [w, h]
    kps[rng.random((n, k)) < 0.1] = np.nan
    kps = kps.astype(np.float32 if f32 else np.float64)
    vis = rng.choice([0.0, 0.49, 0.5, 2.0], (n, k))
    ops = fastcodec.ops
    for fn in (lambda: ops.generate_gaussian_heatmaps((w, h), kps, vis, sigma),
               lambda: ops.generate_unbiased_gaussian_heatmaps((w, h), kps, vis, sigma),
               lambda: ops.generate_udp_gaussian_heatmaps((w, h), kps, vis, sigma),
               lambda: ops.generate_offset_heatmap((w, h), kps, vis, 0.1)):
        a, b = both_backends(fn)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
