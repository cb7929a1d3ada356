"""AssociativeEmbedding decoding: the Numba mirror of csrc/cpu/ae_kernels.cpp and
fastcodec/associative_embedding.h (the same functions, the same float32 / float64 steps,
munkres 1.x step for step). The NMS and torch.topk's order are SPR's (spr.py)."""
from __future__ import annotations

import math

import numpy as np

from fastcodec.backends.numba.blur import gaussian_blur
from fastcodec.backends.numba.common import _F0, _F1, _require, jit
from fastcodec.backends.numba.heatmap import dark_udp_log, dark_udp_step, sign_step
from fastcodec.backends.numba.spr import nms_map, spr_partial_sort_path, topk_candidates

__all__ = ['ae_decode']

_F100 = np.float32(100.0)
_TWO63 = 9223372036854775808.0
_I64_MIN = np.iinfo(np.int64).min


# ---- fastcodec/associative_embedding.h -------------------------------------------------

@jit
def _pairwise_block(a, lo, n, stride, zero):
    """numpy's pairwise_sum for n <= 128: plain below 8, else 8 accumulators."""
    if n < 8:
        res = zero
        for i in range(n):
            res += a[lo + i * stride]
        return res
    r0 = a[lo]
    r1 = a[lo + stride]
    r2 = a[lo + 2 * stride]
    r3 = a[lo + 3 * stride]
    r4 = a[lo + 4 * stride]
    r5 = a[lo + 5 * stride]
    r6 = a[lo + 6 * stride]
    r7 = a[lo + 7 * stride]
    i = 8
    while i < n - (n % 8):
        r0 += a[lo + i * stride]
        r1 += a[lo + (i + 1) * stride]
        r2 += a[lo + (i + 2) * stride]
        r3 += a[lo + (i + 3) * stride]
        r4 += a[lo + (i + 4) * stride]
        r5 += a[lo + (i + 5) * stride]
        r6 += a[lo + (i + 6) * stride]
        r7 += a[lo + (i + 7) * stride]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i * stride]
        i += 1
    return res


@jit
def numpy_pairwise_sum(a, lo, n, stride, zero):
    """numpy's pairwise_sum of a[lo], a[lo + stride], ... (n elements) in the dtype of a
    and of `zero` (its 0): above 128 elements the sum of the two halves' sums, the first
    half a multiple of 8 long. The header's recursion, run on an explicit stack (Numba
    caches recursive functions unreliably)."""
    if n <= 128:
        return _pairwise_block(a, lo, n, stride, zero)
    s_lo = np.empty(64, np.int64)
    s_n = np.empty(64, np.int64)
    s_stage = np.zeros(64, np.int64)
    s_left = np.empty(64, a.dtype)
    s_lo[0] = lo
    s_n[0] = n
    top = 1
    value = zero
    while top > 0:
        f = top - 1
        m = s_n[f]
        if m <= 128:
            value = _pairwise_block(a, s_lo[f], m, stride, zero)
            top -= 1
            continue
        half = m // 2
        half -= half % 8
        if s_stage[f] == 0:  # descend into the first half
            s_stage[f] = 1
            s_lo[top] = s_lo[f]
            s_n[top] = half
            s_stage[top] = 0
            top += 1
        elif s_stage[f] == 1:  # first half done: descend into the second
            s_left[f] = value
            s_stage[f] = 2
            s_lo[top] = s_lo[f] + half * stride
            s_n[top] = m - half
            s_stage[top] = 0
            top += 1
        else:
            value = s_left[f] + value
            top -= 1
    return value


@jit
def numpy_mean_of_tags(tags, count, L, l):
    """np.mean of `count` float32 tags (rows of length L, flat), element l."""
    if L == 1:
        s = numpy_pairwise_sum(tags, 0, count, 1, _F0)
    else:
        s = _F0
        for i in range(count):
            s += tags[i * L + l]
    return s / np.float32(count)


@jit
def x86_to_i64(v):
    if not (v > -_TWO63 and v < _TWO63):
        return _I64_MIN
    return np.int64(v)


