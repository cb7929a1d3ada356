"""Each FC_HD function of csrc/include/fastcodec against its Numba mirror of the same name.

The C++ side is ``fastcodec._C._headers`` (csrc/cpu/header_functions_module.cpp, for
tests only); the Numba side is the function of the same name in the backend module
docs/design.md assigns to the header. Results must be bit-identical (any NaN equals any
NaN; -0 and +0 differ), on random inputs and on the edges: ties, boundaries, NaN, Inf,
denormals. A header function without a wrapper and a mirror fails
test_every_header_function_has_a_mirror.
"""
import importlib
import itertools
import math
import pathlib
import re

import numpy as np
import pytest

C = pytest.importorskip('fastcodec._C', reason='the C++ extension is not built')
H = C._headers

ROOT = pathlib.Path(__file__).resolve().parents[2]
HEADER_DIR = ROOT / 'csrc' / 'include' / 'fastcodec'

# header -> the Numba backend module holding its mirrors (the table in docs/design.md)
HEADER_MODULE = {
    'common.h': 'common', 'argmax.h': 'common', 'heatmap_targets.h': 'heatmap',
    'refine.h': 'heatmap', 'regression.h': 'regression', 'blur.h': 'blur',
    'simcc.h': 'simcc', 'instances.h': 'instances', 'lifting.h': 'lifting', 'spr.h': 'spr',
    'hand3d.h': 'hand3d', 'associative_embedding.h': 'associative_embedding',
}

# Header functions whose mirror lives in the Python front rather than the Numba
# backend (computed once per codec, not per element).
MIRROR_ELSEWHERE = {'simcc_dark_kernel_size': 'fastcodec.codecs.simcc_label'}

# Mirrors that are plain Python (computed once per call, cached), not jitted.
NOT_JITTED = {'opencv_gaussian_kernel'}

_FC_HD = re.compile(r'FC_HD\s+(?:[\w:]+\s*[\*&]?\s+)+?(\w+)\s*\(')


def header_functions():
    """{name: header} of every FC_HD function declared in csrc/include/fastcodec."""
    found = {}
    for path in sorted(HEADER_DIR.glob('*.h')):
        for name in _FC_HD.findall(path.read_text()):
            found.setdefault(name, path.name)
    return found


def wrapped_functions():
    return {n.split('__')[0] for n in dir(H) if not n.startswith('_')}


def mirror_module(name):
    return importlib.import_module(MIRROR_ELSEWHERE.get(name) or (
        'fastcodec.backends.numba.' + HEADER_MODULE[header_functions()[name]]))


def mirror(name):
    return getattr(mirror_module(name), name)


def test_parser_finds_the_known_functions():
    found = header_functions()
    assert {'trunc_i64', 'dark_step', 'unbiased_factor', 'spr_sort', 'instance_sigma',
            'opencv_row_sum', 'motionbert_project'} <= set(found)
    assert len(found) > 90
    assert set(HEADER_MODULE) == {p.name for p in HEADER_DIR.glob('*.h')}


def test_every_header_function_has_a_mirror():
    found = set(header_functions())
    wrapped = wrapped_functions()
    assert wrapped == found, (
        f'not wrapped in _C._headers: {sorted(found - wrapped)}; '
        f'wrapped but not a header function: {sorted(wrapped - found)}')
    missing = [n for n in found - set(MIRROR_ELSEWHERE) - NOT_JITTED
               if not hasattr(mirror(n), 'py_func')]
    assert not missing, f'no jitted Numba mirror of the same name: {missing}'


def test_every_header_function_is_compared():
    """Each header function appears in a comparison below (check / check_inplace, or
    called by name where the arguments need building)."""
    src = pathlib.Path(__file__).read_text()
    compared = set(re.findall(r"check(?:_inplace)?\(\s*'([a-z0-9_]+?)(?:__f32|__f64)?'", src))
    compared |= set(re.findall(r"(?:H\.|mirror\(')([a-z0-9_]+)", src))
    missing = sorted(set(header_functions()) - compared)
    assert not missing, f'header functions without a comparison: {missing}'


# ---- comparison -----------------------------------------------------------------------

def _flat(v):
    if isinstance(v, tuple):
        return [x for item in v for x in _flat(item)]
    if isinstance(v, np.ndarray):
        return list(v.ravel())
    return [v]


def _same(a, b):
    """Bit-identical scalars (bool and int by value; floats by their float64 bits, any
    NaN equal to any NaN)."""
    if isinstance(a, (bool, np.bool_)) or isinstance(b, (bool, np.bool_)):
        return bool(a) == bool(b) and isinstance(a, (bool, np.bool_)) == isinstance(b, (bool, np.bool_))
    fa, fb = np.float64(a), np.float64(b)
    if math.isnan(fa) or math.isnan(fb):
        return math.isnan(fa) and math.isnan(fb)
    return fa.tobytes() == fb.tobytes()


def check(name, cases, numba_name=None, cast=None):
    """Call _C._headers.<name> and the Numba mirror on every argument tuple; cast(args)
    gives the Numba arguments where they need a dtype (float32 for a float template)."""
    cpp = getattr(H, name)
    nb = mirror(numba_name or name.split('__')[0])
    n = 0
    for args in cases:
        want = _flat(cpp(*args))
        got = _flat(nb(*(cast(args) if cast else args)))
        assert len(want) == len(got), (name, args, want, got)
        assert all(_same(w, g) for w, g in zip(want, got)), (name, args, want, got)
        n += 1
    assert n > 0


RNG = np.random.default_rng(20261205)
F32_EDGES = [0.0, -0.0, 0.5, -0.5, 1.0, 1.5, 2.5, -1.5, 3.4028234663852886e+38,
             1.401298464324817e-45, 1.1754942106924411e-38, math.inf, -math.inf, math.nan,
             1e-10, 1e-3, 50.0, 1099511627775.9998, 1099511627776.0, -1099511627776.0]
F64_EDGES = F32_EDGES + [5e-324, 2.2250738585072014e-308, 1e300, 0.49999999999999994,
                         4503599627370495.5, 1099511627775.5]


def f32s(n=40):
    r = list((RNG.standard_normal(n) * RNG.choice([1, 10, 1000], n)).astype(np.float32))
    return [float(v) for v in r] + F32_EDGES


