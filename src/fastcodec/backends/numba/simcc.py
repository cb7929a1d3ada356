"""Numba mirrors of the SimCC kernels (csrc/include/fastcodec/simcc.h,
csrc/cpu/simcc_kernels.cpp), with the C++ backend's function signatures."""
from __future__ import annotations

import functools
import math

import numpy as np

from fastcodec.backends.numba.blur import opencv_gaussian_kernel, opencv_row_sum
from fastcodec.backends.numba.common import (F32, F64, U8, _F0, _F1EM3, _F2, _F50, _FHALF,
                                             _FQUARTER, TypingError, _check_array, _flush32,
                                             _fmaf, _odd_kernel, _require, coord_is_usable,
                                             expect, first_argmax, jit)

__all__ = ['simcc_encode', 'simcc_maximum', 'simcc_decode', 'simcc_refine_dark']

_F1EM9 = np.float32(1e-9)
_F25 = np.float32(2.5)
_SQRT_2PI = 2.5066282746310002


# ---- simcc.h -------------------------------------------------------------------------
@jit
def simcc_bin(v, ratio32, ratio, f32):
    if f32:
        return np.int64(np.rint(np.float32(v) * ratio32))
    return np.int64(np.rint(v * ratio))


@jit
def simcc_keypoint_drawn(visible):
    return not (visible < 0.5)


@jit
def simcc_smoothing(label_smooth_weight, n):
    return np.float32(label_smooth_weight / np.float64(n - 1)) if n > 1 else _F0


@jit
def simcc_onehot_peak(label_smooth_weight):
    return np.float32(1.0 - label_smooth_weight)


@jit
def simcc_onehot_inside(mx, my, W, H):
    return not (mx >= W or my >= H or mx < 0 or my < 0)


@jit
def simcc_location(b, ratio):
    return np.float32(np.float64(b) / ratio)


@jit
def simcc_visibility(px, py):
    return py if px > py else px


@jit
def simcc_gaussian_label(i, mu, sigma, normalize):
    d = float(i - mu)
    v = np.float32(math.exp(-(d * d) / (2.0 * sigma * sigma)))
    if normalize:
        v = np.float32(float(v) / (sigma * _SQRT_2PI))
    return v


@jit
def _gaussian_label(i, mu, sigma, normalize):
    """simcc_gaussian_label with a label below FLT_MIN written as 0 (no denormals in
    targets: they slow every multiply-add that later reads them)."""
    return _flush32(simcc_gaussian_label(i, mu, sigma, normalize))


@jit
def simcc_gaussian_inside(mu, sigma, W):
    radius = sigma * 3.0
    return not (float(mu) - radius >= float(W) or float(mu) + radius + 1.0 < 0.0)


@jit
def simcc3d_bins(p, ratio32, ratio, f32, sigma, size, mu):
    """simcc3d_bins: a drawn keypoint p (3,)'s bins into mu (3,); whether it gets labels."""
    for a in range(3):
        if not coord_is_usable(p[a]):
            return False
    inside = True
    for a in range(3):
        mu[a] = simcc_bin(p[a], ratio32, ratio, f32)
        inside = inside and simcc_gaussian_inside(mu[a], sigma[a], size[a])
    return inside


@jit
def simcc_pair_maximum(ix, vx, iy, vy):
    """(score, x, y)."""
    v = vy if vx > vy else vx
    if v <= _F0:
        return v, np.float32(-1.0), np.float32(-1.0)
    return v, np.float32(ix), np.float32(iy)


@jit
def simcc_softmax_max(v, o, n, beta, scale):
    m = float(v[o] * beta) * scale
    nan = m != m
    for i in range(1, n):
        u = float(v[o + i] * beta) * scale
        if u != u:
            nan = True
        elif u > m:
            m = u
    if nan:
        return np.nan
    s = 0.0
    emax = 0.0
    for i in range(n):
        e = math.exp(float(v[o + i] * beta) * scale - m)
        if e != e:
            return np.nan
        if e > emax:
            emax = e
        s += e
    return emax / s


@jit
def simcc_blur_at(v, o, n, w, r, i):
    """opencv_row_sum of blur.h on the zero-padded row v[o:o + n] (see simcc.h)."""
    return opencv_row_sum(w, r, v, o, n, i)


@jit
def simcc_dark_log(b):
    c = _F1EM3 if b < _F1EM3 else (_F50 if b > _F50 else b)
    return c if c != c else np.float32(math.log(c))


