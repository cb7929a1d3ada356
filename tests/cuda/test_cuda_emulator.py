"""The CUDA kernels, run on the host by the emulator (fastcodec._cuda_emulator) through
the same launch code as on a GPU (fastcodec.backends.cuda.launch), against the cpp
backend, within docs/design.md's CUDA parity contract: encode targets within 1e-5,
argmax indices identical, refined coordinates within 2e-3 px, scores within 1e-4.
Plus: the launch code's kernel signatures match the sources, bad arguments are refused
before a launch, and one build of the kernels runs under AddressSanitizer, whose
deliberately broken kernels must fail it.
"""
import pathlib
import re
import shutil
import subprocess
import zlib

import numpy as np
import pytest

from fastcodec import _cuda_emulator
from fastcodec.backends import cpp as cpp_backend
from fastcodec.backends.cuda import emulator as emu
from fastcodec.backends.cuda import launch
from conftest import CppFront, adversarial_keypoints, adversarial_visibility

ROOT = pathlib.Path(__file__).resolve().parents[2]


# the cpp backend through the front, as the codecs call it
cpp = CppFront()

def _out(shape, dtype=np.float32):
    """An output buffer full of garbage (NaN, 0xff): a kernel must write every element."""
    return np.full(shape, 0xff if np.dtype(dtype) == np.uint8 else np.nan, dtype)


TARGET_TOL = 1e-5
COORD_TOL = 2e-3
SCORE_TOL = 1e-4


# ---- the launch code agrees with the kernels ----------------------------------------
def _declared_kernels():
    """name -> parameter types of every extern "C" __global__ kernel in csrc/cuda."""
    found = {}
    for path in sorted((ROOT / 'csrc' / 'cuda').glob('*.cu')):
        text = path.read_text()
        for m in re.finditer(r'extern "C" __global__ void (\w+)\(([^)]*)\)', text):
            params = [re.sub(r'\s+', ' ', p).strip() for p in m.group(2).split(',')]
            found[m.group(1)] = tuple(p.rsplit(' ', 1)[0] for p in params)
    return found


def test_launch_signatures_match_the_kernel_sources():
    assert _declared_kernels() == launch.SIGNATURES
    assert sorted(_cuda_emulator.kernel_names()) == sorted(launch.SIGNATURES)


def test_emulator_refuses_wrongly_typed_arguments():
    h = np.zeros((1, 4, 4), np.float32)
    out = np.empty((1, 2), np.float32), np.empty(1, np.float32)
    with pytest.raises(TypeError, match='dtype'):
        _cuda_emulator.launch('fc_heatmap_maximum', (1,), (128,), 0,
                              (h.astype(np.float64), 1, 4, 4, *out))
    with pytest.raises(TypeError, match='6 arguments'):
        _cuda_emulator.launch('fc_heatmap_maximum', (1,), (128,), 0, (h, 1, 4, 4))
    with pytest.raises(TypeError, match='writeable'):
        ro = np.empty(1, np.float32)
        ro.flags.writeable = False
        _cuda_emulator.launch('fc_heatmap_maximum', (1,), (128,), 0, (h, 1, 4, 4, out[0], ro))
    with pytest.raises(ValueError, match='no CUDA kernel'):
        _cuda_emulator.launch('fc_nothing', (1,), (1,), 0, ())


# ---- heatmap_maximum / decode_msra ----------------------------------------------------
def _maps(rng, kind, shape):
    if kind == 'ties':
        return rng.integers(0, 3, shape).astype(np.float32)
    if kind == 'zero':
        return np.zeros(shape, np.float32)
    if kind == 'negative':
        return -rng.random(shape, dtype=np.float32) - 0.1
    if kind == 'special':
        h = rng.random(shape, dtype=np.float32)
        flat = h.reshape(-1, shape[-2] * shape[-1])
        flat[0, :] = -np.inf
        flat[1, 5 % flat.shape[1]] = np.nan
        flat[1, 9 % flat.shape[1]] = np.nan
        if flat.shape[0] > 2:
            flat[2, :] = 0.0
            flat[2, -1] = -0.0
        return h
    return rng.random(shape, dtype=np.float32)


@pytest.mark.parametrize('kind', ['random', 'ties', 'zero', 'negative', 'special'])
@pytest.mark.parametrize('shape', [(2, 3, 64, 48), (5, 1, 1), (3, 7, 5)])
def test_heatmap_maximum(kind, shape):
    h = _maps(np.random.default_rng(1), kind, shape)
    locs = _out(shape[:-2] + (2,), np.float32)
    vals = _out(shape[:-2], np.float32)
    emu.heatmap_maximum(h, locs, vals)
    ref_locs, ref_vals = cpp.heatmap_maximum(h)
    np.testing.assert_array_equal(locs, ref_locs)
    np.testing.assert_array_equal(vals, ref_vals)
    flat = h.reshape(-1, shape[-2] * shape[-1])
    idx = np.argmax(flat, axis=1)  # numpy's own rule, independently
    pos = flat.max(axis=1, initial=-np.inf) > 0
    np.testing.assert_array_equal(locs.reshape(-1, 2)[pos, 0], (idx % shape[-1])[pos])


@pytest.mark.parametrize('kind', ['random', 'ties', 'zero', 'special'])
def test_decode_msra(kind):
    h = _maps(np.random.default_rng(2), kind, (2, 5, 16, 12))
    locs, vals = _out((2, 5, 2), np.float32), _out((2, 5), np.float32)
    emu.decode_msra(h, (4.0, 3.5), locs, vals)
    ref_locs, ref_vals = cpp.decode_msra(h, (4.0, 3.5))
    np.testing.assert_array_equal(locs, ref_locs)
    np.testing.assert_array_equal(vals, ref_vals)


# ---- decode_dark -------------------------------------------------------------------------
def _encoded_maps(rng, B, K, H, W, noise):
    kps = rng.uniform(-2, 1, (B, 1, K, 2)) * [W * 4, H * 4] + [W * 2, H * 2]
    heat, _ = cpp.encode_gaussian('msra', kps, np.ones((B, 1, K)), np.array([2.0]), (4.0, 4.0),
                                  False, W, H)
    return (heat + rng.normal(0, noise, heat.shape)).astype(np.float32)


def _check_dark(h, ksize, scale=(1.0, 1.0)):
    lead = h.shape[:-2]
    locs, vals = _out(lead + (2,), np.float32), _out(lead, np.float32)
    emu.decode_dark(h, ksize, False, scale, locs, vals)
    ref_locs, ref_vals = cpp.decode_dark(h, ksize, False, scale)
    np.testing.assert_allclose(locs, ref_locs, atol=COORD_TOL, rtol=0)
    np.testing.assert_allclose(vals, ref_vals, atol=SCORE_TOL, rtol=0)
    # the argmax under the step is the same pixel
    raw, _ = cpp.heatmap_maximum(h)
    emu_raw = _out(raw.shape)
    emu.heatmap_maximum(h, emu_raw, _out(lead, np.float32))
    np.testing.assert_array_equal(emu_raw, raw)
    return locs


