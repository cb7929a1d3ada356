"""Numba mirror of Hand3DHeatmap's kernel (csrc/include/fastcodec/hand3d.h,
csrc/cpu/hand3d_kernels.cpp), with the C++ backend's signature and numbers: the same
float64 steps, the window's distinct voxels only, separable factors with the exact
fallback near float32 rounding boundaries, the first instance stored and later ones
kept by maximum."""
from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

from fastcodec.backends.numba.common import coord_is_usable, _require, jit
from fastcodec.limits import MAX_SIGMA

__all__ = ['hand3d_encode']


# ---- hand3d.h -------------------------------------------------------------------------
@jit
def hand3d_centre_xy(v, size, image):
    return v * np.float64(size) / image


@jit
def hand3d_centre_z(z, bound, D, f32):
    if f32:
        return np.float64(np.float32(np.float32(z) / np.float32(bound)) + np.float32(0.5)) \
            * np.float64(D)
    return (z / bound + 0.5) * np.float64(D)


@jit
def hand3d_depth_inside(mu_z, D):
    return mu_z >= 0.0 and mu_z < np.float64(D)


@jit
def hand3d_finite(mu):
    return mu - mu == 0.0


@jit
def hand3d_window_length(radius):
    return np.int64(math.ceil(2.0 * radius + 1.0))


@jit
def hand3d_voxel(i, radius, mu, size):
    offset = np.float64(np.float32(np.float32(i) - np.float32(radius)))
    c = np.rint(offset + mu)
    c = 0.0 if c < 0.0 else (np.float64(size - 1) if c > np.float64(size - 1) else c)
    return np.int64(c)


@intrinsic
def _bits64(typingctx, v):
    """The IEEE bits of float64 v as a uint64 (the C++ header's union)."""
    sig = types.uint64(types.float64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return sig, codegen


@jit
def hand3d_axis_factor(d, sigma):
    return math.exp(-(d * d) / (2.0 * (sigma * sigma)))


@jit
def hand3d_rounds_clear(p):
    if not p >= 1.1754943508222875e-38:
        return False
    low = np.int64(_bits64(p) & np.uint64(0x1FFFFFFF))
    mid = np.int64(0x10000000)
    return (low - mid if low > mid else mid - low) > 0x2000


@jit
def hand3d_scaled(g, max_bound):
    return np.float32(g * max_bound)


@jit
def hand3d_gaussian(x, y, z, mu_x, mu_y, mu_z, sigma):
    dx = np.float64(x) - mu_x
    dy = np.float64(y) - mu_y
    dz = np.float64(z) - mu_z
    return np.float32(math.exp(-(dx * dx + dy * dy + dz * dz) / (2.0 * (sigma * sigma))))


@jit
def hand3d_axis_voxels(voxel, factor, L, radius, mu, size, sigma):
    """hand3d_axis_voxels: a window's distinct voxels along one axis and their factors,
    into voxel and factor (at least size entries each); returns their count."""
    n = 0
    for i in range(L):
        c = hand3d_voxel(i, radius, mu, size)
        if n == 0 or voxel[n - 1] != c:
            voxel[n] = c
            factor[n] = hand3d_axis_factor(np.float64(c) - mu, sigma)
            n += 1
    return n


# ---- hand3d_kernels.cpp ---------------------------------------------------------------
@jit
def _hand3d_kernel(kps, sigma, B, N, K, image_w, image_h, bound, f32, max_bound, heat, inside):
    D, H, W = heat.shape[2], heat.shape[3], heat.shape[4]
    xs, fx = np.empty(W, np.int64), np.empty(W, np.float64)
    ys, fy = np.empty(H, np.int64), np.empty(H, np.float64)
    zs, fz = np.empty(D, np.int64), np.empty(D, np.float64)
    for b in range(B):
        for k in range(K):
            first = True
            for n in range(N):
                p = kps[b, n, k]
                mu_x = hand3d_centre_xy(p[0], W, image_w)
                mu_y = hand3d_centre_xy(p[1], H, image_h)
                mu_z = hand3d_centre_z(p[2], bound, D, f32)
                inside[b, n, k] = 1 if (hand3d_depth_inside(mu_z, D) and hand3d_finite(mu_x)
                                        and hand3d_finite(mu_y)) else 0
                if not (coord_is_usable(mu_x) and coord_is_usable(mu_y)
                        and coord_is_usable(mu_z)):
                    continue
                s = sigma[b, n]
                radius = s * 3.0
                L = hand3d_window_length(radius)
                nx = hand3d_axis_voxels(xs, fx, L, radius, mu_x, W, s)
                ny = hand3d_axis_voxels(ys, fy, L, radius, mu_y, H, s)
                nz = hand3d_axis_voxels(zs, fz, L, radius, mu_z, D, s)
                for iz in range(nz):
                    z = zs[iz]
                    for iy in range(ny):
                        y = ys[iy]
                        fyz = fy[iy] * fz[iz]
                        for ix in range(nx):
                            x = xs[ix]
                            p = fx[ix] * fyz
                            if hand3d_rounds_clear(p):
                                e = np.float32(p)
                            else:
                                e = hand3d_gaussian(x, y, z, mu_x, mu_y, mu_z, s)
                            g = hand3d_scaled(e, max_bound)
                            if first or g > heat[b, k, z, y, x]:
                                heat[b, k, z, y, x] = g
                first = False


def hand3d_encode(keypoints, sigma, f32, image_size, depth_bound, max_bound, heatmaps,
                  inside) -> None:
    """Hand3DHeatmap's Gaussian volumes into heatmaps f32 (B,K,D,H,W), zero on entry,
    and the depth-range flags into inside u8 (B,N,K)."""
    kps = np.ascontiguousarray(keypoints, dtype=np.float64)
    sig = np.ascontiguousarray(sigma, dtype=np.float64)
    _require(kps.ndim == 4 and kps.shape[3] == 3, 'keypoints must be (B, N, K, 3)')
    B, N, K = kps.shape[:3]
    _require(sig.shape == (B, N), 'sigma must be (B, N)')
    _require(bool(np.all((sig > 0) & (sig <= MAX_SIGMA))), 'sigma out of range')
    _require(isinstance(heatmaps, np.ndarray) and heatmaps.ndim == 5
             and heatmaps.shape[:2] == (B, K) and min(heatmaps.shape[2:]) > 0,
             'heatmaps must be (B, K, D, H, W)')
    _require(max_bound > 0, 'max_bound must be positive')
    _require(isinstance(inside, np.ndarray) and inside.shape == (B, N, K), 'inside must be (B, N, K)')
    for a, name, dt in ((heatmaps, 'heatmaps', np.float32), (inside, 'inside', np.uint8)):
        _require(a.dtype == dt and a.flags.c_contiguous and a.flags.writeable,
                 f'{name} must be a writeable C-contiguous array of the named dtype')
    _hand3d_kernel(kps, sig, B, N, K, float(image_size[0]), float(image_size[1]),
                   float(depth_bound), bool(f32), np.float32(max_bound), heatmaps, inside)
