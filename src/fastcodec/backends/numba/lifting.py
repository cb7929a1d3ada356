"""Numba mirror of MotionBERTLabel's encode kernel (csrc/cpu/lifting_kernels.cpp and
csrc/include/fastcodec/lifting.h): same signature, shapes, dtypes and numbers as
``motionbert_encode`` of the C++ backend (see ``fastcodec.backends.contract``).

Each step is the mirror of the lifting.h function of the same name, computed in the
array's dtype T (float32 or float64; ``common.cast_like`` is the C++ `(T)x`), steps
with a float64 operand in float64 and rounded to T once, as numpy does."""
from __future__ import annotations

import math

import numpy as np

# jit's error model: IEEE division (x / 0 is Inf or NaN, as in numpy), no exception.
from numba.core import types
from numba.extending import overload

from fastcodec.backends.numba.common import (ERROR_MODEL, F32, F64, REAL, U8, TypingError,
                                             _check_array, _require, cast_like, expect, jit)

__all__ = ['all_finite', 'motionbert_encode']


# lifting.h: each function mirrors the one of the same name, in T = the type of its
# float arguments (float32 or float64); `s` is the sample's 8 params (MotionBertSample's
# fields in order), pointer outputs come back as tuples.


@jit
def motionbert_label_x(v, half_w):
    return v / cast_like(half_w, v) - cast_like(1, v)


@jit
def motionbert_label_y(v, half_w, hw_ratio):
    return cast_like(np.float64(v / cast_like(half_w, v)) - hw_ratio, v)


@jit
def lifting_to_pixel(u, z, f, c):
    q = u / z
    m = cast_like(np.float64(q) * f, u)
    return cast_like(np.float64(m) + c, u)


@jit
def motionbert_root_scale(rx, rz, fx, cx):
    """(ratio, factor)."""
    one = cast_like(1, rx)
    two = cast_like(2, rx)
    tl = lifting_to_pixel(rx - one, rz, fx, cx)
    br = lifting_to_pixel(rx + one, rz, fx, cx)
    span = (br - tl) + cast_like(0.001, rx)
    return span / two, two / span


@jit
def motionbert_project(x, y, z, z_root, ratio, s):
    return (lifting_to_pixel(x, z, s[4], s[6]), lifting_to_pixel(y, z, s[5], s[7]),
            (z - z_root) * ratio)


@jit
def motionbert_train_scale(x, y, z, s):
    hw = cast_like(s[2], x)
    return x / hw - cast_like(1, x), cast_like(np.float64(y / hw) - s[3], x), z / hw


@jit
def lifting_weight(visible):
    return np.float32(1.0) if visible > cast_like(0.5, visible) else np.float32(0.0)


@jit
def motionbert_train_value(p, p_root):
    return p - p_root


@jit
def motionbert_test_value(p, p_root, factor):
    return cast_like(np.float64(p - p_root) * factor, p)


@jit
def motionbert_test_value_exact(p, p_root, factor):
    return (p - p_root) * factor


@jit
def motionbert_factor_is_exact(factor, like):
    """The C++ template's T is given by the scalar `like`."""
    return np.float64(cast_like(factor, like)) == factor


# ---- the loops (lifting_kernels.cpp)


@jit
def _labels(kp, vis, has_vis, b, N, K, D, labels, prm):
    E = D + (1 if has_vis else 0)
    half_w, hw_ratio = prm[0], prm[1]
    for i in range(N * K):
        src = (b * N * K + i) * D
        dst = (b * N * K + i) * E
        labels[dst] = motionbert_label_x(kp[src], half_w)
        labels[dst + 1] = motionbert_label_y(kp[src + 1], half_w, hw_ratio)
        for j in range(2, D):
            labels[dst + j] = kp[src + j]
        if has_vis:
            labels[dst + D] = vis[b * N * K + i]


@jit
def _point(lt, o, z_root, ratio, prm, project, train):
    x = lt[o]
    y = lt[o + 1]
    z = lt[o + 2]
    if project:
        x, y, z = motionbert_project(x, y, z, z_root, ratio, prm)
    if train:
        x, y, z = motionbert_train_scale(x, y, z, prm)
    return x, y, z


