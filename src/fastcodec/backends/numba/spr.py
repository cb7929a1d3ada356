"""Numba mirrors of the SPR kernels (csrc/cpu/spr_kernels.cpp and
csrc/include/fastcodec/spr.h): same signatures, shapes, dtypes and numbers as
``spr_encode_displacements`` and ``spr_decode`` of the C++ backend (see
``fastcodec.backends.contract``). The top-k is libstdc++'s partial_sort / nth_element /
sort, step for step, so equal scores come out in torch's (and the C++'s) order."""
from __future__ import annotations

import operator

import numpy as np

# jit's error model: 1 / 0 is inf (a zero diagonal), as in C++ and numpy
from fastcodec.backends.numba.common import (F32, F64, I64, _F0, _F1, _F2, _FHALF, TypingError,
                                             _check_array, expect, jit)
from fastcodec.backends.numba.common import coord_is_usable as _usable

__all__ = ['spr_encode_displacements', 'spr_decode']


@jit
def spr_clamped_int(v, size):
    if not (v > 0.0):
        return 0
    if v >= np.float64(size):
        return size
    return np.int64(v)


@jit
def spr_span(root, radius, radius_f32, size):
    if radius_f32:
        r = np.float32(radius)
        return (spr_clamped_int(np.float64(np.float32(root - r)), size),
                spr_clamped_int(np.float64(np.float32(root + r)), size))
    return (spr_clamped_int(np.float64(root) - radius, size),
            spr_clamped_int(np.float64(root) + radius, size))


@jit
def spr_root_usable(rx, ry, visible, W, H):
    if not (visible >= _F1):
        return False
    if not (_usable(rx) and _usable(ry)):
        return False
    return rx >= _F0 and ry >= _F0 and rx < np.float32(W) and ry < np.float32(H)


@jit
def spr_keypoint_usable(kx, ky, visible, W, H):
    if visible < 1.0 or not (_usable(kx) and _usable(ky)):
        return False
    return kx >= 0.0 and ky >= 0.0 and kx < np.float64(W) and ky < np.float64(H)


@jit
def spr_displacement_update(dx, dy, wx, wy, size, kx, ky, x, y, diagonal, weight):
    """The pixel's new (dx, dy, wx, wy, size)."""
    if (dx != _F0 or dy != _F0) and diagonal > size:
        return dx, dy, wx, wy, size
    return (np.float32(kx - np.float64(x)), np.float32(ky - np.float64(y)), weight, weight,
            diagonal)


@jit
def spr_displacement_weight(diagonal):
    return _F1 / diagonal


@jit
def spr_nms_value(v, pooled):
    return v if v == pooled else v * _F0


@jit
def spr_root_kept(score, threshold):
    return score > threshold


@jit
def spr_keypoint_coordinate(root_pixel, displacement):
    return np.float32(root_pixel) + displacement


@jit
def spr_partial_sort_path(k, n):
    return k * 64 <= n


@jit
def _encode_kernel(kps, vis, roots, roots_vis, diag, radius, radius_f32, disp, wts):
    expect(kps, 'keypoints', 'float64', False)
    expect(vis, 'visible', 'float64', False)
    expect(roots, 'roots', 'float32', False)
    expect(roots_vis, 'roots_visible', 'float32', False)
    expect(diag, 'diagonals', 'float32', False)
    expect(disp, 'displacements', 'float32', True)
    expect(wts, 'weights', 'float32', True)
    B, N, K, two = kps.shape
    H, W = disp.shape[2:]
    if two != 2 or vis.shape != (B, N, K) or roots.shape != (B, N, 2) \
            or roots_vis.shape != (B, N) or diag.shape != (B, N) \
            or disp.shape[:2] != (B, 2 * K) or wts.shape != disp.shape:
        raise ValueError('keypoints must be (B, N, K, 2), visible (B, N, K), roots (B, N, 2), '
                         'roots_visible and diagonals (B, N), displacements and weights '
                         '(B, 2K, H, W)')
    size_map = np.empty((H, W), np.float32)
    for b in range(B):
        # disp and wts come zeroed (the contract): only the windows are written, so the
        # pages of a calloc'ed buffer that no window reaches are never touched.
        size_map[:, :] = _F0
        for n in range(N):
            rx = roots[b, n, 0]
            ry = roots[b, n, 1]
            if not spr_root_usable(rx, ry, roots_vis[b, n], W, H):
                continue
            d = diag[b, n]
            w = spr_displacement_weight(d)
            x0, x1 = spr_span(rx, radius, radius_f32, W)
            y0, y1 = spr_span(ry, radius, radius_f32, H)
            for k in range(K):
                kx = kps[b, n, k, 0]
                ky = kps[b, n, k, 1]
                if not spr_keypoint_usable(kx, ky, vis[b, n, k], W, H):
                    continue
                for y in range(y0, y1):
                    for x in range(x0, x1):
                        (disp[b, 2 * k, y, x], disp[b, 2 * k + 1, y, x], wts[b, 2 * k, y, x],
                         wts[b, 2 * k + 1, y, x], size_map[y, x]) = spr_displacement_update(
                            disp[b, 2 * k, y, x], disp[b, 2 * k + 1, y, x], wts[b, 2 * k, y, x],
                            wts[b, 2 * k + 1, y, x], size_map[y, x], kx, ky, x, y, d, w)