@pytest.mark.parametrize('ksize', [1, 3, 11, 17])
@pytest.mark.parametrize('noise', [0.0, 0.05])
def test_decode_dark_encoded_maps(ksize, noise):
    rng = np.random.default_rng(ksize)
    _check_dark(_encoded_maps(rng, 2, 6, 64, 48, noise), ksize, (4.0, 4.0))


@pytest.mark.parametrize('kind', ['random', 'ties', 'zero', 'negative', 'special'])
def test_decode_dark_adversarial_maps(kind):
    _check_dark(_maps(np.random.default_rng(3), kind, (2, 3, 20, 17)), 11)


def test_decode_dark_border_maxima():
    h = np.full((1, 8, 24, 20), 0.01, np.float32)
    for c, (y, x) in enumerate([(0, 0), (1, 1), (2, 2), (23, 19), (21, 17), (12, 0), (0, 10), (22, 2)]):
        h[0, c, y, x] = 1.0
        h[0, c, max(y - 1, 0), x] = 0.7
    _check_dark(h, 11)


def test_decode_dark_wide_maps_blur_per_pixel():
    """A map too wide for a shared-memory band takes the per-pixel blur path."""
    H, W, k = 6, 1200, 11
    assert launch.Kernels.dark_band_rows(H, W, k) == 0
    assert launch.Kernels.dark_band_rows(64, 48, k) > 0
    rng = np.random.default_rng(4)
    _check_dark(_encoded_maps(rng, 1, 2, H, W, 0.02), k)


# ---- encode_gaussian ---------------------------------------------------------------------
@pytest.mark.parametrize('kind', ['msra', 'unbiased', 'udp'])
@pytest.mark.parametrize('f32', [False, True])
@pytest.mark.parametrize('sigma_dtype', [np.float64, np.float32])
def test_encode_gaussian(kind, f32, sigma_dtype):
    rng = np.random.default_rng(zlib.crc32(repr((kind, f32)).encode()))
    B, N, K, W, H = 2, 3, 17, 48, 64
    kps = np.stack([adversarial_keypoints(rng, (192, 256), (4.0, 4.0), N, K) for _ in range(B)])
    vis = np.stack([adversarial_visibility(rng, N, K) for _ in range(B)])
    kps[0, 0, 0] = np.nan
    kps[1, 1, 2, 1] = np.inf
    sigma = np.array([2.0, 1.5, 3.0], sigma_dtype)
    heat, inside = _out((B, K, H, W), np.float32), _out((B, N, K), np.uint8)
    emu.encode_gaussian(kind, kps, vis, sigma, (4.0, 4.0), f32, heat, inside)
    ref_heat, ref_inside = cpp.encode_gaussian(kind, kps, vis, sigma, (4.0, 4.0), f32, W, H)
    np.testing.assert_allclose(heat, ref_heat, atol=TARGET_TOL, rtol=0)
    np.testing.assert_array_equal(inside, ref_inside)
    assert inside.min() == 0 and inside.max() == 1  # the adversarial cases reach both


def test_encode_gaussian_per_sample_sigma_and_empty():
    rng = np.random.default_rng(5)
    kps = rng.uniform(0, 48, (2, 2, 4, 2))
    vis = np.ones((2, 2, 4))
    sigma = np.array([[1.0, 2.0], [3.0, 0.0]])
    heat, inside = _out((2, 4, 16, 12), np.float32), _out((2, 2, 4), np.uint8)
    emu.encode_gaussian('msra', kps, vis, sigma, (4.0, 4.0), False, heat, inside)
    ref_heat, ref_inside = cpp.encode_gaussian('msra', kps, vis, sigma, (4.0, 4.0), False, 12, 16)
    np.testing.assert_allclose(heat, ref_heat, atol=TARGET_TOL, rtol=0)
    np.testing.assert_array_equal(inside, ref_inside)
    # no instances: zero targets, every element written
    heat = np.full((2, 4, 16, 12), 7.0, np.float32)
    emu.encode_gaussian('msra', kps[:, :0], vis[:, :0], sigma[:, :0], (4.0, 4.0), False,
                        heat, _out((2, 0, 4), np.uint8))
    assert not heat.any()
    # no samples: nothing to launch
    emu.encode_gaussian('udp', kps[:0], vis[:0], sigma[0], (4.0, 4.0), False,
                        _out((0, 4, 16, 12), np.float32), _out((0, 2, 4), np.uint8))


# ---- bad input never reaches a launch ---------------------------------------------------
def test_bad_arguments_are_refused_before_launch():
    h = np.zeros((2, 3, 8, 8), np.float32)
    locs, vals = _out((2, 3, 2), np.float32), _out((2, 3), np.float32)
    with pytest.raises(TypeError, match='float32'):
        emu.heatmap_maximum(h.astype(np.float64), locs, vals)
    with pytest.raises(ValueError, match='C-contiguous'):
        emu.heatmap_maximum(np.zeros((2, 3, 8, 16), np.float32)[..., ::2], locs, vals)
    with pytest.raises(ValueError, match=r'locs: expected shape \(2, 3, 2\)'):
        emu.heatmap_maximum(h, _out((2, 3), np.float32), vals)
    with pytest.raises(ValueError, match='empty'):
        emu.heatmap_maximum(np.zeros((2, 3, 0, 8), np.float32), locs, vals)
    with pytest.raises(ValueError, match='ksize'):
        emu.decode_dark(h, 4, False, (1.0, 1.0), locs, vals)
    with pytest.raises(TypeError, match='numpy arrays'):
        emu.heatmap_maximum(h.tolist(), locs, vals)
    kps, vis = np.zeros((1, 2, 3, 2)), np.ones((1, 2, 3))
    with pytest.raises(ValueError, match='sigma'):
        emu.encode_gaussian('msra', kps, vis, np.ones(3), (1.0, 1.0), False,
                            _out((1, 3, 8, 8), np.float32), _out((1, 2, 3), np.uint8))
    with pytest.raises(ValueError, match='kind'):
        emu.encode_gaussian('gauss', kps, vis, np.ones(2), (1.0, 1.0), False,
                            _out((1, 3, 8, 8), np.float32), _out((1, 2, 3), np.uint8))


