"""Numba mirrors of the heatmap kernels (fastcodec/heatmap_targets.h, argmax.h,
refine.h, csrc/cpu/heatmap_kernels.cpp): Gaussian, offset and Megvii targets, the
maximum, the sign / DARK / DARK-UDP refinements and the fused decoders."""
from __future__ import annotations

import math

import numpy as np

from fastcodec.limits import MAX_SIGMA
from fastcodec.backends.numba.blur import (_apply_scale_kernel, _blurred_argmax_reflect,
                                           _flush_level, _modulate,
                                           opencv_column_simd_end, opencv_gaussian_kernel,
                                           opencv_row_simd_end, reflect101,
                                           opencv_blur_filters_axis)
from fastcodec.backends.numba.common import (F32, F64, REAL, TypingError, U8, _F0, _F1, _F1EM10,
                                             _F1EM3, _F2, _F255, _F50, _FHALF, _FLT_EPS,
                                             _FQUARTER, _ROUNDS_NORMAL, _argmax_rows,
                                             _check_array, _flush32, _fmaf, _odd_kernel,
                                             _require, _u, cast_like, coord_is_usable, expect,
                                             jit, max_i64, maximum_location, min_i64,
                                             round_half_up, scale_coord, sign_of_difference)

__all__ = ['encode_gaussian', 'encode_offset', 'encode_megvii', 'heatmap_maximum',
           'refine_sign', 'refine_dark', 'refine_dark_udp', 'decode_msra', 'decode_dark',
           'decode_megvii', 'decode_udp_combined']


@jit
def _write_location(index, value, W, locs, c):
    locs[2 * c], locs[2 * c + 1] = maximum_location(index, value, W)


# ----------------------------------------------------------------------------------
# Encoding (heatmap_targets.h, heatmap_kernels.cpp)


# heatmap_targets.h: each function mirrors the one of the same name; a struct of the
# C++ comes back as a tuple of its fields.


@jit
def scaled_point(rx, ry, sx, sy, f32):
    """(ok, x, y): the keypoint divided by the float32 scale."""
    if not (coord_is_usable(rx) and coord_is_usable(ry)):
        return False, 0.0, 0.0
    px = scale_coord(rx, sx, f32)
    py = scale_coord(ry, sy, f32)
    return coord_is_usable(px) and coord_is_usable(py), px, py


@jit
def point_to_draw(rx, ry, visible, sx, sy, f32):
    """(draw, x, y, inside): NaN/Inf keypoints get weight 0 (inside False); visibility
    < 0.5 keeps its weight and draws nothing."""
    ok, px, py = scaled_point(rx, ry, sx, sy, f32)
    return ok and not (visible < 0.5), px, py, ok


@jit
def patch_geometry(sigma):
    """(radius, length, centre)."""
    radius = sigma * 3
    size = 2 * radius + 1
    return radius, np.int64(math.ceil(size)), math.floor(size / 2)


@jit
def patch_geometry_f32(sigma):
    r = np.float32(sigma) * np.float32(3.0)
    size = np.float32(2.0) * r + np.float32(1.0)
    return np.float64(r), np.int64(math.ceil(np.float64(size))), math.floor(np.float64(size) / 2)


@jit
def patch_window(px, py, f32, radius):
    """(mu_x, mu_y, left, top, right, bottom)."""
    mu_x = round_half_up(px, f32)
    mu_y = round_half_up(py, f32)
    return (mu_x, mu_y, np.int64(np.float64(mu_x) - radius), np.int64(np.float64(mu_y) - radius),
            np.int64(np.float64(mu_x) + radius + 1), np.int64(np.float64(mu_y) + radius + 1))


@jit
def patch_misses(left, top, right, bottom, W, H):
    """The C++ takes the PatchWindow; its mu fields are not read."""
    return left >= W or top >= H or right < 0 or bottom < 0


@jit
def msra_patch_value(gx, gy, centre, two_sigma2):
    dx = np.float32(gx) - centre
    dy = np.float32(gy) - centre
    d2 = dx * dx + dy * dy
    if d2 == _F0:
        return _F1
    return np.float32(math.exp(-d2 / two_sigma2))


@jit
def udp_patch_factor(g, centre, p, mu, two_sigma2):
    d = np.float64(g) - (centre + (p - np.float64(mu)))
    return math.exp(-(d * d) / two_sigma2)


@jit
def unbiased_misses(mx, my, radius, W, H):
    """In the precision of mx, my, radius (all float32 or all float64)."""
    return (mx - radius >= cast_like(W, mx) or my - radius >= cast_like(H, mx)
            or mx + radius + _F1 < _F0 or my + radius + _F1 < _F0)


