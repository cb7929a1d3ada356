"""Numba mirrors of fastcodec/instances.h: DecoupledHeatmap's per-instance roots,
root visibility, box diagonals and instance sigmas, bit-exact."""
from __future__ import annotations

import math

import numpy as np

from fastcodec.backends.numba.common import (F32, F64, REAL, TypingError, _F0, _F1, _check_array,
                                             cast_like, expect, jit)

__all__ = ['instance_geometry', 'instance_sigmas']


# instances.h: each function mirrors the one of the same name; T is the type of the
# float arguments (float32 or float64).


@jit
def nan_min(acc, v):
    return (acc if acc != acc else v) if (acc != acc or v < acc or v != v) else acc


@jit
def nan_max(acc, v):
    return (acc if acc != acc else v) if (acc != acc or v > acc or v != v) else acc


@jit
def one_instance_geometry(kps, vis, kpt_center):
    """(root_x, root_y, root_visible, diagonal), float32, of one instance: kps (K, 2)
    in T, vis (K,)."""
    count = 0
    sx = sy = lx = ly = hx = hy = kps[0, 0]  # typed T; set at the first visible
    for k in range(vis.shape[0]):
        if not (vis[k] > 0):
            continue
        x = kps[k, 0]
        y = kps[k, 1]
        if count == 0:
            sx = lx = hx = x
            sy = ly = hy = y
        else:
            sx += x
            sy += y
            lx = nan_min(lx, x)
            ly = nan_min(ly, y)
            hx = nan_max(hx, x)
            hy = nan_max(hy, y)
        count += 1
    if count == 0:
        return _F0, _F0, _F0, _F0
    # Divided in float64 and rounded to float32: for float32 T the same as numpy's
    # float32 division (double rounding is exact for +, -, *, /, sqrt).
    if kpt_center:
        rx = np.float32(np.float64(sx) / np.float64(count))
        ry = np.float32(np.float64(sy) / np.float64(count))
    else:
        rx = np.float32(np.float64(hx + lx) / 2.0)
        ry = np.float32(np.float64(hy + ly) / 2.0)
    ex = np.float32(hx) - np.float32(lx)
    ey = np.float32(hy) - np.float32(ly)
    return rx, ry, _F1, np.float32(math.sqrt(np.float32(np.float32(ex * ex) + np.float32(ey * ey))))


@jit
def _instance_geometry_kernel(kps, vis, kpt_center, roots, visible, diag):
    expect(kps, 'keypoints', 'float32 or float64', False)
    expect(vis, 'visible', 'float64', False)
    expect(roots, 'roots', 'float32', True)
    expect(visible, 'roots_visible', 'float32', True)
    expect(diag, 'diagonals', 'float32', True)
    R, K, two = kps.shape
    if two != 2 or vis.shape != (R, K) or roots.shape != (R, 2) or visible.shape != (R,) \
            or diag.shape != (R,):
        raise ValueError('keypoints must be (R, K, 2), visible (R, K), roots (R, 2), '
                         'roots_visible and diagonals (R,)')
    for r in range(R):
        if K == 0:  # no keypoint to read: no root
            roots[r, 0] = roots[r, 1] = visible[r] = diag[r] = _F0
            continue
        roots[r, 0], roots[r, 1], visible[r], diag[r] = one_instance_geometry(
            kps[r], vis[r], kpt_center)


@jit
def fc_pow_t(a, b):
    """libm pow / powf in a's precision."""
    return cast_like(math.pow(a, b), a)


@jit
def fc_sqrt_t(a):
    return cast_like(math.sqrt(a), a)


@jit
def instance_sigma(h, w, o, two):
    """In T = h's type; `two` is 2 given at run time so that the power stays libm's
    pow/powf (a literal 2 would be folded into b * b)."""
    s = h + w
    b1 = s
    b2 = cast_like(2, h) * s
    b3 = cast_like(-2 * o, h) * s
    c1 = w * h * cast_like(1 - o, h) / cast_like(1 + o, h)
    c2 = cast_like(1 - o, h) * w * h
    c3 = cast_like(o - 1, h) * w * h
    two_t = cast_like(2, h)
    r1 = (b1 + fc_sqrt_t(fc_pow_t(b1, two) - cast_like(4, h) * c1)) / two_t
    r2 = (b2 + fc_sqrt_t(fc_pow_t(b2, two) - cast_like(16, h) * c2)) / two_t
    r3 = (b3 + fc_sqrt_t(fc_pow_t(b3, two) - cast_like(4 * (4 * o), h) * c3)) / two_t
    r = r1
    if r2 < r:
        r = r2
    if r3 < r:
        r = r3
    return np.float32(r / cast_like(3, h))


def instance_geometry(keypoints, visible, kpt_center: bool, roots, roots_visible,
                      diagonals) -> None:
    """Roots f32 (R, 2), their visibility f32 (R,) and box diagonals f32 (R,) of R
    instances: keypoints (R, K, 2) float32 or float64, visibility f64 (R, K). The kernel
    checks its arrays (expect, the shapes); a call it cannot compile for is checked here
    for the user-facing error."""
    try:
        _instance_geometry_kernel(keypoints, visible, bool(kpt_center), roots, roots_visible,
                                  diagonals)
    except TypingError:
        kps = _check_array(keypoints, 'keypoints', REAL, (None, None, 2))
        R, K = kps.shape[:2]
        _check_array(visible, 'visible', F64, (R, K))
        _check_array(roots, 'roots', F32, (R, 2), out=True)
        _check_array(roots_visible, 'roots_visible', F32, (R,), out=True)
        _check_array(diagonals, 'diagonals', F32, (R,), out=True)
        raise


@jit
def _instance_sigmas_kernel(h, w, o, two, out):
    # two: 2.0 given at run time, taken to h's precision (see instance_sigma)
    expect(h, 'heights', 'float32 or float64', False)
    expect(w, 'widths', 'float32 or float64', False)
    expect(out, 'sigmas', 'float32', True)
    if w.itemsize != h.itemsize:
        raise TypeError('widths must have the dtype of heights')
    if h.ndim != 1 or w.shape != h.shape or out.shape != h.shape:
        raise ValueError('heights, widths and sigmas must be (R,)')
    for i in range(h.shape[0]):
        out[i] = instance_sigma(h[i], w[i], o, cast_like(two, h[i]))


def instance_sigmas(heights, widths, overlap: float, sigmas) -> None:
    """DecoupledHeatmap's instance sigmas f32 (R,) from box heights and widths (R,),
    both float32 or both float64 (the precision MMPose computes in). The kernel checks
    its arrays (expect, the shapes); a call it cannot compile for is checked here for the
    user-facing error."""
    try:
        _instance_sigmas_kernel(heights, widths, float(overlap), 2.0, sigmas)
    except TypingError:
        h = _check_array(heights, 'heights', REAL, (None,))
        _check_array(widths, 'widths', h.dtype, h.shape)
        _check_array(sigmas, 'sigmas', F32, h.shape, out=True)
        raise