# ---- AddressSanitizer ------------------------------------------------------------------
@pytest.fixture(scope='module')
def asan_binary(tmp_path_factory):
    cxx = shutil.which('g++')
    if cxx is None:
        pytest.skip('g++ not installed')
    out = tmp_path_factory.mktemp('asan') / 'emulator_check'
    build = subprocess.run(
        [cxx, '-std=c++20', '-O0', '-fsanitize=address', '-fno-omit-frame-pointer',
         '-ffp-contract=off', '-I', str(ROOT / 'csrc' / 'include'), '-I', str(ROOT / 'csrc' / 'cuda'),
         str(ROOT / 'tests' / 'cuda' / 'emulator_check.cpp'), '-o', str(out), '-pthread'],
        capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    return out


def _run(binary, mode):
    return subprocess.run([str(binary), mode], capture_output=True, text=True, timeout=120,
                          env={'ASAN_OPTIONS': 'detect_leaks=0'})


def test_kernels_run_clean_under_address_sanitizer(asan_binary):
    res = _run(asan_binary, 'clean')
    assert res.returncode == 0, res.stderr
    assert 'AddressSanitizer' not in res.stderr
    assert res.stdout.strip() == 'clean'


@pytest.mark.parametrize('mode, report', [('dynamic', 'heap-buffer-overflow'),
                                          ('static', 'global-buffer-overflow'),
                                          ('global', 'heap-buffer-overflow')])
def test_address_sanitizer_catches_out_of_bounds(asan_binary, mode, report):
    res = _run(asan_binary, mode)
    assert res.returncode != 0
    assert f'AddressSanitizer: {report}' in res.stderr


def test_emulator_reports_a_divergent_barrier(asan_binary):
    res = _run(asan_binary, 'divergent')
    assert res.returncode != 0
    assert 'met at different barriers' in res.stderr


# ---- the contract ------------------------------------------------------------------------
def test_functions_follow_the_contract_with_trailing_outputs():
    """Each function takes the contract's parameters (names, in order) and then its
    output arrays; the contract's defaults are not kept (the front passes everything)."""
    import inspect
    from fastcodec.backends import contract
    kernels = {k.name: k for k in contract.KERNELS}
    for name in contract.NAMES:
        ours = list(inspect.signature(getattr(emu, name)).parameters)
        theirs = list(contract.signature(kernels[name]).parameters)
        assert ours == theirs, (name, ours, theirs)


# ---- DARK-UDP and the in-place refinements -------------------------------------------------
def _decode_maps(seed=6, B=2, K=5, H=32, W=24):
    rng = np.random.default_rng(seed)
    h = _encoded_maps(rng, B, K, H, W, 0.02)
    h[0, 0] = 0.0  # an all-zero map: location -1, which DARK-UDP wraps into map K-1
    h[1, 2] = -h[1, 2]  # a negative map
    return rng, h


@pytest.mark.parametrize('ksize', [3, 11])
def test_decode_dark_udp(ksize):
    _, h = _decode_maps()
    locs, vals = _out((2, 5, 2), np.float32), _out((2, 5), np.float32)
    emu.decode_dark(h, ksize, True, (4.0, 4.0), locs, vals)
    ref_locs, ref_vals = cpp.decode_dark(h, ksize, True, (4.0, 4.0))
    np.testing.assert_allclose(locs, ref_locs, atol=COORD_TOL, rtol=0)
    np.testing.assert_allclose(vals, ref_vals, atol=SCORE_TOL, rtol=0)


@pytest.mark.parametrize('name, args', [('refine_sign', ()), ('refine_dark', (11,)),
                                        ('refine_dark_udp', (11, True)),
                                        ('refine_dark_udp', (5, False))])
def test_refinements_in_place(name, args):
    rng, h = _decode_maps()
    kps = rng.uniform(-3, 33, (2, 3, 5, 2))
    kps[0, 0, 0] = np.nan
    kps[1, 1, 1] = [1e30, 2.0]
    kps[0, 1] = np.floor(kps[0, 1])  # integer locations
    ours, ref = kps.copy(), kps.copy()
    getattr(emu, name)(ours, h, *args)
    getattr(cpp, name)(ref, h, *args)
    assert not np.array_equal(ref, kps, equal_nan=True)  # the step moved something
    np.testing.assert_allclose(ours, ref, atol=COORD_TOL, rtol=0)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))


# ---- Megvii and UDP 'combined' ---------------------------------------------------------------
@pytest.mark.parametrize('ksize', [3, 11, 17])
def test_megvii_encode_and_decode(ksize):
    rng = np.random.default_rng(ksize)
    B, K, H, W = 2, 9, 20, 16
    kps = rng.uniform(-8, 72, (B, 1, K, 2))
    kps[0, 0, :4] = [[0, 0], [63.9, 79.9], [4, 40], [30, 0]]  # corners and borders
    vis = rng.choice([0.0, 1.0], (B, 1, K), p=[0.2, 0.8])
    heat, inside = _out((B, K, H, W), np.float32), _out((B, 1, K), np.uint8)
    emu.encode_megvii(kps, vis, (4.0, 4.0), False, ksize, heat, inside)
    ref_heat, ref_inside = cpp.encode_megvii(kps, vis, (4.0, 4.0), False, W, H, ksize)
    np.testing.assert_allclose(heat, ref_heat, atol=TARGET_TOL, rtol=0)
    np.testing.assert_array_equal(inside, ref_inside)
    maps = (ref_heat + rng.normal(0, 2.0, ref_heat.shape)).astype(np.float32)
    maps[0, 1] = 0.0
    locs, scores = _out((B, K, 2), np.float32), _out((B, K), np.float32)
    emu.decode_megvii(maps, ksize, locs, scores)
    ref_locs, ref_scores = cpp.decode_megvii(maps, ksize)
    np.testing.assert_allclose(locs, ref_locs, atol=COORD_TOL, rtol=0)
    np.testing.assert_allclose(scores, ref_scores, atol=SCORE_TOL, rtol=0)


def test_udp_combined_encode_and_decode():
    rng = np.random.default_rng(7)
    B, N, K, H, W = 2, 3, 4, 20, 16
    kps = rng.uniform(-8, 72, (B, N, K, 2))
    vis = rng.choice([0.0, 1.0], (B, N, K))
    kps[0, 1, 1] = np.nan
    heat, inside = _out((B, 3 * K, H, W), np.float32), _out((B, N, K), np.uint8)
    emu.encode_offset(kps, vis, (4.0, 4.0), False, 0.0546875 * 48, heat, inside)
    ref_heat, ref_inside = cpp.encode_offset(kps, vis, (4.0, 4.0), False, W, H, 0.0546875 * 48)
    np.testing.assert_allclose(heat, ref_heat, atol=TARGET_TOL, rtol=0)
    np.testing.assert_array_equal(inside, ref_inside)
    maps = (ref_heat + rng.normal(0, 0.01, ref_heat.shape)).astype(np.float32)
    maps[0, 0] = 0.0  # a -1 location: MMPose's index wraps into the last offset maps
    locs, scores = _out((B, K, 2), np.float32), _out((B, K), np.float32)
    emu.decode_udp_combined(maps, 11, 2.625, locs, scores)
    ref_locs, ref_scores = cpp.decode_udp_combined(maps, 11, 2.625)
    np.testing.assert_allclose(locs, ref_locs, atol=COORD_TOL, rtol=0)
    np.testing.assert_allclose(scores, ref_scores, atol=SCORE_TOL, rtol=0)


