"""Numba mirrors of the regression kernels (csrc/cpu/regression_kernels.cpp and
csrc/include/fastcodec/regression.h): same signatures, shapes, dtypes and numbers as
``encode_regression``, ``decode_regression`` and ``normalize_heatmaps`` of the C++
backend (see ``fastcodec.backends.contract``)."""
from __future__ import annotations

from typing import Tuple

import numpy as np

# jit's error model: float division without a zero check, so the loops vectorise.
from fastcodec.backends.numba.common import (F32, F64, REAL, _F1, _F2, _FLT_MIN, TypingError,
                                             _check_array, _require, _u, expect, jit)

__all__ = ['encode_regression', 'decode_regression', 'normalize_heatmaps']

_F1EM24 = np.float32(1e-24)


@jit
def _flushed(v):
    # The C++ loop runs with denormals as zero (DAZ + FTZ): flush them here alike.
    # NaN compares false and is kept.
    return np.float32(0.0) if abs(v) < _FLT_MIN else v


# regression.h: each function mirrors the one of the same name.


@jit
def regression_label(v, size):
    return np.float32(v / size)


@jit
def regression_labels_finite(lx, ly):
    return lx - lx == np.float32(0.0) and ly - ly == np.float32(0.0)


@jit
def regression_inside(x, y, w, h):
    return x >= 0 and x <= w - 1 and y >= 0 and y <= h - 1


@jit
def regression_weight(x, y, visible, w, h):
    return _F1 if regression_inside(x, y, w, h) and visible > 0.5 else np.float32(0.0)


@jit
def regression_coord(v, size):
    return v * size


@jit
def sigma_score(sx, sy):
    """In the arguments' precision: the float32 constants keep float32 pairs float32 and
    widen exactly for float64 pairs (sigma_score's two overloads)."""
    return ((_F1 - sx) + (_F1 - sy)) / _F2


@jit
def heatmap_normalizer(total):
    return np.float32(total) + _F1EM24


@jit
def normalized_value(v, normalizer):
    return v / normalizer


@jit
def _encode_kernel(kps, vis, w, h, lab, wts):
    # Flat (C-contiguous) arrays: kps and lab hold 2 values per entry of vis and wts.
    for i in range(vis.shape[0]):
        x = np.float64(kps[2 * i])
        y = np.float64(kps[2 * i + 1])
        lx = regression_label(x, w)
        ly = regression_label(y, h)
        finite = regression_labels_finite(lx, ly)  # non-finite labels (weight 0): 0
        lab[2 * i] = lx if finite else np.float32(0.0)
        lab[2 * i + 1] = ly if finite else np.float32(0.0)
        wts[i] = regression_weight(x, y, np.float64(vis[i]), w, h)


@jit
def _decode_kernel_f32(enc, D, w, h, kps, sc):
    # Flat arrays: enc holds D values, kps 2 per entry of sc (float32 scores).
    for i in range(sc.shape[0]):
        kps[2 * i] = regression_coord(np.float64(enc[D * i]), w)
        kps[2 * i + 1] = regression_coord(np.float64(enc[D * i + 1]), h)
        if D == 4:
            sc[i] = sigma_score(np.float32(enc[D * i + 2]), np.float32(enc[D * i + 3]))
        else:
            sc[i] = _F1


@jit
def _decode_kernel_f64(enc, D, w, h, kps, sc):
    # D = 4: float64 scores.
    for i in range(sc.shape[0]):
        kps[2 * i] = regression_coord(np.float64(enc[D * i]), w)
        kps[2 * i + 1] = regression_coord(np.float64(enc[D * i + 1]), h)
        sc[i] = sigma_score(np.float64(enc[D * i + 2]), np.float64(enc[D * i + 3]))


@jit
def _normalize_kernel(heat, C, H, W):
    # As regression_kernels.cpp: each row summed in eight float32 lanes (x % 8, the
    # tail into lane 0), the row sums added in float64. Unsigned indices: Numba then
    # skips its negative-index wraparound, which keeps LLVM from vectorising.
    HW = _u(H) * _u(W)
    for c in range(_u(C)):
        o = c * HW
        total = 0.0
        for y in range(_u(H)):
            r = o + y * _u(W)
            p0 = p1 = p2 = p3 = p4 = p5 = p6 = p7 = np.float32(0.0)
            x = _u(0)
            while x + _u(8) <= _u(W):
                q = r + x
                p0 += _flushed(heat[q])
                p1 += _flushed(heat[q + _u(1)])
                p2 += _flushed(heat[q + _u(2)])
                p3 += _flushed(heat[q + _u(3)])
                p4 += _flushed(heat[q + _u(4)])
                p5 += _flushed(heat[q + _u(5)])
                p6 += _flushed(heat[q + _u(6)])
                p7 += _flushed(heat[q + _u(7)])
                x += _u(8)
            while x < _u(W):
                p0 += _flushed(heat[r + x])
                x += _u(1)
            total += np.float64(((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7)))
        norm = heatmap_normalizer(total)
        for p in range(o, o + HW):
            heat[p] = _flushed(normalized_value(_flushed(heat[p]), norm))