@jit
def _frame(lt, base, K, root, project, train, prm, f_given, take, out, computed, ct):
    """One frame (K keypoints, C = 3) of the projection / train scaling / root
    subtraction / test factor; writes out[base:base + 3K]."""
    like = lt[base]
    ratio = cast_like(0, like)
    fac = cast_like(4, like)
    z_root = cast_like(0, like)
    if project:
        z_root = lt[base + root * 3 + 2]
        ratio, fac = motionbert_root_scale(lt[base + root * 3], z_root, prm[4], prm[6])
        computed[ct] = fac
    f = f_given if take else np.float64(fac)
    exact = motionbert_factor_is_exact(f, like)
    fl = cast_like(f, like)
    r0, r1, r2 = _point(lt, base + root * 3, z_root, ratio, prm, project, train)
    for k in range(K):
        p0, p1, p2 = _point(lt, base + k * 3, z_root, ratio, prm, project, train)
        o = base + k * 3
        if train:
            out[o] = motionbert_train_value(p0, r0)
            out[o + 1] = motionbert_train_value(p1, r1)
            out[o + 2] = motionbert_train_value(p2, r2)
        elif exact:
            out[o] = motionbert_test_value_exact(p0, r0, fl)
            out[o + 1] = motionbert_test_value_exact(p1, r1, fl)
            out[o + 2] = motionbert_test_value_exact(p2, r2, fl)
        else:
            out[o] = motionbert_test_value(p0, r0, f)
            out[o + 1] = motionbert_test_value(p1, r1, f)
            out[o + 2] = motionbert_test_value(p2, r2, f)


@jit
def _kernel(kp, vis, has_vis, B, N, K, D, labels, lt, T, C, root, project, train, params,
            factor, L, take, out, computed):
    for b in range(B):
        prm = params[8 * b:8 * b + 8]
        _labels(kp, vis, has_vis, b, N, K, D, labels, prm)
        for t in range(T):
            base = (b * T + t) * K * C
            f = factor[b * L + (0 if L == 1 else t)]
            given = take[b] != 0 and not train
            if not project and not train:     # any C: the root subtraction and the factor
                f = f if given else 4.0
                r = base + root * C
                for k in range(K):
                    for j in range(C):
                        out[base + k * C + j] = motionbert_test_value(lt[base + k * C + j],
                                                                      lt[r + j], f)
                continue
            _frame(lt, base, K, root, project, train, prm, f, given, out, computed, b * T + t)


@jit
def _weights(visible, weights):
    for i in range(visible.shape[0]):
        weights[i] = lifting_weight(visible[i])


def _float_bits(x):
    """A contiguous float array's values as unsigned integers of its width."""


@overload(_float_bits, jit_options=dict(error_model=ERROR_MODEL))
def _float_bits_impl(x):
    bits = np.uint32 if x.dtype == types.float32 else np.uint64
    return lambda x: x.view(bits)


@jit
def _all_finite(x):
    """all_finite of lifting_kernels.cpp: an exponent with every bit set is Inf or NaN;
    an integer OR over every value (no early exit), which LLVM vectorises."""
    bits = _float_bits(x)
    exponent = bits.dtype.type(0x7f800000 if bits.itemsize == 4 else 0x7ff0000000000000)
    bad = bits.dtype.type(0)
    for i in range(bits.size):
        bad |= bits.dtype.type((bits[i] & exponent) == exponent)  # unsigned throughout
    return bad == 0


@jit
def _both_finite(a, b):
    return _all_finite(a.ravel()) and _all_finite(b.ravel())  # any layout: ravel copies


# From this many values on, numpy's dot product (BLAS, on several threads) is the first
# test: a finite sum of squares has finite terms (an overflow only costs the exact test).
# Numba's loops run on one thread.
_BLAS_FIRST = 1 << 16


def all_finite(a, b) -> bool:
    """See ``fastcodec.backends.contract``: a, b float32/float64 (any layout) -> whether
    every value of both is finite."""
    if (a.size + b.size >= _BLAS_FIRST and a.dtype in REAL and b.dtype in REAL
            and math.isfinite(np.vdot(a, a)) and math.isfinite(np.vdot(b, b))):
        return True
    try:
        return _both_finite(a, b)
    except TypingError:
        _check_array(a, 'a', REAL)
        _check_array(b, 'b', REAL)
        raise


