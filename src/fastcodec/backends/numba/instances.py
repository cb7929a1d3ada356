"""Numba mirrors of fastcodec/instances.h: DecoupledHeatmap's per-instance roots,
root visibility, box diagonals and instance sigmas, bit-exact."""
from __future__ import annotations

import math

import numpy as np

from fastcodec.backends.numba.common import _check_array, jit

__all__ = ['instance_geometry', 'instance_sigmas']


@jit
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


def instance_geometry(keypoints, visible, kpt_center: bool, roots, roots_visible,
                      diagonals) -> None:
    """Roots f32 (R, 2), their visibility f32 (R,) and box diagonals f32 (R,) of R
    instances: keypoints (R, K, 2) float32 or float64, visibility f64 (R, K)."""
    kps = _check_array(keypoints, 'keypoints', (np.float32, np.float64), (None, None, 2))
    R, K = kps.shape[:2]
    _check_array(visible, 'visible', np.float64, (R, K))
    _check_array(roots, 'roots', np.float32, (R, 2), out=True)
    _check_array(roots_visible, 'roots_visible', np.float32, (R,), out=True)
    _check_array(diagonals, 'diagonals', np.float32, (R,), out=True)
    if R and K:
        _instance_geometry_kernel(kps, visible, bool(kpt_center), roots, roots_visible,
                                  diagonals)
    else:  # no keypoint to read: no root
        roots[:] = 0
        roots_visible[:] = 0
        diagonals[:] = 0


@jit
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


def instance_sigmas(heights, widths, overlap: float, sigmas) -> None:
    """DecoupledHeatmap's instance sigmas f32 (R,) from box heights and widths (R,),
    both float32 or both float64 (the precision MMPose computes in)."""
    h = _check_array(heights, 'heights', (np.float32, np.float64), (None,))
    _check_array(widths, 'widths', h.dtype, h.shape)
    _check_array(sigmas, 'sigmas', np.float32, h.shape, out=True)
    if h.shape[0]:
        _instance_sigmas_kernel(h, widths, float(overlap), h.dtype.type(np.array(2.0)), sigmas)