# ---- SimCC ---------------------------------------------------------------------------------
@pytest.mark.parametrize('gaussian, smooth, normalize', [(True, 0.0, False), (True, 0.0, True),
                                                        (False, 0.1, False), (False, 0.0, False)])
def test_simcc_encode(gaussian, smooth, normalize):
    rng = np.random.default_rng(8)
    B, N, K, W, H = 2, 2, 5, 96, 128
    kps = np.stack([adversarial_keypoints(rng, (48, 64), (0.5, 0.5), N, K) for _ in range(B)])
    vis = np.stack([adversarial_visibility(rng, N, K) for _ in range(B)])
    kps[0, 0, 0] = np.nan
    out = (_out((B, N, K, W), np.float32), _out((B, N, K, H), np.float32),
           _out((B, N, K), np.uint8))
    emu.simcc_encode(kps, vis, gaussian, (2.5, 3.0), 2.0, False, smooth, normalize, *out)
    ref = cpp.simcc_encode(kps, vis, gaussian, (2.5, 3.0), 2.0, False, W, H, smooth, normalize)
    np.testing.assert_allclose(out[0], ref[0], atol=TARGET_TOL, rtol=0)
    np.testing.assert_allclose(out[1], ref[1], atol=TARGET_TOL, rtol=0)
    np.testing.assert_array_equal(out[2], ref[2])
    assert out[2].min() == 0 and out[2].max() == 1


def _simcc_rows(seed=9, R=12, Wx=96, Wy=128):
    rng = np.random.default_rng(seed)
    kps = rng.uniform(0, 48, (1, 1, R, 2))
    x, y, _ = cpp.simcc_encode(kps, np.ones((1, 1, R)), True, (2.5, 3.0), 2.0, False, Wx, Wy,
                               0.0, False)
    sx = (x.reshape(R, Wx) + rng.normal(0, 0.03, (R, Wx))).astype(np.float32)
    sy = (y.reshape(R, Wy) + rng.normal(0, 0.03, (R, Wy))).astype(np.float32)
    sx[1] = 0.0                      # ties everywhere, maximum 0: location -1
    sy[2, 7] = np.nan                # NaN: numpy's argmax picks it
    sx[3, 10:20] = sx[3].max() + 1   # a plateau
    return sx, sy


def test_simcc_maximum():
    sx, sy = _simcc_rows()
    locs, vals = _out((12, 2), np.float32), _out(12, np.float32)
    emu.simcc_maximum(sx, sy, locs, vals)
    ref_locs, ref_vals = cpp.simcc_maximum(sx, sy)
    np.testing.assert_array_equal(locs, ref_locs)
    np.testing.assert_array_equal(vals, ref_vals)


@pytest.mark.parametrize('k, visibility', [(0, False), (0, True), (17, False), (17, True)])
def test_simcc_decode(k, visibility):
    sx, sy = _simcc_rows()
    locs, vals = _out((12, 2), np.float32), _out(12, np.float32)
    vis = _out(12 if visibility else 0, np.float64)
    emu.simcc_decode(sx, sy, k, k, 2.0, 150.0, (2.5, 3.0), locs, vals, vis)
    ref_locs, ref_vals, ref_vis = cpp.simcc_decode(sx, sy, k, k, 2.0, visibility, 150.0, (2.5, 3.0))
    np.testing.assert_allclose(locs, ref_locs, atol=COORD_TOL, rtol=0)
    np.testing.assert_allclose(vals, ref_vals, atol=SCORE_TOL, rtol=0)
    np.testing.assert_allclose(vis, ref_vis, atol=SCORE_TOL, rtol=0)
    np.testing.assert_array_equal(np.isnan(locs), np.isnan(ref_locs))


def test_simcc_refine_dark():
    sx, _ = _simcc_rows()
    x = np.argmax(sx, axis=1).astype(np.float32)
    out = _out(x.shape)
    emu.simcc_refine_dark(x, sx, 17, out)
    np.testing.assert_allclose(out, cpp.simcc_refine_dark(x, sx, 17), atol=COORD_TOL, rtol=0)
    assert not np.array_equal(out, x)


# ---- regression ------------------------------------------------------------------------------
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_regression_encode(dtype):
    rng = np.random.default_rng(10)
    kps = rng.uniform(-10, 260, (3, 6, 2)).astype(dtype)
    kps[0, 0] = [191, 255]  # the inclusive edge
    kps[0, 1, 0] = np.nan
    vis = rng.choice([0.0, 0.5, 0.51, 1.0], (3, 6)).astype(dtype)
    labels, weights = _out((3, 6, 2), np.float32), _out((3, 6), np.float32)
    emu.encode_regression(kps, vis, (192, 256), labels, weights)
    ref_labels, ref_weights = cpp.encode_regression(kps, vis, (192, 256), vis.shape)
    np.testing.assert_array_equal(labels, ref_labels)
    np.testing.assert_array_equal(weights, ref_weights)


@pytest.mark.parametrize('D, f32, dtype', [(2, False, np.float32), (4, False, np.float64),
                                           (4, True, np.float64), (4, False, np.float32)])
def test_regression_decode(D, f32, dtype):
    enc = np.random.default_rng(11).random((3, 6, D)).astype(dtype)
    # _calls' flag is the codec's: scores in float32 for D = 2 (the kernels' own rule)
    ref_kps, ref_scores = cpp.decode_regression(enc, (192, 256), f32 or D == 2, enc.shape[:-1])
    kps, scores = _out((3, 6, 2), np.float64), _out((3, 6), ref_scores.dtype)
    emu.decode_regression(enc, (192, 256), f32, kps, scores)
    np.testing.assert_array_equal(kps, ref_kps)
    np.testing.assert_array_equal(scores, ref_scores)


def test_normalize_heatmaps():
    rng = np.random.default_rng(12)
    h = rng.random((2, 3, 200, 13)).astype(np.float32)  # more rows than a block has threads
    h[0, 0] = 0.0
    ref = h.copy()
    emu.normalize_heatmaps(h)
    cpp.normalize_heatmaps(ref)
    np.testing.assert_allclose(h, ref, atol=TARGET_TOL, rtol=1e-6)


@pytest.mark.parametrize('shape, ksize', [((2, 3, 64, 48), 11), ((2, 3, 64, 48), 1),
                                          ((1, 2, 5, 1200), 11), ((1, 2, 5, 1200), 3)])