@jit
def unbiased_factor(x, mu, two_sigma2):
    """In mu's precision (float32 or float64): the C++ casts x to T."""
    d = cast_like(x, mu) - mu
    return math.exp(-(d * d) / two_sigma2)


@jit
def offset_along(x, mu, radius):
    return (mu - np.float64(x)) / radius


@jit
def offset_label(ox, oy_squared):
    return _F1 if ox * ox + oy_squared <= 1.0 else _F0


@jit
def _normal_or_zero(f):
    """A factor below FLT_MIN as 0 (its products with factors <= 1 would be flushed)."""
    return f if not (f < _ROUNDS_NORMAL) else f - f


@jit
def _paint_unbiased(hm, o, W, H, mx, my, two_sigma2, fx, fy):
    """unbiased_factor products max-pasted into hm, in the precision of the arguments:
    float32 (mx, my, two_sigma2) or float64, as MMPose
    computes with float32 or float64 keypoints.

    No denormal is written: factors below FLT_MIN are taken as 0 (their products,
    factors <= 1, would be flushed), the products are formed in float64 (exact for float32
    factors, so rounding them once gives the float32 product) and written as 0 where
    they round below FLT_MIN. Rows whose factor is 0 and columns outside the factors'
    nonzero span only hold zeros, which never beat hm (>= 0): they are skipped."""
    xlo = W
    xhi = -1
    for x in range(W):
        fx[x] = _normal_or_zero(unbiased_factor(x, mx, two_sigma2))
        if fx[x] != 0:
            xlo = min(xlo, x)
            xhi = x
    for y in range(H):
        fy[y] = _normal_or_zero(unbiased_factor(y, my, two_sigma2))
    for y in range(H):
        gy = np.float64(fy[y])
        if not (gy != 0):
            continue
        ro = o + y * W
        for x in range(xlo, xhi + 1):
            g = _flush32(np.float64(fx[x]) * gy)
            if g > hm[_u(ro + x)]:
                hm[_u(ro + x)] = g


@jit
def _encode_gaussian_kernel(kind, kps, vis, sigma, rows, sig_f32, sx, sy, f32, W, H, B, N,
                            K, heat, inside):
    # kind: 0 msra, 1 unbiased, 2 udp. heat (B*K*H*W,) and inside (B*N*K,): every
    # element written (each plane zeroed first, then the instances max-pasted).
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
            radius[n], length[n], centre[n] = patch_geometry_f32(sigma[n])
        else:
            radius[n], length[n], centre[n] = patch_geometry(sigma[n])
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
                    patch[n, gy * L + gx] = _flush32(msra_patch_value(gx, gy, c, s2))
    else:
        patch = np.empty((0, 0), np.float32)
    ux = np.empty(max(lmax, W), np.float64)
    uy = np.empty(max(lmax, H), np.float64)
    vx = np.empty(W, np.float32)
    vy = np.empty(H, np.float32)
    for bk in range(B * K):
        b = bk // K
        k = bk % K
        hoff = bk * HW
        heat[hoff:hoff + HW] = _F0
        for n in range(N):
            i = (b * N + n) * K + k
            draw, px, py, ok = point_to_draw(kps[2 * i], kps[2 * i + 1], vis[i], sx, sy, f32)
            inside[i] = 1 if ok else 0
            if not draw:
                continue
            sn = (0 if rows == 1 else b) * N + n
            rad = radius[sn]
            if kind == 1:
                if f32:
                    misses = unbiased_misses(np.float32(px), np.float32(py), np.float32(rad),
                                             W, H)
                else:
                    misses = unbiased_misses(px, py, rad, W, H)
                if misses:
                    inside[i] = 0
                    continue
                two_sigma2 = 2 * sigma[sn] * sigma[sn]
                if f32:
                    _paint_unbiased(heat, hoff, W, H, np.float32(px), np.float32(py),
                                    np.float32(two_sigma2), vx, vy)
                else:
                    _paint_unbiased(heat, hoff, W, H, px, py, two_sigma2, ux, uy)
                continue
            mu_x, mu_y, left, top, right, bottom = patch_window(px, py, f32, rad)
            if patch_misses(left, top, right, bottom, W, H):
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
                for t in range(L):  # factors <= 1: their products are flushed below
                    ux[t] = udp_patch_factor(t, cn, px, mu_x, s2)
                    uy[t] = udp_patch_factor(t, cn, py, mu_y, s2)
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


