"""Numba mirror of SimCC3DLabel's encoder (csrc/cpu/simcc_kernels.cpp, simcc3d_encode),
with the C++ backend's signature: SimCCLabel's Gaussian rule (simcc.h) on three axes."""
from __future__ import annotations

import numpy as np

from fastcodec.backends.numba.common import _require, jit
from fastcodec.backends.numba.simcc import (_gaussian_table, simcc3d_bins, simcc_keypoint_drawn,
                                            _write_gaussian)

__all__ = ['simcc3d_encode']


@jit
def _encode3d_kernel(kps, vis, sx, sy, sz, ratio, f32, normalize, tx, ty, tz, inside):
    ratio32 = np.float32(ratio)
    W = tx.shape[0] // max(vis.shape[0], 1)
    H = ty.shape[0] // max(vis.shape[0], 1)
    D = tz.shape[0] // max(vis.shape[0], 1)
    gx, gx_len, gx_zero = _gaussian_table(W, sx, normalize)
    gy, gy_len, gy_zero = _gaussian_table(H, sy, normalize)
    gz, gz_len, gz_zero = _gaussian_table(D, sz, normalize)
    tx[:] = 0
    ty[:] = 0
    tz[:] = 0
    sigma = np.array([sx, sy, sz])
    size = np.array([W, H, D], np.int64)
    mu = np.empty(3, np.int64)
    for r in range(vis.shape[0]):
        inside[r] = 1
        if not simcc_keypoint_drawn(vis[r]):
            continue
        if not simcc3d_bins(kps[3 * r:3 * r + 3], ratio32, ratio, f32, sigma, size, mu):
            inside[r] = 0
            continue
        _write_gaussian(tx, r * W, W, mu[0], gx, gx_len, gx_zero, sx, normalize)
        _write_gaussian(ty, r * H, H, mu[1], gy, gy_len, gy_zero, sy, normalize)
        _write_gaussian(tz, r * D, D, mu[2], gz, gz_len, gz_zero, sz, normalize)


def _output(a, name: str, lead, dtype) -> np.ndarray:
    _require(isinstance(a, np.ndarray) and a.dtype == dtype and a.flags.c_contiguous
             and a.flags.writeable and a.shape[:3] == lead and a.ndim == len(lead) + (dtype != np.uint8)
             and (dtype == np.uint8 or a.shape[3] > 0),
             f'{name} must be a writeable C-contiguous {np.dtype(dtype).name} '
             f'{"(B, N, K)" if dtype == np.uint8 else "(B, N, K, L)"} array')
    return a


def simcc3d_encode(keypoints, visible, sigma, ratio, f32, normalize, x_labels, y_labels,
                   z_labels, inside) -> None:
    """SimCC3DLabel's labels into x (B,N,K,W), y (B,N,K,H), z (B,N,K,D) float32 and inside
    u8 (B,N,K), every element written."""
    kps = np.ascontiguousarray(keypoints, dtype=np.float64)
    vis = np.ascontiguousarray(visible, dtype=np.float64)
    _require(kps.ndim == 4 and kps.shape[3] == 3, 'keypoints must be (B, N, K, 3)')
    _require(vis.shape == kps.shape[:3], 'keypoints_visible must be (B, N, K)')
    lead = kps.shape[:3]
    outs = [_output(a, n, lead, np.float32) for a, n in
            ((x_labels, 'x_labels'), (y_labels, 'y_labels'), (z_labels, 'z_labels'))]
    ins = _output(inside, 'inside', lead, np.uint8)
    sx, sy, sz = (float(s) for s in sigma)
    _require(sx > 0 and sy > 0 and sz > 0, 'sigma must be positive')
    if vis.size == 0:
        return
    _encode3d_kernel(kps.ravel(), vis.ravel(), sx, sy, sz, float(ratio), bool(f32),
                     bool(normalize), outs[0].ravel(), outs[1].ravel(),
                     outs[2].ravel(), ins.ravel())
