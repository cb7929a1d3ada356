"""A seeded fuzz of keypoint dtypes against MMPose 1.3.2: numpy's promotion decides
whether MMPose scales keypoints in float16, float32 or float64 (8- and 16-bit integers
divide by a float32 scale_factor in float32; float16 keypoints times a Python-float
SimCC ratio stay float16), and a rounding boundary moves a pixel or a bin. Keypoints are
drawn around those boundaries for every keypoint encoder that scales them. Tolerances
(docs/design.md): targets 1e-5, weights exact. Distilled from the fuzz16 campaign
(tools/fuzz)."""
import numpy as np
import pytest

import fastcodec

SIZES = [((12, 12), (5, 5)), ((317, 12), (96, 5)), ((192, 256), (48, 64)), ((50, 70), (13, 19))]
CODECS = [('MSRAHeatmap', dict(sigma=1.0)), ('MSRAHeatmap', dict(sigma=2.0, unbiased=True)),
          ('UDPHeatmap', dict(sigma=2.0)), ('UDPHeatmap', dict(heatmap_type='combined')),
          ('MegviiHeatmap', dict(kernel_size=5)), ('IntegralRegressionLabel', dict(sigma=2.0)),
          ('SimCCLabel', dict(sigma=2.0, simcc_split_ratio=2.5)),
          ('SimCCLabel', dict(sigma=2.0, simcc_split_ratio=1.5, smoothing_type='standard')),
          ('AssociativeEmbedding', dict(sigma=2.0)),
          ('AssociativeEmbedding', dict(sigma=2.0, use_udp=True))]
IDS = ['msra', 'msra-dark', 'udp', 'udp-combined', 'megvii', 'integral', 'simcc',
       'simcc-standard', 'ae', 'ae-udp']
DTYPES = [np.int8, np.int16, np.uint8, np.uint16, np.int32, np.float16, np.bool_]


def boundary_keypoints(rng, codec, size, k, dtype):
    """(1, k, 2) keypoints of ``dtype`` whose scaled value lies near a rounding boundary
    (half a heatmap pixel, or half a SimCC bin), plus plain random ones."""
    if dtype == np.bool_:
        return rng.integers(0, 2, (1, k, 2)).astype(bool)
    scale = np.asarray(getattr(codec, 'scale_factor', (1.0, 1.0)), np.float64)
    ratio = getattr(codec, 'simcc_split_ratio', None)
    n = rng.integers(0, 2 * max(size), (1, k, 2)) + 0.5
    raw = n / ratio if ratio else n * scale
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        raw = np.clip(np.round(raw + rng.integers(-1, 2, raw.shape)), info.min, info.max)
    else:
        raw = raw + rng.choice([0, 0.125, -0.125, 0.25], raw.shape)
    return raw.astype(dtype)


@pytest.mark.parametrize('name,extra', CODECS, ids=IDS)
def test_keypoint_dtypes_match_mmpose(mmc, backend, name, extra):
    rng = np.random.default_rng(16)
    for (input_size, heatmap_size) in SIZES:
        cfg = dict(input_size=input_size, **extra)
        if name != 'SimCCLabel':
            cfg['heatmap_size'] = heatmap_size
        ours, ref = getattr(fastcodec, name)(**cfg), getattr(mmc, name)(**cfg)
        for dtype in DTYPES:
            k = 64
            kps = boundary_keypoints(rng, ours, input_size, k, dtype)
            vis = np.ones((1, k), np.float32)
            got, want = ours.encode(kps, vis), ref.encode(kps.copy(), vis.copy())
            assert list(got) == list(want)
            for key in want:
                assert got[key].shape == want[key].shape, (key, dtype)
                atol = 0 if 'weight' in key else 1e-5
                np.testing.assert_allclose(got[key], want[key], rtol=0, atol=atol,
                                           err_msg=f'{name} {cfg} {np.dtype(dtype)} {key}')


REAL_DTYPES = [np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64,
               np.uint64, np.float16, np.float32, np.float64]


def test_the_promotion_tables_are_numpys():
    """The per-call shortcuts for numpy's promotion (np.result_type costs 1.4 us) give
    np.result_type's answers for every real dtype and ratio kind."""
    from fastcodec.codecs.base import DIVIDES_IN_FLOAT32
    from fastcodec._arrays import promoted_dtype
    for t in REAL_DTYPES:
        dtype = np.dtype(t)
        assert (dtype in DIVIDES_IN_FLOAT32) == (np.result_type(dtype, np.float32) == np.float32)
        for ratio in (2.0, 2, np.float32(2.0), np.float64(1.5), np.int64(2), np.array(2.0)):
            assert promoted_dtype(dtype, ratio) == np.result_type(dtype, ratio), (t, ratio)