def test_gaussian_blur(shape, ksize):
    """Both blur paths: shared-memory bands, and per pixel for maps too wide for one."""
    h = np.random.default_rng(13).random(shape, dtype=np.float32)
    h[0, 0] = 0.0
    out = _out(h.shape)
    emu.gaussian_blur(h, ksize, out)
    np.testing.assert_allclose(out, cpp.gaussian_blur(h, ksize), atol=TARGET_TOL, rtol=0)


def test_thread_functions():
    assert emu.num_threads() == 1 and emu.pool_calls() == 0
    emu.set_num_threads(4)
    assert emu.num_threads() == 1


def test_emulator_after_fork():
    """A child of fork() gets a fresh thread pool: no hang on the parent's threads."""
    script = '''
import os, sys
import numpy as np
from fastcodec.backends.cuda import emulator as emu
h = np.random.default_rng(0).random((4, 8, 8), dtype=np.float32)
locs, vals = np.empty((4, 2), np.float32), np.empty(4, np.float32)
emu.heatmap_maximum(h, locs, vals)
pid = os.fork()
if pid == 0:
    child = np.empty_like(locs)
    emu.heatmap_maximum(h, child, np.empty(4, np.float32))
    os._exit(0 if np.array_equal(child, locs) else 3)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
'''
    import sys
    res = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr


@pytest.mark.parametrize('kind', ['msra', 'unbiased', 'udp'])
def test_encode_gaussian_many_instances(kind):
    """More instances than one shared-memory chunk (32) holds: the maximum carries over."""
    rng = np.random.default_rng(14)
    B, N, K, W, H = 1, 45, 2, 24, 20
    kps = rng.uniform(-10, 100, (B, N, K, 2))
    vis = rng.choice([0.0, 1.0], (B, N, K), p=[0.1, 0.9])
    sigma = rng.uniform(0.5, 3.0, (B, N))
    heat, inside = _out((B, K, H, W)), _out((B, N, K), np.uint8)
    emu.encode_gaussian(kind, kps, vis, sigma, (4.0, 4.0), False, heat, inside)
    ref_heat, ref_inside = cpp.encode_gaussian(kind, kps, vis, sigma, (4.0, 4.0), False, W, H)
    np.testing.assert_allclose(heat, ref_heat, atol=TARGET_TOL, rtol=0)
    np.testing.assert_array_equal(inside, ref_inside)


# ---- DecoupledHeatmap (issue 15): instance geometry and sigmas ---------------------------------
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('kpt_center', [True, False])
def test_instance_geometry(dtype, kpt_center):
    """Roots, root visibility and diagonals equal the cpp backend's bit for bit (the
    header's arithmetic is correctly rounded: +, /, sqrt), NaN, Inf, invisible
    keypoints and whole instances included; more instances than a block has threads."""
    rng = np.random.default_rng(15)
    R, K = 300, 17
    kps = rng.uniform(-50, 200, (R, K, 2))
    kind = rng.integers(0, 30, (R, K, 2))
    kps[kind == 0], kps[kind == 1] = np.nan, np.inf
    kps = kps.astype(dtype)
    vis = rng.choice([0.0, 0.3, 1.0, 2.0], (R, K))
    vis[:5] = 0  # instances without a visible keypoint
    out = _out((R, 2)), _out(R), _out(R)
    emu.instance_geometry(kps, vis, kpt_center, *out)
    for got, want in zip(out, cpp.instance_geometry(kps, vis, kpt_center)):
        np.testing.assert_array_equal(got, want)
    assert (out[1][:5] == 0).all() and (out[1][5:] == 1).any()


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_instance_sigmas(dtype):
    """Equal to the cpp backend's on the emulator, which runs the host's libm pow (a
    GPU's pow is within a few ulp: test_instance_sigma_ulps_keep_targets_in_contract)."""
    rng = np.random.default_rng(16)
    size = np.concatenate([rng.uniform(0, 200, (400, 2)), [[0, 0], [0, 5], [np.nan, 1],
                                                           [np.inf, 2]]]).astype(dtype)
    h, w = np.ascontiguousarray(size[:, 0]), np.ascontiguousarray(size[:, 1])
    for overlap in (0.3, 0.7, 0.95):
        got = _out(len(h))
        emu.instance_sigmas(h, w, overlap, got)
        np.testing.assert_array_equal(got, cpp.instance_sigmas(h, w, overlap))


def test_instance_sigma_ulps_keep_targets_in_contract():
    """CUDA's pow/powf are not correctly rounded (up to 2 / 4 ulp, CUDA's math
    documentation), so a GPU's sigmas may differ from libm's in their last bits. Sigmas
    4 ulp away either side give DecoupledHeatmap targets (its sigmas, its keypoints
    drawn with them) within the 1e-5 target contract and the same weights."""
    import fastcodec
    from fastcodec import _calls
    from conftest import host_call
    rng = np.random.default_rng(17)
    B, N, K, W, H = 2, 12, 17, 128, 128
    centres = rng.uniform(10, 118, (B, N, 1, 2))
    kps = centres + rng.normal(0, rng.uniform(1, 15, (B, N, 1, 1)), (B, N, K, 2))
    vis = rng.choice([0.0, 1.0, 1.0, 1.0], (B, N, K))
    spans = kps.max(axis=2) - kps.min(axis=2)
    with fastcodec.use_backend('cpp'):
        sigma = _calls.instance_sigmas(host_call(), np.ascontiguousarray(spans[..., 1].ravel()),
                                       np.ascontiguousarray(spans[..., 0].ravel()), 0.7)
    sigma = sigma.reshape(B, N)
    ref = cpp.encode_gaussian('msra', kps, vis, sigma, (1.0, 1.0), False, W, H)
    for ulps in (-4, 4):
        moved = sigma.copy()
        for _ in range(abs(ulps)):
            moved = np.nextafter(moved, np.float32(np.inf if ulps > 0 else 0), dtype=np.float32)
        assert (moved != sigma).all()
        got = cpp.encode_gaussian('msra', kps, vis, moved, (1.0, 1.0), False, W, H)
        np.testing.assert_allclose(got[0], ref[0], atol=TARGET_TOL, rtol=0)
        np.testing.assert_array_equal(got[1], ref[1])