@jit
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
        heat[lo:lo + 3 * HW] = _F0  # a drawn instance then overwrites all three planes
        for n in range(N):
            i = (b * N + n) * K + k
            draw, mx, my, ok = point_to_draw(kps[2 * i], kps[2 * i + 1], vis[i], sx, sy, f32)
            inside[i] = 1 if ok else 0
            if not draw:
                continue
            # offset_pixel: (m - p) / radius depends on one coordinate only.
            for x in range(W):
                ox[x] = offset_along(x, mx, radius)
                fx[x] = _flush32(ox[x])
            for y in range(H):
                oy[y] = offset_along(y, my, radius)
            for y in range(H):
                vy = oy[y]
                fy = _flush32(vy)
                ro = y * W
                for x in range(W):
                    vx = ox[x]
                    p = _u(ro + x)
                    heat[_u(lo) + p] = offset_label(vx, vy * vy)
                    heat[_u(xo) + p] = fx[x]
                    heat[_u(yo) + p] = fy


@jit
def megvii_impulse_pixel(px, py, W, H):
    """(on_map, kx, ky): the impulse pixel `astype(np.int64)` of the scaled keypoint."""
    kx = np.int64(px)
    ky = np.int64(py)
    return not (kx < 0 or kx >= W or ky < 0 or ky >= H), kx, ky


@jit
def megvii_impulse_tap(p, n, k):
    return _F1 if reflect101(p, n) == k else _F0


@jit
def megvii_normalize(v, centre):
    return v / centre * _F255


@jit
def _impulse_tap(x, i, at, n):
    """The unit impulse at `at` seen i taps from x through the reflect-101 border."""
    return megvii_impulse_tap(x + i, n, at)


@jit
def _impulse_row_sum(w, r, x, kx, W, simd):
    """opencv_row_sum (simd) or opencv_row_sum_tail of a unit impulse at kx, its taps
    computed on the fly (faster here than gathering them into a row first)."""
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


@jit
def _encode_megvii_kernel(kps, vis, sx, sy, f32, W, H, B, N, K, w, heat, inside):
    HW = H * W
    r = w.shape[0] // 2
    row_end = opencv_row_simd_end(W)
    column_end = opencv_column_simd_end(W)
    px = np.empty(W, np.float32)
    hit = np.empty(2 * r + 1, np.bool_)
    for bk in range(B * K):
        b = bk // K
        k = bk % K
        hoff = bk * HW
        heat[hoff:hoff + HW] = _F0  # a drawn instance then overwrites the plane
        for n in range(N):
            i = (b * N + n) * K + k
            draw, qx, qy, ok = point_to_draw(kps[2 * i], kps[2 * i + 1], vis[i], sx, sy, f32)
            inside[i] = 1 if ok else 0
            if not draw:
                continue
            on_map, kx, ky = megvii_impulse_pixel(qx, qy, W, H)
            if not on_map:
                inside[i] = 0
                continue
            # cv2.GaussianBlur of the impulse pass by pass: the row pass gives px; each
            # output row is the column sum over the rows that reflect onto ky.
            for x in range(W):
                px[x] = _impulse_row_sum(w, r, x, kx, W, x < row_end)
            if not opencv_blur_filters_axis(W):  # a one-column map: no row pass
                px[kx] = _F1
            if not opencv_blur_filters_axis(H):  # a one-row map: no column pass
                for x in range(W):
                    heat[_u(hoff + x)] = px[x]
            for y in range(H if opencv_blur_filters_axis(H) else 0):
                hits = 0
                tap = 0
                for j in range(-r, r + 1):
                    h = megvii_impulse_tap(y + j, H, ky) != _F0
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
                heat[_u(hoff + p)] = _flush32(megvii_normalize(heat[_u(hoff + p)], centre))


# ----------------------------------------------------------------------------------
# Decoding (argmax.h, refine.h, heatmap_kernels.cpp)


# refine.h: each function mirrors the one of the same name (pointer outputs returned).


@jit
def keypoint_pixel(kx, ky):
    """(ok, x, y): the keypoint as `astype(int)`; False for NaN/Inf/huge."""
    if not (coord_is_usable(kx) and coord_is_usable(ky)):
        return False, np.int64(0), np.int64(0)
    return True, np.int64(kx), np.int64(ky)


@jit
def sign_step(h, o, W, H, x, y):
    """(dx, dy) of refine_keypoints on the map h[o:o + H * W] at integer (x, y)."""
    sx = _F0
    sy = _F0
    if 1 < x and x < W - 1 and 0 < y and y < H:
        sx = sign_of_difference(h[o + y * W + x + 1], h[o + y * W + x - 1])
    if 1 < y and y < H - 1 and 0 < x and x < W:
        sy = sign_of_difference(h[o + (y + 1) * W + x], h[o + (y - 1) * W + x])
    return np.float64(sx * _FQUARTER), np.float64(sy * _FQUARTER)


