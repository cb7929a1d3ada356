"""Numba mirrors of the regression kernels (csrc/cpu/regression_kernels.cpp and
csrc/include/fastcodec/regression.h): same signatures, shapes, dtypes and numbers as
``encode_regression``, ``decode_regression`` and ``normalize_heatmaps`` of the C++
backend (see ``fastcodec.backends.contract``)."""
from __future__ import annotations

import operator
from typing import Tuple

import numpy as np

# jit's error model: float division without a zero check, so the loops vectorise.
from fastcodec.backends.numba.common import _F1, _F2, _FLT_MIN, _u, jit

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
def _encode_kernel(keypoints, visible, w, h):
    # Arrays of any rank (C-contiguous): outputs are allocated here, so the Python
    # side makes no per-call allocations or reshapes.
    labels = np.empty(keypoints.shape, np.float32)
    weights = np.empty(visible.shape, np.float32)
    kps, vis, lab, wts = keypoints.ravel(), visible.ravel(), labels.ravel(), weights.ravel()
    for i in range(vis.shape[0]):
        x = np.float64(kps[2 * i])
        y = np.float64(kps[2 * i + 1])
        lab[2 * i] = regression_label(x, w)
        lab[2 * i + 1] = regression_label(y, h)
        wts[i] = regression_weight(x, y, np.float64(vis[i]), w, h)
    return labels, weights


@jit
def _decode_kernel_f32(encoded, w, h):
    D = encoded.shape[-1]
    keypoints = np.empty(encoded.shape[:-1] + (2,), np.float64)
    scores = np.empty(encoded.shape[:-1], np.float32)
    enc, kps, sc = encoded.ravel(), keypoints.ravel(), scores.ravel()
    for i in range(sc.shape[0]):
        kps[2 * i] = regression_coord(np.float64(enc[D * i]), w)
        kps[2 * i + 1] = regression_coord(np.float64(enc[D * i + 1]), h)
        if D == 4:
            sc[i] = sigma_score(np.float32(enc[D * i + 2]), np.float32(enc[D * i + 3]))
        else:
            sc[i] = _F1
    return keypoints, scores


@jit
def _decode_kernel_f64(encoded, w, h):
    D = encoded.shape[-1]
    keypoints = np.empty(encoded.shape[:-1] + (2,), np.float64)
    scores = np.empty(encoded.shape[:-1], np.float64)
    enc, kps, sc = encoded.ravel(), keypoints.ravel(), scores.ravel()
    for i in range(sc.shape[0]):
        kps[2 * i] = regression_coord(np.float64(enc[D * i]), w)
        kps[2 * i + 1] = regression_coord(np.float64(enc[D * i + 1]), h)
        sc[i] = sigma_score(np.float64(enc[D * i + 2]), np.float64(enc[D * i + 3]))
    return keypoints, scores


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
    w, h = float(w), float(h)
    if not (w > 0 and h > 0):
        raise ValueError('input_size must be positive')
    return w, h


def _real(a) -> np.ndarray:
    """float32/float64 C-contiguous arrays as they are (the kernels are compiled for
    both), anything else as float64: as the C++ bindings do."""
    if type(a) is np.ndarray and a.dtype.char in 'fd' and a.flags.c_contiguous \
            and a.dtype.isnative:
        return a
    return np.asarray(a, dtype=np.float64, order='C')


def encode_regression(keypoints, visible, input_size) -> Tuple[np.ndarray, np.ndarray]:
    """labels (..., 2) float32 and weights (...) float32 of keypoints (..., 2)."""
    w, h = _size(input_size)
    kps, vis = _real(keypoints), _real(visible)
    if kps.ndim < 1 or kps.shape[-1] != 2:
        raise ValueError('keypoints must be (..., 2)')
    if vis.shape != kps.shape[:-1]:
        raise ValueError('keypoints_visible must match keypoints (..., 2) without the last axis')
    return _encode_kernel(kps, vis, w, h)


def decode_regression(encoded, input_size, f32: bool) -> Tuple[np.ndarray, np.ndarray]:
    """keypoints (..., 2) float64 and scores (...) of encoded (..., D), D = 2 or 4."""
    w, h = _size(input_size)
    enc = _real(encoded)
    if enc.ndim < 1:
        raise ValueError('encoded must be (..., D)')
    D = enc.shape[-1]
    if D not in (2, 4):
        raise ValueError(f'the last axis of encoded must be 2 or 4, got {D}')
    single = D == 2 or bool(f32)
    return (_decode_kernel_f32 if single else _decode_kernel_f64)(enc, w, h)


def normalize_heatmaps(heatmaps) -> None:
    """Divide each (H, W) map of a C-contiguous float32 array by its sum + 1e-24."""
    if not isinstance(heatmaps, np.ndarray) or heatmaps.dtype != np.float32:
        raise TypeError('heatmaps must be a float32 numpy array')
    if heatmaps.ndim < 2:
        raise ValueError('heatmaps must be (..., H, W)')
    if not (heatmaps.flags.c_contiguous and heatmaps.flags.writeable):
        raise ValueError('heatmaps must be a C-contiguous writeable float32 array')
    H, W = operator.index(heatmaps.shape[-2]), operator.index(heatmaps.shape[-1])
    C = heatmaps.size // (H * W) if H * W > 0 else 0
    _normalize_kernel(heatmaps.reshape(-1), C, H, W)