@jit
def _dark_bins(x, n, bins):
    """The five bins simcc_dark_step reads around x (MMPose's edge padding folded into
    clamped indices); False where MMPose raises IndexError."""
    xp = x + _F25
    if not (xp == xp) or abs(xp) > np.float32(1e15):
        return False
    px = np.int64(xp)
    npad = n + 4
    for j in range(-2, 3):
        q = px + j
        if q < 0:
            q += npad
        if q < 0 or q >= npad:
            return False
        o = q - 2
        bins[j + 2] = 0 if o < 0 else (n - 1 if o >= n else o)
    return True


@jit
def _newton_step(d, x):
    """x minus the Newton step from the log values d at bins -2 .. 2."""
    dx = _FHALF * (d[3] - d[1])
    dxx = _F1EM9 + _FQUARTER * ((d[4] - _F2 * d[2]) + d[0])
    return x - dx / dxx


@jit
def simcc_dark_step(logv, n, x):
    """(ok, x): the refined x, or (False, x) where MMPose raises IndexError."""
    bins = np.empty(5, np.int64)
    if not _dark_bins(x, n, bins):
        return False, x
    d = np.empty(5, np.float32)
    for j in range(5):
        d[j] = logv[bins[j]]
    return True, _newton_step(d, x)


@jit
def _blur_log_row(v, o, n, w, r, out):
    _, raw_max = first_argmax(v, o, n)
    for i in range(n):
        out[i] = simcc_blur_at(v, o, n, w, r, i)
    _, bmax = first_argmax(out, 0, n)
    scale = np.float32(1.0) if bmax == _F0 else raw_max / bmax
    for i in range(n):
        out[i] = simcc_dark_log(out[i] * scale)


@jit
def _blur_scale_bounded(v, o, n, w, r, wsum, peak, raw_max):
    """blur_scale_bounded of simcc_kernels.cpp: the rescale factor, blurring only the
    bins within r + 8 of the peak when the rest is bounded below the peak's value."""
    seed = simcc_blur_at(v, o, n, w, r, peak)
    rel = (2.0 * r + 4.0) * 1.2e-7
    c0 = max(0, peak - 8)
    c1 = min(n, peak + 9)
    m = 0.0
    a = 0.0
    for i in range(0, c0):
        x = float(v[o + i])
        m = max(m, x)
        a = max(a, abs(x))
    for i in range(c1, n):
        x = float(v[o + i])
        m = max(m, x)
        a = max(a, abs(x))
    lo, hi = 0, n
    if m * wsum + abs(m) * 1e-3 + rel * a * wsum + 1e-37 < float(seed):
        lo = max(0, c0 - r)
        hi = min(n, c1 + r)
    best = seed
    if r <= 2:
        for i in range(lo, hi):
            y = simcc_blur_at(v, o, n, w, r, i)
            if y > best:
                best = y
    else:  # the r >= 3 sum, 8 outputs at a time from a zero-padded copy (vectorises)
        base = lo - r
        length = hi - lo + 2 * r + 8
        padded = np.zeros(length, np.float32)
        for q in range(length):
            p = base + q
            if 0 <= p < n:
                padded[q] = v[o + p]
        acc = np.empty(8, np.float32)
        for i0 in range(lo, hi, 8):
            for l in range(8):
                acc[l] = _F0
            for j in range(-r, r + 1):
                wj = w[j + r]
                q0 = i0 + j - base
                for l in range(8):
                    acc[l] = _fmaf(wj, padded[q0 + l], acc[l])
            for l in range(min(8, hi - i0)):
                if acc[l] > best:
                    best = acc[l]
    return np.float32(1.0) if best == _F0 else raw_max / best


@jit
def _dark_step_lazy(v, o, n, w, r, scale, x):
    """simcc_dark_step reading log(clip(blur * scale)) at the five bins only."""
    bins = np.empty(5, np.int64)
    if not _dark_bins(x, n, bins):
        return x
    d = np.empty(5, np.float32)
    for j in range(5):
        d[j] = simcc_dark_log(simcc_blur_at(v, o, n, w, r, bins[j]) * scale)
    return _newton_step(d, x)


@jit
def _finite(v, o, n):
    for i in range(n):
        x = v[o + i]
        if not (abs(x) < np.inf):
            return False
    return True