# ---- SPR (issue 15) -----------------------------------------------------------------------
def _spr_scene(rng, B, N, K, H, W, tie_diagonals=False):
    """Roots and keypoints (heatmap pixels) whose windows overlap: roots in two clusters,
    some outside the map, invisible or non-finite, diagonals with ties (the
    smaller-instance rule compares strictly)."""
    centres = rng.uniform(0, 1, (2, 2)) * [W, H]
    roots = (centres[rng.integers(0, 2, (B, N))] + rng.normal(0, 2, (B, N, 2))).astype(np.float32)
    roots[0, 0] = [-1.0, 3.0]                       # outside the map
    roots[-1, -1] = [W - 0.5, H - 0.25]             # at the far border
    roots_visible = rng.choice([0.0, 1.0, 1.0, 2.0], (B, N)).astype(np.float32)
    diagonals = rng.uniform(2, 40, (B, N)).astype(np.float32)
    if tie_diagonals:
        diagonals = np.round(diagonals / 10).astype(np.float32) * 10 + 5
    kps = roots[:, :, None].astype(np.float64) + rng.normal(0, 6, (B, N, K, 2))
    kps[0, 1, 0] = [np.nan, 2.0]
    vis = rng.choice([0.0, 0.5, 1.0, 1.0, 2.0], (B, N, K))
    return kps, vis, roots, roots_visible, diagonals


@pytest.mark.parametrize('radius, radius_f32', [(2.0, True), (3.3, False), (2.0000001, True),
                                                (2.0000001, False)])
@pytest.mark.parametrize('ties', [False, True])
def test_spr_encode_displacements(radius, radius_f32, ties):
    rng = np.random.default_rng(int(radius * 10) + ties)
    B, N, K, H, W = 3, 7, 5, 20, 24
    args = _spr_scene(rng, B, N, K, H, W, ties)
    disp, wts = np.zeros((B, 2 * K, H, W), np.float32), np.zeros((B, 2 * K, H, W), np.float32)
    emu.spr_encode_displacements(*args, radius, radius_f32, disp, wts)
    ref_disp, ref_wts = cpp.spr_encode_displacements(*args, radius, radius_f32, W, H)
    assert np.count_nonzero(ref_wts) > 100          # the windows overlap and are written
    np.testing.assert_allclose(disp, ref_disp, atol=TARGET_TOL, rtol=0)
    np.testing.assert_array_equal(wts, ref_wts)      # 1 / diagonal, IEEE on every device


def test_spr_encode_displacements_empty_and_bad():
    z = np.zeros
    # no instances, no keypoints, no samples: nothing written or nothing launched
    for B, N, K in ((2, 0, 3), (2, 3, 0), (0, 3, 3)):
        d = z((B, 2 * K, 4, 5), np.float32)
        emu.spr_encode_displacements(z((B, N, K, 2)), z((B, N, K)), z((B, N, 2), np.float32),
                                     z((B, N), np.float32), z((B, N), np.float32), 2.0, True,
                                     d, d.copy())
        assert not d.any()
    with pytest.raises(ValueError, match='roots'):
        emu.spr_encode_displacements(z((1, 2, 3, 2)), z((1, 2, 3)), z((1, 3, 2), np.float32),
                                     z((1, 2), np.float32), z((1, 2), np.float32), 2.0, True,
                                     z((1, 6, 4, 4), np.float32), z((1, 6, 4, 4), np.float32))
    with pytest.raises(ValueError, match='weights'):
        emu.spr_encode_displacements(z((1, 2, 3, 2)), z((1, 2, 3)), z((1, 2, 2), np.float32),
                                     z((1, 2), np.float32), z((1, 2), np.float32), 2.0, True,
                                     z((1, 6, 4, 4), np.float32), z((1, 6, 4, 5), np.float32))


def _spr_maps(rng, kind, B, C, H, W):
    if kind == 'random':
        return rng.uniform(-0.1, 1, (B, C, H, W)).astype(np.float32)
    if kind == 'tied':        # few levels: equal NMS peaks, ordered as torch's CPU top-k
        return (rng.integers(0, 3, (B, C, H, W)) / 2).astype(np.float32)
    if kind == 'zero':        # every pixel ties (a negative threshold keeps them all)
        return np.zeros((B, C, H, W), np.float32)
    if kind == 'special':     # NaN wins the max-pool and the top-k; +-inf, -0
        h = rng.uniform(0, 1, (B, C, H, W)).astype(np.float32)
        flat = h.reshape(-1)
        idx = rng.choice(flat.size, 12, replace=False)
        flat[idx[:4]], flat[idx[4:8]], flat[idx[8:10]], flat[idx[10:]] = np.nan, np.inf, -np.inf, -0.0
        return h
    return -rng.uniform(0.1, 1, (B, C, H, W)).astype(np.float32)   # negative


def _check_spr_decode(heat, disp, nms, M, thr, rescore, scale=(4.0, 3.0)):
    B, C, H, W = heat.shape
    K = disp.shape[1] // 2
    kps, roots = _out((B, M, K, 2)), _out((B, M))
    scores, counts = _out((B, M, K if rescore else 0)), np.full(B, -7, np.int64)
    emu.spr_decode(heat, disp, nms, thr, scale, kps, roots, scores, counts)
    ref = cpp.spr_decode(heat, disp, nms, M, thr, rescore, scale)
    np.testing.assert_array_equal(counts, ref[3])
    for b, n in enumerate(counts):
        # the same candidates in the same order: root scores are copied values
        np.testing.assert_array_equal(roots[b, :n], ref[1][b, :n])
        np.testing.assert_allclose(kps[b, :n], ref[0][b, :n], atol=COORD_TOL, rtol=0)
        np.testing.assert_allclose(scores[b, :n], ref[2][b, :n], atol=SCORE_TOL, rtol=0)
    return counts


@pytest.mark.parametrize('kind', ['random', 'tied', 'zero', 'special', 'negative'])
@pytest.mark.parametrize('H, W, M, nms, thr', [
    (64, 64, 30, 5, 0.01),     # torch's partial_sort path (M * 64 <= H * W)
    (64, 48, 20, 1, -1.0),     # ... keeping suppressed zeros: ties everywhere
    (16, 16, 30, 3, -1.0),     # nth_element + sort
    (12, 10, 120, 7, -5.0),    # every pixel a candidate
    (9, 7, 0, 3, 0.0),         # no candidates
])
def test_spr_decode(kind, H, W, M, nms, thr):
    rng = np.random.default_rng(H * W + M + nms)
    B, K = 3, 4
    rescore = M % 20 == 0
    heat = _spr_maps(rng, kind, B, K + 1 if rescore else 1, H, W)
    disp = rng.normal(0, 4, (B, 2 * K, H, W)).astype(np.float32)
    disp[0, 0, :2] = np.nan
    counts = _check_spr_decode(heat, disp, nms, M, thr, rescore)
    if thr < 0 and M and kind != 'special':
        assert (counts == M).all()     # every candidate kept: the whole order compared