@jit
def _encode(kps, vis, tgt, params, factor, take, root, project, train, tv, labels, tl,
            computed, weights):
    """motionbert_encode's checks (expect, the shapes) and passes; vis, tv and weights
    are None or arrays (numba prunes the branches of the other case). Returns whether
    keypoints and target are all finite."""
    expect(kps, 'keypoints', 'float32 or float64', False)
    expect(tgt, 'target', 'float32 or float64', False)
    expect(params, 'params', 'float64', False)
    expect(factor, 'factor', 'float64', False)
    expect(take, 'take_given', 'uint8', False)
    expect(labels, 'labels', 'float32 or float64', True)
    expect(tl, 'target_label', 'float32 or float64', True)
    expect(computed, 'computed_factor', 'float32 or float64', True)
    B, N, K, D = kps.shape
    T, Kt, C = tgt.shape[1:]
    if D < 2 or tgt.shape[0] != B:
        raise ValueError('keypoints must be (B, N, K, D >= 2) and target (B, T, K, C)')
    if not 0 <= root < Kt:
        raise ValueError("root_index out of range of the target's keypoints")
    if C != 3 and (project or train):
        raise ValueError('target must have C = 3 to project or train')
    if params.shape != (B, 8) or factor.shape[0] != B or take.shape != (B,):
        raise ValueError('params must be (B, 8), factor (B, L) and take_given (B,)')
    L = factor.shape[1]
    if L != 1 and L != T:
        raise ValueError('factor must be (B, 1) or (B, T)')
    if labels.itemsize != kps.itemsize or tl.itemsize != tgt.itemsize \
            or computed.itemsize != tgt.itemsize:
        raise TypeError("labels must have the keypoints' dtype, target_label and "
                        "computed_factor the target's")
    has_vis = vis is not None
    if tl.shape != tgt.shape or computed.shape != (B, T if project else 0) \
            or labels.shape != (B, N, K, D + (1 if has_vis else 0)):
        raise ValueError('labels must be (B, N, K, D [+ 1]), target_label (B, T, K, C) and '
                         'computed_factor (B, T) or (B, 0)')
    if vis is None:
        flat_vis = np.zeros(0, kps.dtype)
    else:
        expect(vis, 'visible', 'float32 or float64', False)
        if vis.itemsize != kps.itemsize or vis.shape != (B, N, K):
            raise ValueError("visible must be (B, N, K) of the keypoints' dtype")
        flat_vis = vis.ravel()
    if tv is not None:
        expect(tv, 'target_visible', 'float32 or float64', False)
        expect(weights, 'weights', 'float32', True)
        if tv.shape != (B, T, Kt) or weights.shape != (B, T, Kt):
            raise ValueError('target_visible and weights must be (B, T, K)')
    _kernel(kps.ravel(), flat_vis, has_vis, B, N, K, D, labels.ravel(), tgt.ravel(), T, C,
            root, project, train, params.ravel(), factor.ravel(), L, take, tl.ravel(),
            computed.ravel())
    if tv is not None:
        _weights(tv.ravel(), weights.ravel())
    return _all_finite(kps.ravel()) and _all_finite(tgt.ravel())


def motionbert_encode(keypoints, visible, target, params, factor, take_given, root_index: int,
                      project: bool, train: bool, target_visible, labels, target_label,
                      computed_factor, weights) -> bool:
    """See ``fastcodec.backends.contract``: keypoints (B, N, K, D >= 2) float32/float64,
    visible (B, N, K) of the keypoints' dtype or None, target (B, T, K, C),
    params (B, 8) float64, factor (B, L) float64, take_given (B,) uint8,
    target_visible (B, T, K) float32/float64 or None | labels (B, N, K, D [+ 1]) of the
    keypoints' dtype, target_label (B, T, K, C) and computed_factor (B, T) (project) or
    (B, 0) of the target's dtype, weights float32 (B, T, K) (with target_visible)
    or None. Returns whether keypoints and target are all finite. The kernel checks
    its arrays (expect, the shapes); a call it cannot compile for is checked here for
    the user-facing error."""
    _require((weights is None) == (target_visible is None),
             'weights must be given exactly when target_visible is')
    try:
        return _encode(keypoints, visible, target, params, factor, take_given,
                       int(root_index), bool(project), bool(train), target_visible, labels,
                       target_label, computed_factor, weights)
    except TypingError:
        kps = _check_array(keypoints, 'keypoints', REAL, (None, None, None, None))
        tgt = _check_array(target, 'target', REAL, (None, None, None, None))
        for a, name, dtype in ((params, 'params', F64), (factor, 'factor', F64),
                               (take_given, 'take_given', U8)):
            _check_array(a, name, dtype)
        if visible is not None:
            _check_array(visible, 'visible', kps.dtype)
        _check_array(labels, 'labels', kps.dtype, out=True)
        _check_array(target_label, 'target_label', tgt.dtype, out=True)
        _check_array(computed_factor, 'computed_factor', tgt.dtype, out=True)
        if target_visible is not None:
            _check_array(target_visible, 'target_visible', REAL)
            _check_array(weights, 'weights', F32, out=True)
        raise