def _size(input_size) -> Tuple[float, float]:
    w, h = input_size
    return float(w), float(h)


@jit
def _encode(kps, vis, w, h, lab, wts):
    expect(kps, 'keypoints', 'float32 or float64', False)
    expect(vis, 'visible', 'float32 or float64', False)
    expect(lab, 'labels', 'float32', True)
    expect(wts, 'weights', 'float32', True)
    if kps.shape[-1] != 2:
        raise ValueError('keypoints must be (..., 2)')
    if vis.shape != kps.shape[:-1]:
        raise ValueError('visible must be keypoints (..., 2) without the last axis')
    if lab.shape != kps.shape or wts.shape != vis.shape:
        raise ValueError('labels must be (..., 2) and weights (...) as the keypoints')
    _encode_kernel(kps.ravel(), vis.ravel(), w, h, lab.ravel(), wts.ravel())


@jit
def _decode(enc, w, h, f32, kps, sc):
    expect(enc, 'encoded', 'float32 or float64', False)
    expect(kps, 'keypoints', 'float64', True)
    expect(sc, 'scores', 'float32 or float64', True)
    D = enc.shape[-1]
    if D != 2 and D != 4:
        raise ValueError('encoded must be (..., D), D = 2 or 4')
    if kps.shape[:-1] != enc.shape[:-1] or kps.shape[-1] != 2 or sc.shape != enc.shape[:-1]:
        raise ValueError('keypoints must be (..., 2) and scores (...) as encoded (..., D)')
    single = D == 2 or f32
    if single != (sc.itemsize == 4):
        raise TypeError('scores must be float32 for D = 2 or f32, else float64')
    if single:
        _decode_kernel_f32(enc.ravel(), D, w, h, kps.ravel(), sc.ravel())
    else:
        _decode_kernel_f64(enc.ravel(), D, w, h, kps.ravel(), sc.ravel())


@jit
def _normalize(heat):
    expect(heat, 'heatmaps', 'float32', True)
    H, W = heat.shape[-2:]
    _normalize_kernel(heat.ravel(), heat.size // (H * W) if H * W > 0 else 0, H, W)


# The backend functions check in the kernels (expect, the shapes); a call the kernel
# cannot compile for is checked again here for the user-facing error.


def encode_regression(keypoints, visible, input_size, labels, weights) -> None:
    """labels (..., 2) float32 and weights (...) float32 of keypoints (..., 2)."""
    w, h = _size(input_size)
    try:
        _encode(keypoints, visible, w, h, labels, weights)
    except TypingError:
        _check_array(keypoints, 'keypoints', REAL)
        _check_array(visible, 'visible', REAL)
        _check_array(labels, 'labels', F32, out=True)
        _check_array(weights, 'weights', F32, out=True)
        raise


def decode_regression(encoded, input_size, f32: bool, keypoints, scores) -> None:
    """keypoints (..., 2) float64 and scores (...) of encoded (..., D), D = 2 or 4;
    scores float32 for D = 2 or f32, else float64."""
    w, h = _size(input_size)
    try:
        _decode(encoded, w, h, bool(f32), keypoints, scores)
    except TypingError:
        enc = _check_array(encoded, 'encoded', REAL)
        _require(enc.ndim >= 1, 'encoded must be (..., D), D = 2 or 4')
        _check_array(keypoints, 'keypoints', F64, out=True)
        _check_array(scores, 'scores', REAL, out=True)
        raise


def normalize_heatmaps(heatmaps) -> None:
    """Divide each (H, W) map of a C-contiguous float32 array by its sum + 1e-24."""
    try:
        _normalize(heatmaps)
    except TypingError:
        _check_array(heatmaps, 'heatmaps', F32, out=True)
        _require(heatmaps.ndim >= 2, 'heatmaps must be (..., H, W)')
        raise
