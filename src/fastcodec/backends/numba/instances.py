"""Numba mirrors of fastcodec/instances.h: DecoupledHeatmap's per-instance roots,
root visibility, box diagonals and instance sigmas, bit-exact."""
from __future__ import annotations

import math

import numpy as np

from fastcodec.backends.numba.common import _f64, _require, jit

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