@jit
def clip_i64(v, lo, hi):
    return lo if v < lo else (hi if v > hi else v)


@jit
def ae_group_cost(distance, value):
    return np.rint(distance) * 100.0 - value


@jit
def ae_fill_cost(distance, heat):
    return np.float32(np.rint(distance)) * _F100 - heat


@jit
def munkres_clear_covers(row_cov, col_cov, n):
    """MunkresWork's row and column covers cleared (the struct's fields it writes)."""
    for i in range(n):
        row_cov[i] = 0
        col_cov[i] = 0


@jit
def munkres_star_in_row(marked, n, r):
    """The column starred in row r of a solved n x n marking, or -1."""
    for j in range(n):
        if marked[r * n + j] == 1:
            return j
    return -1


@jit
def munkres_solve(cost, rows, cols, C, marked, row_cov, col_cov, path):
    """munkres 1.x's Munkres().compute on cost (rows x cols, flat); the stars are left
    in `marked` (n x n). False where munkres would never end (see the header)."""
    n = max(rows, cols)
    for i in range(n):
        for j in range(n):
            C[i * n + j] = cost[i * cols + j] if (i < rows and j < cols) else 0.0
            marked[i * n + j] = 0
    munkres_clear_covers(row_cov, col_cov, n)
    for i in range(n):
        m = C[i * n]
        for j in range(1, n):
            if C[i * n + j] < m:
                m = C[i * n + j]
        for j in range(n):
            C[i * n + j] -= m
    for i in range(n):
        for j in range(n):
            if C[i * n + j] == 0 and col_cov[j] == 0 and row_cov[i] == 0:
                marked[i * n + j] = 1
                col_cov[j] = 1
                row_cov[i] = 1
                break
    munkres_clear_covers(row_cov, col_cov, n)
    while True:
        count = 0
        for i in range(n):
            for j in range(n):
                if marked[i * n + j] == 1 and col_cov[j] == 0:
                    col_cov[j] = 1
                    count += 1
        if count >= n:
            return True
        row = 0
        col = 0
        z_row = -1
        z_col = -1
        while True:
            fr = -1
            fc = -1
            i = row
            while True:
                j = col
                while True:
                    if C[i * n + j] == 0 and row_cov[i] == 0 and col_cov[j] == 0:
                        fr = i
                        fc = j
                    j = (j + 1) % n
                    if j == col:
                        break
                if fr >= 0:
                    break
                i = (i + 1) % n
                if i == row:
                    break
            if fr < 0:
                m = _TWO63
                found = False
                for a in range(n):
                    for b in range(n):
                        if row_cov[a] == 0 and col_cov[b] == 0 and m > C[a * n + b]:
                            m = C[a * n + b]
                            found = True
                if not found or not (m - m == 0):
                    return False
                for a in range(n):
                    for b in range(n):
                        if row_cov[a]:
                            C[a * n + b] += m
                        if col_cov[b] == 0:
                            C[a * n + b] -= m
                row = 0
                col = 0
                continue
            marked[fr * n + fc] = 2
            star = -1
            for j in range(n):
                if marked[fr * n + j] == 1:
                    star = j
                    break
            if star >= 0:
                row = fr
                col = star
                row_cov[fr] = 1
                col_cov[star] = 0
            else:
                z_row = fr
                z_col = fc
                break
        length = 0
        path[0] = z_row
        path[1] = z_col
        while True:
            r = -1
            for i in range(n):
                if marked[i * n + path[2 * length + 1]] == 1:
                    r = i
                    break
            if r < 0:
                break
            length += 1
            path[2 * length] = r
            path[2 * length + 1] = path[2 * length - 1]
            c = -1
            for j in range(n):
                if marked[path[2 * length] * n + j] == 2:
                    c = j
                    break
            length += 1
            path[2 * length] = path[2 * length - 2]
            path[2 * length + 1] = c
        for p in range(length + 1):
            q = path[2 * p] * n + path[2 * p + 1]
            marked[q] = 0 if marked[q] == 1 else 1
        munkres_clear_covers(row_cov, col_cov, n)
        for i in range(n * n):
            if marked[i] == 2:
                marked[i] = 0