def f64s(n=40):
    return [float(v) for v in RNG.standard_normal(n) * RNG.choice([1, 10, 1000], n)] + F64_EDGES


def ints(lo=-5, hi=70, n=12):
    return [int(v) for v in RNG.integers(lo, hi, n)] + [lo, hi, 0, 1, -1]


def f32(v):
    return np.float32(v)


# ---- common.h / argmax.h ----------------------------------------------------------------

def test_common():
    check('trunc_i64', [(v,) for v in f64s() if math.isfinite(v) and abs(v) < 2 ** 62])
    check('coord_is_usable', [(v,) for v in f64s()])
    for f in (True, False):
        check('scale_coord', [(v, s, f) for v in f64s(15) for s in [1.0, 4.0, 0.3, 3.0, 1e-40]],
              cast=lambda a: (a[0], f32(a[1]), a[2]))
        check('round_half_up', [(v,) + (f,) for v in f64s()
                                if math.isfinite(v) and abs(v) < 2 ** 40])
    check('min_i64', [(a, b) for a in ints() for b in ints()])
    check('max_i64', [(a, b) for a in ints() for b in ints()])
    check('sign_f32', [(v,) for v in f32s()], cast=lambda a: (f32(a[0]),))
    check('sign_of_difference', [(a, b) for a in f32s(6) for b in f32s(6)],
          cast=lambda a: (f32(a[0]), f32(a[1])))
    check('fc_exp__f32', [(v,) for v in f32s() + [-87.0, -88.0, -103.5, 88.7, 89.0]],
          cast=lambda a: (f32(a[0]),))
    check('fc_exp__f64', [(v,) for v in f64s()])


def test_argmax():
    arrays = [RNG.standard_normal(n).astype(np.float32) for n in (1, 2, 7, 33)]
    arrays += [np.array(v, np.float32) for v in
               ([1, 3, 3, 2], [0, 0, 0], [np.nan, 1], [1, np.nan, 5, np.nan], [-np.inf, -1],
                [-2, -1, -1], [1e-45, 0, 1e-45])]
    for a in arrays:
        want = H.first_argmax(a)
        got = mirror('first_argmax')(a, 0, a.size)
        assert _same(want[0], got[0]) and _same(want[1], got[1]), (a, want, got)
    check('maximum_location', [(i, v, w) for i in (0, 5, 47, 48, 3071) for v in
                               (-1.0, 0.0, -0.0, 1e-45, 0.5, math.nan) for w in (1, 48)],
          cast=lambda a: (a[0], f32(a[1]), a[2]))


# ---- heatmap_targets.h ------------------------------------------------------------------

def test_heatmap_targets():
    scales = [1.0, 4.0, 0.25, 3.0, 1e-40]
    pts = [(x, y, s, f) for x, y in zip(f64s(20), reversed(f64s(20))) for s in scales
           for f in (True, False)]
    check('scaled_point', [(x, y, s, s * 2, f) for x, y, s, f in pts],
          cast=lambda a: (a[0], a[1], f32(a[2]), f32(a[3]), a[4]))
    check('point_to_draw', [(x, y, v, s, s, f) for (x, y, s, f), v in
                            zip(pts, itertools.cycle([1.0, 0.5, 0.4999, 0.0, math.nan, -1.0]))],
          cast=lambda a: (a[0], a[1], a[2], f32(a[3]), f32(a[4]), a[5]))
    sigmas = [0.0, 0.5, 1.0, 2.0, 2.1, 1 / 3, 0.1, 6.0, 1e4, 2.25]
    check('patch_geometry', [(s,) for s in sigmas])
    check('patch_geometry_f32', [(s,) for s in sigmas], cast=lambda a: (f32(a[0]),))
    check('patch_window', [(x, y, f, r) for x in [-3.5, -0.5, 0.49, 0.5, 10.7, 47.5, 2.5]
                           for y in [0.0, 63.5, -7.2] for f in (True, False)
                           for r in [0.0, 3.0, 6.3, 7.5]])
    check('patch_misses', [(0, 0, l, t, l + 7, t + 7, 48, 64) for l in (-8, -7, -1, 0, 47, 48)
                           for t in (-8, -7, 0, 63, 64)],
          numba_name='patch_misses', cast=lambda a: a[2:])
    check('msra_patch_value', [(gx, gy, c, s2) for gx in range(0, 13, 3) for gy in (0, 6, 12)
                               for c in (6.0, 0.0) for s2 in (8.0, 0.0, 0.5, 1e-3)],
          cast=lambda a: (a[0], a[1], f32(a[2]), f32(a[3])))
    check('udp_patch_factor', [(g, 6.0, p, round(p), s2) for g in (0, 5, 6, 12)
                               for p in (2.3, 2.5, -0.49, 17.9) for s2 in (8.0, 0.5, 0.0)])
    for T, sfx in ((np.float32, '__f32'), (np.float64, '__f64')):
        check('unbiased_misses' + sfx,
              [(x, y, r, 48, 64) for x in (-7.0, -6.5, 47.9, 48.0, 10.0) for y in (-6.0, 64.0, 3.0)
               for r in (0.0, 6.0, 6.5)],
              cast=lambda a, T=T: (T(a[0]), T(a[1]), T(a[2]), a[3], a[4]))
        check('unbiased_factor' + sfx,
              [(x, mu, s2) for x in (0, 3, 40) for mu in (3.25, 0.0, -20.5, 40.0)
               for s2 in (8.0, 0.5, 1e-3, 0.0)],
              cast=lambda a, T=T: (a[0], T(a[1]), T(a[2])))
    check('offset_along', [(x, mu, r) for x in (0, 5, 47) for mu in (5.0, 4.99, -1.5, math.nan)
                           for r in (1.0, 3.5, 0.0)])
    check('offset_label', [(ox, oy) for ox in (0.0, 0.6, 0.8, 1.0, -1.0, math.nan)
                           for oy in (0.0, 0.36, 0.64, 1.0, 2.0)])
    check('reflect101', [(p, n) for p in range(-30, 31, 3) for n in (1, 2, 5, 13)])
    check('megvii_impulse_pixel', [(x, y, 48, 64) for x in (-0.5, -1.0, 0.0, 47.99, 48.0, 3.7)
                                   for y in (-0.99, 63.9, 64.0)])
    check('megvii_impulse_tap', [(p, n, k) for p in range(-12, 14, 2) for n in (1, 5, 13)
                                 for k in (0, 2, 4)])
    check('megvii_normalize', [(v, c) for v in f32s(8) for c in (1.0, 0.159, 1e-40, 0.0)],
          cast=lambda a: (f32(a[0]), f32(a[1])))