def spr_encode_displacements(keypoints, visible, roots, roots_visible, diagonals, radius,
                             radius_f32, displacements, weights) -> None:
    """displacements and weights (B, 2K, H, W) float32 (see fastcodec.backends.contract).
    The kernel checks its arrays (expect, the shapes); a call it cannot compile for is
    checked here for the user-facing error."""
    try:
        _encode_kernel(keypoints, visible, roots, roots_visible, diagonals, float(radius),
                       bool(radius_f32), displacements, weights)
    except TypingError:
        kps = _check_array(keypoints, 'keypoints', F64, (None, None, None, 2))
        B, N, K = kps.shape[:3]
        _check_array(visible, 'visible', F64, (B, N, K))
        _check_array(roots, 'roots', F32, (B, N, 2))
        _check_array(roots_visible, 'roots_visible', F32, (B, N))
        _check_array(diagonals, 'diagonals', F32, (B, N))
        disp = _check_array(displacements, 'displacements', F32, (B, 2 * K, None, None),
                            out=True)
        _check_array(weights, 'weights', F32, disp.shape, out=True)
        raise


# ---- torch.topk: libstdc++'s algorithms on (value, index) pairs -----------------------
# Pairs live in two arrays, v (float32) and ix (int64), at offsets from `lo`.

@jit
def spr_value_before(av, bv):
    return (av != av and not (bv != bv)) or av > bv


@jit
def spr_swap(v, ix, a, b):
    tv = v[a]
    ti = ix[a]
    v[a] = v[b]
    ix[a] = ix[b]
    v[b] = tv
    ix[b] = ti


@jit
def spr_push_heap(v, ix, lo, hole, top, val, vi):
    parent = (hole - 1) // 2
    while hole > top and spr_value_before(v[lo + parent], val):
        v[lo + hole] = v[lo + parent]
        ix[lo + hole] = ix[lo + parent]
        hole = parent
        parent = (hole - 1) // 2
    v[lo + hole] = val
    ix[lo + hole] = vi


@jit
def spr_adjust_heap(v, ix, lo, hole, length, val, vi):
    top = hole
    child = hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if spr_value_before(v[lo + child], v[lo + child - 1]):
            child -= 1
        v[lo + hole] = v[lo + child]
        ix[lo + hole] = ix[lo + child]
        hole = child
    if (length & 1) == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        v[lo + hole] = v[lo + child - 1]
        ix[lo + hole] = ix[lo + child - 1]
        hole = child - 1
    spr_push_heap(v, ix, lo, hole, top, val, vi)


@jit
def spr_make_heap(v, ix, lo, length):
    if length < 2:
        return
    parent = (length - 2) // 2
    while True:
        spr_adjust_heap(v, ix, lo, parent, length, v[lo + parent], ix[lo + parent])
        if parent == 0:
            return
        parent -= 1


@jit
def spr_before(xv, xi, yv, yi):
    """spr_before on the candidates (xv, xi) and (yv, yi): the value decides."""
    return spr_value_before(xv, yv)


@jit
def spr_heap_offer(v, ix, lo, length, cv, ci):
    """The candidate (cv, ci) replaces the top of the heap at lo when it comes before
    it; returns the displaced candidate (the old top, or (cv, ci) itself)."""
    if spr_value_before(cv, v[lo]):
        dv = v[lo]
        di = ix[lo]
        spr_adjust_heap(v, ix, lo, 0, length, cv, ci)
        return dv, di
    return cv, ci


@jit
def _heap_select(v, ix, lo, middle, last):
    """std::__heap_select on [lo, lo + last) with the heap [lo, lo + middle)."""
    spr_make_heap(v, ix, lo, middle)
    for i in range(middle, last):
        v[lo + i], ix[lo + i] = spr_heap_offer(v, ix, lo, middle, v[lo + i], ix[lo + i])


