"""The Numba backend: the C++ kernels of ``fastcodec._C`` (csrc/cpu) rewritten as
``numba.njit`` functions, for machines where the extension is not built.

Same functions, signatures, validation messages, output shapes and dtypes as the C++
backend (see ``fastcodec.backends.cpp``), and the same numbers: every float32 step of
the C++ is a float32 step here (explicit ``np.float32`` casts, since Numba would
otherwise promote to float64), in the same order; fused multiply-adds exactly where
the C++ calls fmaf (OpenCV's SIMD blur), and nowhere else (Numba does not contract).
The argmax of fastcodec/argmax.h is numpy's own argmax, which defines it.

The kernels are single-threaded and compiled with ``cache=True``: no ``parallel=True``,
so no threading layer is started and forked workers (torch DataLoader) stay safe.
``set_num_threads`` is accepted for interface parity and has no effect.
"""
from __future__ import annotations

import functools
import math
import operator
from typing import Tuple

import numba
import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

__all__ = ['encode_gaussian', 'encode_offset', 'instance_geometry', 'instance_sigmas', 'encode_megvii', 'heatmap_maximum',
           'gaussian_blur', 'refine_sign', 'refine_dark', 'refine_dark_udp',
           'decode_megvii', 'decode_udp_combined', 'num_threads', 'set_num_threads']

_MAX_BLUR_KERNEL = 255

_F0 = np.float32(0.0)
_F1 = np.float32(1.0)
_F2 = np.float32(2.0)
_FHALF = np.float32(0.5)
_FQUARTER = np.float32(0.25)
_F255 = np.float32(255.0)
_F50 = np.float32(50.0)
_F1EM3 = np.float32(1e-3)
_F1EM10 = np.float32(1e-10)
_FLT_EPS = 1.1920928955078125e-07  # np.finfo(np.float32).eps
# Denormals: float32 values below FLT_MIN (2^-126) cost 5-100x per multiply-add on many
# x86 cores (a microcode assist per operand or result). Encoders write none (a value
# that rounds below FLT_MIN is written as 0, as the C++ backend does); see _flush32.
_FLT_MIN = np.float32(1.1754943508222875e-38)
# The smallest float64 that rounds to a normal float32 (2^-126 - 2^-150, ties to even).
_ROUNDS_NORMAL = 1.1754942807573643e-38
# ln(FLT_MIN) is -87.34: exp() below this argument has no normal float32 result.
_LN_FLT_MIN = -87.5
_COORD_LIMIT = 1099511627776.0     # 2^40, see coord_is_usable

_jit = numba.njit(cache=True, nogil=True)
# Indexing with unsigned integers: Numba then skips its negative-index wraparound,
# which otherwise keeps LLVM from vectorising loops over `base + x`.
_u = np.uint64


@intrinsic
def _fmaf(typingctx, a, b, c):
    """fmaf(a, b, c): float32 a * b + c rounded once (llvm.fma.f32)."""
    sig = types.float32(types.float32, types.float32, types.float32)

    def codegen(context, builder, signature, args):
        f = ir.FloatType()
        fn = builder.module.declare_intrinsic('llvm.fma', [f], ir.FunctionType(f, [f, f, f]))
        return builder.call(fn, args)

    return sig, codegen

# ----------------------------------------------------------------------------------
# common.h


@_jit
def _flush32(v):
    """float32(v) with a result below FLT_MIN written as 0; v float32 or float64 (then
    the comparison is made before rounding, so no denormal is ever computed). NaN is
    kept. A select, not a branch: LLVM vectorises the loops that call it."""
    return _F0 if abs(v) < _ROUNDS_NORMAL else np.float32(v)


@_jit
def _exp_normal(a):
    """math.exp(a) (a float32 or float64, the result in a's precision, returned as
    float64) where it is at least FLT_MIN, else 0; arguments below ln(FLT_MIN) skip
    the exp, so no denormal is computed. NaN stays NaN."""
    e = np.float64(math.exp(a)) if not (a < _LN_FLT_MIN) else 0.0
    return 0.0 if e < _ROUNDS_NORMAL else e


@_jit
def _coord_is_usable(v):
    return v == v and abs(v) < _COORD_LIMIT


@_jit
def _scale_coord(v, scale, f32):
    # scale is float32; f32: the quotient of two float32 values.
    if f32:
        return np.float64(np.float32(v) / scale)
    return v / np.float64(scale)


@_jit
def _round_half_up(v, f32):
    if f32:
        return np.int64(np.float64(np.float32(v) + _FHALF))
    return np.int64(v + 0.5)


@_jit
def _sign_f32(v):
    if v > _F0:
        return _F1
    if v < _F0:
        return -_F1
    if v == _F0:
        return _F0
    return v


@_jit
def _scaled_point(kps, i, sx, sy, f32):
    """(ok, x, y): keypoint i divided by the scale, as scaled_point in C++."""
    rx = kps[2 * i]
    ry = kps[2 * i + 1]
    if not (_coord_is_usable(rx) and _coord_is_usable(ry)):
        return False, 0.0, 0.0
    px = _scale_coord(rx, sx, f32)
    py = _scale_coord(ry, sy, f32)
    return _coord_is_usable(px) and _coord_is_usable(py), px, py


@_jit
def _point_to_draw(kps, vis, i, sx, sy, f32, inside):
    """(draw, x, y), setting inside[i], as point_to_draw in C++: NaN/Inf keypoints get
    weight 0; visibility < 0.5 keeps its weight and draws nothing."""
    ok, px, py = _scaled_point(kps, i, sx, sy, f32)
    inside[i] = 1 if ok else 0
    return ok and not (vis[i] < 0.5), px, py


# ----------------------------------------------------------------------------------
# blur.h / blur_cpu.cpp


# OpenCV 5's fixed sigma-0 kernels (small_gaussian_tab), as in blur.h.
_FIXED_KERNELS = {
    1: (1.0,),
    3: (0.25, 0.5, 0.25),
    5: (0.0625, 0.25, 0.375, 0.25, 0.0625),
    7: (0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125),
    9: tuple(v / 256 for v in (4, 13, 30, 51, 60, 51, 30, 13, 4)),
}


@functools.lru_cache(maxsize=None)
def _kernel(k: int) -> np.ndarray:
    """cv2.getGaussianKernel(k, 0, CV_32F) of OpenCV 5, as opencv_gaussian_kernel in
    blur.h: fixed tables for k <= 9, otherwise float64 taps normalised, then rounded."""
    if k in _FIXED_KERNELS:
        w = np.array(_FIXED_KERNELS[k], np.float32)
    else:
        sigma = ((k - 1) * 0.5 - 1) * 0.3 + 0.8
        scale2x = -0.5 / (sigma * sigma)
        xs = [i - (k - 1) * 0.5 for i in range(k)]
        taps = [math.exp(scale2x * x * x) for x in xs]
        total = 0.0
        for t in taps:
            total += t
        total = 1.0 / total
        w = np.array([t * total for t in taps], np.float64).astype(np.float32)
    w.setflags(write=False)
    return w


@_jit
def _reflect101(p, n):
    if n == 1:
        return 0
    while p < 0 or p >= n:
        p = -p if p < 0 else 2 * (n - 1) - p
    return p


@_jit
def _row_simd_end(width):
    """opencv_row_simd_end: OpenCV's row pass covers 8-float registers, then one 4-float
    step; columns from there on take the scalar tail."""
    v = width // 8 * 8
    return v + 4 if width - v >= 4 else v


@_jit
def _column_simd_end(width):
    return width // 8 * 8


@_jit
def _blur_scratch(H, W, r):
    """Scratch buffers of _blur_map for H x W maps and a (2r + 1)-tap kernel; P starts
    zeroed (see _blur_map)."""
    Wp = W + 2 * r
    P = np.zeros(H * Wp + 2 * r, np.float32)
    Q = np.empty((H + 2 * r) * Wp, np.float32)
    O = np.empty(H * Wp, np.float32)
    return P, Q, O


