"""Numba mirror of MotionBERTLabel's encode kernel (csrc/cpu/lifting_kernels.cpp and
csrc/include/fastcodec/lifting.h): same signature, shapes, dtypes and numbers as
``motionbert_encode`` of the C++ backend (see ``fastcodec.backends.contract``).

Each step is the mirror of the lifting.h function of the same name, computed in the
array's dtype T (float32 or float64; ``common.cast_like`` is the C++ `(T)x`), steps
with a float64 operand in float64 and rounded to T once, as numpy does."""
from __future__ import annotations

import numpy as np

# jit's error model: IEEE division (x / 0 is Inf or NaN, as in numpy), no exception.
from fastcodec.backends.numba.common import (F32, F64, REAL, U8, _check_array, _require,
                                             cast_like, jit)

__all__ = ['motionbert_encode']


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
    kps = _check_array(keypoints, 'keypoints', REAL, (None, None, None, None))
    B, N, K, D = kps.shape
    _require(D >= 2, 'keypoints must be (B, N, K, D >= 2)')
    tgt = _check_array(target, 'target', REAL, (B, None, None, None))
    T, Kt, C = tgt.shape[1:]
    root = int(root_index)
    _require(0 <= root < Kt, "root_index out of range of the target's keypoints")
    _require(C == 3 or not (project or train), 'target must have C = 3 to project or train')
    _check_array(params, 'params', F64, (B, 8))
    _check_array(factor, 'factor', F64, (B, None))
    _require(factor.shape[1] in (1, T), 'factor must be (B, 1) or (B, T)')
    _check_array(take_given, 'take_given', U8, (B,))
    has_vis = visible is not None
    if has_vis:
        _check_array(visible, 'visible', kps.dtype, (B, N, K))
        vis = visible.ravel()
    else:
        vis = np.zeros(0, kps.dtype)
    _check_array(labels, 'labels', kps.dtype, (B, N, K, D + has_vis), out=True)
    _check_array(target_label, 'target_label', tgt.dtype, tgt.shape, out=True)
    _check_array(computed_factor, 'computed_factor', tgt.dtype, (B, T if project else 0),
                 out=True)
    _require((weights is None) == (target_visible is None),
             'weights must be given exactly when target_visible is')
    if target_visible is not None:
        _check_array(target_visible, 'target_visible', REAL, (B, T, Kt))
        _check_array(weights, 'weights', F32, (B, T, Kt), out=True)
    _kernel(kps.ravel(), vis, has_vis, B, N, K, D, labels.ravel(), tgt.ravel(), T,
            C, root, bool(project), bool(train), params.ravel(), factor.ravel(),
            factor.shape[1], take_given, target_label.ravel(),
            computed_factor.ravel())
    if target_visible is not None:
        _weights(target_visible.ravel(), weights.ravel())