@jit
def spr_sort_heap(v, ix, lo, length):
    while length > 1:
        length -= 1
        val = v[lo + length]
        vi = ix[lo + length]
        v[lo + length] = v[lo]
        ix[lo + length] = ix[lo]
        spr_adjust_heap(v, ix, lo, 0, length, val, vi)


@jit
def spr_partial_sort(v, ix, lo, middle, last):
    _heap_select(v, ix, lo, middle, last)
    spr_sort_heap(v, ix, lo, middle)


@jit
def spr_move_median_to_first(v, ix, result, a, b, c):
    if spr_value_before(v[a], v[b]):
        if spr_value_before(v[b], v[c]):
            spr_swap(v, ix, result, b)
        elif spr_value_before(v[a], v[c]):
            spr_swap(v, ix, result, c)
        else:
            spr_swap(v, ix, result, a)
    elif spr_value_before(v[a], v[c]):
        spr_swap(v, ix, result, a)
    elif spr_value_before(v[b], v[c]):
        spr_swap(v, ix, result, c)
    else:
        spr_swap(v, ix, result, b)


@jit
def spr_partition_pivot(v, ix, lo, length):
    spr_move_median_to_first(v, ix, lo, lo + 1, lo + length // 2, lo + length - 1)
    a = lo + 1
    b = lo + length
    while True:
        while spr_value_before(v[a], v[lo]):
            a += 1
        b -= 1
        while spr_value_before(v[lo], v[b]):
            b -= 1
        if not (a < b):
            return a - lo
        spr_swap(v, ix, a, b)
        a += 1


@jit
def spr_linear_insert(v, ix, lo, last):
    val = v[lo + last]
    vi = ix[lo + last]
    nxt = last - 1
    while spr_value_before(val, v[lo + nxt]):
        v[lo + last] = v[lo + nxt]
        ix[lo + last] = ix[lo + nxt]
        last = nxt
        nxt -= 1
    v[lo + last] = val
    ix[lo + last] = vi


@jit
def spr_insertion_sort(v, ix, lo, length):
    for i in range(1, length):
        if spr_value_before(v[lo + i], v[lo]):
            val = v[lo + i]
            vi = ix[lo + i]
            for j in range(i, 0, -1):
                v[lo + j] = v[lo + j - 1]
                ix[lo + j] = ix[lo + j - 1]
            v[lo] = val
            ix[lo] = vi
        else:
            spr_linear_insert(v, ix, lo, i)


@jit
def spr_depth_limit(n):
    lg = 0
    while n > 1:
        n >>= 1
        lg += 1
    return 2 * lg


@jit
def spr_nth_element(v, ix, nth, last):
    if last == 0 or nth == last:
        return
    lo = 0
    hi = last
    depth = spr_depth_limit(last)
    while hi - lo > 3:
        if depth == 0:
            _heap_select(v, ix, lo, nth + 1 - lo, hi - lo)
            spr_swap(v, ix, lo, nth)
            return
        depth -= 1
        cut = lo + spr_partition_pivot(v, ix, lo, hi - lo)
        if cut <= nth:
            lo = cut
        else:
            hi = cut
    spr_insertion_sort(v, ix, lo, hi - lo)


@jit
def spr_introsort_loop(v, ix, length, depth):
    """std::__introsort_loop on [0, length), its right-hand recursion on a stack."""
    stack = np.empty((128, 3), np.int64)
    stack[0, 0] = 0
    stack[0, 1] = length
    stack[0, 2] = depth
    top = 1
    while top > 0:
        top -= 1
        lo = stack[top, 0]
        hi = stack[top, 1]
        d = stack[top, 2]
        while hi - lo > 16:
            if d == 0:
                spr_partial_sort(v, ix, lo, hi - lo, hi - lo)
                break
            d -= 1
            cut = lo + spr_partition_pivot(v, ix, lo, hi - lo)
            stack[top, 0] = cut
            stack[top, 1] = hi
            stack[top, 2] = d
            top += 1
            hi = cut


@jit
def spr_sort(v, ix, length):
    if length < 2:
        return
    spr_introsort_loop(v, ix, length, spr_depth_limit(length))
    if length > 16:
        spr_insertion_sort(v, ix, 0, 16)
        for i in range(16, length):
            spr_linear_insert(v, ix, 0, i)
    else:
        spr_insertion_sort(v, ix, 0, length)


# ---- decode --------------------------------------------------------------------------

@jit
def spr_max(a, b):
    return b if (b > a or b != b) else a


@jit
def spr_sample_coordinate(v, size):
    g = v / np.float32(size - 1) * _F2 - _F1
    u = (g + _F1) * (np.float32(size) / _F2) - _FHALF
    lo = u if u != u else (u if u > _F0 else _F0)
    hi = np.float32(size - 1)
    return lo if lo != lo else (lo if lo < hi else hi)


@jit
def spr_bilinear(m, H, W, x, y):
    if x != x or y != y:
        return x + y
    xw = np.floor(x)
    yn = np.floor(y)
    w = x - xw
    e = _F1 - w
    n = y - yn
    s = _F1 - n
    nw = s * e
    ne = s * w
    sw = n * e
    se = n * w
    ix = np.int64(xw)
    iy = np.int64(yn)
    east = ix + 1 < W
    south = iy + 1 < H
    v_nw = m[iy, ix]
    v_ne = m[iy, ix + 1] if east else _F0
    v_sw = m[iy + 1, ix] if south else _F0
    v_se = m[iy + 1, ix + 1] if (east and south) else _F0
    return v_nw * nw + v_ne * ne + v_sw * sw + v_se * se


@jit
def topk_candidates(values, n, M, cv, ci):
    """torch.topk(values, M) (sorted, largest) of n values into cv, ci[0 .. M), as
    nms_topk.h's topk_candidates: a heap of M for small M, else nth_element and a sort.
    cv and ci hold M entries on the heap path, n otherwise."""
    if spr_partial_sort_path(M, n):
        for i in range(M):
            cv[i] = values[i]
            ci[i] = i
        spr_make_heap(cv, ci, 0, M)
        for i in range(M, n):
            val = values[i]
            if spr_value_before(val, cv[0]):  # skips the call for most pixels
                spr_heap_offer(cv, ci, 0, M, val, i)
        spr_sort_heap(cv, ci, 0, M)
    else:
        for i in range(n):
            cv[i] = values[i]
            ci[i] = i
        spr_nth_element(cv, ci, M - 1, n)
        spr_sort(cv, ci, M - 1)


@jit
def nms_map(m, H, W, r, rows, out):
    """batch_heatmap_nms of one (H, W) map m into out (nms_topk.h's nms_map): each pixel
    kept where it equals its (2r + 1)^2 window's NaN-propagating maximum, else
    ``value * 0``; rows is (H, W) scratch."""
    for y in range(H):
        for x in range(W):
            x0 = max(x - r, 0)
            x1 = min(x + r, W - 1)
            v = m[y, x0]
            for t in range(x0 + 1, x1 + 1):
                v = spr_max(v, m[y, t])
            rows[y, x] = v
    for y in range(H):
        y0 = max(y - r, 0)
        y1 = min(y + r, H - 1)
        for x in range(W):
            out[y, x] = rows[y0, x]
        for t in range(y0 + 1, y1 + 1):
            for x in range(W):
                out[y, x] = spr_max(out[y, x], rows[t, x])
        for x in range(W):
            out[y, x] = spr_nms_value(m[y, x], out[y, x])


@jit
def nms_value_at(m, H, W, r, x, y):
    """The NMS-ed value of pixel (x, y) of map m (H, W) on its own (nms_topk.h)."""
    x0, x1 = max(0, x - r), min(W - 1, x + r)
    y0, y1 = max(0, y - r), min(H - 1, y + r)
    mx = m[y0, x0]
    for yy in range(y0, y1 + 1):
        for xx in range(x0, x1 + 1):
            mx = spr_max(mx, m[yy, xx])
    return spr_nms_value(m[y, x], mx)


@jit
def nms_topk(m, H, W, r, M, cv, ci, rows, peaks):
    """torch.topk(nms(m), M) of map m (H, W) into cv, ci (nms_topk.h's nms_topk): the
    same result as nms_map then topk_candidates. On the heap path the top only rises,
    so while it is not negative a finite pixel not above it, or not its window's
    maximum (then its NMS value is a zero), never enters: only the others get their
    NMS value. rows, peaks: (H, W) scratch for the nth_element path."""
    n = H * W
    if M == 0:
        return
    if not spr_partial_sort_path(M, n):
        nms_map(m, H, W, r, rows, peaks)
        topk_candidates(peaks.reshape(n), n, M, cv, ci)
        return
    for i in range(M):
        cv[i] = nms_value_at(m, H, W, r, i % W, i // W)
        ci[i] = i
    spr_make_heap(cv, ci, 0, M)
    for y in range(M // W, H):   # pixels M .. n - 1, row by row (no divisions)
        for x in range(M % W if y == M // W else 0, W):
            top = cv[0]
            if top != top:  # a NaN top: nothing comes before it any more
                spr_sort_heap(cv, ci, 0, M)
                return
            v = m[y, x]
            if top >= 0 and v - v == 0:
                if v <= top or nms_value_at(m, H, W, r, x, y) != v:
                    continue
                spr_heap_offer(cv, ci, 0, M, v, y * W + x)
            else:
                val = nms_value_at(m, H, W, r, x, y)
                if spr_value_before(val, top):
                    spr_heap_offer(cv, ci, 0, M, val, y * W + x)
    spr_sort_heap(cv, ci, 0, M)


@jit
def _decode_kernel(heat, disp, ksize, thr, sx, sy, kps, roots, kscores, counts):
    expect(heat, 'heatmaps', 'float32', False)
    expect(disp, 'displacements', 'float32', False)
    expect(kps, 'keypoints', 'float32', True)
    expect(roots, 'root_scores', 'float32', True)
    expect(kscores, 'keypoint_scores', 'float32', True)
    expect(counts, 'counts', 'int64', True)
    B, C, H, W = heat.shape
    K = disp.shape[1] // 2
    M = kps.shape[1]
    if C < 1 or disp.shape != (B, 2 * K, H, W) or kps.shape != (B, M, K, 2):
        raise ValueError('heatmaps must be (B, C >= 1, H, W), displacements (B, 2K, H, W) and '
                         'keypoints (B, M, K, 2)')
    if M > H * W or roots.shape != (B, M) or counts.shape != (B,) \
            or (kscores.shape != (B, M, K) and kscores.shape != (B, M, 0)):
        raise ValueError('keypoints must have M <= H * W instances, root_scores (B, M), '
                         'keypoint_scores (B, M, K) or (B, M, 0), counts (B,)')
    with_scores = K > 0 and kscores.shape[2] == K
    if with_scores and C != K + 1:
        raise ValueError('keypoint scores need K + 1 heatmaps')
    if ksize < 1:
        raise ValueError('nms_kernel must be positive')
    HW = H * W
    r = (ksize - 1) // 2
    rows = np.empty((H, W), np.float32)
    scores = np.empty((H, W), np.float32)
    partial = spr_partial_sort_path(M, HW)
    cv = np.empty(M if partial else HW, np.float32)
    ci = np.empty(M if partial else HW, np.int64)
    for b in range(B):
        nms_map(heat[b, C - 1], H, W, r, rows, scores)
        flat = scores.reshape(HW)
        count = 0
        if M > 0:
            topk_candidates(flat, HW, M, cv, ci)
            for j in range(M):
                val = cv[j]
                if not spr_root_kept(val, thr):
                    continue
                p = ci[j]
                px = p % W
                py = p // W
                roots[b, count] = val
                for k in range(K):
                    kx = spr_keypoint_coordinate(px, disp[b, 2 * k, py, px])
                    ky = spr_keypoint_coordinate(py, disp[b, 2 * k + 1, py, px])
                    if with_scores:
                        kscores[b, count, k] = spr_bilinear(heat[b, k], H, W,
                                                            spr_sample_coordinate(kx, W),
                                                            spr_sample_coordinate(ky, H))
                    kps[b, count, k, 0] = kx * sx
                    kps[b, count, k, 1] = ky * sy
                count += 1
        counts[b] = count
        # every element written: the rows past the instances found are zeros
        kps[b, count:] = _F0
        roots[b, count:] = _F0
        kscores[b, count:] = _F0


def spr_decode(heatmaps, displacements, nms_kernel, threshold, scale, keypoints,
               root_scores, keypoint_scores, counts) -> None:
    """SPR decode of a batch into keypoints (B, M, K, 2), root_scores (B, M),
    keypoint_scores (B, M, K) or (B, M, 0) and counts (B,) (see
    fastcodec.backends.contract). The kernel checks its arrays (expect, the shapes); a
    call it cannot compile for is checked here for the user-facing error."""
    sx, sy = scale
    try:
        _decode_kernel(heatmaps, displacements, operator.index(nms_kernel),
                       np.float32(threshold), np.float32(sx), np.float32(sy), keypoints,
                       root_scores, keypoint_scores, counts)
    except TypingError:
        heat = _check_array(heatmaps, 'heatmaps', F32, (None, None, None, None))
        B, C, H, W = heat.shape
        _check_array(displacements, 'displacements', F32, (B, None, H, W))
        _check_array(keypoints, 'keypoints', F32, (B, None, None, 2), out=True)
        _check_array(root_scores, 'root_scores', F32, out=True)
        _check_array(keypoint_scores, 'keypoint_scores', F32, out=True)
        _check_array(counts, 'counts', I64, out=True)
        raise