@_jit
def _blur_map(src, s0, dst, d0, H, W, w, r, reflect, P, Q, O, out_lo, out_hi, tw):
    """dst[d0:d0+H*W] = blur(src[s0:s0+H*W]) as blur_map in blur_cpu.cpp: OpenCV's
    float32 row pass, then its column pass, with the fused multiply-adds of its SIMD
    part and the unfused formulas of its scalar tail (x >= row_end / column_end).
    reflect: BORDER_REFLECT_101 (cv2.GaussianBlur); otherwise zero padding.

    Every output sample gets exactly the C++ operations; only the loop layout
    differs: the map is bordered into P (rows W + 2r wide), and each pass runs as
    long flat loops over all rows at once (the columns past W are scratch), which
    LLVM vectorises; the tail columns are then recomputed with their own formula.
    Only output rows [out_lo, out_hi) are computed and written (the column pass).

    tw > 0 (_flush_level(w)): denormals are neither read nor computed nor written.
    Inputs and row-pass sums under tw = FLT_MIN / (smallest tap) read as 0, so every
    product of a tap with a value is either 0 or at least FLT_MIN; outputs under
    FLT_MIN are written as 0. Each output moves by less than 2 * tw * (largest tap),
    under 1e-35 for every kernel size; callers guard the maps where that could tell
    (_modulate, _blurred_argmax_reflect). tw = 0: the exact blur."""
    fo = _FLT_MIN if tw > _F0 else _F0
    Wp = W + 2 * r
    n = H * Wp
    pad = 0 if reflect else r
    row_end = max(0, min(W, _row_simd_end(W + 2 * pad) - pad))
    column_end = max(0, min(W, _column_simd_end(W + 2 * pad) - pad))
    wr = w[r]
    # P: the bordered rows, plus 2r slack samples read by the last row's scratch
    # columns. _blur_scratch zeroes P, and only the interior is written for a zero
    # border, so its border columns and the slack stay zero from call to call.
    for y in range(H):
        b = y * Wp
        sb = s0 + y * W
        for x in range(W):
            v = src[_u(sb + x)]
            P[_u(b + r + x)] = _F0 if abs(v) < tw else v
        if reflect:
            for p in range(r):
                v = src[sb + _reflect101(p - r, W)]
                P[b + p] = _F0 if abs(v) < tw else v
                v = src[sb + _reflect101(W + p, W)]
                P[b + r + W + p] = _F0 if abs(v) < tw else v
    # Row pass into rows r .. r + H - 1 of Q (opencv_row_sum).
    Qc = Q[r * Wp:r * Wp + n]
    if r == 0:
        w0 = w[0]
        for q in range(n):
            Qc[q] = w0 * P[q]
    elif r == 1:
        w1 = w[1]
        w2 = w[2]
        a = P[0:n]
        c = P[1:n + 1]
        b = P[2:n + 2]
        for q in range(n):
            Qc[q] = _fmaf(w2, b[q] + a[q], w1 * c[q])
    elif r == 2:
        w2 = w[2]
        w3 = w[3]
        w4 = w[4]
        a2 = P[0:n]
        a1 = P[1:n + 1]
        c = P[2:n + 2]
        b1 = P[3:n + 3]
        b2 = P[4:n + 4]
        for q in range(n):
            t = _fmaf(w2, c[q], w3 * (b1[q] + a1[q]))
            Qc[q] = _fmaf(w4, b2[q] + a2[q], t)
    else:
        # The chain t = fma(w[j], P[x + j], t) from t = 0, j = 0 .. 2r, four taps a pass.
        K = 2 * r + 1
        w0 = w[0]
        w1 = w[1]
        w2 = w[2]
        w3 = w[3]
        p0 = P[0:n]
        p1 = P[1:n + 1]
        p2 = P[2:n + 2]
        p3 = P[3:n + 3]
        for q in range(n):
            Qc[q] = _fmaf(w3, p3[q], _fmaf(w2, p2[q], _fmaf(w1, p1[q], _fmaf(w0, p0[q], _F0))))
        j = 4
        while j + 4 <= K:
            w0 = w[j]
            w1 = w[j + 1]
            w2 = w[j + 2]
            w3 = w[j + 3]
            p0 = P[j:j + n]
            p1 = P[j + 1:j + 1 + n]
            p2 = P[j + 2:j + 2 + n]
            p3 = P[j + 3:j + 3 + n]
            for q in range(n):
                Qc[q] = _fmaf(w3, p3[q], _fmaf(w2, p2[q], _fmaf(w1, p1[q],
                                                                   _fmaf(w0, p0[q], Qc[q]))))
            j += 4
        while j < K:
            w0 = w[j]
            p0 = P[j:j + n]
            for q in range(n):
                Qc[q] = _fmaf(w0, p0[q], Qc[q])
            j += 1
    # opencv_row_sum_tail for the columns OpenCV's SIMD part leaves over.
    if row_end < W and r > 0:
        for y in range(H):
            for x in range(row_end, W):
                c0 = y * Wp + r + x
                if r <= 2:
                    t = wr * P[c0]
                    for i in range(1, r + 1):
                        t = t + w[r + i] * (P[_u(c0 + i)] + P[_u(c0 - i)])
                else:
                    t = w[0] * P[_u(c0 - r)]
                    for i in range(-r + 1, r + 1):
                        t = t + w[_u(i + r)] * P[_u(c0 + i)]
                Qc[y * Wp + x] = t
    if tw > _F0:
        for q in range(n):
            v = Qc[q]
            Qc[q] = _F0 if abs(v) < tw else v
    # The r rows above and below: the border of the row-filtered map.
    for p in range(2 * r):
        if p < r:
            y = p - r
            o = p * Wp
        else:
            y = H + (p - r)
            o = (H + p) * Wp
        if reflect:
            so = (_reflect101(y, H) + r) * Wp
            for x in range(Wp):
                Q[_u(o + x)] = Q[_u(so + x)]
        else:
            for x in range(Wp):
                Q[_u(o + x)] = _F0
    # Column pass (opencv_column_sum) over the output rows [out_lo, out_hi): flat
    # index q0 + q, slices offset so the loops start at 0 (LLVM vectorises those).
    q0 = out_lo * Wp
    m = (out_hi - out_lo) * Wp
    Oc = O[q0:q0 + m]
    Qo = Qc[q0:q0 + m]
    # t = w[r] * c, then t = fma(w[r + i], a_i + b_i, t) for i = 1 .. r, two taps a pass.
    i = 1
    if r >= 2:
        w1 = w[r + 1]
        w2 = w[r + 2]
        a1 = Q[(r + 1) * Wp + q0:(r + 1) * Wp + q0 + m]
        b1 = Q[(r - 1) * Wp + q0:(r - 1) * Wp + q0 + m]
        a2 = Q[(r + 2) * Wp + q0:(r + 2) * Wp + q0 + m]
        b2 = Q[(r - 2) * Wp + q0:(r - 2) * Wp + q0 + m]
        for q in range(m):
            Oc[q] = _fmaf(w2, a2[q] + b2[q], _fmaf(w1, a1[q] + b1[q], wr * Qo[q]))
        i = 3
    else:
        for q in range(m):
            Oc[q] = wr * Qo[q]
    while i + 2 <= r + 1:
        w1 = w[r + i]
        w2 = w[r + i + 1]
        a1 = Q[(r + i) * Wp + q0:(r + i) * Wp + q0 + m]
        b1 = Q[(r - i) * Wp + q0:(r - i) * Wp + q0 + m]
        a2 = Q[(r + i + 1) * Wp + q0:(r + i + 1) * Wp + q0 + m]
        b2 = Q[(r - i - 1) * Wp + q0:(r - i - 1) * Wp + q0 + m]
        for q in range(m):
            Oc[q] = _fmaf(w2, a2[q] + b2[q], _fmaf(w1, a1[q] + b1[q], Oc[q]))
        i += 2
    if i <= r:
        w1 = w[r + i]
        a1 = Q[(r + i) * Wp + q0:(r + i) * Wp + q0 + m]
        b1 = Q[(r - i) * Wp + q0:(r - i) * Wp + q0 + m]
        for q in range(m):
            Oc[q] = _fmaf(w1, a1[q] + b1[q], Oc[q])
    for y in range(out_lo, out_hi):
        d = d0 + y * W
        o = y * Wp
        for x in range(column_end):
            v = O[_u(o + x)]
            dst[_u(d + x)] = _F0 if abs(v) < fo else v
        # opencv_column_sum_tail
        for x in range(column_end, W):
            c0 = (y + r) * Wp + x
            t = wr * Q[c0]
            for i in range(1, r + 1):
                t = t + w[_u(r + i)] * (Q[_u(c0 + i * Wp)] + Q[_u(c0 - i * Wp)])
            dst[d + x] = _F0 if abs(t) < fo else t


