"""Numba mirrors of fastcodec/blur.h and csrc/cpu/blur_cpu.cpp: OpenCV's Gaussian
kernels and float32 blur (reflect-101 or zero border), MMPose's gaussian_blur (blur, then
rescale each map to its raw maximum) and the blurred argmax of UDP's decoder."""
from __future__ import annotations

import functools
import math

import numpy as np

from fastcodec.backends.numba.common import (F32, _F0, _F1, _FLT_MIN, _argmax_rows,
                                             _check_array, _fmaf, _odd_kernel, _require, _u, jit)

__all__ = ['gaussian_blur']


# OpenCV 5's fixed sigma-0 kernels (small_gaussian_tab), as in blur.h.
_FIXED_KERNELS = {
    1: (1.0,),
    3: (0.25, 0.5, 0.25),
    5: (0.0625, 0.25, 0.375, 0.25, 0.0625),
    7: (0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125),
    9: tuple(v / 256 for v in (4, 13, 30, 51, 60, 51, 30, 13, 4)),
}


@functools.lru_cache(maxsize=None)
def opencv_gaussian_kernel(k: int) -> np.ndarray:
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


# The tap functor of blur.h's sums, `at(j)`, is here `_at(v, o, n, i, j)`: v[o + i + j]
# on the row v[o:o + n], 0 outside it (a zero border; pass a bordered row for others).


@jit
def _at(v, o, n, i, j):
    p = i + j
    return v[o + p] if 0 <= p < n else _F0


@jit
def opencv_row_sum(w, r, v, o, n, i):
    """OpenCV's SIMD row-pass sum at sample i of the row v[o:o + n] (blur.h)."""
    if r == 0:
        return w[0] * _at(v, o, n, i, 0)
    if r == 1:
        return _fmaf(w[2], _at(v, o, n, i, 1) + _at(v, o, n, i, -1), w[1] * _at(v, o, n, i, 0))
    if r == 2:
        s = w[3] * (_at(v, o, n, i, 1) + _at(v, o, n, i, -1))
        s = _fmaf(w[2], _at(v, o, n, i, 0), s)
        return _fmaf(w[4], _at(v, o, n, i, 2) + _at(v, o, n, i, -2), s)
    s = _F0
    for j in range(-r, r + 1):
        s = _fmaf(w[j + r], _at(v, o, n, i, j), s)
    return s


@jit
def opencv_row_sum_tail(w, r, v, o, n, i):
    if r <= 2:
        s = w[r] * _at(v, o, n, i, 0)
        for j in range(1, r + 1):
            s = s + w[r + j] * (_at(v, o, n, i, j) + _at(v, o, n, i, -j))
        return s
    s = w[0] * _at(v, o, n, i, -r)
    for j in range(-r + 1, r + 1):
        s = s + w[j + r] * _at(v, o, n, i, j)
    return s


@jit
def opencv_column_sum(w, r, v, o, n, i):
    s = w[r] * _at(v, o, n, i, 0)
    for j in range(1, r + 1):
        s = _fmaf(w[r + j], _at(v, o, n, i, j) + _at(v, o, n, i, -j), s)
    return s


@jit
def opencv_column_sum_tail(w, r, v, o, n, i):
    s = w[r] * _at(v, o, n, i, 0)
    for j in range(1, r + 1):
        s = s + w[r + j] * (_at(v, o, n, i, j) + _at(v, o, n, i, -j))
    return s


@jit
def reflect101(p, n):
    if n == 1:
        return 0
    while p < 0 or p >= n:
        p = -p if p < 0 else 2 * (n - 1) - p
    return p


@jit
def opencv_blur_filters_axis(length):
    """opencv_blur_filters_axis: cv2.GaussianBlur filters no axis of length 1."""
    return length > 1


@jit
def opencv_row_simd_end(width):
    """opencv_row_simd_end: OpenCV's row pass covers 8-float registers, then one 4-float
    step; columns from there on take the scalar tail."""
    v = width // 8 * 8
    return v + 4 if width - v >= 4 else v


@jit
def opencv_column_simd_end(width):
    return width // 8 * 8


@jit
def _blur_scratch(H, W, r):
    """Scratch buffers of _blur_map for H x W maps and a (2r + 1)-tap kernel; P starts
    zeroed (see _blur_map)."""
    Wp = W + 2 * r
    P = np.zeros(H * Wp + 2 * r, np.float32)
    Q = np.empty((H + 2 * r) * Wp, np.float32)
    O = np.empty(H * Wp, np.float32)
    return P, Q, O