@jit
def padded_pixel(q, K, H, W):
    Wp = W + 2
    S = (H + 2) * Wp
    total = K * S
    if q < -total or q >= total:
        return False, 0, 0, 0
    if q < 0:
        q += total
    return True, q // S, clip_i64((q % S) // Wp - 1, 0, H - 1), clip_i64(q % Wp - 1, 0, W - 1)


@jit
def dark_udp_centre_f32(x, y, k, H, W):
    Wp = W + 2
    S = (H + 2) * Wp
    t = (x + _F1) + (y + _F1) * np.float32(Wp)
    return x86_to_i64(np.float64(np.float32(np.float64(t) + np.float64(k * S))))


# ---- csrc/cpu/ae_kernels.cpp -----------------------------------------------------------

@jit
def _candidates(heat, r, M, vals, idx):
    """NMS and torch.topk of every map: heat (C, H, W) -> vals, idx (C, M)."""
    C, H, W = heat.shape
    HW = H * W
    rows = np.empty((H, W), np.float32)
    peaks = np.empty((H, W), np.float32)
    partial = spr_partial_sort_path(M, HW)
    cv = np.empty(M if partial else HW, np.float32)
    ci = np.empty(M if partial else HW, np.int64)
    for c in range(C):
        if M == 0:
            continue
        nms_map(heat[c], H, W, r, rows, peaks)
        topk_candidates(peaks.reshape(HW), HW, M, cv, ci)
        for j in range(M):
            vals[c, j] = cv[j]
            idx[c, j] = ci[j]


@jit
def _group_for_key(keys, n_groups, key, joints, K):
    for g in range(n_groups):
        if keys[g] == key:
            return g, n_groups
    keys[n_groups] = key
    joints[n_groups, :, :] = _F0
    return n_groups, n_groups + 1