@jit
def megvii_applies(W, H, x, y):
    return 1 < x and x < W - 1 and 1 < y and y < H - 1


@jit
def megvii_score(v):
    return v / _F255 + _FHALF


@jit
def megvii_shift(left, right, up, down):
    return (np.float64(sign_of_difference(right, left) * _FQUARTER + _FHALF),
            np.float64(sign_of_difference(down, up) * _FQUARTER + _FHALF))


@jit
def dark_log(v):
    return np.float32(math.log(_F1EM10 if v < _F1EM10 else v))


@jit
def dark_udp_log(v):
    return np.float32(math.log(_F1EM3 if v < _F1EM3 else (_F50 if v > _F50 else v)))


@jit
def dark_applies(W, H, x, y):
    return 1 < x and x < W - 2 and 1 < y and y < H - 2


@jit
def dark_step(m, o, stride, s, W, H, x, y):
    """(ok, dx, dy): the DARK step at integer (x, y) of a W x H map. The C++'s log map
    L(dx, dy) is dark_log(m[o + dy * stride + dx] * s): o indexes (x, y) in m, whose
    rows are `stride` apart, s is the modulation scale."""
    if not dark_applies(W, H, x, y):
        return False, 0.0, 0.0
    c = dark_log(m[o] * s)
    dx = _FHALF * (dark_log(m[o + 1] * s) - dark_log(m[o - 1] * s))
    dy = _FHALF * (dark_log(m[o + stride] * s) - dark_log(m[o - stride] * s))
    dxx = _FQUARTER * (dark_log(m[o + 2] * s) - _F2 * c + dark_log(m[o - 2] * s))
    dxy = _FQUARTER * (dark_log(m[o + stride + 1] * s) - dark_log(m[o - stride + 1] * s)
                       - dark_log(m[o + stride - 1] * s) + dark_log(m[o - stride - 1] * s))
    dyy = _FQUARTER * (dark_log(m[o + 2 * stride] * s) - _F2 * c
                       + dark_log(m[o - 2 * stride] * s))
    det32 = dxx * dyy - dxy * dxy
    if not (det32 != _F0):
        return False, 0.0, 0.0
    # np.linalg.inv in float32, then -inv @ g in float32.
    det = np.float64(dxx) * np.float64(dyy) - np.float64(dxy) * np.float64(dxy)
    i00 = np.float32(np.float64(dyy) / det)
    i01 = np.float32(np.float64(-dxy) / det)
    i11 = np.float32(np.float64(dxx) / det)
    return True, np.float64(-(i00 * dx + i01 * dy)), np.float64(-(i01 * dx + i11 * dy))


@jit
def dark_udp_centre(x, y, k, W, H, f32):
    Wp = W + 2
    S = (H + 2) * Wp
    if f32:
        t = (np.float32(x) + _F1) + (np.float32(y) + _F1) * np.float32(Wp)
        f = np.float64(np.float32(np.float64(t) + np.float64(k * S)))
    else:
        f = (x + 1) + (y + 1) * np.float64(Wp) + np.float64(k * S)
    return np.int64(f)