@_jit
def _blur_rescale(raw_max, blurred_max):
    if blurred_max == _F0:
        return _F1
    return raw_max / blurred_max


# ----------------------------------------------------------------------------------
# argmax.h (first_argmax itself is numpy's argmax: see _argmax_rows)


@_jit
def _write_location(index, value, W, locs, c):
    if value <= _F0:
        locs[2 * c] = -_F1
        locs[2 * c + 1] = -_F1
    else:
        locs[2 * c] = np.float32(index % W)
        locs[2 * c + 1] = np.float32(index // W)


# ----------------------------------------------------------------------------------
# Encoding (heatmap_targets.h, heatmap_kernels.cpp)


@_jit
def _paint_unbiased(hm, o, W, H, mx, my, two_sigma2, grid, fx, fy):
    """unbiased_factor products max-pasted into hm, in the precision of the arguments:
    float32 (mx, my, two_sigma2, grid = arange as float32) or float64, as MMPose
    computes with float32 or float64 keypoints.

    No denormal is computed or written: factors below FLT_MIN are 0 (their products,
    factors <= 1, would be too), the products are formed in float64 (exact for float32
    factors, so rounding them once gives the float32 product) and written as 0 where
    they round below FLT_MIN. Rows whose factor is 0 and columns outside the factors'
    nonzero span only hold zeros, which never beat hm (>= 0): they are skipped."""
    xlo = W
    xhi = -1
    for x in range(W):
        d = grid[x] - mx
        fx[x] = _exp_normal(-(d * d) / two_sigma2)
        if fx[x] != 0:
            xlo = min(xlo, x)
            xhi = x
    for y in range(H):
        d = grid[y] - my
        fy[y] = _exp_normal(-(d * d) / two_sigma2)
    for y in range(H):
        gy = np.float64(fy[y])
        if not (gy != 0):
            continue
        ro = o + y * W
        for x in range(xlo, xhi + 1):
            g = _flush32(np.float64(fx[x]) * gy)
            if g > hm[_u(ro + x)]:
                hm[_u(ro + x)] = g


@_jit
def _encode_gaussian_kernel(kind, kps, vis, sigma, rows, sig_f32, sx, sy, f32, W, H, B, N,
                            K, heat, inside):
    # kind: 0 msra, 1 unbiased, 2 udp. heat (B*K*H*W,) zeroed; inside (B*N*K,).
    # sigma: (rows * N,) flattened (N,) (rows = 1) or (B, N) (rows = B); sig_f32: the
    # patch radius and size in float32 (patch_geometry_f32), else float64.
    HW = H * W
    S = rows * N
    radius = np.empty(S, np.float64)
    length = np.empty(S, np.int64)
    centre = np.empty(S, np.float64)
    lmax = 1
    for n in range(S):
        if sig_f32:
            r32 = np.float32(sigma[n]) * np.float32(3.0)
            size32 = np.float32(2.0) * r32 + np.float32(1.0)
            radius[n] = np.float64(r32)
            size = np.float64(size32)
        else:
            radius[n] = sigma[n] * 3
            size = 2 * radius[n] + 1
        length[n] = np.int64(math.ceil(size))
        centre[n] = math.floor(size / 2)
        if length[n] > lmax:
            lmax = length[n]
    if kind == 0:
        patch = np.empty((S, lmax * lmax), np.float32)
        for n in range(S):
            L = length[n]
            c = np.float32(centre[n])
            s2 = np.float32(2 * sigma[n] * sigma[n])
            for gy in range(L):
                for gx in range(L):
                    dx = np.float32(gx) - c
                    dy = np.float32(gy) - c
                    d2 = dx * dx + dy * dy
                    # exp(-0) = 1; also for sigma = 0, where numpy's 0/0 gives NaN
                    patch[n, gy * L + gx] = 1.0 if d2 == 0 else _exp_normal(-d2 / s2)
    else:
        patch = np.empty((0, 0), np.float32)
    ux = np.empty(max(lmax, W), np.float64)
    uy = np.empty(max(lmax, H), np.float64)
    vx = np.empty(W, np.float32)
    vy = np.empty(H, np.float32)
    grid64 = np.arange(max(W, H)).astype(np.float64)
    grid32 = grid64.astype(np.float32)
    for bk in range(B * K):
        b = bk // K
        k = bk % K
        hoff = bk * HW
        for n in range(N):
            i = (b * N + n) * K + k
            draw, px, py = _point_to_draw(kps, vis, i, sx, sy, f32, inside)
            if not draw:
                continue
            sn = (0 if rows == 1 else b) * N + n
            rad = radius[sn]
            if kind == 1:
                if f32:
                    mx = np.float32(px)
                    my = np.float32(py)
                    r32 = np.float32(rad)
                    misses = (mx - r32 >= np.float32(W) or my - r32 >= np.float32(H)
                              or mx + r32 + _F1 < _F0 or my + r32 + _F1 < _F0)
                else:
                    misses = (px - rad >= np.float64(W) or py - rad >= np.float64(H)
                              or px + rad + 1.0 < 0.0 or py + rad + 1.0 < 0.0)
                if misses:
                    inside[i] = 0
                    continue
                two_sigma2 = 2 * sigma[sn] * sigma[sn]
                if f32:
                    _paint_unbiased(heat, hoff, W, H, np.float32(px), np.float32(py),
                                    np.float32(two_sigma2), grid32, vx, vy)
                else:
                    _paint_unbiased(heat, hoff, W, H, px, py, two_sigma2, grid64, ux, uy)
                continue
            mu_x = _round_half_up(px, f32)
            mu_y = _round_half_up(py, f32)
            left = np.int64(np.float64(mu_x) - rad)
            top = np.int64(np.float64(mu_y) - rad)
            right = np.int64(np.float64(mu_x) + rad + 1)
            bottom = np.int64(np.float64(mu_y) + rad + 1)
            if left >= W or top >= H or right < 0 or bottom < 0:
                inside[i] = 0
                continue
            x1 = max(0, left)
            x2 = min(W, right)
            y1 = max(0, top)
            y2 = min(H, bottom)
            L = length[sn]
            if kind == 2:
                s2 = 2 * sigma[sn] * sigma[sn]
                cn = centre[sn]
                for t in range(L):
                    d = np.float64(t) - (cn + (px - np.float64(mu_x)))
                    ux[t] = _exp_normal(-(d * d) / s2)  # factors <= 1: a factor
                    d = np.float64(t) - (cn + (py - np.float64(mu_y)))  # under FLT_MIN
                    uy[t] = _exp_normal(-(d * d) / s2)  # gives a product under it
            for y in range(y1, y2):
                gy = y - top
                if gy >= L:
                    break
                ro = hoff + y * W
                for x in range(x1, x2):
                    gx = x - left
                    if gx >= L:
                        break
                    if kind == 0:
                        v = patch[sn, _u(gy * L + gx)]
                    else:
                        v = _flush32(ux[_u(gx)] * uy[_u(gy)])
                    if v > heat[_u(ro + x)]:
                        heat[_u(ro + x)] = v


@_jit
def _encode_offset_kernel(kps, vis, sx, sy, f32, W, H, B, N, K, radius, heat, inside):
    HW = H * W
    ox = np.empty(W, np.float64)
    oy = np.empty(H, np.float64)
    fx = np.empty(W, np.float32)
    for bk in range(B * K):
        b = bk // K
        k = bk % K
        lo = bk * 3 * HW
        xo = lo + HW
        yo = xo + HW
        for n in range(N):
            i = (b * N + n) * K + k
            draw, mx, my = _point_to_draw(kps, vis, i, sx, sy, f32, inside)
            if not draw:
                continue
            # offset_pixel: (m - p) / radius depends on one coordinate only.
            for x in range(W):
                ox[x] = (mx - np.float64(x)) / radius
                fx[x] = _flush32(ox[x])
            for y in range(H):
                oy[y] = (my - np.float64(y)) / radius
            for y in range(H):
                vy = oy[y]
                fy = _flush32(vy)
                ro = y * W
                for x in range(W):
                    vx = ox[x]
                    p = _u(ro + x)
                    heat[_u(lo) + p] = _F1 if vx * vx + vy * vy <= 1.0 else _F0
                    heat[_u(xo) + p] = fx[x]
                    heat[_u(yo) + p] = fy


@_jit
def _impulse_tap(x, i, at, n):
    """The unit impulse at `at` seen i taps from x through the reflect-101 border."""
    return _F1 if _reflect101(x + i, n) == at else _F0


@_jit
def _impulse_row_sum(w, r, x, kx, W, simd):
    """opencv_row_sum (simd) or opencv_row_sum_tail of a unit impulse at kx."""
    if simd:
        if r == 0:
            return w[0] * _impulse_tap(x, 0, kx, W)
        if r == 1:
            return _fmaf(w[2], _impulse_tap(x, 1, kx, W) + _impulse_tap(x, -1, kx, W),
                         w[1] * _impulse_tap(x, 0, kx, W))
        if r == 2:
            t = w[3] * (_impulse_tap(x, 1, kx, W) + _impulse_tap(x, -1, kx, W))
            t = _fmaf(w[2], _impulse_tap(x, 0, kx, W), t)
            return _fmaf(w[4], _impulse_tap(x, 2, kx, W) + _impulse_tap(x, -2, kx, W), t)
        t = _F0
        for i in range(-r, r + 1):
            t = _fmaf(w[i + r], _impulse_tap(x, i, kx, W), t)
        return t
    if r <= 2:
        t = w[r] * _impulse_tap(x, 0, kx, W)
        for i in range(1, r + 1):
            t = t + w[r + i] * (_impulse_tap(x, i, kx, W) + _impulse_tap(x, -i, kx, W))
        return t
    t = w[0] * _impulse_tap(x, -r, kx, W)
    for i in range(-r + 1, r + 1):
        t = t + w[i + r] * _impulse_tap(x, i, kx, W)
    return t


@_jit
def _encode_megvii_kernel(kps, vis, sx, sy, f32, W, H, B, N, K, w, heat, inside):
    HW = H * W
    r = w.shape[0] // 2
    row_end = _row_simd_end(W)
    column_end = _column_simd_end(W)
    px = np.empty(W, np.float32)
    hit = np.empty(2 * r + 1, np.bool_)
    for bk in range(B * K):
        b = bk // K
        k = bk % K
        hoff = bk * HW
        for n in range(N):
            i = (b * N + n) * K + k
            draw, qx, qy = _point_to_draw(kps, vis, i, sx, sy, f32, inside)
            if not draw:
                continue
            # (keypoints / scale_factor).astype(np.int64): truncation, no rounding.
            kx = np.int64(qx)
            ky = np.int64(qy)
            if kx < 0 or kx >= W or ky < 0 or ky >= H:
                inside[i] = 0
                continue
            # cv2.GaussianBlur of the impulse pass by pass: the row pass gives px; each
            # output row is the column sum over the rows that reflect onto ky.
            for x in range(W):
                px[x] = _impulse_row_sum(w, r, x, kx, W, x < row_end)
            for y in range(H):
                hits = 0
                tap = 0
                for j in range(-r, r + 1):
                    h = _reflect101(y + j, H) == ky
                    hit[j + r] = h
                    if h:
                        hits += 1
                        tap = -j if j < 0 else j
                ro = hoff + y * W
                if hits <= 1:
                    wy = w[r + tap] if hits else _F0
                    for x in range(W):
                        heat[_u(ro + x)] = wy * px[x]
                    continue
                for x in range(W):
                    v = px[x]
                    t = w[r] * (v if hit[r] else _F0)
                    if x < column_end:
                        for j in range(1, r + 1):
                            t = _fmaf(w[r + j], (v if hit[r + j] else _F0)
                                      + (v if hit[r - j] else _F0), t)
                    else:
                        for j in range(1, r + 1):
                            t = t + w[r + j] * ((v if hit[r + j] else _F0)
                                                + (v if hit[r - j] else _F0))
                    heat[_u(ro + x)] = t
            centre = heat[hoff + ky * W + kx]
            for p in range(HW):
                heat[_u(hoff + p)] = _flush32(heat[_u(hoff + p)] / centre * _F255)


# ----------------------------------------------------------------------------------
# Decoding (argmax.h, refine.h, heatmap_kernels.cpp)


@_jit
def _locations_kernel(idx, vals, W, locs):
    """maximum_location for every channel: (x, y) of the argmax, -1 where vals <= 0."""
    for c in range(idx.shape[0]):
        _write_location(idx[c], vals[c], W, locs, c)


@_jit
def _blur_kernel(heat, C, H, W, w, reflect, stride, out, tw):
    """out channel c = blur of heat channel stride * c (every channel is H x W)."""
    r = w.shape[0] // 2
    HW = H * W
    P, Q, O = _blur_scratch(H, W, r)
    for c in range(C):
        _blur_map(heat, stride * c * HW, out, c * HW, H, W, w, r, reflect, P, Q, O, 0, H, tw)


@_jit
def _rescale_kernel(raw, blurred_max, scale):
    for c in range(raw.shape[0]):
        scale[c] = _blur_rescale(raw[c], blurred_max[c])


@_jit
def _apply_scale_kernel(m, HW, scale):
    for c in range(scale.shape[0]):
        s = scale[c]
        o = c * HW
        for p in range(HW):
            m[_u(o + p)] *= s


@_jit
def _keypoint_pixel(kps, i):
    """(ok, x, y): keypoint i as `astype(int)`, as keypoint_pixel in C++."""
    kx = kps[2 * i]
    ky = kps[2 * i + 1]
    if not (_coord_is_usable(kx) and _coord_is_usable(ky)):
        return False, np.int64(0), np.int64(0)
    return True, np.int64(kx), np.int64(ky)


@_jit
def _refine_sign_kernel(kps, B, N, K, heat, H, W):
    HW = H * W
    for i in range(B * N * K):
        b = i // (N * K)
        k = i % K
        ok, x, y = _keypoint_pixel(kps, i)
        if not ok:
            continue
        o = (b * K + k) * HW
        dx = _F0
        dy = _F0
        if 1 < x and x < W - 1 and 0 < y and y < H:
            dx = heat[o + y * W + x + 1] - heat[o + y * W + x - 1]
        if 1 < y and y < H - 1 and 0 < x and x < W:
            dy = heat[o + (y + 1) * W + x] - heat[o + (y - 1) * W + x]
        kps[2 * i] += np.float64(_sign_f32(dx) * _FQUARTER)
        kps[2 * i + 1] += np.float64(_sign_f32(dy) * _FQUARTER)


@_jit
def _dark_log(m, o, s):
    v = m[o] * s
    if v < _F1EM10:
        v = _F1EM10
    return math.log(v)


@_jit
def _refine_dark_kernel(kps, B, N, K, blurred, scale, H, W):
    """dark_step of refine.h on the modulated maps blurred * scale."""
    HW = H * W
    for i in range(B * N * K):
        b = i // (N * K)
        k = i % K
        ok, x, y = _keypoint_pixel(kps, i)
        if not ok:
            continue
        if not (1 < x and x < W - 2 and 1 < y and y < H - 2):
            continue
        ch = b * K + k
        s = scale[ch]
        o = ch * HW + y * W + x
        c = _dark_log(blurred, o, s)
        dx = _FHALF * (_dark_log(blurred, o + 1, s) - _dark_log(blurred, o - 1, s))
        dy = _FHALF * (_dark_log(blurred, o + W, s) - _dark_log(blurred, o - W, s))
        dxx = _FQUARTER * (_dark_log(blurred, o + 2, s) - _F2 * c
                           + _dark_log(blurred, o - 2, s))
        dxy = _FQUARTER * (_dark_log(blurred, o + W + 1, s) - _dark_log(blurred, o - W + 1, s)
                           - _dark_log(blurred, o + W - 1, s)
                           + _dark_log(blurred, o - W - 1, s))
        dyy = _FQUARTER * (_dark_log(blurred, o + 2 * W, s) - _F2 * c
                           + _dark_log(blurred, o - 2 * W, s))
        det32 = dxx * dyy - dxy * dxy
        if not (det32 != _F0):
            continue
        # np.linalg.inv in float32, then -inv @ g in float32.
        det = np.float64(dxx) * np.float64(dyy) - np.float64(dxy) * np.float64(dxy)
        i00 = np.float32(np.float64(dyy) / det)
        i01 = np.float32(np.float64(-dxy) / det)
        i11 = np.float32(np.float64(dxx) / det)
        kps[2 * i] += np.float64(-(i00 * dx + i01 * dy))
        kps[2 * i + 1] += np.float64(-(i01 * dx + i11 * dy))


@_jit
def _dark_udp_log(v):
    if v < _F1EM3:
        v = _F1EM3
    elif v > _F50:
        v = _F50
    return math.log(v)


@_jit
def _refine_dark_udp_kernel(kps, B, N, K, blurred, scale, H, W, f32):
    """dark_udp_step of refine.h on the edge-padded log of blurred * scale."""
    Wp = W + 2
    S = (H + 2) * Wp
    total = K * S
    steps = np.empty(7, np.int64)
    steps[0] = 0
    steps[1] = 1
    steps[2] = Wp
    steps[3] = Wp + 1
    steps[4] = -Wp - 1
    steps[5] = -1
    steps[6] = -Wp
    v = np.empty(7, np.float32)
    for i in range(B * N * K):
        b = i // (N * K)
        k = i % K
        kx = kps[2 * i]
        ky = kps[2 * i + 1]
        if not (_coord_is_usable(kx) and _coord_is_usable(ky)):
            continue
        # MMPose indexes the flattened, edge-padded (K, H + 2, W + 2) array with
        # int(x + 1 + (y + 1) * (W + 2) + k * S), evaluated in the keypoints' dtype;
        # negative indices wrap around as in Python.
        if f32:
            t = (np.float32(kx) + _F1) + (np.float32(ky) + _F1) * np.float32(Wp)
            f = np.float64(np.float32(np.float64(t) + np.float64(k * S)))
        else:
            f = (kx + 1) + (ky + 1) * np.float64(Wp) + np.float64(k * S)
        centre = np.int64(f)
        ok = True
        for j in range(7):
            q = centre + steps[j]
            if q < -total or q >= total:
                ok = False  # IndexError in MMPose
                break
            if q < 0:
                q += total
            c = q // S
            py = (q % S) // Wp
            px = q % Wp
            yy = min(max(py - 1, 0), H - 1)
            xx = min(max(px - 1, 0), W - 1)
            ch = b * K + c
            v[j] = _dark_udp_log(blurred[(ch * H + yy) * W + xx] * scale[ch])
        if not ok:
            continue
        i_ = v[0]
        ix1 = v[1]
        iy1 = v[2]
        ix1y1 = v[3]
        ix1_y1_ = v[4]
        ix1_ = v[5]
        iy1_ = v[6]
        dx = _FHALF * (ix1 - ix1_)
        dy = _FHALF * (iy1 - iy1_)
        dxx = ix1 - _F2 * i_ + ix1_
        dyy = iy1 - _F2 * i_ + iy1_
        dxy = _FHALF * (ix1y1 - ix1 - iy1 + i_ + i_ - ix1_ - iy1_ + ix1_y1_)
        # The Hessian plus float32 eps on the diagonal, inverted in float64; a singular
        # matrix gives no step, a NaN one a NaN step.
        a = np.float64(dxx) + _FLT_EPS
        bb = np.float64(dxy)
        d = np.float64(dyy) + _FLT_EPS
        det = a * d - bb * bb
        if det == 0.0 or det != det:
            if det != det:
                kps[2 * i] -= det
                kps[2 * i + 1] -= det
            continue
        i00 = d / det
        i01 = -bb / det
        i11 = a / det
        kps[2 * i] -= i00 * np.float64(dx) + i01 * np.float64(dy)
        kps[2 * i + 1] -= i01 * np.float64(dx) + i11 * np.float64(dy)


@_jit
def _decode_megvii_kernel(m, idx, vals, H, W, locs, scores):
    """MegviiHeatmap.decode after the maximum of every modulated map m is known."""
    HW = H * W
    for c in range(idx.shape[0]):
        o = c * HW
        val = vals[c]
        _write_location(idx[c], val, W, locs, c)
        x = np.int64(locs[2 * c])
        y = np.int64(locs[2 * c + 1])
        if 1 < x and x < W - 1 and 1 < y and y < H - 1:
            dx = m[o + y * W + x + 1] - m[o + y * W + x - 1]
            dy = m[o + (y + 1) * W + x] - m[o + (y - 1) * W + x]
            locs[2 * c] += _sign_f32(dx) * _FQUARTER + _FHALF
            locs[2 * c + 1] += _sign_f32(dy) * _FQUARTER + _FHALF
        scores[c] = val / _F255 + _FHALF


@_jit
def _blurred_argmax_reflect(heat, C, H, W, w, stride, idx, vals, tw):
    """idx[c], vals[c]: first maximum of cv2.GaussianBlur(map stride * c) (reflected
    border), blurring only the rows that can hold it (blurred_argmax in C++ prunes
    columns too; in Numba the short loops that needs cost more than they save).

    Bound (the taps are positive): a row can reach at most the column pass of the row
    maxima times the tap sum. It is compared with a floor, the largest value of the
    row with the largest bound summed column-first, minus a margin larger than the
    rounding difference. Maps with NaN/Inf are blurred whole (numpy's argmax: the
    first NaN wins).

    tw > 0: values under tw read as 0 (see _blur_map); a map whose blurred maximum is
    under _EXACT_BELOW, where that could move the argmax (a map whose maximum is a
    positive denormal still has one), is done again exactly."""
    r = w.shape[0] // 2
    HW = H * W
    P, Q, O = _blur_scratch(H, W, r)
    out = np.empty(HW, np.float32)
    rowmax = np.empty(H + 2 * r, np.float32)  # bordered by reflection
    keep = np.empty(H, np.float32)
    column = np.empty(W + 2 * r, np.float32)  # the column pass at one row, bordered
    sums = np.empty(W, np.float32)
    wsum = 0.0
    for j in range(2 * r + 1):
        wsum += np.float64(w[j])
    up = np.float32(wsum * (1 + 1e-6))
    down = np.float32(wsum * (1 - 1e-6))
    for c in range(C):
        s0 = stride * c * HW
        best, best_v = _blurred_argmax_one(heat, s0, H, W, w, r, up, down, P, Q, O, out,
                                           rowmax, keep, column, sums, tw)
        if tw > _F0 and not (best_v >= _EXACT_BELOW):
            best, best_v = _blurred_argmax_one(heat, s0, H, W, w, r, up, down, P, Q, O, out,
                                               rowmax, keep, column, sums, _F0)
        idx[c] = best
        vals[c] = best_v


@_jit
def _blurred_argmax_one(heat, s0, H, W, w, r, up, down, P, Q, O, out, rowmax, keep, column,
                        sums, tw):
    """(index, value) of the first maximum of one blurred map: see
    _blurred_argmax_reflect."""
    HW = H * W
    # Four interleaved chains per reduction: Numba keeps float reductions in
    # order, so one chain would wait on every add. v - v is NaN for NaN and +-Inf
    # (a subtraction: no multiply reads a denormal).
    bad0 = bad1 = bad2 = bad3 = _F0
    lo0 = lo1 = lo2 = lo3 = np.float32(np.inf)
    hi = np.float32(-np.inf)
    for y in range(H):
        o = s0 + y * W
        m0 = m1 = m2 = m3 = np.float32(-np.inf)
        x = 0
        while x + 4 <= W:
            v0 = heat[_u(o + x)]
            v1 = heat[_u(o + x + 1)]
            v2 = heat[_u(o + x + 2)]
            v3 = heat[_u(o + x + 3)]
            m0 = max(m0, v0)
            m1 = max(m1, v1)
            m2 = max(m2, v2)
            m3 = max(m3, v3)
            lo0 = min(lo0, v0)
            lo1 = min(lo1, v1)
            lo2 = min(lo2, v2)
            lo3 = min(lo3, v3)
            bad0 += (v0 - v0)
            bad1 += (v1 - v1)
            bad2 += (v2 - v2)
            bad3 += (v3 - v3)
            x += 4
        while x < W:
            v0 = heat[_u(o + x)]
            m0 = max(m0, v0)
            lo0 = min(lo0, v0)
            bad0 += (v0 - v0)
            x += 1
        m = max(max(m0, m1), max(m2, m3))
        rowmax[r + y] = _F0 if abs(m) < tw else m
        hi = max(hi, m)
    lo = min(min(lo0, lo1), min(lo2, lo3))
    bad = bad0 + bad1 + bad2 + bad3
    if bad != 0:
        _blur_map(heat, s0, out, 0, H, W, w, r, True, P, Q, O, 0, H, _F0)
        best = 0
        for p in range(HW):  # numpy's argmax: first maximum, the first NaN wins
            v = out[p]
            if v > out[best] or (v != v and out[best] == out[best]):
                best = p
                if v != v:
                    break
        return best, out[best]
    for i in range(r):
        rowmax[i] = rowmax[r + _reflect101(i - r, H)]
        rowmax[r + H + i] = rowmax[r + _reflect101(H + i, H)]
    margin = np.float32(1e-4) * max(abs(lo), abs(hi)) + np.float32(1e-30)
    keep[:] = _F0
    for j in range(2 * r + 1):  # tap-major: the rows' sums run side by side
        wj = w[j]
        for y in range(H):
            keep[y] += wj * rowmax[_u(y + j)]
    # The floor: the largest value of the row with the largest bound, summed
    # column-first, minus the margin.
    y_best = np.argmax(keep)
    column[:] = _F0
    for t in range(2 * r + 1):
        q = s0 + _reflect101(y_best - r + t, H) * W
        wt = w[t]
        for x in range(W):
            v = heat[_u(q + x)]
            column[_u(r + x)] += wt * (_F0 if abs(v) < tw else v)
    for i in range(r):
        column[i] = column[r + _reflect101(i - r, W)]
        column[r + W + i] = column[r + _reflect101(W + i, W)]
    sums[:] = _F0
    for j in range(2 * r + 1):
        wj = w[j]
        for x in range(W):
            sums[x] += wj * column[_u(x + j)]
    floor = sums.max() - margin
    y_lo = H
    y_hi = -1
    for y in range(H):
        b = keep[y]
        if b * (up if b >= 0 else down) + margin >= floor:
            y_lo = min(y_lo, y)
            y_hi = y
    if y_hi < 0:  # unreachable (the best row is kept); blur everything if not
        y_lo = 0
        y_hi = H - 1
    # The kept rows, plus the r above and below that their taps read, blurred as a
    # map of their own: no kept row's taps reach its cut edges, so its kept rows
    # equal those of the whole map's blur.
    a = max(0, y_lo - r)
    e = min(H, y_hi + 1 + r)
    _blur_map(heat, s0 + a * W, out, 0, e - a, W, w, r, True, P, Q, O, y_lo - a,
              y_hi + 1 - a, tw)
    best = -1
    best_v = _F0
    for p in range((y_lo - a) * W, (y_hi + 1 - a) * W):
        if best < 0 or out[p] > best_v:
            best = a * W + p
            best_v = out[p]
    return best, best_v


@_jit
def _decode_udp_combined_kernel(heat, idx, vals, K, H, W, radius, locs, scores):
    """UDPHeatmap('combined').decode after the maximum of every blurred label map is
    known: the location plus radius times the offset maps at int(x + y * W + k * H * W)."""
    HW = H * W
    total = K * HW
    rad = np.float32(radius)
    for c in range(idx.shape[0]):
        b = c // K
        k = c % K
        sample = b * 3 * total
        _write_location(idx[c], vals[c], W, locs, c)
        scores[c] = vals[c]
        # The index in float32; -1 locations wrap around like Python indexing.
        t = locs[2 * c] + locs[2 * c + 1] * np.float32(W)
        q = np.int64(np.float64(np.float32(np.float64(t) + np.float64(k * HW))))
        if q < 0:
            q += total
        # C++ integer division (toward zero): a q still negative (K == H == 1 and a
        # -1 location) reads just before the offset map, as the C++ backend does.
        if q >= 0:
            ch = q // HW
            p = q % HW
        else:
            ch = -((-q) // HW)
            p = -((-q) % HW)
        ix = sample + (3 * ch + 1) * HW + p
        iy = sample + (3 * ch + 2) * HW + p
        if ix < 0 or iy >= heat.shape[0]:
            continue  # beyond the array (float32 rounding of a huge index): no offset
        locs[2 * c] += heat[ix] * rad
        locs[2 * c + 1] += heat[iy] * rad


# ----------------------------------------------------------------------------------
# Python-facing wrappers (module.cpp)

_threads = 0


def num_threads() -> int:
    """Threads per call: the Numba kernels are single-threaded."""
    return 1


def set_num_threads(n: int) -> None:
    """Accepted for parity with the C++ backend; the Numba kernels stay single-threaded."""
    global _threads
    n = operator.index(n)
    _threads = 0 if n < 0 else n


def _require(ok: bool, msg: str) -> None:
    if not ok:
        raise ValueError(msg)


def _check_kernel(ksize) -> int:
    ksize = operator.index(ksize)
    _require(1 <= ksize <= _MAX_BLUR_KERNEL and ksize % 2 == 1,
             f'blur kernel size must be odd and in [1, {_MAX_BLUR_KERNEL}], got {ksize}')
    return ksize


def _f64(a) -> np.ndarray:
    # pybind11's forcecast: a C-contiguous float64 view or copy (0-d stays 0-d).
    return np.asarray(a, dtype=np.float64, order='C')


def _f32a(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float32, order='C')


def _encode_args(keypoints, visible, scale, f32, W, H):
    kps = _f64(keypoints)
    vis = _f64(visible)
    sx, sy = scale
    sx, sy = np.float32(float(sx)), np.float32(float(sy))
    f32 = bool(f32)
    W, H = operator.index(W), operator.index(H)
    _require(kps.ndim == 4 and kps.shape[3] == 2, 'keypoints must be (B, N, K, 2)')
    _require(vis.ndim == 3 and vis.shape == kps.shape[:3], 'keypoints_visible must be (B, N, K)')
    _require(W > 0 and H > 0, 'heatmap size must be positive')
    B, N, K = kps.shape[:3]
    return kps.reshape(-1), vis.reshape(-1), sx, sy, f32, W, H, B, N, K


_KINDS = {'msra': 0, 'unbiased': 1, 'udp': 2}


def encode_gaussian(kind: str, keypoints, visible, sigma, scale, f32: bool, W: int,
                    H: int) -> Tuple[np.ndarray, np.ndarray]:
    """Gaussian heatmaps (B, K, H, W) float32 and the inside mask (B, N, K) uint8."""
    if not isinstance(kind, str):
        raise TypeError(f'kind must be a str, got {type(kind).__name__}')
    kps, vis, sx, sy, f32, W, H, B, N, K = _encode_args(keypoints, visible, scale, f32, W, H)
    sig_f32 = isinstance(sigma, np.ndarray) and sigma.dtype == np.float32
    sig = _f64(sigma)
    _require((sig.ndim == 1 and sig.shape[0] == N) or (sig.ndim == 2 and sig.shape == (B, N)),
             'sigma must hold one value per instance, (N,), or per sample and instance, '
             '(B, N)')
    _require(bool(np.all((sig >= 0) & (sig <= 1e4))), 'sigma must be finite and in [0, 1e4]')
    k = _KINDS.get(kind)
    if k is None:
        raise ValueError('unknown gaussian kind ' + kind)
    heat = np.zeros((B, K, H, W), np.float32)
    inside = np.empty((B, N, K), np.uint8)
    _encode_gaussian_kernel(k, kps, vis, sig.reshape(-1), 1 if sig.ndim == 1 else B, sig_f32,
                            sx, sy, f32, W, H, B, N, K, heat.reshape(-1), inside.reshape(-1))
    return heat, inside


@_jit
def _instance_geometry_kernel(kps, vis, kpt_center, roots, visible, diag):
    # instances.h: T is kps' dtype (float32 or float64); float32 results.
    R, K = vis.shape
    for r in range(R):
        count = 0
        sx = sy = lx = ly = hx = hy = kps[r, 0, 0]  # typed T; set at the first visible
        for k in range(K):
            if not (vis[r, k] > 0):
                continue
            x = kps[r, k, 0]
            y = kps[r, k, 1]
            if count == 0:
                sx = lx = hx = x
                sy = ly = hy = y
            else:
                sx += x
                sy += y
                if not (lx != lx) and (x < lx or x != x):
                    lx = x
                if not (ly != ly) and (y < ly or y != y):
                    ly = y
                if not (hx != hx) and (x > hx or x != x):
                    hx = x
                if not (hy != hy) and (y > hy or y != y):
                    hy = y
            count += 1
        if count == 0:
            roots[r, 0] = 0
            roots[r, 1] = 0
            visible[r] = 0
            diag[r] = 0
            continue
        # Divided in float64 and rounded to float32: for float32 T the same as
        # numpy's float32 division (double rounding is exact for +, -, *, /, sqrt).
        if kpt_center:
            roots[r, 0] = np.float64(sx) / np.float64(count)
            roots[r, 1] = np.float64(sy) / np.float64(count)
        else:
            roots[r, 0] = np.float64(hx + lx) / 2.0
            roots[r, 1] = np.float64(hy + ly) / 2.0
        visible[r] = 1
        ex = np.float32(hx) - np.float32(lx)
        ey = np.float32(hy) - np.float32(ly)
        diag[r] = np.float32(math.sqrt(np.float32(np.float32(ex * ex) + np.float32(ey * ey))))


def instance_geometry(keypoints, visible, kpt_center: bool):
    """Roots f32 (R, 2), their visibility f32 (R,) and box diagonals f32 (R,) of R
    instances: keypoints (R, K, 2) float32 or float64, visibility (R, K)."""
    kps = np.asarray(keypoints, order='C')
    if kps.dtype != np.float32:
        kps = _f64(kps)
    vis = _f64(visible)
    _require(kps.ndim == 3 and kps.shape[2] == 2, 'keypoints must be (R, K, 2)')
    _require(vis.shape == kps.shape[:2], 'keypoints_visible must be (R, K)')
    R = kps.shape[0]
    roots = np.empty((R, 2), np.float32)
    vis_out = np.empty(R, np.float32)
    diag = np.empty(R, np.float32)
    if R and kps.shape[1]:
        _instance_geometry_kernel(kps, vis, bool(kpt_center), roots, vis_out, diag)
    else:
        roots[:] = 0
        vis_out[:] = 0
        diag[:] = 0
    return roots, vis_out, diag


@_jit
def _instance_sigmas_kernel(h, w, o, two, out):
    # instances.h instance_sigma, T = h's dtype; two is 2 given at run time so that
    # math.pow stays libm's pow/powf (a literal 2 would be folded into b * b).
    T = h.dtype.type
    for i in range(h.shape[0]):
        hi = h[i]
        wi = w[i]
        s = hi + wi
        b1 = s
        b2 = T(2) * s
        b3 = T(-2 * o) * s
        c1 = wi * hi * T(1 - o) / T(1 + o)
        c2 = T(1 - o) * wi * hi
        c3 = T(o - 1) * wi * hi
        r1 = (b1 + T(math.sqrt(T(math.pow(b1, two)) - T(4) * c1))) / T(2)
        r2 = (b2 + T(math.sqrt(T(math.pow(b2, two)) - T(16) * c2))) / T(2)
        r3 = (b3 + T(math.sqrt(T(math.pow(b3, two)) - T(4 * (4 * o)) * c3))) / T(2)
        r = r1
        if r2 < r:
            r = r2
        if r3 < r:
            r = r3
        out[i] = r / T(3)


def instance_sigmas(heights, widths, overlap: float) -> np.ndarray:
    """DecoupledHeatmap's instance sigmas f32 (R,) from box heights and widths (R,),
    float32 or float64 (the precision MMPose computes in)."""
    dtype = np.float32 if np.asarray(heights).dtype == np.float32 else np.float64
    h = np.ascontiguousarray(heights, dtype=dtype)
    w = np.ascontiguousarray(widths, dtype=dtype)
    _require(h.ndim == 1 and h.shape == w.shape, 'heights and widths must be (R,) each')
    out = np.empty(h.shape[0], np.float32)
    if h.shape[0]:
        _instance_sigmas_kernel(h, w, float(overlap), h.dtype.type(np.array(2.0)), out)
    return out


def encode_offset(keypoints, visible, scale, f32: bool, W: int, H: int,
                  radius: float) -> Tuple[np.ndarray, np.ndarray]:
    """UDP 'combined' targets (B, 3K, H, W): label, x offset, y offset per keypoint."""
    kps, vis, sx, sy, f32, W, H, B, N, K = _encode_args(keypoints, visible, scale, f32, W, H)
    radius = float(radius)
    heat = np.zeros((B, 3 * K, H, W), np.float32)
    inside = np.empty((B, N, K), np.uint8)
    _encode_offset_kernel(kps, vis, sx, sy, f32, W, H, B, N, K, radius, heat.reshape(-1),
                          inside.reshape(-1))
    return heat, inside


def encode_megvii(keypoints, visible, scale, f32: bool, W: int, H: int,
                  ksize: int) -> Tuple[np.ndarray, np.ndarray]:
    """MegviiHeatmap targets (B, K, H, W): a blurred impulse scaled to 255 at its peak."""
    kps, vis, sx, sy, f32, W, H, B, N, K = _encode_args(keypoints, visible, scale, f32, W, H)
    _require(N <= 1, 'MegviiHeatmap encodes one instance')
    ksize = _check_kernel(ksize)
    heat = np.zeros((B, K, H, W), np.float32)
    inside = np.empty((B, N, K), np.uint8)
    _encode_megvii_kernel(kps, vis, sx, sy, f32, W, H, B, N, K, _kernel(ksize),
                          heat.reshape(-1), inside.reshape(-1))
    return heat, inside


# A map whose blurred maximum is under this is blurred again exactly: there a change of
# 1e-35 (see _blur_map) could move the argmax or the rescale; above it, it is 1e-10 of
# an ulp of the maximum.
_EXACT_BELOW = np.float32(1e-25)


@functools.lru_cache(maxsize=None)
def _flush_level(ksize: int) -> np.float32:
    """_blur_map's tw for a kernel: FLT_MIN / its smallest tap, rounded up."""
    return np.float32(float(_FLT_MIN) / float(_kernel(ksize).min()) * (1 + 1e-6))


def _argmax_rows(maps: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """first_argmax of every row of a (C, n) float32 array, n > 0. numpy's argmax is
    the very rule fastcodec/argmax.h follows (first occurrence, the first NaN wins),
    and its SIMD loops beat a scalar Numba scan several times over."""
    idx = maps.argmax(axis=1)
    return idx, maps[np.arange(maps.shape[0]), idx]


def _modulate(heat2: np.ndarray, H: int, W: int, ksize: int):
    """MMPose's gaussian_blur of every (H*W,) row of heat2 (C, H*W): the zero-padded
    blur, and the factor that rescales each row to its raw maximum."""
    C = heat2.shape[0]
    w = _kernel(ksize)
    blurred = np.empty((C, H * W), np.float32)
    _blur_kernel(heat2.reshape(-1), C, H, W, w, False, 1, blurred.reshape(-1),
                 _flush_level(ksize))
    raw_max = _argmax_rows(heat2)[1]
    blurred_max = _argmax_rows(blurred)[1]
    # Denormals were read as 0 (_blur_map): where that could tell (a tiny blurred
    # maximum, e.g. a map whose maximum is a positive denormal, or a rescale factor
    # that would magnify it), those maps are blurred again exactly.
    with np.errstate(invalid='ignore', over='ignore'):
        exact = ~((blurred_max >= _EXACT_BELOW) & (np.abs(raw_max) <= blurred_max * 1e12))
    if exact.any():
        rows = np.flatnonzero(exact)
        again = np.empty((rows.size, H * W), np.float32)
        _blur_kernel(np.ascontiguousarray(heat2[rows]).reshape(-1), rows.size, H, W, w, False,
                     1, again.reshape(-1), _F0)
        blurred[rows] = again
        blurred_max[rows] = _argmax_rows(again)[1]
    scale = np.empty(C, np.float32)
    _rescale_kernel(raw_max, blurred_max, scale)
    return blurred, scale


def heatmap_maximum(heatmaps) -> Tuple[np.ndarray, np.ndarray]:
    """locs (..., 2) float32 and vals (...) float32 of every (H, W) map."""
    heat = _f32a(heatmaps)
    _require(heat.ndim >= 2, 'heatmaps must be (..., H, W)')
    H, W = heat.shape[-2:]
    _require(H > 0 and W > 0, 'heatmaps must not be empty')
    lead = heat.shape[:-2]
    idx, vals = _argmax_rows(heat.reshape(-1, H * W))
    locs = np.empty(lead + (2,), np.float32)
    _locations_kernel(idx, vals, W, locs.reshape(-1))
    return locs, vals.reshape(lead)


def gaussian_blur(heatmaps, ksize: int) -> np.ndarray:
    """MMPose's gaussian_blur of every (H, W) map, into a new float32 array."""
    heat = _f32a(heatmaps)
    _require(heat.ndim >= 2, 'heatmaps must be (..., H, W)')
    ksize = _check_kernel(ksize)
    H, W = heat.shape[-2:]
    if heat.size == 0:
        return np.empty(heat.shape, np.float32)
    blurred, scale = _modulate(heat.reshape(-1, H * W), H, W, ksize)
    _apply_scale_kernel(blurred.reshape(-1), H * W, scale)
    return blurred.reshape(heat.shape)


def _refine_args(keypoints, heatmaps):
    # pybind11's array_t<double> converts other dtypes into a temporary copy (the
    # in-place update is then lost, as with the C++ backend); float64 is used as is.
    if isinstance(keypoints, np.ndarray) and keypoints.dtype == np.float64:
        kps = keypoints
    else:
        kps = np.array(keypoints, dtype=np.float64, order='C')
    heat = _f32a(heatmaps)
    _require(kps.ndim == 4 and kps.shape[3] == 2, 'keypoints must be (B, N, K, 2)')
    _require(heat.ndim == 4 and heat.shape[0] == kps.shape[0] and heat.shape[1] == kps.shape[2],
             'heatmaps must be (B, K, H, W) matching keypoints (B, N, K, 2)')
    _require(kps.flags.c_contiguous, 'keypoints must be C-contiguous')
    return kps, heat


def _writable_flat(kps: np.ndarray) -> np.ndarray:
    if not kps.flags.writeable:
        raise ValueError('array is not writeable')
    return kps.reshape(-1)


def refine_sign(keypoints, heatmaps) -> None:
    """refine_keypoints: +-0.25 px toward the higher neighbour, in place."""
    kps, heat = _refine_args(keypoints, heatmaps)
    B, N, K = kps.shape[:3]
    H, W = heat.shape[2:]
    _refine_sign_kernel(_writable_flat(kps), B, N, K, heat.reshape(-1), H, W)


def refine_dark(keypoints, heatmaps, ksize: int) -> None:
    """refine_keypoints_dark, in place."""
    kps, heat = _refine_args(keypoints, heatmaps)
    ksize = _check_kernel(ksize)
    flat = _writable_flat(kps)
    B, N, K = kps.shape[:3]
    H, W = heat.shape[2:]
    if kps.size == 0 or heat.size == 0:
        return
    blurred, scale = _modulate(heat.reshape(-1, H * W), H, W, ksize)
    _refine_dark_kernel(flat, B, N, K, blurred.reshape(-1), scale, H, W)


def refine_dark_udp(keypoints, heatmaps, ksize: int, f32: bool) -> None:
    """refine_keypoints_dark_udp, in place; f32: MMPose's index math in float32."""
    kps, heat = _refine_args(keypoints, heatmaps)
    ksize = _check_kernel(ksize)
    f32 = bool(f32)
    flat = _writable_flat(kps)
    B, N, K = kps.shape[:3]
    H, W = heat.shape[2:]
    if kps.size == 0 or heat.size == 0:
        return
    blurred, scale = _modulate(heat.reshape(-1, H * W), H, W, ksize)
    _refine_dark_udp_kernel(flat, B, N, K, blurred.reshape(-1), scale, H, W, f32)


def decode_msra(heatmaps, scale=(1.0, 1.0)) -> Tuple[np.ndarray, np.ndarray]:
    """The maximum, then refine_keypoints' 0.25 px step, in float32, times scale."""
    locs, vals = heatmap_maximum(heatmaps)
    kps = np.ascontiguousarray(locs[:, None], dtype=np.float64)
    refine_sign(kps, heatmaps)
    return kps[:, 0].astype(np.float32) * np.asarray(scale, np.float32), vals


def decode_dark(heatmaps, ksize: int, udp: bool,
                scale=(1.0, 1.0)) -> Tuple[np.ndarray, np.ndarray]:
    """The maximum, then the DARK (udp False) or DARK-UDP step, in float32, times scale."""
    locs, vals = heatmap_maximum(heatmaps)
    kps = np.ascontiguousarray(locs[:, None], dtype=np.float64)
    if udp:
        refine_dark_udp(kps, heatmaps, ksize, True)
    else:
        refine_dark(kps, heatmaps, ksize)
    return kps[:, 0].astype(np.float32) * np.asarray(scale, np.float32), vals


def decode_megvii(heatmaps, ksize: int) -> Tuple[np.ndarray, np.ndarray]:
    """MegviiHeatmap.decode in heatmap pixels: locs (B, K, 2), scores (B, K)."""
    heat = _f32a(heatmaps)
    _require(heat.ndim == 4, 'heatmaps must be (B, K, H, W)')
    ksize = _check_kernel(ksize)
    B, K, H, W = heat.shape
    locs = np.empty((B, K, 2), np.float32)
    scores = np.empty((B, K), np.float32)
    if B * K > 0 and H * W > 0:
        m, scale = _modulate(heat.reshape(-1, H * W), H, W, ksize)
        _apply_scale_kernel(m.reshape(-1), H * W, scale)
        idx, vals = _argmax_rows(m)
        _decode_megvii_kernel(m.reshape(-1), idx, vals, H, W, locs.reshape(-1),
                              scores.reshape(-1))
    return locs, scores


def decode_udp_combined(heatmaps, ksize: int, radius: float) -> Tuple[np.ndarray, np.ndarray]:
    """UDPHeatmap('combined').decode in heatmap pixels: locs (B, K, 2), scores (B, K)."""
    heat = _f32a(heatmaps)
    _require(heat.ndim == 4 and heat.shape[1] % 3 == 0, 'heatmaps must be (B, 3K, H, W)')
    ksize = _check_kernel(ksize)
    radius = float(radius)
    B, K3, H, W = heat.shape
    K = K3 // 3
    locs = np.empty((B, K, 2), np.float32)
    scores = np.empty((B, K), np.float32)
    if B * K > 0 and H * W > 0:
        flat = heat.reshape(-1)
        idx = np.empty(B * K, np.int64)
        vals = np.empty(B * K, np.float32)
        _blurred_argmax_reflect(flat, B * K, H, W, _kernel(ksize), 3, idx, vals,
                                _flush_level(ksize))
        _decode_udp_combined_kernel(flat, idx, vals, K, H, W, radius, locs.reshape(-1),
                                    scores.reshape(-1))
    return locs, scores


from fastcodec.backends._numba_regression import (decode_regression, encode_regression,  # noqa: E402,F401
                                                  normalize_heatmaps)
from fastcodec.backends._numba_simcc import (simcc_decode, simcc_encode, simcc_maximum,  # noqa: F401,E402
                                               simcc_refine_dark)
from fastcodec.backends._numba_spr import spr_decode, spr_encode_displacements  # noqa: F401,E402
from fastcodec.backends._numba_lifting import motionbert_encode  # noqa: F401,E402