def test_spr_decode_long_runs_of_ties_on_the_heap_path():
    """A map of one value with a few higher peaks, 128 x 128 as a DEKR head's: the
    heap path's ballots offer whole warps of equal values."""
    rng = np.random.default_rng(21)
    heat = np.full((2, 1, 128, 128), 0.25, np.float32)
    heat[:, 0, rng.integers(0, 128, 40), rng.integers(0, 128, 40)] = 0.5
    disp = rng.normal(0, 4, (2, 34, 128, 128)).astype(np.float32)
    for nms, thr in ((1, 0.0), (5, 0.3), (3, -1.0)):
        _check_spr_decode(heat, disp, nms, 30, thr, False)


def test_spr_decode_bad_arguments():
    h, d = np.zeros((1, 2, 8, 8), np.float32), np.zeros((1, 4, 8, 8), np.float32)
    outs = (_out((1, 5, 2, 2)), _out((1, 5)), _out((1, 5, 2)), np.zeros(1, np.int64))
    with pytest.raises(ValueError, match='K \\+ 1'):
        emu.spr_decode(h, d, 3, 0.1, (1.0, 1.0), *outs)
    with pytest.raises(ValueError, match='odd'):
        emu.spr_decode(h[:, :1], d, 4, 0.1, (1.0, 1.0), outs[0], outs[1], _out((1, 5, 0)), outs[3])
    with pytest.raises(ValueError, match='H \\* W'):
        emu.spr_decode(np.zeros((1, 1, 2, 2), np.float32), np.zeros((1, 4, 2, 2), np.float32),
                       3, 0.1, (1.0, 1.0), outs[0], outs[1], _out((1, 5, 0)), outs[3])
    with pytest.raises(TypeError, match='int64'):
        emu.spr_decode(h[:, :1], d, 3, 0.1, (1.0, 1.0), outs[0], outs[1], _out((1, 5, 0)),
                       np.zeros(1, np.int32))


# ---- lifting (issue 15): motionbert_encode -----------------------------------------------
def _lifting_inputs(rng, kdt, ldt, project, train, B=3, N=4, T=4, K=6):
    """Adversarial motionbert_encode arguments: NaN / Inf / zero / huge coordinates, a
    zero root depth, visibility on the NaN and 0.5 edges, per-sample params, factors
    per frame with some samples taking the computed factor."""
    D = 3 if rng.random() < 0.5 else 2
    C = 3 if project or train else 2
    kps = rng.normal(500, 600, (B, N, K, D))
    target = rng.normal(0, 300, (B, T, K, C))
    target[..., -1] += rng.uniform(3000, 6000, (B, T, 1))
    for x in (kps, target):
        kind = rng.integers(0, 30, x.shape)
        x[kind == 0], x[kind == 1], x[kind == 2], x[kind == 3] = np.nan, np.inf, 0.0, 1e30
    target[0, 0, :, -1] = 0.0                                  # zero depth: 0 / 0, x / 0
    w, h = rng.integers(200, 1500, B).astype(np.float64), rng.integers(200, 1500, B)
    params = np.stack([w / 2, h / w, w / 2000, h / w, *rng.uniform(0.5, 1.5, (2, B)),
                       *rng.uniform(0.2, 0.8, (2, B))], 1)
    L = T if rng.random() < 0.5 else 1
    factor = rng.uniform(0.5, 4, (B, L))
    factor[0] = np.float32(factor[0])                         # a factor exact in float32
    take = rng.integers(0, 2, B).astype(np.uint8)
    vis = rng.choice([0.0, 0.5, 1.0, np.nan], (B, N, K)).astype(kdt)
    tvis = rng.choice([0.0, 0.49, 0.5, 0.51, 1.0, np.nan], (B, T, K))
    return (kps.astype(kdt), vis, target.astype(ldt), params, factor, take, 1, project, train,
            tvis.astype(rng.choice([np.float32, np.float64])))


@pytest.mark.parametrize('kdt, ldt', [(np.float32, np.float32), (np.float64, np.float64),
                                      (np.float32, np.float64), (np.float64, np.float32)],
                         ids=['f32', 'f64', 'f32-f64', 'f64-f32'])
@pytest.mark.parametrize('project, train', [(True, True), (True, False), (False, True),
                                            (False, False)], ids=['proj-train', 'proj-test',
                                                                  'train', 'test'])
def test_motionbert_encode(kdt, ldt, project, train):
    """Bit-identical to cpp on the emulator (the contract asks for 1e-5: the same
    IEEE steps in the same order, no transcendental function)."""
    rng = np.random.default_rng(zlib.crc32(repr((kdt, ldt, project, train)).encode()))
    args = _lifting_inputs(rng, kdt, ldt, project, train)
    kps, vis, target = args[:3]
    B, N, K, D = kps.shape
    T, C = target.shape[1], target.shape[3]
    for visible, target_visible in ((vis, args[9]), (None, None)):
        ref = cpp.motionbert_encode(kps, visible, *args[2:9], target_visible)[:4]
        out = (_out((B, N, K, D + (visible is not None)), kdt), _out((B, T, K, C), ldt),
               _out((B, T if project else 0), ldt),
               None if target_visible is None else _out((B, T, K), np.float32))
        assert emu.motionbert_encode(kps, visible, *args[2:9], target_visible, *out) is None
        for got, want in zip(out, ref):
            if want is None:
                assert got is None
                continue
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_allclose(got, want, atol=TARGET_TOL, rtol=0)
            np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))
    assert np.isnan(ref[1]).any() and np.isfinite(ref[1]).any()  # the adversarial cases


def test_motionbert_encode_empty_and_bad_arguments():
    rng = np.random.default_rng(15)
    args = list(_lifting_inputs(rng, np.float32, np.float32, True, False))
    kps, vis, target = args[:3]
    B, N, K, D = kps.shape
    T = target.shape[1]

    def outputs(n=N, dt=np.float32):
        return [_out((B, n, K, D + 1), dt), _out(target.shape, np.float32), _out((B, T)),
                _out((B, T, K))]
    # no frames and no instances: nothing to launch, nothing written
    empty = outputs(0)
    emu.motionbert_encode(kps[:, :0], vis[:, :0], *args[2:], *empty)
    with pytest.raises(TypeError, match='float32 or float64'):
        emu.motionbert_encode(kps.astype(np.int32), vis, *args[2:], *outputs())
    with pytest.raises(TypeError, match='visible'):
        emu.motionbert_encode(kps, vis.astype(np.float64), *args[2:], *outputs())
    with pytest.raises(ValueError, match='root_index'):
        emu.motionbert_encode(*args[:6], K, *args[7:], *outputs())
    with pytest.raises(ValueError, match='C = 3'):
        emu.motionbert_encode(kps, vis, np.ascontiguousarray(target[..., :2]), *args[3:],
                              *outputs())
    with pytest.raises(ValueError, match='factor'):
        emu.motionbert_encode(*args[:4], np.ones((B, T + 1)), *args[5:], *outputs())
    with pytest.raises(ValueError, match='weights'):
        emu.motionbert_encode(*args, *outputs()[:3], None)
    with pytest.raises(ValueError, match='labels'):
        emu.motionbert_encode(*args, *outputs(N + 1))
    with pytest.raises(ValueError, match='C-contiguous'):
        emu.motionbert_encode(np.asfortranarray(kps), vis, *args[2:], *outputs())