@jit
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
    row_end = max(0, min(W, opencv_row_simd_end(W + 2 * pad) - pad))
    column_end = max(0, min(W, opencv_column_simd_end(W + 2 * pad) - pad))
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
                v = src[sb + reflect101(p - r, W)]
                P[b + p] = _F0 if abs(v) < tw else v
                v = src[sb + reflect101(W + p, W)]
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
            so = (reflect101(y, H) + r) * Wp
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


@jit
def blur_rescale(raw_max, blurred_max):
    if blurred_max == _F0:
        return _F1
    return raw_max / blurred_max


@jit
def _blur_kernel(heat, C, H, W, w, reflect, stride, out, tw):
    """out channel c = blur of heat channel stride * c (every channel is H x W)."""
    r = w.shape[0] // 2
    HW = H * W
    P, Q, O = _blur_scratch(H, W, r)
    for c in range(C):
        _blur_map(heat, stride * c * HW, out, c * HW, H, W, w, r, reflect, P, Q, O, 0, H, tw)


@jit
def _rescale_kernel(raw, blurred_max, scale):
    for c in range(raw.shape[0]):
        scale[c] = blur_rescale(raw[c], blurred_max[c])


@jit
def _apply_scale_kernel(m, HW, scale):
    for c in range(scale.shape[0]):
        s = scale[c]
        o = c * HW
        for p in range(HW):
            m[_u(o + p)] *= s


@jit
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


@jit
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
        rowmax[i] = rowmax[r + reflect101(i - r, H)]
        rowmax[r + H + i] = rowmax[r + reflect101(H + i, H)]
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
        q = s0 + reflect101(y_best - r + t, H) * W
        wt = w[t]
        for x in range(W):
            v = heat[_u(q + x)]
            column[_u(r + x)] += wt * (_F0 if abs(v) < tw else v)
    for i in range(r):
        column[i] = column[r + reflect101(i - r, W)]
        column[r + W + i] = column[r + reflect101(W + i, W)]
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


# A map whose blurred maximum is under this is blurred again exactly: there a change of
# 1e-35 (see _blur_map) could move the argmax or the rescale; above it, it is 1e-10 of
# an ulp of the maximum.
_EXACT_BELOW = np.float32(1e-25)


@functools.lru_cache(maxsize=None)
def _flush_level(ksize: int) -> np.float32:
    """_blur_map's tw for a kernel: FLT_MIN / its smallest tap, rounded up."""
    return np.float32(float(_FLT_MIN) / float(opencv_gaussian_kernel(ksize).min()) * (1 + 1e-6))


def _modulate(heat2: np.ndarray, H: int, W: int, ksize: int, blurred=None):
    """MMPose's gaussian_blur of every (H*W,) row of heat2 (C, H*W): the zero-padded
    blur, into blurred (C, H*W) (a new array if None), and the factor that rescales
    each row to its raw maximum."""
    C = heat2.shape[0]
    w = opencv_gaussian_kernel(ksize)
    if blurred is None:
        blurred = np.empty((C, H * W), np.float32)
    _blur_kernel(heat2.ravel(), C, H, W, w, False, 1, blurred.ravel(),
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
        _blur_kernel(np.ascontiguousarray(heat2[rows]).ravel(), rows.size, H, W, w, False,
                     1, again.ravel(), _F0)
        blurred[rows] = again
        blurred_max[rows] = _argmax_rows(again)[1]
    scale = np.empty(C, np.float32)
    _rescale_kernel(raw_max, blurred_max, scale)
    return blurred, scale


def gaussian_blur(heatmaps, ksize: int, blurred) -> None:
    """MMPose's gaussian_blur of every (H, W) map of heatmaps into blurred (the same
    shape, float32, not heatmaps itself)."""
    heat = _check_array(heatmaps, 'heatmaps', F32)
    _require(heat.ndim >= 2, 'heatmaps must be (..., H, W)')
    _check_array(blurred, 'blurred', F32, heat.shape, out=True)
    ksize = _odd_kernel(ksize, 'ksize')
    if heat.size == 0:
        return
    H, W = heat.shape[-2:]
    out, scale = _modulate(heat.reshape(-1, H * W), H, W, ksize, blurred.reshape(-1, H * W))
    _apply_scale_kernel(out.ravel(), H * W, scale)
