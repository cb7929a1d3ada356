"""Denormal floats (0 < |v| < FLT_MIN = 1.2e-38): encoders write none (docs/deviations.md),
and decoders give MMPose 1.3.2's results on maps holding them, for each CPU backend.

MMPose's own encoders write thousands of them in the tails of whole-map Gaussians;
every multiply-add that reads or makes one costs 5-100x on many x86 cores."""
import numpy as np
import pytest

import fastcodec
from conftest import CPU_BACKENDS, assert_decoded_close, build_both

FLT_MIN = np.finfo(np.float32).tiny

# Every codec whose encode writes heatmaps or Gaussian labels; the keypoints are chosen
# so that MMPose writes denormals for most of them (see test_mmpose_writes_denormals).
ENCODERS = [
    dict(type='MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0),
    dict(type='MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=0.06),
    dict(type='MSRAHeatmap', input_size=(288, 384), heatmap_size=(72, 96), sigma=3.0,
         unbiased=True),
    dict(type='UDPHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0),
    dict(type='UDPHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=0.1),
    dict(type='UDPHeatmap', input_size=(192, 256), heatmap_size=(48, 64),
         heatmap_type='combined'),
    dict(type='MegviiHeatmap', input_size=(192, 256), heatmap_size=(48, 64), kernel_size=11),
    dict(type='SimCCLabel', input_size=(192, 256), smoothing_type='gaussian', sigma=6.0,
         simcc_split_ratio=2.0),
    dict(type='SimCCLabel', input_size=(192, 256), smoothing_type='gaussian',
         sigma=(4.9, 5.66), simcc_split_ratio=2.0, normalize=True),
    dict(type='IntegralRegressionLabel', input_size=(256, 256), heatmap_size=(64, 64),
         sigma=2.0, unbiased=True),
    dict(type='SPR', input_size=(512, 512), heatmap_size=(128, 128), sigma=(4, 2),
         minimal_diagonal_length=32, generate_keypoint_heatmaps=True),
    dict(type='DecoupledHeatmap', input_size=(512, 512), heatmap_size=(128, 128)),
]
# MMPose writes denormals for these (the tests below can fail on them).
MMPOSE_DENORMAL = {2, 4, 7, 8, 9}

def encoder_id(cfg):
    return '-'.join(str(v) for k, v in cfg.items() if k not in ('input_size',))


def encode_inputs(cfg, seed):
    rng = np.random.default_rng(seed)
    n = 3 if cfg['type'] in ('SPR', 'DecoupledHeatmap') else 1
    kps = rng.uniform(0, 1, (n, 17, 2)) * np.asarray(cfg['input_size'], np.float64)
    return kps, np.ones((n, 17))


def denormals(arrays):
    """{key: count of 0 < |v| < FLT_MIN} over the float arrays of an encode result."""
    out = {}
    for key, v in arrays.items():
        v = np.asarray(v)
        if v.dtype.kind == 'f':
            out[key] = int(((v != 0) & (np.abs(v) < FLT_MIN)).sum())
    return out


def test_mmpose_writes_denormals(mmc):
    """The cases below are worth running: MMPose writes denormals in them."""
    for i in MMPOSE_DENORMAL:
        cfg = ENCODERS[i]
        args = {k: v for k, v in cfg.items() if k != 'type'}
        for seed in range(4):
            kps, vis = encode_inputs(cfg, seed)
            got = denormals(getattr(mmc, cfg['type'])(**args).encode(kps, vis))
            assert sum(got.values()) > 0, (encoder_id(cfg), seed)


@pytest.mark.parametrize('backend_name', CPU_BACKENDS)
@pytest.mark.parametrize('cfg', ENCODERS, ids=encoder_id)
def test_encoders_write_no_denormals(mmc, cfg, backend_name):
    codec, ref = build_both(mmc, cfg)
    for seed in range(4):
        kps, vis = encode_inputs(cfg, seed)
        for dtype in (np.float64, np.float32):
            with fastcodec.use_backend(backend_name):
                got = codec.encode(kps.astype(dtype), vis)
            assert not any(denormals(got).values()), (seed, dtype, denormals(got))
            if cfg['type'] in ('SPR', 'DecoupledHeatmap'):
                continue  # instance-level outputs: tests/spr/test_spr_parity.py, tests/decoupled_heatmap/test_decoupled_parity.py
            want = ref.encode(kps.astype(dtype), vis)
            for key, value in want.items():
                if np.asarray(value).dtype.kind == 'f':
                    np.testing.assert_allclose(got[key], value, rtol=0, atol=1e-5,
                                               err_msg=key)


def test_batch_encode_writes_no_denormals():
    codec = fastcodec.MSRAHeatmap(input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0,
                                  unbiased=True)
    kps, vis = encode_inputs(dict(type='MSRAHeatmap', input_size=(192, 256)), 5)
    with fastcodec.use_backend('numba'):
        got = codec.batch_encode(np.stack([kps, kps[:, ::-1]]), np.stack([vis, vis]))
    assert not any(denormals(got).values())


# ---- decoding -------------------------------------------------------------------------
DECODERS = [
    dict(type='MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0),
    dict(type='MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0,
         unbiased=True, blur_kernel_size=11),
    dict(type='MSRAHeatmap', input_size=(288, 384), heatmap_size=(72, 96), sigma=3.0,
         unbiased=True, blur_kernel_size=17),
    dict(type='UDPHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0),
    dict(type='UDPHeatmap', input_size=(192, 256), heatmap_size=(48, 64),
         heatmap_type='combined'),
    dict(type='MegviiHeatmap', input_size=(192, 256), heatmap_size=(48, 64), kernel_size=11),
]
MAP_KINDS = ('encoded', 'denormal_tails', 'denormal_only', 'denormal_signed', 'tiny')


def denormal_maps(mmc, cfg, kind, rng):
    """(C, H, W) float32 maps holding denormals: MMPose's own unbiased encoding (its
    Gaussian tails), a Gaussian whose zeros are denormals, maps of denormals only (the
    maximum is a positive denormal: MMPose still finds it), signed denormals, and
    values just above FLT_MIN (normal, but their blurred products are not)."""
    W, H = cfg['heatmap_size']
    C = 51 if cfg.get('heatmap_type') == 'combined' else 17
    kps = rng.uniform(0, 1, (1, 17, 2)) * np.asarray(cfg['input_size'], np.float64)
    if kind == 'encoded':
        gauss = mmc.MSRAHeatmap(input_size=cfg['input_size'], heatmap_size=(W, H),
                                sigma=2.0, unbiased=True).encode(kps)['heatmaps']
        if C == 51:
            own = build_both(mmc, cfg)[1].encode(kps, np.ones((1, 17)))['heatmaps']
            own[0::3] = gauss * own[0::3].max()
            gauss = own
        maps = gauss
    elif kind == 'denormal_tails':
        maps = build_both(mmc, cfg)[1].encode(kps, np.ones((1, 17)))['heatmaps']
        tails = rng.integers(1, 2 ** 23, maps.shape).astype(np.float32) * np.float32(2.0 ** -149)
        maps = np.where(maps == 0, tails, maps)
    elif kind == 'denormal_only':
        maps = rng.integers(1, 2 ** 23, (C, H, W)).astype(np.float32) * np.float32(2.0 ** -149)
    elif kind == 'denormal_signed':
        maps = rng.integers(-2 ** 23, 2 ** 23, (C, H, W)).astype(np.float32) \
            * np.float32(2.0 ** -149)
    else:
        maps = rng.uniform(1, 1e4, (C, H, W)).astype(np.float32) * FLT_MIN
    return np.ascontiguousarray(maps, dtype=np.float32)


@pytest.mark.filterwarnings('ignore::DeprecationWarning', 'ignore::RuntimeWarning')
@pytest.mark.parametrize('kind', MAP_KINDS)
@pytest.mark.parametrize('cfg', DECODERS, ids=encoder_id)
def test_decode_maps_with_denormals(mmc, backend, cfg, kind):
    ours, ref = build_both(mmc, cfg)
    rng = np.random.default_rng(len(kind) * 1000 + len(str(cfg)))
    for _ in range(4):
        maps = denormal_maps(mmc, cfg, kind, rng)
        want = ref.decode(maps.copy())
        got = ours.decode(maps)
        assert_decoded_close(got, want)
        if kind == 'denormal_only':  # the argmax rule: a positive denormal maximum
            assert (got[0] >= 0).all()


def test_decoders_keep_denormal_results(mmc):
    """Decoded coordinates are MMPose's bits even where they are denormal (a UDP
    'combined' keypoint at x = 0 plus a denormal offset): decoders do not flush."""
    cfg = dict(type='UDPHeatmap', input_size=(192, 256), heatmap_size=(48, 64),
               heatmap_type='combined')
    ours, ref = build_both(mmc, cfg)
    maps = np.zeros((51, 64, 48), np.float32)
    maps[0::3, 0, 0] = 1.0                                        # maxima at (0, 0)
    maps[1::3] = np.float32(3.0) * np.float32(2.0 ** -140)       # denormal x offsets
    maps[2::3] = -np.float32(5.0) * np.float32(2.0 ** -140)
    want = ref.decode(maps.copy())
    assert (np.abs(want[0]) > 0).any() and (np.abs(want[0]) < FLT_MIN).any()
    for name in CPU_BACKENDS:
        with fastcodec.use_backend(name):
            got = ours.decode(maps.copy())
        np.testing.assert_array_equal(got[0], want[0], err_msg=name)
        np.testing.assert_array_equal(got[1], want[1], err_msg=name)