@jit
def _dark_axis(v, o, n, w, r, wsum, idx, val, x, out):
    """DARK along one axis; fills out with the whole log row when full is needed."""
    if not _finite(v, o, n):
        _blur_log_row(v, o, n, w, r, out)
        return simcc_dark_step(out, n, x)[1]
    scale = _blur_scale_bounded(v, o, n, w, r, wsum, idx, val)
    return _dark_step_lazy(v, o, n, w, r, scale, x)


# ---- simcc_kernels.cpp ---------------------------------------------------------------
@jit
def _gaussian_table(n, sigma, normalize):
    """label(d) for d in [0, n) up to the first float32 zero; (table, len, zero_after)."""
    t = np.zeros(max(n, 1), np.float32)
    length = 0
    while length < n:
        t[length] = _gaussian_label(length, 0, sigma, normalize)
        if t[length] == _F0:
            return t, length, True
        length += 1
    return t, length, False


@jit
def _write_gaussian(out, o, n, mu, t, length, zero_after, sigma, normalize):
    if zero_after:
        lo = max(0, mu - length + 1)
        hi = min(n, mu + length)
        for i in range(lo, hi):
            out[o + i] = t[i - mu if i > mu else mu - i]
        return
    for i in range(n):
        d = i - mu if i > mu else mu - i
        out[o + i] = t[d] if d < length else _gaussian_label(d, 0, sigma, normalize)


@jit
def _encode_kernel(kps, vis, gaussian, sx, sy, ratio, f32, W, H, lsw, normalize, tx, ty, inside):
    ratio32 = np.float32(ratio)
    smooth_x = simcc_smoothing(lsw, W)
    smooth_y = simcc_smoothing(lsw, H)
    peak = simcc_onehot_peak(lsw)
    R = vis.shape[0]
    gx, gx_len, gx_zero = _gaussian_table(W if gaussian else 0, sx, normalize)
    gy, gy_len, gy_zero = _gaussian_table(H if gaussian else 0, sy, normalize)
    for r in range(R):
        tx[r * W:(r + 1) * W] = _F0  # every label written: zeros first
        ty[r * H:(r + 1) * H] = _F0
        inside[r] = 1
        if not simcc_keypoint_drawn(vis[r]):
            continue
        x = kps[2 * r]
        y = kps[2 * r + 1]
        if not coord_is_usable(x) or not coord_is_usable(y):
            inside[r] = 0
            continue
        mx = simcc_bin(x, ratio32, ratio, f32)
        my = simcc_bin(y, ratio32, ratio, f32)
        if gaussian:
            if not simcc_gaussian_inside(mx, sx, W) or not simcc_gaussian_inside(my, sy, H):
                inside[r] = 0
                continue
            _write_gaussian(tx, r * W, W, mx, gx, gx_len, gx_zero, sx, normalize)
            _write_gaussian(ty, r * H, H, my, gy, gy_len, gy_zero, sy, normalize)
        else:
            if not simcc_onehot_inside(mx, my, W, H):
                inside[r] = 0
                continue
            if lsw > 0:
                for i in range(W):
                    tx[r * W + i] = smooth_x
                for i in range(H):
                    ty[r * H + i] = smooth_y
            tx[r * W + mx] = peak
            ty[r * H + my] = peak


@jit
def _maximum_kernel(sx, sy, R, Wx, Wy, locs, vals):
    for r in range(R):
        ix, vx = first_argmax(sx, r * Wx, Wx)
        iy, vy = first_argmax(sy, r * Wy, Wy)
        vals[r], locs[2 * r], locs[2 * r + 1] = simcc_pair_maximum(ix, vx, iy, vy)