# ---- refine.h ---------------------------------------------------------------------------

def test_refine():
    check('keypoint_pixel', [(x, y) for x, y in zip(f64s(), reversed(f64s()))])
    W, Hh = 7, 6
    maps = [RNG.random(W * Hh).astype(np.float32),
            np.round(RNG.random(W * Hh) * 2).astype(np.float32),  # ties
            np.where(RNG.random(W * Hh) < 0.3, np.nan, 1.0).astype(np.float32),
            np.full(W * Hh, 1e-45, np.float32)]
    for m in maps:
        check('sign_step', [(m, 0, W, Hh, x, y) for x in range(W) for y in range(Hh)])
        check('megvii_shift', [tuple(float(v) for v in m[i:i + 4]) for i in range(0, 36, 4)],
              cast=lambda a: tuple(f32(v) for v in a))
    check('megvii_applies', [(W, Hh, x, y) for x in range(-1, W + 1) for y in range(-1, Hh + 1)])
    check('dark_applies', [(W, Hh, x, y) for x in range(-1, W + 1) for y in range(-1, Hh + 1)])
    check('megvii_score', [(v,) for v in f32s()], cast=lambda a: (f32(a[0]),))
    check('dark_log', [(v,) for v in f32s()], cast=lambda a: (f32(a[0]),))
    check('dark_udp_log', [(v,) for v in f32s()], cast=lambda a: (f32(a[0]),))
    W, Hh = 9, 8
    logmaps = [RNG.random(W * Hh).astype(np.float32) * 3,
               np.exp(-((np.arange(W * Hh) % W - 4.2) ** 2 + (np.arange(W * Hh) // W - 3.7) ** 2)
                      / 4).astype(np.float32),
               np.ones(W * Hh, np.float32),  # singular: no step
               np.where(RNG.random(W * Hh) < 0.2, 0, RNG.random(W * Hh)).astype(np.float32)]
    for m in logmaps:
        for s in (1.0, 0.7, 1e-12):
            check('dark_step', [(m, y * W + x, W, f32(s), W, Hh, x, y)
                                for x in range(2, W - 2) for y in range(2, Hh - 2)]
                  + [(m, 2 * W + 2, W, f32(s), W, Hh, 1, 2), (m, 3 * W + 3, W, f32(s), 5, 5, 3, 3)])
    for f in (True, False):
        check('dark_udp_centre', [(x, y, k, 48, 64, f) for x in (-1.0, 0.0, 13.6, 47.0, 3.99999)
                                  for y in (-1.0, 0.0, 63.0, 20.5) for k in (0, 1, 16)])
    check('dark_udp_neighbour', [(c, j, K, 5, 4) for c in (-43, -42, -41, -1, 0, 7, 41, 83, 84)
                                 for j in range(7) for K in (1, 2)])
    check('udp_combined_index', [(x, y, k, 48, 64, 17) for x in (-1.0, 0.0, 3.0, 47.0)
                                 for y in (-1.0, 0.0, 63.0) for k in (0, 1, 16)]
          + [(-1.0, -1.0, 0, 3, 1, 1)],
          cast=lambda a: (f32(a[0]), f32(a[1])) + a[2:])
    vals = [RNG.standard_normal(7).astype(np.float32) for _ in range(30)]
    vals += [np.zeros(7, np.float32), np.full(7, np.nan, np.float32),
             np.array([1, 1, 1, 1, 1, 1, 1], np.float32) * 2, np.array([0, 1, 0, 0, 0, 1, 0], np.float32)]
    check('dark_udp_step', [(v,) for v in vals])


# ---- regression.h -----------------------------------------------------------------------

def test_regression():
    sizes = [192.0, 256.0, 1.0, 0.0]
    check('regression_label', [(v, s) for v in f64s(10) for s in sizes])
    box = [(x, y, 192.0, 256.0) for x in (-0.0, 0.0, 191.0, 191.0000001, math.nan, -1e-300)
           for y in (0.0, 255.0, 255.5, math.inf)]
    check('regression_inside', box)
    check('regression_weight', [(x, y, v, w, h) for x, y, w, h in box
                                for v in (0.5, 0.5000001, 1.0, math.nan)])
    check('regression_coord', [(v, s) for v in f64s(10) for s in sizes])
    check('sigma_score__f32', [(a, b) for a in f32s(5) for b in f32s(5)],
          cast=lambda a: (f32(a[0]), f32(a[1])))
    check('sigma_score__f64', [(a, b) for a in f64s(5) for b in f64s(5)])
    check('heatmap_normalizer', [(v,) for v in f64s()])
    check('normalized_value', [(a, b) for a in f32s(6) for b in f32s(6)],
          cast=lambda a: (f32(a[0]), f32(a[1])))
    check('regression_labels_finite', [(a, b) for a in f32s(6) for b in f32s(6)],
          cast=lambda a: (f32(a[0]), f32(a[1])))


# ---- simcc.h ----------------------------------------------------------------------------

def test_simcc():
    for f in (True, False):
        check('simcc_bin', [(v, r, r, f) for v in f64s(20) if math.isfinite(v) and abs(v) < 1e12
                            for r in (2.0, 2.5, 1.0, 0.3)] + [(0.25, 2.0, 2.0, f), (1.25, 2.0, 2.0, f)],
              cast=lambda a: (a[0], f32(a[1]), a[2], a[3]))
    check('simcc_keypoint_drawn', [(v,) for v in (0.5, 0.4999, 0.0, math.nan, -1.0, 2.0)])
    check('simcc_smoothing', [(w, n) for w in (0.0, 0.1, 0.3, 1 / 3) for n in (1, 2, 192, 384)])
    check('simcc_onehot_peak', [(w,) for w in (0.0, 0.1, 0.3, 1 / 3, 1.0)])
    check('simcc_onehot_inside', [(x, y, 384, 512) for x in (-1, 0, 383, 384) for y in (-1, 0, 511, 512)])
    check('simcc_location', [(b, r) for b in f32s(10) + [-1.0, 383.0] for r in (2.0, 2.5, 3.0, 1.0)],
          cast=lambda a: (f32(a[0]), a[1]))
    check('simcc_visibility', [(a, b) for a in f64s(4) for b in f64s(4)])
    check('simcc_gaussian_label', [(i, mu, s, nz) for i in (0, 3, 17, 100) for mu in (0, 5, 17)
                                   for s in (0.1, 5.66, 6.0, 0.5) for nz in (True, False)])
    check('simcc_gaussian_inside', [(mu, s, W) for mu in (-20, -19, -18, 0, 383, 384, 400, 402)
                                    for s in (6.0, 5.66) for W in (384,)])
    for p in ([10.2, 20.7, 5.5], [-30.0, 1.0, 1.0], [1.0, 1.0, 300.0], [np.nan, 1.0, 1.0],
              [1.0, np.inf, 1.0], [1.0, 1.0, 1e30], [0.25, 1.25, -17.0], [191.9, 255.4, 95.6]):
        for f, r in ((True, 2.0), (False, 2.0), (False, 1.5)):
            args = (np.array(p), f32(r), r, f, np.array([6.0, 6.93, 6.0]),
                    np.array([384, 512, 192], np.int64))
            mu = np.zeros(3, np.int64)
            ok = mirror('simcc3d_bins')(*args, mu)
            _same_out('simcc3d_bins', args, H.simcc3d_bins(*args), ok, mu)
    check('simcc_pair_maximum', [(3, a, 7, b) for a in (0.5, 0.2, 0.0, -1.0, math.nan)
                                 for b in (0.5, 0.3, 0.0, math.nan)],
          cast=lambda a: (a[0], f32(a[1]), a[2], f32(a[3])))
    rows = [RNG.standard_normal(n).astype(np.float32) for n in (1, 5, 64)]
    rows += [np.array([1, 1, 1], np.float32), np.array([np.nan, 1], np.float32),
             np.array([np.inf, 1], np.float32), np.array([3e38, -3e38], np.float32)]
    check('simcc_softmax_max', [(v, b, sc) for v in rows for b in (150.0, 1.0) for sc in (5.66, 1.0)],
          cast=lambda a: (a[0], 0, a[0].size, f32(a[1]), a[2]))
    check('simcc_dark_kernel_size', [(s,) for s in [0.35, 0.8, 2.0, 5.66, 6.0, 1.0, 10.0, 0.5]
                                     + list(RNG.random(200) * 20)])
    for k in (1, 3, 5, 7, 9, 11, 17):
        w = H.opencv_gaussian_kernel(k)
        for v in rows[:3] + [np.where(RNG.random(20) < 0.5, 0, RNG.random(20)).astype(np.float32)]:
            check('simcc_blur_at', [(v, w, k // 2, i) for i in range(-2, v.size + 2)],
                  cast=lambda a: (a[0], 0, a[0].size, a[1], a[2], a[3]))
    check('simcc_dark_log', [(v,) for v in f32s()], cast=lambda a: (f32(a[0]),))
    logs = [np.log(RNG.random(n).astype(np.float32) + 1e-3) for n in (1, 3, 12)]
    logs += [np.zeros(4, np.float32)]
    check('simcc_dark_step', [(lv, x) for lv in logs for x in f32s(10) + [-2.5, -2.6, -6.5, -7.0]],
          cast=lambda a: (a[0], a[0].size, f32(a[1])))


# ---- hand3d.h ----------------------------------------------------------------------------

def test_hand3d():
    check('hand3d_centre_xy', [(v, n, im) for v in f64s(10) for n in (64, 1)
                               for im in (256.0, 255.5, 1e-3)])
    for f in (True, False):
        check('hand3d_centre_z', [(z, b, d, f) for z in f64s(10) for b in (400.0, 0.3)
                                  for d in (64, 1)])
    check('hand3d_depth_inside', [(v, d) for v in f64s(10) + [63.999, 64.0] for d in (64, 1)])
    check('hand3d_finite', [(v,) for v in f64s()])
    check('hand3d_window_length', [(r,) for r in (0.0, 1e-9, 6.0, 6.3, 7.5, 0.5, 3 * 2.2)])
    check('hand3d_voxel', [(i, r, mu, n) for i in (0, 3, 12) for r in (6.0, 6.3, 0.5)
                           for mu in (0.5, 1.5, -7.2, 30.49999, 63.5, 70.0) for n in (64, 1)])
    check('hand3d_gaussian', [(x, y, z, mx, my, mz, s) for x, y, z in ((0, 0, 0), (5, 9, 63))
                              for mx, my, mz in ((0.5, 1.5, 2.5), (5.0, 9.0, 63.0), (40.0, -3.0, 1e-300))
                              for s in (2.0, 0.1, 1e3)])
    check('hand3d_axis_factor', [(d, s) for d in f64s(10) for s in (2.0, 0.1, 7.3)])
    for sigma in (2.5, 0.4, 12.0):  # windows inside, at the faces, wider than the axis
        radius = 3.0 * sigma
        L = int(H.hand3d_window_length(radius))
        for mu in (0.5, 31.5, 30.25, -7.2, 63.5, 70.0, 2.0):
            for size in (64, 5, 1):
                want = H.hand3d_axis_voxels(L, radius, mu, size, sigma)
                voxel, factor = np.full(size, -1, np.int64), np.full(size, np.nan)
                n = mirror('hand3d_axis_voxels')(voxel, factor, L, radius, mu, size, sigma)
                got = (n, voxel[:n], factor[:n])
                assert all(_same(w, g) for w, g in zip(_flat(want), _flat(got))), (mu, size)
    p = [float(v) for v in RNG.random(60)] + [0.0, 1.0, 1.1754943508222875e-38,
                                              1.1754943508222872e-38, 0.5 + 2 ** -25,
                                              0.5 + 2 ** -25 + 2 ** -40, math.nan]
    check('hand3d_rounds_clear', [(v,) for v in p])
    check('hand3d_scaled', [(g, m) for g in f32s(6) for m in (1.0, 255.0, 0.3)],
          cast=lambda a: (f32(a[0]), f32(a[1])))


# ---- associative_embedding.h --------------------------------------------------------------

def test_associative_embedding_numpy_arithmetic():
    for T, sfx in ((np.float32, '__f32'), (np.float64, '__f64')):
        for n in (0, 1, 7, 8, 9, 16, 127, 128, 129, 300, 1000):
            a = (RNG.standard_normal(2 * n + 1) * 1e3).astype(T)
            check('numpy_pairwise_sum' + sfx, [(a, n, 1), (a, n // 2, 2), (a, n, 2)][:2 + (n <= 500)],
                  cast=lambda c, T=T: (c[0], 0, c[1], c[2], T(0)))
    for count, L in ((1, 1), (5, 1), (200, 1), (3, 2), (9, 4)):
        tags = (RNG.standard_normal(count * L) * 10).astype(np.float32)
        check('numpy_mean_of_tags', [(tags, count, L, l) for l in range(L)])
    check('x86_to_i64', [(v,) for v in f64s() + [9.3e18, -9.3e18, -9223372036854775808.0,
                                                  9223372036854775807.0]])
    check('clip_i64', [(v, lo, hi) for v in ints() for lo, hi in ((0, 47), (3, 3), (-5, 0))])
    check('ae_group_cost', [(d, v) for d in f64s(8) + [0.5, 1.5, 2.5] for v in f64s(4)])
    check('ae_fill_cost', [(d, h) for d in f32s(8) + [0.5, 1.5, 2.5] for h in f32s(4)],
          cast=lambda a: (f32(a[0]), f32(a[1])))


def test_associative_embedding_lookups():
    check('padded_pixel', [(q, K, 6, 5) for K in (1, 17) for q in
                           (0, 1, 6, 7, 55, 56, -1, -56, -57, 17 * 56 - 1, 17 * 56, -17 * 56, 123)])
    check('dark_udp_centre_f32', [(x, y, k, 64, 48) for x in (0.0, 3.5, 47.0, -1.0, math.nan, 1e30)
                                  for y in (0.0, 63.0, 20.25) for k in (0, 1, 16)],
          cast=lambda a: (f32(a[0]), f32(a[1])) + a[2:])


def _munkres_cases():
    out = []
    for rows, cols in ((1, 1), (2, 3), (3, 2), (4, 4), (6, 9), (9, 6)):
        out.append((RNG.standard_normal(rows * cols) * 100, rows, cols))
        out.append((np.round(RNG.standard_normal(rows * cols)) * 100 - 0.5, rows, cols))  # ties
        out.append((np.zeros(rows * cols), rows, cols))
    bad = RNG.standard_normal(9)
    bad[4] = np.nan
    out += [(bad, 3, 3), (np.full(4, np.inf), 2, 2), (np.array([1e10, 1e10, 1e10, -5.0]), 2, 2)]
    return out


def test_associative_embedding_munkres():
    n_done = 0
    for cost, rows, cols in _munkres_cases():
        want = H.munkres_solve(cost, rows, cols)
        n = max(rows, cols)
        work = [np.zeros(n * n), np.zeros(n * n, np.uint8), np.zeros(n, np.uint8),
                np.zeros(n, np.uint8), np.zeros(2 * (2 * n + 1), np.int64)]
        ok = mirror('munkres_solve')(cost, rows, cols, *work)
        got = (ok,) + tuple(work)
        assert all(_same(w, g) for w, g in zip(_flat(want), _flat(got))), (cost, rows, cols)
        marked = want[2]
        check('munkres_star_in_row', [(marked, n, r) for r in range(n)])
        n_done += 1
    assert n_done > 0
    covers = (RNG.random(7) < 0.5).astype(np.uint8), (RNG.random(7) < 0.5).astype(np.uint8)
    for n in (0, 3, 7):
        want = H.munkres_clear_covers(*covers, n)
        got = _copies(covers)
        mirror('munkres_clear_covers')(*got, n)
        assert all(_same(w, g) for w, g in zip(_flat(want), _flat(got))), n


def _ae_image(K, L, H, W, M, ties):
    """Candidates and tag maps of one image: tags drawn from a few people (rounded to
    make ties where `ties`), a NaN tag, candidate values around the threshold."""
    HW = H * W
    tags = (RNG.integers(0, 3, L * K * HW) * 2.0 + RNG.normal(0, 0.3, L * K * HW)).astype(np.float32)
    if ties:
        tags = np.round(tags)
    tags[RNG.integers(0, tags.size)] = np.nan
    vals = RNG.uniform(-0.2, 1.0, K * M).astype(np.float32)
    vals[RNG.integers(0, vals.size)] = np.nan
    idx = np.concatenate([RNG.permutation(HW)[:M] for _ in range(K)]).astype(np.int64)
    return vals, idx, tags, RNG.permutation(K).astype(np.int64)


def test_associative_embedding_grouping():
    keys = np.array([0.5, np.nan, -1.0, 0.0, 0.0], np.float32)
    joints = RNG.standard_normal(5 * 3 * 2).astype(np.float32)
    for n, key in ((3, 0.5), (3, -1.0), (3, 2.0), (3, np.nan), (0, 0.5), (4, -0.0)):
        want = H.ae_group_for_key(keys, n, key, joints, 2)
        k, j = keys.copy(), joints.copy()
        got = mirror('ae_group_for_key')(k, n, np.float32(key), j, 2) + (k, j)
        assert all(_same(w, g) for w, g in zip(_flat(want), _flat(got))), (n, key)
    cases = 0
    for K, L, H_, W, M, ties, tag_thr in ((5, 1, 5, 7, 6, False, 1.0), (5, 2, 5, 7, 6, True, 1.0),
                                          (4, 1, 3, 4, 12, True, 0.5), (1, 1, 4, 4, 5, False, 1.0),
                                          (6, 3, 6, 6, 4, False, 3.0)):
        for val_thr in (0.1, -1.0):
            vals, idx, tags, order = _ae_image(K, L, H_, W, M, ties)
            args = (vals, idx, tags, order, K, L, W, H_ * W, M, val_thr, tag_thr)
            want = H.ae_group_keypoints(*args)
            cap = K * M
            arrays = (np.zeros(cap, np.float32), np.zeros(cap, np.int64),
                      np.zeros(cap * 3 * K, np.float32), np.zeros(cap * K * L, np.float32))
            n = mirror('ae_group_keypoints')(*args, *arrays)
            got = (n, arrays[0][:n], arrays[1][:n], arrays[2][:n * 3 * K], arrays[3][:n * K * L])
            assert len(_flat(want)) == len(_flat(got)), args
            assert all(_same(w, g) for w, g in zip(_flat(want), _flat(got))), args
            assert n > 1 or K == 1
            cases += 1
    assert cases == 10
    check('ae_kept_groups', [(g, m, G) for g in (0, 1, 5, 9) for m in (0, 2, 5, 20, -1, -3, -20,
                                                                     2**63 - 1) for G in (0, 3, 9)])
    for K in (1, 2, 9, 17):
        joints = RNG.standard_normal(3 * K).astype(np.float32)
        kps, scores = np.empty(2 * K, np.float32), np.empty(K, np.float32)
        got = (mirror('ae_instance')(joints, K, kps, scores), kps, scores)
        assert all(_same(w, g) for w, g in zip(_flat(H.ae_instance(joints, K)), _flat(got))), K


def _same_out(name, args, want, *outs):
    """A mirror that writes into arrays: `want` (the wrapper's result) against them."""
    assert len(_flat(want)) == len(_flat(outs)), (name, args)
    assert all(_same(w, g) for w, g in zip(_flat(want), _flat(outs))), (name, args, want, outs)


def test_associative_embedding_refinement_and_filling():
    K, H_, W = 3, 5, 6
    heat = RNG.uniform(0, 1, K * H_ * W).astype(np.float32)
    heat[::7] = heat[1::7][:len(heat[::7])]                        # equal neighbours
    mod = np.log(RNG.uniform(1e-3, 50, K * H_ * W)).astype(np.float32)
    points = [(x, y) for x in (0.0, 1.0, 2.0, 4.0, 5.0) for y in (0.0, 1.0, 3.0, 4.0)]
    points += [(np.nan, 1.0), (1e30, 2.0), (-3.0, 2.0), (5.0, 40.0)]
    n = 0
    for p in points:
        for k, udp, (score, shift) in itertools.product((0, 2), (False, True),
                                                        ((0.5, 0.5), (0.0, 0.5), (0.3, 0.0))):
            args = (np.array(p, np.float32), score, k, heat, mod, udp, K, H_, W, shift)
            kp = args[0].copy()
            mirror('ae_refine_keypoint')(kp, f32(score), k, heat, mod, udp, K, H_, W, f32(shift))
            _same_out('ae_refine_keypoint', args, H.ae_refine_keypoint(*args), kp)
            n += 1
    assert n == 12 * len(points)
    for L in (1, 2):
        tags = RNG.normal(0, 2, L * K * H_ * W).astype(np.float32)
        kps = np.array([1.2, 3.9, 7.5, -2.0, np.nan, 1.0], np.float32)
        cases = [(kps, np.array(s, np.float32), tags, K, L, H_, W)
                 for s in ([0.5, 0.2, 0.9], [0.5, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.3, np.nan])]
        for kps, scores, *_ in cases:   # the mirror writes the tag into its argument
            tag = np.empty(L, np.float32)
            mirror('ae_group_tag')(kps, scores, tags, K, L, H_, W, np.empty(K * L, np.float32), tag)
            _same_out('ae_group_tag', scores, H.ae_group_tag(kps, scores, tags, K, L, H_, W), tag)
        tag = np.array([0.4, np.nan][:L] if L == 2 else [0.4], np.float32)
        check('ae_fill_gain', [(tags, k * H_ * W, K * H_ * W, L, t, m, p)
                               for k in (0, 2) for t in (tag, np.full(L, 1.5, np.float32))
                               for m in (0.25, np.nan, -1.0) for p in (0, 7, H_ * W - 1)],
              cast=lambda a: a[:5] + (f32(a[5]), a[6]))


# ---- spr.h ------------------------------------------------------------------------------

def _cands(n, ties=False, nan=False):
    v = RNG.standard_normal(n).astype(np.float32)
    if ties:
        v = np.round(v).astype(np.float32)
    if nan:
        v[RNG.random(n) < 0.2] = np.nan
    return v, RNG.permutation(n).astype(np.int64)


def _cand_cases():
    out = [_cands(n, t, q) for n in (1, 2, 3, 5, 16, 17, 40, 300) for t in (False, True)
           for q in (False, True)]
    out.append((np.zeros(50, np.float32), np.arange(50, dtype=np.int64)))
    out.append((np.array([0.0, -0.0] * 20, np.float32), np.arange(40, dtype=np.int64)))
    return out


def _copies(a):
    return tuple(x.copy() if isinstance(x, np.ndarray) else x for x in a)


def check_inplace(name, cases, result=False):
    """The Numba mirrors sort (v, ix) in place; the wrapper returns copies (and the
    function's result last): compare arrays and result."""
    cpp = getattr(H, name)
    nb = mirror(name)
    n = 0
    for args in cases:
        want = cpp(*_copies(args))
        a = _copies(args)
        r = nb(*a)
        got = (a[0], a[1]) + ((r if isinstance(r, tuple) else (r,)) if result else ())
        assert len(_flat(want)) == len(_flat(got)), (name, args)
        assert all(_same(w, g) for w, g in zip(_flat(want), _flat(got))), (name, args, want, got)
        n += 1
    assert n > 0


def test_spr_elementwise():
    check('spr_root_usable', [(x, y, v, 48, 64) for x in (0.0, -0.0, 47.99, 48.0, math.nan, math.inf)
                              for y in (0.0, 63.5, 64.0) for v in (1.0, 0.99, 2.0, math.nan)],
          cast=lambda a: (f32(a[0]), f32(a[1]), f32(a[2]), a[3], a[4]))
    check('spr_keypoint_usable', [(x, y, v, 48, 64) for x in (0.0, -1e-300, 47.999999, 48.0, math.nan)
                                  for y in (0.0, 63.5, 64.0, -math.inf) for v in (1.0, 0.99, math.nan)])
    check('spr_clamped_int', [(v, 48) for v in f64s(20) + [47.99, 48.0, 48.5, 0.5, -0.5]])
    for f in (True, False):
        check('spr_span', [(r, rad, f, 48) for r in (0.0, 3.7, 47.5, 1e-45, math.nan)
                           for rad in (4.0, 4.3, 100.0, 0.0)],
              cast=lambda a: (f32(a[0]),) + a[1:])
    cur = [(0.0, 0.0, 0.0, 0.0, 0.0), (0.5, 0.0, 1.0, 1.0, 3.0), (0.0, -0.0, 2.0, 2.0, 5.0),
           (1.0, 2.0, 0.1, 0.1, math.nan)]
    check('spr_displacement_update', [c + (kx, 7.25, 3, 4, d, 1 / d) for c in cur
                                      for kx in (3.0, 5.5, 1e-46) for d in (3.0, 5.0, 2.0)],
          cast=lambda a: tuple(f32(v) for v in a[:5]) + a[5:9] + (f32(a[9]), f32(a[10])))
    check('spr_displacement_weight', [(d,) for d in f32s(10)], cast=lambda a: (f32(a[0]),))
    check('spr_max', [(a, b) for a in f32s(6) for b in f32s(6)], cast=lambda a: (f32(a[0]), f32(a[1])))
    check('spr_nms_value', [(a, b) for a in f32s(6) for b in f32s(4) + [a]],
          cast=lambda a: (f32(a[0]), f32(a[1])))
    check('spr_value_before', [(a, b) for a in f32s(6) for b in f32s(6)],
          cast=lambda a: (f32(a[0]), f32(a[1])))
    check('spr_before', [(a, 1, b, 2) for a in f32s(4) for b in f32s(4)],
          cast=lambda a: (f32(a[0]), a[1], f32(a[2]), a[3]))
    check('spr_partial_sort_path', [(k, n) for k in (0, 1, 30, 31) for n in (0, 1, 1920, 1984, 1985)])
    check('spr_root_kept', [(a, b) for a in f32s(6) for b in f32s(4) + [a]],
          cast=lambda a: (f32(a[0]), f32(a[1])))
    check('spr_keypoint_coordinate', [(p, d) for p in (0, 1, 47, 16777217) for d in f32s(6)],
          cast=lambda a: (a[0], f32(a[1])))
    check('spr_depth_limit', [(n,) for n in (0, 1, 2, 3, 16, 17, 1 << 40)])
    check('spr_sample_coordinate', [(v, s) for v in f32s(10) + [47.0, -1.0] for s in (1, 2, 48)],
          cast=lambda a: (f32(a[0]), a[1]))
    m = RNG.random((5, 6)).astype(np.float32)
    pts = [(x, y) for x in (0.0, 0.5, 4.99, 5.0, math.nan) for y in (0.0, 3.25, 4.0, math.nan)]
    check('spr_bilinear', [(m.ravel(), 5, 6, x, y) for x, y in pts],
          cast=lambda a: (a[0].reshape(5, 6), a[1], a[2], f32(a[3]), f32(a[4])))


def test_spr_sorting():
    cases = _cand_cases()
    check_inplace('spr_swap', [(v, ix, 0, len(v) - 1) for v, ix in cases])
    check_inplace('spr_make_heap', [(v, ix, lo, len(v) - lo) for v, ix in cases for lo in (0, len(v) // 3)])
    heaps = []
    for v, ix in cases:
        v, ix = v.copy(), ix.copy()
        mirror('spr_make_heap')(v, ix, 0, len(v))
        heaps.append((v, ix))
    check_inplace('spr_sort_heap', [(v, ix, 0, len(v)) for v, ix in heaps])
    check_inplace('spr_heap_offer', [(v, ix, 0, len(v), c, 99) for v, ix in heaps
                                     for c in (0.0, 5.0, -5.0, math.nan)], result=True)
    check_inplace('spr_push_heap', [(v, ix, 0, len(v) - 1, 0, c, 99) for v, ix in heaps
                                    for c in (0.0, 5.0, math.nan)])
    check_inplace('spr_adjust_heap', [(v, ix, 0, 0, len(v), c, 99) for v, ix in heaps
                                      for c in (0.0, -5.0, math.nan)])
    check_inplace('spr_partial_sort', [(v, ix, 0, m, len(v)) for v, ix in cases
                                       for m in {1, max(1, len(v) // 2), len(v)}])
    check_inplace('spr_move_median_to_first', [(v, ix, 0, 1, len(v) // 2, len(v) - 1)
                                               for v, ix in cases if len(v) >= 3])
    # unguarded scans: libstdc++ partitions ranges of 4 or more (the three medians
    # distinct), where the median of three bounds both scans; on 3 they run off the end
    check_inplace('spr_partition_pivot', [(v, ix, 0, len(v)) for v, ix in cases if len(v) >= 4],
                  result=True)
    check_inplace('spr_insertion_sort', [(v, ix, 0, len(v)) for v, ix in cases])
    sorted_ = []
    for v, ix in cases:
        if len(v) >= 2:
            v, ix = v.copy(), ix.copy()
            mirror('spr_insertion_sort')(v, ix, 0, len(v) - 1)
            if not mirror('spr_value_before')(v[-1], v[0]):
                sorted_.append((v, ix))
    check_inplace('spr_linear_insert', [(v, ix, 0, len(v) - 1) for v, ix in sorted_])
    check_inplace('spr_nth_element', [(v, ix, n, len(v)) for v, ix in cases
                                      for n in {0, len(v) // 2, len(v) - 1, len(v)}])
    check_inplace('spr_introsort_loop', [(v, ix, len(v), d) for v, ix in cases for d in (0, 1, 8)])
    check_inplace('spr_sort', [(v, ix, len(v)) for v, ix in cases])


# ---- lifting.h ---------------------------------------------------------------------------

def test_lifting():
    sample = np.array([96.0, 1.3333, 0.096, 1.3333333333333333, 1.145, 1.144, 0.512, 0.515])
    for T, sfx in ((np.float32, '__f32'), (np.float64, '__f64')):
        vals = f32s(10) if T is np.float32 else f64s(10)
        c1 = lambda a, T=T: (T(a[0]),) + a[1:]  # noqa: E731
        check('motionbert_label_x' + sfx, [(v, h) for v in vals for h in (96.0, 0.5, 1e-3)], cast=c1)
        check('motionbert_label_y' + sfx, [(v, h, r) for v in vals for h in (96.0, 0.5)
                                           for r in (1.3333333333333333, 0.75)], cast=c1)
        c2 = lambda a, T=T: (T(a[0]), T(a[1])) + a[2:]  # noqa: E731
        check('lifting_to_pixel' + sfx, [(u, z, f, c) for u in vals[::3] for z in (4.3, 0.0, -1.0)
                                         for f in (1.145, 1e-3) for c in (0.512, 0.0)], cast=c2)
        check('motionbert_root_scale' + sfx, [(x, z, 1.145, 0.512) for x in vals[::2]
                                              for z in (4.3, 1e-3, 0.0, math.nan)], cast=c2)
        check('motionbert_project' + sfx,
              [(x, y, z, zr, ra, sample) for x, y in zip(vals[::3], vals[1::3])
               for z in (4.3, 0.0) for zr in (4.0, math.nan) for ra in (0.01, 1.0)],
              cast=lambda a, T=T: tuple(T(v) for v in a[:5]) + (a[5],))
        check('motionbert_train_scale' + sfx, [(x, y, z, sample) for x, y, z in
                                               zip(vals, vals[1:], vals[2:])],
              cast=lambda a, T=T: (T(a[0]), T(a[1]), T(a[2]), a[3]))
        check('lifting_weight' + sfx, [(v,) for v in (0.5, 0.5000001, 0.49, 1.0, math.nan, -1.0)],
              cast=lambda a, T=T: (T(a[0]),))
        check('motionbert_train_value' + sfx, [(a, b) for a in vals[::4] for b in vals[::4]], cast=c2)
        check('motionbert_test_value' + sfx, [(a, b, f) for a in vals[::4] for b in vals[::5]
                                              for f in (4.0, 0.1, 2.0 / 3.0, 1e300)], cast=c2)
        check('motionbert_test_value_exact' + sfx, [(a, b, f) for a in vals[::4]
                                                    for b in vals[::5] for f in (4.0, 0.5)],
              cast=lambda a, T=T: (T(a[0]), T(a[1]), T(a[2])))
        check('motionbert_factor_is_exact' + sfx, [(f,) for f in (4.0, 0.1, 0.5, 1e300, math.nan,
                                                                   1 + 2 ** -30)],
              cast=lambda a, T=T: (a[0], T(0)))


# ---- blur.h -----------------------------------------------------------------------------

def test_blur():
    for k in range(1, 256, 2):
        want, got = H.opencv_gaussian_kernel(k), mirror('opencv_gaussian_kernel')(k)
        assert want.dtype == got.dtype == np.float32 and want.tobytes() == got.tobytes(), k
    for k in (1, 3, 5, 7, 9, 11, 15, 31):
        w, r = H.opencv_gaussian_kernel(k), k // 2
        taps = [RNG.standard_normal(k).astype(np.float32) for _ in range(10)]
        taps += [np.full(k, 1e-45, np.float32), np.where(np.arange(k) == r, 1, 0).astype(np.float32),
                 np.full(k, np.nan, np.float32), np.full(k, 3e38, np.float32)]
        cases = [(w, r, t) for t in taps]
        taps_at = lambda a: (a[0], a[1], a[2], 0, a[2].size, a[1])  # noqa: E731
        check('opencv_row_sum', cases, cast=taps_at)
        check('opencv_row_sum_tail', cases, cast=taps_at)
        check('opencv_column_sum', cases, cast=taps_at)
        check('opencv_column_sum_tail', cases, cast=taps_at)
    check('opencv_row_simd_end', [(n,) for n in range(0, 40)])
    check('opencv_column_simd_end', [(n,) for n in range(0, 40)])
    check('opencv_blur_filters_axis', [(n,) for n in range(0, 5)])
    check('blur_rescale', [(a, b) for a in f32s(5) for b in f32s(5)],
          cast=lambda a: (f32(a[0]), f32(a[1])))


# ---- instances.h --------------------------------------------------------------------------

def test_instances():
    for T, sfx in ((np.float32, '__f32'), (np.float64, '__f64')):
        vals = f32s(8) if T is np.float32 else f64s(8)
        cast2 = lambda a, T=T: (T(a[0]), T(a[1]))  # noqa: E731
        check('nan_min' + sfx, [(a, b) for a in vals for b in vals], cast=cast2)
        check('nan_max' + sfx, [(a, b) for a in vals for b in vals], cast=cast2)
        check('fc_pow_t' + sfx, [(a, 2.0) for a in vals] + [(a, 0.5) for a in vals], cast=cast2)
        check('fc_sqrt_t' + sfx, [(a,) for a in vals], cast=lambda a, T=T: (T(a[0]),))
        check('instance_sigma' + sfx, [(h, w, o, 2.0) for h in (1.0, 37.3, 0.0, 1e-3, 500.5)
                                       for w in (2.0, 12.9, 0.0, math.nan) for o in (0.7, 0.5)]
              + [(float(h), float(w), 0.7, 2.0) for h, w in RNG.random((100, 2)) * 100],
              cast=lambda a, T=T: (T(a[0]), T(a[1]), a[2], T(a[3])))
        kps_cases = []
        for K in (1, 4, 17):
            kps = (RNG.random((K, 2)) * 64).astype(T)
            for vis in (np.ones(K), np.zeros(K), (RNG.random(K) > 0.5) * 1.0,
                        np.where(RNG.random(K) > 0.5, np.nan, 2.0)):
                for center in (True, False):
                    kps_cases.append((kps, vis, center))
            bad = kps.copy()
            bad[0, 0] = np.nan
            kps_cases.append((bad, np.ones(K), False))
        check('one_instance_geometry' + sfx, kps_cases)


def test_a_difference_is_caught():
    """The comparison can fail: a deliberately different mirror is reported."""
    with pytest.raises(AssertionError):
        check('dark_log', [(1e-5,)], numba_name='dark_udp_log', cast=lambda a: (f32(a[0]),))