@jit
def dark_udp_neighbour(centre, j, K, W, H):
    """(ok, ch, px, py) of neighbour j (0..6) of a flat index into K padded maps."""
    Wp = W + 2
    S = (H + 2) * Wp
    total = K * S
    if j == 0:
        step = 0
    elif j == 1:
        step = 1
    elif j == 2:
        step = Wp
    elif j == 3:
        step = Wp + 1
    elif j == 4:
        step = -Wp - 1
    elif j == 5:
        step = -1
    else:
        step = -Wp
    q = centre + step
    if q < -total or q >= total:
        return False, np.int64(0), np.int64(0), np.int64(0)  # IndexError in MMPose
    if q < 0:
        q += total
    return (True, q // S, min_i64(max_i64(q % Wp - 1, 0), W - 1),
            min_i64(max_i64((q % S) // Wp - 1, 0), H - 1))


@jit
def udp_combined_index(x, y, k, W, H, K):
    t = x + y * np.float32(W)
    q = np.int64(np.float64(np.float32(np.float64(t) + np.float64(k * H * W))))
    if q < 0:
        q += K * H * W
    return q


@jit
def dark_udp_step(v):
    """(dx, dy) of the DARK-UDP step from the seven log values v (see refine.h)."""
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
    a = np.float64(dxx) + _FLT_EPS
    bb = np.float64(dxy)
    d = np.float64(dyy) + _FLT_EPS
    det = a * d - bb * bb
    if det == 0.0 or det != det:
        return (det, det) if det != det else (0.0, 0.0)
    i00 = d / det
    i01 = -bb / det
    i11 = a / det
    return (i00 * np.float64(dx) + i01 * np.float64(dy),
            i01 * np.float64(dx) + i11 * np.float64(dy))


# ----------------------------------------------------------------------------------
# Decoding loops (heatmap_kernels.cpp)


@jit
def _locations_kernel(idx, vals, W, locs):
    """maximum_location for every channel: (x, y) of the argmax, -1 where vals <= 0."""
    for c in range(idx.shape[0]):
        _write_location(idx[c], vals[c], W, locs, c)


@jit
def _refine_sign_kernel(kps, B, N, K, heat, H, W):
    HW = H * W
    for i in range(B * N * K):
        b = i // (N * K)
        k = i % K
        ok, x, y = keypoint_pixel(kps[2 * i], kps[2 * i + 1])
        if not ok:
            continue
        dx, dy = sign_step(heat, (b * K + k) * HW, W, H, x, y)
        kps[2 * i] += dx
        kps[2 * i + 1] += dy


@jit
def _refine_dark_kernel(kps, B, N, K, blurred, scale, H, W):
    """dark_step on the modulated maps blurred * scale."""
    HW = H * W
    for i in range(B * N * K):
        b = i // (N * K)
        k = i % K
        ok, x, y = keypoint_pixel(kps[2 * i], kps[2 * i + 1])
        if not ok:
            continue
        ch = b * K + k
        ok, dx, dy = dark_step(blurred, ch * HW + y * W + x, W, scale[ch], W, H, x, y)
        if ok:
            kps[2 * i] += dx
            kps[2 * i + 1] += dy


@jit
def _refine_dark_udp_kernel(kps, B, N, K, blurred, scale, H, W, f32):
    """dark_udp_step on the edge-padded log of blurred * scale."""
    v = np.empty(7, np.float32)
    for i in range(B * N * K):
        b = i // (N * K)
        k = i % K
        kx = kps[2 * i]
        ky = kps[2 * i + 1]
        if not (coord_is_usable(kx) and coord_is_usable(ky)):
            continue
        centre = dark_udp_centre(kx, ky, k, W, H, f32)
        ok = True
        for j in range(7):
            ok, c, xx, yy = dark_udp_neighbour(centre, j, K, W, H)
            if not ok:
                break
            ch = b * K + c
            v[j] = dark_udp_log(blurred[(ch * H + yy) * W + xx] * scale[ch])
        if not ok:
            continue
        dx, dy = dark_udp_step(v)
        kps[2 * i] -= dx
        kps[2 * i + 1] -= dy


@jit
def _decode_megvii_kernel(m, idx, vals, H, W, locs, scores):
    """MegviiHeatmap.decode after the maximum of every modulated map m is known."""
    HW = H * W
    for c in range(idx.shape[0]):
        o = c * HW
        val = vals[c]
        _write_location(idx[c], val, W, locs, c)
        x = np.int64(locs[2 * c])
        y = np.int64(locs[2 * c + 1])
        if megvii_applies(W, H, x, y):
            p = o + y * W + x
            dx, dy = megvii_shift(m[p - 1], m[p + 1], m[p - W], m[p + W])
            locs[2 * c] += np.float32(dx)
            locs[2 * c + 1] += np.float32(dy)
        scores[c] = megvii_score(val)


@jit
def _decode_udp_combined_kernel(heat, idx, vals, K, H, W, radius, locs, scores):
    """UDPHeatmap('combined').decode after the maximum of every blurred label map is
    known: the location plus radius times the offset maps at udp_combined_index."""
    HW = H * W
    total = K * HW
    rad = np.float32(radius)
    for c in range(idx.shape[0]):
        b = c // K
        k = c % K
        sample = b * 3 * total
        _write_location(idx[c], vals[c], W, locs, c)
        scores[c] = vals[c]
        q = udp_combined_index(locs[2 * c], locs[2 * c + 1], k, W, H, K)
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
# The backend functions (heatmap_module.cpp): memory-safety checks, then the kernels.


def _encode_args(keypoints, visible, scale, f32, heatmaps, inside, planes) -> None:
    """The encoders' common arguments as _check_array states them (the user-facing
    error of a call the kernel cannot compile for): keypoints f64 (B, N, K, 2), visible
    f64 (B, N, K), heatmaps f32 (B, planes * K, H, W), inside u8 (B, N, K)."""
    kps = _check_array(keypoints, 'keypoints', F64, (None, None, None, 2))
    B, N, K = kps.shape[:3]
    _check_array(visible, 'visible', F64, (B, N, K))
    _check_array(heatmaps, 'heatmaps', F32, (B, planes * K, None, None), out=True)
    _check_array(inside, 'inside', U8, (B, N, K), out=True)


@jit
def _encode_shapes(kps, vis, heat, inside, planes):
    """The encoders' common arguments checked in the kernel (as _encode_args):
    (B, N, K, H, W)."""
    expect(kps, 'keypoints', 'float64', False)
    expect(vis, 'visible', 'float64', False)
    expect(heat, 'heatmaps', 'float32', True)
    expect(inside, 'inside', 'uint8', True)
    B, N, K, two = kps.shape
    if two != 2 or vis.shape != (B, N, K) or inside.shape != (B, N, K) \
            or heat.shape[:2] != (B, planes * K):
        raise ValueError('keypoints must be (B, N, K, 2), visible and inside (B, N, K), '
                         'heatmaps (B, K, H, W) or (B, 3K, H, W) for UDP combined')
    return B, N, K, heat.shape[2], heat.shape[3]


_SIGMA_RANGE = f'sigma must be finite and in [0, {MAX_SIGMA:.0f}]'


@jit
def _encode_gaussian(kind, kps, vis, sigma, sx, sy, f32, heat, inside):
    B, N, K, H, W = _encode_shapes(kps, vis, heat, inside, 1)
    expect(sigma, 'sigma', 'float32 or float64', False)
    if sigma.shape != (N,) and sigma.shape != (B, N):
        raise ValueError('sigma must hold one value per instance, (N,), or per sample and '
                         'instance, (B, N)')
    flat = sigma.ravel()
    sig = np.empty(flat.size, np.float64)
    for n in range(flat.size):
        # memory: the patch radius of 3 sigma is an integer index (NaN or huge is not)
        if not (flat[n] >= 0 and flat[n] <= MAX_SIGMA):
            raise ValueError(_SIGMA_RANGE)
        sig[n] = np.float64(flat[n])
    _encode_gaussian_kernel(kind, kps.ravel(), vis.ravel(), sig, 1 if sigma.ndim == 1 else B,
                            sigma.itemsize == 4, sx, sy, f32, W, H, B, N, K, heat.ravel(),
                            inside.ravel())


@jit
def _encode_offset(kps, vis, sx, sy, f32, radius, heat, inside):
    B, N, K, H, W = _encode_shapes(kps, vis, heat, inside, 3)
    _encode_offset_kernel(kps.ravel(), vis.ravel(), sx, sy, f32, W, H, B, N, K, radius,
                          heat.ravel(), inside.ravel())


@jit
def _encode_megvii(kps, vis, sx, sy, f32, w, heat, inside):
    B, N, K, H, W = _encode_shapes(kps, vis, heat, inside, 1)
    _encode_megvii_kernel(kps.ravel(), vis.ravel(), sx, sy, f32, W, H, B, N, K, w,
                          heat.ravel(), inside.ravel())


_KINDS = {'msra': 0, 'unbiased': 1, 'udp': 2}


# The encoders check in their kernels (expect, the shapes, sigma's range); a call the
# kernel cannot compile for is checked here for the user-facing error.


def encode_gaussian(kind: str, keypoints, visible, sigma, scale, f32: bool, heatmaps,
                    inside) -> None:
    """Gaussian heatmaps (B, K, H, W) float32 and the inside mask (B, N, K) uint8."""
    k = _KINDS.get(kind)
    if k is None:
        raise ValueError(f'unknown gaussian kind {kind!r}')
    try:
        _encode_gaussian(k, keypoints, visible, sigma, np.float32(float(scale[0])),
                         np.float32(float(scale[1])), bool(f32), heatmaps, inside)
    except TypingError:
        _encode_args(keypoints, visible, scale, f32, heatmaps, inside, 1)
        _check_array(sigma, 'sigma', REAL)
        raise


def encode_offset(keypoints, visible, scale, f32: bool, radius: float, heatmaps,
                  inside) -> None:
    """UDP 'combined' targets (B, 3K, H, W): label, x offset, y offset per keypoint."""
    try:
        _encode_offset(keypoints, visible, np.float32(float(scale[0])),
                       np.float32(float(scale[1])), bool(f32), float(radius), heatmaps, inside)
    except TypingError:
        _encode_args(keypoints, visible, scale, f32, heatmaps, inside, 3)
        raise


def encode_megvii(keypoints, visible, scale, f32: bool, ksize: int, heatmaps, inside) -> None:
    """MegviiHeatmap targets (B, K, H, W): a blurred impulse scaled to 255 at its peak."""
    w = opencv_gaussian_kernel(_odd_kernel(ksize, 'ksize'))
    try:
        _encode_megvii(keypoints, visible, np.float32(float(scale[0])),
                       np.float32(float(scale[1])), bool(f32), w, heatmaps, inside)
    except TypingError:
        _encode_args(keypoints, visible, scale, f32, heatmaps, inside, 1)
        raise


def _maps(heatmaps, lead=None) -> np.ndarray:
    """heatmaps f32 (..., H, W), H, W > 0 (a map has a maximum), with the leading
    shape lead if given."""
    heat = _check_array(heatmaps, 'heatmaps', F32)
    _require(heat.ndim >= 2 and (lead is None or heat.ndim == len(lead) + 2),
             'heatmaps must be ' + ('(..., H, W)' if lead is None else
                                    f'({", ".join(lead)}, H, W)'))
    _require(heat.shape[-2] > 0 and heat.shape[-1] > 0, 'heatmaps must not be empty')
    return heat


def _maximum(heat, locs, vals) -> None:
    """heatmap_maximum on checked arrays."""
    H, W = heat.shape[-2:]
    idx, v = _argmax_rows(heat.reshape(-1, H * W))
    vals.ravel()[:] = v
    _locations_kernel(idx, v, W, locs.ravel())


def heatmap_maximum(heatmaps, locs, vals) -> None:
    """locs (..., 2) float32 and vals (...) float32 of every (H, W) map."""
    heat = _maps(heatmaps)
    lead = heat.shape[:-2]
    _check_array(locs, 'locs', F32, lead + (2,), out=True)
    _check_array(vals, 'vals', F32, lead, out=True)
    _maximum(heat, locs, vals)


def _refine_args(keypoints, heatmaps):
    """keypoints f64 (B, N, K, 2), updated in place, and heatmaps f32 (B, K, H, W)."""
    kps = _check_array(keypoints, 'keypoints', F64, (None, None, None, 2), out=True)
    _check_array(heatmaps, 'heatmaps', F32, (kps.shape[0], kps.shape[2], None, None))


def _refine_sign(kps, heat) -> None:
    B, N, K = kps.shape[:3]
    H, W = heat.shape[2:]
    _refine_sign_kernel(kps.ravel(), B, N, K, heat.ravel(), H, W)


def _refine_dark(kps, heat, ksize, udp, f32) -> None:
    """refine_keypoints_dark (udp False) or _dark_udp on checked arrays."""
    B, N, K = kps.shape[:3]
    H, W = heat.shape[2:]
    if kps.size == 0 or heat.size == 0:
        return
    blurred, scale = _modulate(heat.reshape(-1, H * W), H, W, ksize)
    if udp:
        _refine_dark_udp_kernel(kps.ravel(), B, N, K, blurred.ravel(), scale, H, W,
                                f32)
    else:
        _refine_dark_kernel(kps.ravel(), B, N, K, blurred.ravel(), scale, H, W)


def refine_sign(keypoints, heatmaps) -> None:
    """refine_keypoints: +-0.25 px toward the higher neighbour, in place."""
    _refine_args(keypoints, heatmaps)
    _refine_sign(keypoints, heatmaps)


def refine_dark(keypoints, heatmaps, ksize: int) -> None:
    """refine_keypoints_dark, in place."""
    _refine_args(keypoints, heatmaps)
    _refine_dark(keypoints, heatmaps, _odd_kernel(ksize, 'ksize'), False, False)


def refine_dark_udp(keypoints, heatmaps, ksize: int, f32: bool) -> None:
    """refine_keypoints_dark_udp, in place; f32: MMPose's index math in float32."""
    _refine_args(keypoints, heatmaps)
    _refine_dark(keypoints, heatmaps, _odd_kernel(ksize, 'ksize'), True, bool(f32))


def _decode_args(heatmaps, locs, vals, vals_name, planes):
    """heatmaps f32 (B, planes * K, H, W), H, W > 0 | locs f32 (B, K, 2), vals f32 (B, K)."""
    heat = _maps(heatmaps, ('B', '3K' if planes == 3 else 'K'))
    B, C = heat.shape[:2]
    _require(C % planes == 0, 'heatmaps must be (B, 3K, H, W)')
    K = C // planes
    _check_array(locs, 'locs', F32, (B, K, 2), out=True)
    _check_array(vals, vals_name, F32, (B, K), out=True)
    return heat


def _scaled(kps, scale, locs) -> None:
    """locs = the refined locations in float32, times scale in float32."""
    np.multiply(kps[:, 0].astype(np.float32), np.asarray(scale, np.float32), out=locs)


@jit
def _decode_msra(heat, idx, sx, sy, locs, vals):
    """decode_msra's whole pass: idx holds numpy's argmax of each (H * W) map."""
    expect(heat, 'heatmaps', 'float32', False)
    expect(locs, 'locs', 'float32', True)
    expect(vals, 'vals', 'float32', True)
    B, K, H, W = heat.shape
    if locs.shape != (B, K, 2) or vals.shape != (B, K):
        raise ValueError('locs must be (B, K, 2) and vals (B, K) as heatmaps (B, K, H, W)')
    h = heat.ravel()
    lo = locs.ravel()
    va = vals.ravel()
    HW = H * W
    for c in range(B * K):
        v = h[c * HW + idx[c]]
        va[c] = v
        x, y = maximum_location(idx[c], v, W)
        kx = np.float64(x)
        ky = np.float64(y)
        ok, ix, iy = keypoint_pixel(kx, ky)
        if ok:
            dx, dy = sign_step(h, c * HW, W, H, ix, iy)
            kx += dx
            ky += dy
        lo[2 * c] = np.float32(kx) * sx
        lo[2 * c + 1] = np.float32(ky) * sy


def decode_msra(heatmaps, scale, locs, vals) -> None:
    """The maximum, then refine_keypoints' 0.25 px step, in float32, times scale. The
    kernel checks its arrays (expect, the shapes); a call it cannot compile for is
    checked here for the user-facing error."""
    h = heatmaps
    # numpy's argmax (see _argmax_rows) needs an array of non-empty maps
    if not (type(h) is np.ndarray and h.ndim == 4 and h.shape[2] > 0 and h.shape[3] > 0):
        _decode_args(heatmaps, locs, vals, 'vals', 1)  # raises the error
    try:
        _decode_msra(h, h.reshape(-1, h.shape[2] * h.shape[3]).argmax(axis=1),
                     np.float32(scale[0]), np.float32(scale[1]), locs, vals)
    except TypingError:
        _decode_args(heatmaps, locs, vals, 'vals', 1)
        raise


def decode_dark(heatmaps, ksize: int, udp: bool, scale, locs, vals) -> None:
    """The maximum, then the DARK (udp False) or DARK-UDP step, in float32, times scale."""
    heat = _decode_args(heatmaps, locs, vals, 'vals', 1)
    ksize = _odd_kernel(ksize, 'ksize')
    _maximum(heat, locs, vals)
    kps = np.ascontiguousarray(locs[:, None], dtype=np.float64)
    _refine_dark(kps, heat, ksize, bool(udp), True)
    _scaled(kps, scale, locs)


def decode_megvii(heatmaps, ksize: int, locs, scores) -> None:
    """MegviiHeatmap.decode in heatmap pixels: locs (B, K, 2), scores (B, K)."""
    heat = _decode_args(heatmaps, locs, scores, 'scores', 1)
    ksize = _odd_kernel(ksize, 'ksize')
    B, K, H, W = heat.shape
    if B * K == 0:
        return
    m, scale = _modulate(heat.reshape(-1, H * W), H, W, ksize)
    _apply_scale_kernel(m.ravel(), H * W, scale)
    idx, vals = _argmax_rows(m)
    _decode_megvii_kernel(m.ravel(), idx, vals, H, W, locs.ravel(), scores.ravel())


def decode_udp_combined(heatmaps, ksize: int, radius: float, locs, scores) -> None:
    """UDPHeatmap('combined').decode in heatmap pixels: locs (B, K, 2), scores (B, K)."""
    heat = _decode_args(heatmaps, locs, scores, 'scores', 3)
    ksize = _odd_kernel(ksize, 'ksize')
    B, K3, H, W = heat.shape
    K = K3 // 3
    if B * K == 0:
        return
    flat = heat.ravel()
    idx = np.empty(B * K, np.int64)
    vals = np.empty(B * K, np.float32)
    _blurred_argmax_reflect(flat, B * K, H, W, opencv_gaussian_kernel(ksize), 3, idx, vals,
                            _flush_level(ksize))
    _decode_udp_combined_kernel(flat, idx, vals, K, H, W, float(radius), locs.ravel(),
                                scores.ravel())