# ---- Hand3DHeatmap (issue 16) ----------------------------------------------------------------
def test_hand3d_volumes_beyond_the_shared_memory_budget_are_refused():
    """Each window's voxel lists take 16 bytes per voxel of W + H + D in shared memory:
    the launch refuses volumes whose lists would not fit, before launching."""
    kps = np.zeros((1, 1, 1, 3))
    sigma = np.full((1, 1), 2.0)
    inside = np.empty((1, 1, 1), np.uint8)
    W = launch.SHARED_LIMIT // 16 - 16  # W + H + D one voxel over the budget
    heat = np.zeros((1, 1, 8, 9, W), np.float32)
    with pytest.raises(ValueError, match='shared memory'):
        emu.hand3d_encode(kps, sigma, True, (64.0, 64.0), 400.0, 1.0, heat, inside)
    heat = np.zeros((1, 1, 8, 8, W), np.float32)  # exactly the budget: runs
    emu.hand3d_encode(kps, sigma, True, (64.0, 64.0), 400.0, 1.0, heat, inside)
    assert heat.any()


# ---- AssociativeEmbedding (issue 16) ---------------------------------------------------------
def _ae_inputs(rng, B=3, K=5, L=2, H=12, W=14):
    heat = rng.uniform(0, 1, (B, K, H, W)).astype(np.float32)
    tags = np.round(rng.normal(0, 2, (B, L * K, H, W))).astype(np.float32)
    return heat, tags, rng.permutation(K).astype(np.int64)


def _ae_outputs(B, G, K):
    return (_out((B, G, K, 2)), _out((B, G, K)), _out((B, G)),
            np.full(B, -7, np.int64))


def test_ae_scratch_size_matches_the_kernel():
    """launch.ae_scratch_bytes allocates what fc_ae_group lays out (its own count, in
    associative_embedding.cu, is what the kernel checks the given size against)."""
    for K, L, M in ((1, 1, 1), (17, 1, 30), (17, 2, 20), (3, 4, 7), (2, 1, 16384), (0, 0, 5)):
        assert launch.ae_scratch_bytes(K, L, M) == _cuda_emulator.ae_scratch_bytes(K, L, M)


def _ae_call(heat, tags, order, M, udp=False):
    """ae_decode's arguments up to its outputs: top-M, NMS 3, thresholds 0.2 / 1.0."""
    return (heat, tags, order, 3, M, 0.2, 1.0, np.iinfo(np.int64).max, udp, 3, 0.25,
            (4.0, 4.0))


@pytest.mark.parametrize('udp', [False, True])
def test_ae_decode_in_chunks_of_images(monkeypatch, udp):
    """Grouping scratch beyond AE_SCRATCH_PER_LAUNCH: the images go in several launches
    (here one each), with the same results as the cpp backend."""
    heat, tags, order = _ae_inputs(np.random.default_rng(31))
    B, K = heat.shape[:2]
    M, G = 6, 5 * 6
    monkeypatch.setattr(launch, 'AE_SCRATCH_PER_LAUNCH', launch.ae_scratch_bytes(K, 2, M) + 1)
    got, want = _ae_outputs(B, G, K), _ae_outputs(B, G, K)
    emu.ae_decode(*_ae_call(heat, tags, order, M, udp), *got)
    cpp_backend.ae_decode(*_ae_call(heat, tags, order, M, udp), *want)
    assert (want[3] > 0).all()
    for b, n in enumerate(want[3]):
        assert got[3][b] == n
        for g, w in zip(got[:3], want[:3]):
            np.testing.assert_array_equal(g[b, :n], w[b, :n])
            assert not g[b, n:].any()   # the rows after the instances are zeros


def test_ae_group_refuses_a_short_scratch():
    """fc_ae_group checks the scratch it is given against its layout: one 16-byte step short,
    each image's count is -1 and nothing else is written."""
    heat, tags, order = _ae_inputs(np.random.default_rng(32), B=2)
    B, K, H, W = heat.shape
    M, G = 4, 20
    vals = np.sort(np.random.default_rng(1).uniform(0, 1, (B, K, M)).astype(np.float32))[..., ::-1]
    idx = np.tile(np.arange(M, dtype=np.int64), (B, K, 1))
    need = launch.ae_scratch_bytes(K, 2, M)
    for size, refused in ((need - 16, True), (need, False)):
        kps, scores, inst, counts = _ae_outputs(B, G, K)
        _cuda_emulator.launch('fc_ae_group', (B,), (128,), 0, (
            heat, tags, order, np.empty(0, np.float32), np.ascontiguousarray(vals), idx, B, K, 2,
            H, W, M, 0.2, 1.0, 2**63 - 1, 0, 0.0, 1.0, 1.0, G, np.zeros(B * size, np.uint8), size,
            kps, scores, inst, counts))
        assert (counts == -1).all() == refused and (counts >= 0).all() != refused
        assert np.isnan(kps).all() == refused


def test_ae_decode_refuses_bad_arguments():
    heat, tags, order = _ae_inputs(np.random.default_rng(33), B=1)
    B, K, H, W = heat.shape
    outs = _ae_outputs(B, 4, K)
    with pytest.raises(ValueError, match='topk'):
        emu.ae_decode(*_ae_call(heat, tags, order, H * W + 1), *outs)
    with pytest.raises(ValueError, match='channels'):
        emu.ae_decode(*_ae_call(heat, tags[:, :7], order, 4), *outs)
    with pytest.raises(ValueError, match='order'):
        emu.ae_decode(*_ae_call(heat, tags, order[:3], 4), *outs)
    with pytest.raises(ValueError, match='scores'):
        emu.ae_decode(*_ae_call(heat, tags, order, 4), *outs[:1], _out((B, 3, K)), *outs[2:])
    for bad in (K, -1, 10**9):   # order entries the kernel checks itself (device values)
        wrong = order.copy()
        wrong[2] = bad
        kps, scores, inst, counts = _ae_outputs(B, 4, K)
        emu.ae_decode(*_ae_call(heat, tags, wrong, 4), kps, scores, inst, counts)
        assert (counts == -1).all() and not kps.any() and not inst.any()
    with pytest.raises(ValueError, match='GiB'):   # a top-k whose worst case cannot be held
        emu.ae_decode(*_ae_call(np.zeros((1, 17, 128, 128), np.float32),
                                np.zeros((1, 17, 128, 128), np.float32), np.arange(17), 4096),
                      *_ae_outputs(1, 4, 17))
