"""Numba mirror of MotionBERTLabel's encode kernel (csrc/cpu/lifting_kernels.cpp and
csrc/include/fastcodec/lifting.h): same signature, shapes, dtypes and numbers as
``motionbert_encode`` of the C++ backend (see ``fastcodec.backends.cpp``).

Every step is computed in float64 and rounded to the array's dtype (float32 or
float64): for + - * / on float32 operands this equals float32 arithmetic (double
rounding through 53 bits is innocuous for 24-bit results), and steps with a float64
operand are float64 in numpy too. The C++ loop computes the float32-only steps in
float32; both give numpy's numbers."""
from __future__ import annotations

import numba
import numpy as np

__all__ = ['motionbert_encode']

# error_model='numpy': IEEE division (x / 0 is Inf or NaN, as in numpy), no exception.
_jit = numba.njit(cache=True, nogil=True, error_model='numpy')
_F001 = float(np.float32(0.001))


@_jit
def _rd(x, f32):
    """x rounded to the working dtype (float32 when f32) and back to float64."""
    return np.float64(np.float32(x)) if f32 else x


@_jit
def _to_pixel(u, z, f, c, f32):
    q = _rd(u / z, f32)
    m = _rd(q * f, f32)
    return _rd(m + c, f32)


@_jit
def _point(row, o, project, train, z_root, ratio, prm, f32, p):
    """One keypoint's target (C = 3) before the root subtraction, into p."""
    if project:
        z = np.float64(row[o + 2])
        p[0] = _to_pixel(np.float64(row[o]), z, prm[4], prm[6], f32)
        p[1] = _to_pixel(np.float64(row[o + 1]), z, prm[5], prm[7], f32)
        p[2] = _rd(_rd(z - z_root, f32) * ratio, f32)
    else:
        p[0] = np.float64(row[o])
        p[1] = np.float64(row[o + 1])
        p[2] = np.float64(row[o + 2])
    if train:
        hw = prm[2]
        p[0] = _rd(_rd(p[0] / hw, f32) - 1.0, f32)
        p[1] = _rd(_rd(p[1] / hw, f32) - prm[3], f32)
        p[2] = _rd(p[2] / hw, f32)


@_jit
def _kernel(kp, vis, has_vis, B, N, K, D, labels, lt, T, C, root, project, train, params,
            factor, L, take, out, computed, k32, l32):
    E = D + (1 if has_vis else 0)
    p = np.empty(3, np.float64)
    pr = np.empty(3, np.float64)
    for b in range(B):
        prm = params[8 * b:8 * b + 8]
        half_w, hw_ratio = prm[0], prm[1]
        for i in range(N * K):
            src = (b * N * K + i) * D
            dst = (b * N * K + i) * E
            q = _rd(np.float64(kp[src]) / half_w, k32)
            labels[dst] = _rd(q - 1.0, k32)
            q = _rd(np.float64(kp[src + 1]) / half_w, k32)
            labels[dst + 1] = _rd(q - hw_ratio, k32)
            for j in range(2, D):
                labels[dst + j] = kp[src + j]
            if has_vis:
                labels[dst + D] = vis[b * N * K + i]
        for t in range(T):
            base = (b * T + t) * K * C
            ratio = 0.0
            fac = 4.0
            z_root = 0.0
            if project:
                z_root = np.float64(lt[base + root * C + 2])
                rx = np.float64(lt[base + root * C])
                tl = _to_pixel(_rd(rx - 1.0, l32), z_root, prm[4], prm[6], l32)
                br = _to_pixel(_rd(rx + 1.0, l32), z_root, prm[4], prm[6], l32)
                span = _rd(_rd(br - tl, l32) + (_F001 if l32 else 0.001), l32)
                ratio = _rd(span / 2.0, l32)
                fac = _rd(2.0 / span, l32)
                computed[b * T + t] = fac
            f = 0.0
            if not train:
                f = factor[b * L + (0 if L == 1 else t)] if take[b] else fac
            if not project and not train:
                r = base + root * C
                for k in range(K):
                    for j in range(C):
                        d = _rd(np.float64(lt[base + k * C + j]) - np.float64(lt[r + j]), l32)
                        out[base + k * C + j] = _rd(d * f, l32)
                continue
            _point(lt, base + root * 3, project, train, z_root, ratio, prm, l32, pr)
            for k in range(K):
                _point(lt, base + k * 3, project, train, z_root, ratio, prm, l32, p)
                for j in range(3):
                    d = _rd(p[j] - pr[j], l32)
                    out[base + k * 3 + j] = d if train else _rd(d * f, l32)


def motionbert_encode(keypoints, visible, target, params, factor, take_given, root_index: int,
                      project: bool, train: bool):
    """See ``fastcodec.backends.cpp``: keypoints (B, N, K, D >= 2) float32/float64,
    visible (B, N, K) of the keypoints' dtype or None, target (B, T, K, C),
    params (B, 8) float64, factor (B, L) float64, take_given (B,) uint8 ->
    (labels (B, N, K, D [+ 1]), target label (B, T, K, C), computed (B, T) or (B, 0))."""
    for name, a in (('keypoints', keypoints), ('lifting_target', target)):
        if a.dtype not in (np.float32, np.float64) or not a.flags.c_contiguous:
            raise ValueError(f'{name} must be a C-contiguous float32 or float64 array')
    if keypoints.ndim != 4 or keypoints.shape[3] < 2:
        raise ValueError('keypoints must be (B, N, K, D >= 2)')
    if target.ndim != 4 or target.shape[0] != keypoints.shape[0]:
        raise ValueError('lifting_target must be (B, T, K, C)')
    B, N, K, D = keypoints.shape
    T, Kt, C = target.shape[1:]
    root = int(root_index)
    if not 0 <= root < Kt:
        raise ValueError("root_index out of range of lifting_target's keypoints")
    if (project or train) and C != 3:
        raise ValueError('lifting_target must have C = 3 to project or train')
    params = np.ascontiguousarray(params, np.float64)
    factor = np.ascontiguousarray(factor, np.float64)
    take = np.ascontiguousarray(take_given, np.uint8)
    if params.shape != (B, 8):
        raise ValueError('params must be (B, 8)')
    if factor.ndim != 2 or factor.shape[0] != B or factor.shape[1] not in (1, T):
        raise ValueError('factor must be (B, 1) or (B, T)')
    if take.shape != (B,):
        raise ValueError('take_given must be (B,)')
    has_vis = visible is not None
    if has_vis:
        if visible.dtype != keypoints.dtype or not visible.flags.c_contiguous or \
                visible.size != B * N * K:
            raise ValueError("visible must be C-contiguous with the keypoints' dtype and "
                             'B * N * K entries')
        vis = visible.reshape(-1)
    else:
        vis = np.zeros(0, keypoints.dtype)
    labels = np.empty((B, N, K, D + has_vis), keypoints.dtype)
    out = np.empty(target.shape, target.dtype)
    computed = np.empty((B, T if project else 0), target.dtype)
    _kernel(keypoints.reshape(-1), vis, has_vis, B, N, K, D, labels.reshape(-1),
            target.reshape(-1), T, C, root, bool(project), bool(train), params.reshape(-1),
            factor.reshape(-1), factor.shape[1], take, out.reshape(-1), computed.reshape(-1),
            keypoints.dtype == np.float32, target.dtype == np.float32)
    return labels, out, computed