@jit
def _decode_kernel(sx, sy, R, Wx, Wy, ixs, vxs, iys, vys, kx, ky, wx, wy, wsx, wsy, ratio,
                   visibility, beta, sigx, sigy, locs, vals, vis):
    bx = np.empty(Wx, np.float32)
    by = np.empty(Wy, np.float32)
    for r in range(R):
        ix, vx = ixs[r], vxs[r]
        iy, vy = iys[r], vys[r]
        vals[r], locs[2 * r], locs[2 * r + 1] = simcc_pair_maximum(ix, vx, iy, vy)
        xs, xo = sx, r * Wx
        ys, yo = sy, r * Wy
        if kx > 0:
            if visibility:
                _blur_log_row(sx, r * Wx, Wx, wx, kx // 2, bx)
                locs[2 * r] = simcc_dark_step(bx, Wx, locs[2 * r])[1]
                xs, xo = bx, 0
            else:
                locs[2 * r] = _dark_axis(sx, r * Wx, Wx, wx, kx // 2, wsx, ix, vx, locs[2 * r], bx)
        if ky > 0:
            if visibility:
                _blur_log_row(sy, r * Wy, Wy, wy, ky // 2, by)
                locs[2 * r + 1] = simcc_dark_step(by, Wy, locs[2 * r + 1])[1]
                ys, yo = by, 0
            else:
                locs[2 * r + 1] = _dark_axis(sy, r * Wy, Wy, wy, ky // 2, wsy, iy, vy,
                                             locs[2 * r + 1], by)
        locs[2 * r] = simcc_location(locs[2 * r], ratio)
        locs[2 * r + 1] = simcc_location(locs[2 * r + 1], ratio)
        if visibility:
            px = simcc_softmax_max(xs, xo, Wx, beta, sigx)
            py = simcc_softmax_max(ys, yo, Wy, beta, sigy)
            vis[r] = simcc_visibility(px, py)


@jit
def _refine_kernel(x, simcc, R, W, w, k, wsum):
    b = np.empty(W, np.float32)
    for r in range(R):
        idx, val = first_argmax(simcc, r * W, W)
        x[r] = _dark_axis(simcc, r * W, W, w, k // 2, wsum, idx, val, x[r], b)


@jit
def _encode(kps, vis, gaussian, sx, sy, ratio, f32, lsw, normalize, tx, ty, inside):
    expect(kps, 'keypoints', 'float64', False)
    expect(vis, 'visible', 'float64', False)
    expect(tx, 'x_labels', 'float32', True)
    expect(ty, 'y_labels', 'float32', True)
    expect(inside, 'inside', 'uint8', True)
    lead = kps.shape[:3]
    if kps.shape[3:] != (2,):
        raise ValueError('keypoints must be (B, N, K, 2)')
    if vis.shape != lead or inside.shape != lead or tx.shape[:-1] != lead \
            or ty.shape[:-1] != lead:
        raise ValueError('visible and inside must be (B, N, K), x_labels (B, N, K, W) and '
                         'y_labels (B, N, K, H) as the keypoints (B, N, K, 2)')
    _encode_kernel(kps.ravel(), vis.ravel(), gaussian, sx, sy, ratio, f32, tx.shape[-1],
                   ty.shape[-1], lsw, normalize, tx.ravel(), ty.ravel(), inside.ravel())


@jit
def _decode(sx, sy, ixs, iys, kx, ky, wx, wy, wsx, wsy, ratio, beta, sigx, sigy, locs, vals,
            vis):
    # ixs, iys: numpy's argmax of the rows of sx, sy (the wrapper's, on 2-D arrays).
    expect(sx, 'simcc_x', 'float32', False)
    expect(sy, 'simcc_y', 'float32', False)
    expect(locs, 'locs', 'float32', True)
    expect(vals, 'vals', 'float32', True)
    expect(vis, 'visible', 'float64', True)
    R, Wx = sx.shape
    Wy = sy.shape[1]
    if sy.shape[0] != R or locs.shape != (R, 2) or vals.shape != (R,):
        raise ValueError('simcc_y must be (R, Wy), locs (R, 2) and vals (R,) as simcc_x (R, Wx)')
    if vis.shape != (R,) and vis.shape != (0,):
        raise ValueError('visible must have R or 0 entries')
    vxs = np.empty(R, np.float32)
    vys = np.empty(R, np.float32)
    for r in range(R):
        vxs[r] = sx[r, ixs[r]]
        vys[r] = sy[r, iys[r]]
    _decode_kernel(sx.ravel(), sy.ravel(), R, Wx, Wy, ixs, vxs, iys, vys, kx, ky, wx, wy, wsx,
                   wsy, ratio, vis.shape[0] == R, beta, sigx, sigy, locs.ravel(), vals, vis)


# ---- the backend functions (simcc_module.cpp) ------------------------------------------
# simcc_encode and simcc_decode check in their kernels (expect, the shapes); a call the
# kernel cannot compile for is checked again here for the user-facing error.


@functools.lru_cache(maxsize=None)
def _wsum(k: int) -> float:
    """Sum of the float32 taps in float64 (Kernel1d::wsum)."""
    total = 0.0
    for t in opencv_gaussian_kernel(k):
        total += float(t)
    return total


def _rows(simcc_x, simcc_y, locs, vals):
    """simcc_x f32 (R, Wx), simcc_y f32 (R, Wy), Wx, Wy > 0 (a row has a maximum) |
    locs f32 (R, 2), vals f32 (R,)."""
    sx = _check_array(simcc_x, 'simcc_x', F32, (None, None))
    R = sx.shape[0]
    sy = _check_array(simcc_y, 'simcc_y', F32, (R, None))
    _require(sx.shape[1] > 0 and sy.shape[1] > 0, 'simcc lengths must be positive')
    _check_array(locs, 'locs', F32, (R, 2), out=True)
    _check_array(vals, 'vals', F32, (R,), out=True)
    return sx, sy, R


def simcc_encode(keypoints, visible, gaussian: bool, sigma, ratio: float, f32: bool,
                 label_smooth_weight: float, normalize: bool, x_labels, y_labels,
                 inside) -> None:
    """SimCCLabel.encode: x labels (B,N,K,W), y labels (B,N,K,H) float32, inside u8 (B,N,K)."""
    try:
        _encode(keypoints, visible, bool(gaussian), float(sigma[0]), float(sigma[1]),
                float(ratio), bool(f32), float(label_smooth_weight), bool(normalize), x_labels,
                y_labels, inside)
    except TypingError:
        lead = _check_array(keypoints, 'keypoints', F64, (None, None, None, 2)).shape[:3]
        _check_array(visible, 'visible', F64, lead)
        _check_array(x_labels, 'x_labels', F32, lead + (None,), out=True)
        _check_array(y_labels, 'y_labels', F32, lead + (None,), out=True)
        _check_array(inside, 'inside', U8, lead, out=True)
        raise


def simcc_maximum(simcc_x, simcc_y, locs, vals) -> None:
    """get_simcc_maximum on rows: locs (R, 2) float32, vals (R,) float32."""
    sx, sy, R = _rows(simcc_x, simcc_y, locs, vals)
    _maximum_kernel(sx.ravel(), sy.ravel(), R, sx.shape[1], sy.shape[1],
                    locs.ravel(), vals)


def simcc_decode(simcc_x, simcc_y, kx: int, ky: int, ratio, beta, sigma, locs, vals,
                 visible) -> None:
    """SimCCLabel.decode on rows: locs (R, 2), vals (R,), and the visibility f64 into
    visible when it has R entries (none computed when it has 0)."""
    kx = _odd_kernel(kx, 'kx') if kx else 0
    ky = _odd_kernel(ky, 'ky') if ky else 0
    # numpy's argmax is first_argmax's very rule (first occurrence, first NaN wins)
    # and its SIMD loops beat a scalar scan; it needs 2-D arrays with rows to scan.
    if not (type(simcc_x) is np.ndarray and type(simcc_y) is np.ndarray
            and simcc_x.ndim == 2 and simcc_y.ndim == 2
            and simcc_x.shape[1] > 0 and simcc_y.shape[1] > 0):
        _rows(simcc_x, simcc_y, locs, vals)  # raises the error
    try:
        _decode(simcc_x, simcc_y, simcc_x.argmax(axis=1), simcc_y.argmax(axis=1), kx, ky,
                opencv_gaussian_kernel(kx or 1), opencv_gaussian_kernel(ky or 1),
                _wsum(kx or 1), _wsum(ky or 1), np.float32(ratio), np.float32(beta),
                float(sigma[0]), float(sigma[1]), locs, vals, visible)
    except TypingError:
        _rows(simcc_x, simcc_y, locs, vals)
        _check_array(visible, 'visible', F64, (None,), out=True)
        raise


def simcc_refine_dark(keypoints, simcc, blur_kernel_size: int, refined) -> None:
    """refine_simcc_dark on rows: refined (R,) float32, keypoints (R,) float32 refined
    from simcc (R, W)."""
    s = _check_array(simcc, 'simcc', F32, (None, None))
    R = s.shape[0]
    _require(s.shape[1] > 0, 'simcc length must be positive')
    _check_array(keypoints, 'keypoints', F32, (R,))
    _check_array(refined, 'refined', F32, (R,), out=True)
    k = _odd_kernel(blur_kernel_size, 'blur_kernel_size')
    refined[:] = keypoints
    _refine_kernel(refined, s.ravel(), R, s.shape[1], opencv_gaussian_kernel(k), k, _wsum(k))
