"""Numba mirror of MotionBERTLabel's encode kernel (csrc/cpu/lifting_kernels.cpp and
csrc/include/fastcodec/lifting.h): same signature, shapes, dtypes and numbers as
``motionbert_encode`` of the C++ backend (see ``fastcodec.backends.contract``).

Every step is computed in float64 and rounded to the array's dtype (float32 or
float64; ``_as``, resolved at compile time): for + - * / on float32 operands this equals float32 arithmetic (double
rounding through 53 bits is innocuous for 24-bit results), and steps with a float64
operand are float64 in numpy too. The C++ loop computes the float32-only steps in
float32; both give numpy's numbers."""
from __future__ import annotations

import numpy as np
from numba import types
from numba.extending import overload

# jit's error model: IEEE division (x / 0 is Inf or NaN, as in numpy), no exception.
from fastcodec.backends.numba.common import ERROR_MODEL, _check_array, _require, jit

__all__ = ['motionbert_encode']


def _as(x, like):
    """x rounded to the dtype of the array ``like`` (float32 or float64), as float64."""
    raise NotImplementedError  # compiled only (see the overload below)


@overload(_as, jit_options=dict(error_model=ERROR_MODEL))
def _as_impl(x, like):
    # Resolved at compile time from like's dtype: no branch in the loops.
    if like.dtype == types.float32:
        return lambda x, like: np.float64(np.float32(x))
    return lambda x, like: x


@jit
def _to_pixel(u, z, f, c, like):
    q = _as(u / z, like)
    m = _as(q * f, like)
    return _as(m + c, like)


@jit
def _labels(kp, vis, has_vis, b, N, K, D, labels, prm):
    E = D + (1 if has_vis else 0)
    half_w, hw_ratio = prm[0], prm[1]
    for i in range(N * K):
        src = (b * N * K + i) * D
        dst = (b * N * K + i) * E
        q = _as(np.float64(kp[src]) / half_w, labels)
        labels[dst] = _as(q - 1.0, labels)
        q = _as(np.float64(kp[src + 1]) / half_w, labels)
        labels[dst + 1] = _as(q - hw_ratio, labels)
        for j in range(2, D):
            labels[dst + j] = kp[src + j]
        if has_vis:
            labels[dst + D] = vis[b * N * K + i]


@jit
def _frame(lt, base, K, root, project, train, prm, f_given, take, out, computed, ct):
    """One frame (K keypoints, C = 3) of the projection / train scaling / root
    subtraction / test factor; returns nothing, writes out[base:base + 3K]."""
    ratio = 0.0
    fac = 4.0
    z_root = 0.0
    if project:
        z_root = np.float64(lt[base + root * 3 + 2])
        rx = np.float64(lt[base + root * 3])
        tl = _to_pixel(_as(rx - 1.0, out), z_root, prm[4], prm[6], out)
        br = _to_pixel(_as(rx + 1.0, out), z_root, prm[4], prm[6], out)
        span = _as(_as(br - tl, out) + _as(0.001, out), out)
        ratio = _as(span / 2.0, out)
        fac = _as(2.0 / span, out)
        computed[ct] = fac
    f = f_given if take else fac
    hw = prm[2]
    r0 = r1 = r2 = 0.0
    for k in range(-1, K):      # k = -1: the root, first
        o = base + (root if k < 0 else k) * 3
        x = np.float64(lt[o])
        y = np.float64(lt[o + 1])
        z = np.float64(lt[o + 2])
        if project:
            x, y, z = (_to_pixel(x, z, prm[4], prm[6], out), _to_pixel(y, z, prm[5], prm[7], out),
                       _as(_as(z - z_root, out) * ratio, out))
        if train:
            x = _as(_as(x / hw, out) - 1.0, out)
            y = _as(_as(y / hw, out) - prm[3], out)
            z = _as(z / hw, out)
        if k < 0:
            r0, r1, r2 = x, y, z
            continue
        o = base + k * 3
        if train:
            out[o] = _as(x - r0, out)
            out[o + 1] = _as(y - r1, out)
            out[o + 2] = _as(z - r2, out)
        else:
            out[o] = _as(_as(x - r0, out) * f, out)
            out[o + 1] = _as(_as(y - r1, out) * f, out)
            out[o + 2] = _as(_as(z - r2, out) * f, out)


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
                        d = _as(np.float64(lt[base + k * C + j]) - np.float64(lt[r + j]), out)
                        out[base + k * C + j] = _as(d * f, out)
                continue
            _frame(lt, base, K, root, project, train, prm, f, given, out, computed, b * T + t)


@jit
def _weights(visible, weights):
    for i in range(visible.shape[0]):
        weights[i] = np.float32(1.0) if visible[i] > 0.5 else np.float32(0.0)


_REAL = (np.float32, np.float64)


def motionbert_encode(keypoints, visible, target, params, factor, take_given, root_index: int,
                      project: bool, train: bool, target_visible, labels, target_label,
                      computed_factor, weights) -> None:
    """See ``fastcodec.backends.contract``: keypoints (B, N, K, D >= 2) float32/float64,
    visible (B, N, K) of the keypoints' dtype or None, target (B, T, K, C),
    params (B, 8) float64, factor (B, L) float64, take_given (B,) uint8,
    target_visible (B, T, K) float32/float64 or None | labels (B, N, K, D [+ 1]) of the
    keypoints' dtype, target_label (B, T, K, C) and computed_factor (B, T) (project) or
    (B, 0) of the target's dtype, weights float32 (B, T, K) (with target_visible)
    or None."""
    kps = _check_array(keypoints, 'keypoints', _REAL, (None, None, None, None))
    B, N, K, D = kps.shape
    _require(D >= 2, 'keypoints must be (B, N, K, D >= 2)')
    tgt = _check_array(target, 'target', _REAL, (B, None, None, None))
    T, Kt, C = tgt.shape[1:]
    root = int(root_index)
    _require(0 <= root < Kt, "root_index out of range of the target's keypoints")
    _require(C == 3 or not (project or train), 'target must have C = 3 to project or train')
    _check_array(params, 'params', np.float64, (B, 8))
    _check_array(factor, 'factor', np.float64, (B, None))
    _require(factor.shape[1] in (1, T), 'factor must be (B, 1) or (B, T)')
    _check_array(take_given, 'take_given', np.uint8, (B,))
    has_vis = visible is not None
    if has_vis:
        _check_array(visible, 'visible', kps.dtype, (B, N, K))
        vis = visible.reshape(-1)
    else:
        vis = np.zeros(0, kps.dtype)
    _check_array(labels, 'labels', kps.dtype, (B, N, K, D + has_vis), out=True)
    _check_array(target_label, 'target_label', tgt.dtype, tgt.shape, out=True)
    _check_array(computed_factor, 'computed_factor', tgt.dtype, (B, T if project else 0),
                 out=True)
    _require((weights is None) == (target_visible is None),
             'weights must be given exactly when target_visible is')
    if target_visible is not None:
        _check_array(target_visible, 'target_visible', _REAL, (B, T, Kt))
        _check_array(weights, 'weights', np.float32, (B, T, Kt), out=True)
    _kernel(kps.reshape(-1), vis, has_vis, B, N, K, D, labels.reshape(-1), tgt.reshape(-1), T,
            C, root, bool(project), bool(train), params.reshape(-1), factor.reshape(-1),
            factor.shape[1], take_given, target_label.reshape(-1),
            computed_factor.reshape(-1))
    if target_visible is not None:
        _weights(target_visible.reshape(-1), weights.reshape(-1))