@jit
def _decode_kernel(heat, tags, order, vals, idx, modulated, udp, val_thr, tag_thr,
                   max_instances, shift, sx, sy, out_kps, out_scores, out_inst, counts):
    B, K, H, W = heat.shape
    L = tags.shape[1] // K if K else 0
    M = vals.shape[2]
    HW = H * W
    Gout = out_kps.shape[1]
    cap = K * M + 1
    keys = np.empty(cap, np.float32)
    joints = np.zeros((cap, max(K, 1), 3), np.float32)
    gtags = np.empty((cap, max(K, 1) * max(L, 1) + 1), np.float32)
    gcount = np.zeros(cap, np.int64)
    rows = np.empty(max(M, 1), np.int64)
    means = np.empty(cap * max(L, 1), np.float32)
    d2 = np.empty(max(L, 1), np.float64)
    fill_tags = np.empty(max(K, 1) * max(L, 1), np.float32)
    tag = np.empty(max(L, 1), np.float32)
    steps = np.array([0, 1, W + 2, W + 3, -W - 3, -1, -W - 2], np.int64)
    v7 = np.empty(7, np.float32)
    flat_tags = tags.reshape(B, -1)
    flat_heat = heat.reshape(B, -1)
    flat_mod = modulated.reshape(modulated.shape[0], -1)
    for b in range(B):
        tg = flat_tags[b]
        ng = 0
        for i in range(K):
            k = order[i]
            R = 0
            for m in range(M):
                if np.float64(vals[b, k, m]) > val_thr:
                    rows[R] = m
                    R += 1
            if R == 0:
                continue
            if i == 0 or ng == 0:
                for r in range(R):
                    m = rows[r]
                    p = idx[b, k, m]
                    g, ng = _group_for_key(keys, ng, tg[k * HW + p], joints, K)
                    joints[g, k, 0] = np.float32(p % W)
                    joints[g, k, 1] = np.float32(p // W)
                    joints[g, k, 2] = vals[b, k, m]
                    for l in range(L):
                        gtags[g, l] = tg[(l * K + k) * HW + p]
                    gcount[g] = 1
                continue
            G = ng
            cols = max(R, G)
            for g in range(G):
                for l in range(L):
                    means[g * L + l] = numpy_mean_of_tags(gtags[g], gcount[g], L, l)
            cost = np.full(R * cols, 1e10)
            dist = np.empty(R * G)
            for r in range(R):
                m = rows[r]
                p = idx[b, k, m]
                for g in range(G):
                    for l in range(L):
                        d = np.float64(tg[(l * K + k) * HW + p]) - np.float64(means[g * L + l])
                        d2[l] = d * d
                    dd = math.sqrt(numpy_pairwise_sum(d2, 0, L, 1, 0.0))
                    dist[r * G + g] = dd
                    cost[r * cols + g] = ae_group_cost(dd, np.float64(vals[b, k, m]))
            n = cols
            C = np.empty(n * n)
            marked = np.empty(n * n, np.uint8)
            row_cov = np.empty(n, np.uint8)
            col_cov = np.empty(n, np.uint8)
            path = np.empty(2 * (2 * n + 1), np.int64)
            munkres_solve(cost, R, cols, C, marked, row_cov, col_cov, path)
            for r in range(R):
                c = munkres_star_in_row(marked, n, r)
                m = rows[r]
                p = idx[b, k, m]
                if c >= 0 and c < G and dist[r * G + c] < tag_thr:
                    g = c
                    for l in range(L):
                        gtags[g, gcount[g] * L + l] = tg[(l * K + k) * HW + p]
                    gcount[g] += 1
                else:
                    g, ng = _group_for_key(keys, ng, tg[k * HW + p], joints, K)
                    for l in range(L):
                        gtags[g, l] = tg[(l * K + k) * HW + p]
                    gcount[g] = 1
                joints[g, k, 0] = np.float32(p % W)
                joints[g, k, 1] = np.float32(p // W)
                joints[g, k, 2] = vals[b, k, m]
        total = ng
        if max_instances >= 0:
            keep = min(total, max_instances)
        else:
            keep = max(0, total + max_instances)
        keep = min(keep, Gout)
        counts[b] = keep
        out_kps[b] = _F0
        out_scores[b] = _F0
        out_inst[b] = _F0
        for g in range(keep):
            for k in range(K):
                out_kps[b, g, k, 0] = joints[g, k, 0]
                out_kps[b, g, k, 1] = joints[g, k, 1]
                out_scores[b, g, k] = joints[g, k, 2]
            out_inst[b, g] = numpy_pairwise_sum(out_scores[b, g], 0, K, 1, _F0) / np.float32(K)
        if keep == 0 or K == 0:
            continue
        maps = flat_mod[b] if udp else flat_heat[b]
        for g in range(keep):
            for k in range(K):
                if udp:
                    q = dark_udp_centre_f32(out_kps[b, g, k, 0], out_kps[b, g, k, 1], k, H, W)
                    ok = True
                    for j in range(7):
                        ok, ch, y, x = padded_pixel(q + steps[j], K, H, W)
                        if not ok:
                            break
                        v7[j] = maps[ch * HW + y * W + x]
                    if ok:
                        ox, oy = dark_udp_step(v7)
                        out_kps[b, g, k, 0] = np.float32(np.float64(out_kps[b, g, k, 0]) - ox)
                        out_kps[b, g, k, 1] = np.float32(np.float64(out_kps[b, g, k, 1]) - oy)
                else:
                    ox, oy = sign_step(flat_heat[b], k * HW, W, H,
                                       np.int64(out_kps[b, g, k, 0]),
                                       np.int64(out_kps[b, g, k, 1]))
                    out_kps[b, g, k, 0] += np.float32(ox)
                    out_kps[b, g, k, 1] += np.float32(oy)
                s = shift * (_F1 if out_scores[b, g, k] > _F0 else _F0)
                out_kps[b, g, k, 0] += s
                out_kps[b, g, k, 1] += s
        for g in range(keep):
            found = 0
            for k in range(K):
                if not (out_scores[b, g, k] > _F0):
                    continue
                x = clip_i64(x86_to_i64(np.float64(out_kps[b, g, k, 0])), 0, W - 1)
                y = clip_i64(x86_to_i64(np.float64(out_kps[b, g, k, 1])), 0, H - 1)
                for l in range(L):
                    fill_tags[found * L + l] = tg[(l * K + k) * HW + y * W + x]
                found += 1
            for l in range(L):
                tag[l] = numpy_mean_of_tags(fill_tags, found, L, l) if found else np.float32(np.nan)
            for k in range(K):
                if out_scores[b, g, k] > _F0:
                    continue
                best = 0
                best_cost = _F0
                for p in range(HW):
                    acc = _F0
                    for l in range(L):
                        d = tg[(l * K + k) * HW + p] - tag[l]
                        acc += d * d
                    c = ae_fill_cost(np.float32(math.sqrt(acc)), maps[k * HW + p])
                    if p == 0 or c < best_cost or c != c:
                        best = p
                        best_cost = c
                        if c != c:
                            break
                out_kps[b, g, k, 0] = np.float32(best % W)
                out_kps[b, g, k, 1] = np.float32(best // W)
                out_scores[b, g, k] = maps[k * HW + best]
        for g in range(keep):
            for k in range(K):
                out_kps[b, g, k, 0] *= sx
                out_kps[b, g, k, 1] *= sy


def ae_decode(heatmaps, tags, order, nms_kernel, topk, val_thr, tag_thr, max_instances, udp,
              blur_kernel, center_shift, scale, keypoints, scores, instance_scores,
              counts) -> None:
    """See fastcodec.backends.contract: AssociativeEmbedding's batch_decode."""
    heat = np.ascontiguousarray(heatmaps, dtype=np.float32)
    tag = np.ascontiguousarray(tags, dtype=np.float32)
    order = np.ascontiguousarray(order, dtype=np.int64)
    _require(heat.ndim == 4 and tag.ndim == 4, 'heatmaps and tags must be 4-D')
    B, K, H, W = heat.shape
    _require(H > 0 and W > 0, 'heatmaps must have positive height and width')
    _require(tag.shape[0] == B and tag.shape[2:] == (H, W),
             'tags must be (B, L * K, H, W) matching heatmaps')
    C = tag.shape[1]
    _require(C == 0 if K == 0 else (C % K == 0 and C >= K),
             'tags must have L * K channels, L >= 1')
    _require(order.shape == (K,) and bool(((order >= 0) & (order < K)).all()),
             'order must be (K,) with entries in [0, K)')
    _require(nms_kernel >= 1 and nms_kernel % 2 == 1, 'nms kernel must be odd and positive')
    _require(0 <= topk <= H * W, 'topk must be in [0, H * W]')
    G = keypoints.shape[1]
    _require(keypoints.shape == (B, G, K, 2) and keypoints.dtype == np.float32,
             'keypoints must be (B, G, K, 2) float32')
    _require(scores.shape == (B, G, K) and scores.dtype == np.float32,
             'scores must be (B, G, K) float32')
    _require(instance_scores.shape == (B, G) and instance_scores.dtype == np.float32,
             'instance_scores must be (B, G) float32')
    _require(counts.shape == (B,) and counts.dtype == np.int64, 'counts must be (B,) int64')
    vals = np.empty((B, K, topk), np.float32)
    idx = np.empty((B, K, topk), np.int64)
    _candidates(heat.reshape(B * K, H, W), (nms_kernel - 1) // 2, topk,
                vals.reshape(B * K, topk), idx.reshape(B * K, topk))
    if udp and heat.size:
        modulated = np.empty(heat.shape, np.float32)
        gaussian_blur(heat, blur_kernel, modulated)
        modulated = _log_clip(modulated.ravel()).reshape(heat.shape)
    else:
        modulated = np.empty((1, 1, 1, 1), np.float32)
    _decode_kernel(heat, tag, order, vals, idx, modulated, bool(udp), float(val_thr),
                   float(tag_thr), int(max_instances), np.float32(center_shift),
                   np.float32(scale[0]), np.float32(scale[1]), keypoints, scores,
                   instance_scores, counts)


@jit
def _log_clip(v):
    for i in range(v.size):
        v[i] = dark_udp_log(v[i])
    return v
