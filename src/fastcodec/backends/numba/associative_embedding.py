"""AssociativeEmbedding decoding: the Numba mirror of csrc/cpu/ae_kernels.cpp and
fastcodec/associative_embedding.h (the same functions, the same float32 / float64 steps,
munkres 1.x step for step). The NMS and torch.topk's order are SPR's (spr.py)."""
from __future__ import annotations

import math

import numpy as np

from fastcodec.backends.numba.blur import gaussian_blur
from fastcodec.backends.numba.common import _F0, _F1, _require, jit
from fastcodec.backends.numba.heatmap import dark_udp_log, dark_udp_step, sign_step
from fastcodec.backends.numba.spr import nms_topk, spr_partial_sort_path

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
        nms_topk(heat[c], H, W, r, M, cv, ci, rows, peaks)
        for j in range(M):
            vals[c, j] = cv[j]
            idx[c, j] = ci[j]


@jit
def ae_group_for_key(keys, n, key, joints, K):
    """joint_dict.setdefault(key, zeros) over the first n groups -> (group, n after)."""
    for g in range(n):
        if keys[g] == key:
            return g, n
    keys[n] = key
    for j in range(3 * K):
        joints[n * 3 * K + j] = _F0
    return n, n + 1


@jit
def ae_group_keypoints(vals, idx, tags, order, K, L, W, HW, M, val_thr, tag_thr, keys, counts,
                       joints, gtags):
    """The grouping of one image (see the header): vals, idx (K * M) flat, tags the
    image's flat (L * K, H, W) maps; groups into keys, counts, joints (3K each) and
    gtags (K * L each), flat, room for K * M groups -> the number of groups."""
    KHW = K * HW
    rows = np.empty(max(M, 1), np.int64)
    d2 = np.empty(max(L, 1), np.float64)
    means = np.empty(max(K * M * L, 1), np.float32)
    n_groups = 0
    for i in range(K):
        k = order[i]
        R = 0
        for m in range(M):
            if np.float64(vals[k * M + m]) > val_thr:
                rows[R] = m
                R += 1
        if R == 0:
            continue
        match = i > 0 and n_groups > 0
        G = n_groups
        cols = max(R, G)
        n = cols if match else 1
        cost = np.full(R * cols if match else 1, 1e10)
        dist = np.empty(max(R * G, 1))
        C = np.empty(n * n)
        marked = np.zeros(n * n, np.uint8)
        row_cov = np.empty(n, np.uint8)
        col_cov = np.empty(n, np.uint8)
        path = np.empty(2 * (2 * n + 1), np.int64)
        if match:
            for g in range(G):
                for l in range(L):
                    means[g * L + l] = numpy_mean_of_tags(gtags[g * K * L:], counts[g], L, l)
            for r in range(R):
                t = k * HW + idx[k * M + rows[r]]
                for g in range(G):
                    for l in range(L):
                        d = np.float64(tags[t + l * KHW]) - np.float64(means[g * L + l])
                        d2[l] = d * d
                    dd = math.sqrt(numpy_pairwise_sum(d2, 0, L, 1, 0.0))
                    dist[r * G + g] = dd
                    cost[r * cols + g] = ae_group_cost(dd, np.float64(vals[k * M + rows[r]]))
            munkres_solve(cost, R, cols, C, marked, row_cov, col_cov, path)
        for r in range(R):
            m = rows[r]
            p = idx[k * M + m]
            t = k * HW + p
            g = -1
            if match:
                col = munkres_star_in_row(marked, cols, r)
                if col >= 0 and col < G and dist[r * G + col] < tag_thr:
                    g = col
            if g >= 0:
                for l in range(L):
                    gtags[(g * K + counts[g]) * L + l] = tags[t + l * KHW]
                counts[g] += 1
            else:
                g, n_groups = ae_group_for_key(keys, n_groups, tags[t], joints, K)
                for l in range(L):
                    gtags[g * K * L + l] = tags[t + l * KHW]
                counts[g] = 1
            joints[(g * K + k) * 3] = np.float32(p % W)
            joints[(g * K + k) * 3 + 1] = np.float32(p // W)
            joints[(g * K + k) * 3 + 2] = vals[k * M + m]
    return n_groups


@jit
def ae_kept_groups(groups, max_instances, G):
    if max_instances >= 0:
        keep = min(groups, max_instances)
    else:
        keep = max(0, groups + max_instances)
    return min(keep, G)


@jit
def ae_instance(joints, K, kps, scores):
    """joints (3K, flat) -> kps (2K), scores (K) in place; returns the instance score."""
    for k in range(K):
        kps[2 * k] = joints[3 * k]
        kps[2 * k + 1] = joints[3 * k + 1]
        scores[k] = joints[3 * k + 2]
    return numpy_pairwise_sum(scores, 0, K, 1, _F0) / np.float32(K)


@jit
def ae_refine_keypoint(kp, score, k, heat, modulated, udp, K, H, W, center_shift):
    """Keypoint k of a kept group (kp: its (x, y), in place); heat and modulated: the
    image's flat (K, H, W) maps."""
    HW = H * W
    if udp:
        Wp = W + 2
        q = dark_udp_centre_f32(kp[0], kp[1], k, H, W)
        steps = np.array([0, 1, Wp, Wp + 1, -Wp - 1, -1, -Wp], np.int64)
        v = np.empty(7, np.float32)
        inside = True
        for j in range(7):
            inside, ch, y, x = padded_pixel(q + steps[j], K, H, W)
            if not inside:
                break
            v[j] = modulated[ch * HW + y * W + x]
        if inside:
            ox, oy = dark_udp_step(v)
            kp[0] = np.float32(np.float64(kp[0]) - ox)
            kp[1] = np.float32(np.float64(kp[1]) - oy)
    else:
        ox, oy = sign_step(heat, k * HW, W, H, np.int64(kp[0]), np.int64(kp[1]))
        kp[0] += np.float32(ox)
        kp[1] += np.float32(oy)
    s = center_shift * (_F1 if score > _F0 else _F0)
    kp[0] += s
    kp[1] += s


@jit
def ae_group_tag(kps, scores, tags, K, L, H, W, found_tags, tag):
    """A kept group's filling tag (L floats into `tag`); kps (2K), tags the image's."""
    HW = H * W
    found = 0
    for k in range(K):
        if not (scores[k] > _F0):
            continue
        x = clip_i64(x86_to_i64(np.float64(kps[2 * k])), 0, W - 1)
        y = clip_i64(x86_to_i64(np.float64(kps[2 * k + 1])), 0, H - 1)
        for l in range(L):
            found_tags[found * L + l] = tags[(l * K + k) * HW + y * W + x]
        found += 1
    for l in range(L):
        tag[l] = numpy_mean_of_tags(found_tags, found, L, l) if found else np.float32(np.nan)


@jit
def ae_fill_gain(tags, o, KHW, L, tag, map_value, p):
    """The negated filling cost of pixel p; tags[o:] is the keypoint's first tag map."""
    acc = _F0
    for l in range(L):
        d = tags[o + l * KHW + p] - tag[l]
        acc += d * d
    return -ae_fill_cost(np.float32(math.sqrt(acc)), map_value)


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
    gcounts = np.zeros(cap, np.int64)
    joints = np.zeros(cap * max(K, 1) * 3, np.float32)
    gtags = np.empty(cap * max(K, 1) * max(L, 1), np.float32)
    found_tags = np.empty(max(K, 1) * max(L, 1), np.float32)
    tag = np.empty(max(L, 1), np.float32)
    flat_tags = tags.reshape(B, -1)
    flat_heat = heat.reshape(B, -1)
    flat_mod = modulated.reshape(modulated.shape[0], -1)
    kps = out_kps.reshape(B, -1)
    scores = out_scores.reshape(B, -1)
    for b in range(B):
        tg = flat_tags[b]
        groups = ae_group_keypoints(vals[b].ravel(), idx[b].ravel(), tg, order, K, L, W, HW, M,
                                    val_thr, tag_thr, keys, gcounts, joints, gtags)
        keep = ae_kept_groups(groups, max_instances, Gout)
        counts[b] = keep
        out_kps[b] = _F0
        out_scores[b] = _F0
        out_inst[b] = _F0
        for g in range(keep):
            out_inst[b, g] = ae_instance(joints[g * K * 3:], K, kps[b, g * K * 2:],
                                         scores[b, g * K:])
        if keep == 0 or K == 0:
            continue
        for i in range(keep * K):
            ae_refine_keypoint(kps[b, 2 * i:], scores[b, i], i % K, flat_heat[b],
                               flat_mod[b] if udp else flat_heat[b], udp, K, H, W, shift)
        maps = flat_mod[b] if udp else flat_heat[b]
        for g in range(keep):
            sc = scores[b, g * K:]
            ae_group_tag(kps[b, g * K * 2:], sc, tg, K, L, H, W, found_tags, tag)
            for k in range(K):
                if sc[k] > _F0:
                    continue
                best = 0
                best_gain = _F0
                for p in range(HW):   # np.argmin of the cost: the first NaN or minimum
                    c = ae_fill_gain(tg, k * HW, K * HW, L, tag, maps[k * HW + p], p)
                    if p == 0 or c > best_gain or c != c:
                        best = p
                        best_gain = c
                        if c != c:
                            break
                kps[b, g * K * 2 + 2 * k] = np.float32(best % W)
                kps[b, g * K * 2 + 2 * k + 1] = np.float32(best // W)
                sc[k] = maps[k * HW + best]
        for i in range(keep * K):
            kps[b, 2 * i] *= sx
            kps[b, 2 * i + 1] *= sy


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
