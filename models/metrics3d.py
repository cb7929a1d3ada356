"""3-D pose metrics: MPJPE and Procrustes-aligned P-MPJPE (as MMPose's keypoint_mpjpe)."""
from __future__ import annotations

import numpy as np


def mpjpe(pred: np.ndarray, gt: np.ndarray, mask=None) -> float:
    """Mean Euclidean distance over joints: pred/gt (N, K, 3); mask (N, K) bool."""
    d = np.linalg.norm(pred - gt, axis=-1)
    return float(d[mask].mean() if mask is not None else d.mean())


def procrustes_align(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Align each pred (N, K, 3) to gt with the best similarity transform (rotation,
    uniform scale, translation)."""
    mu_p, mu_g = pred.mean(1, keepdims=True), gt.mean(1, keepdims=True)
    p, g = pred - mu_p, gt - mu_g
    norm_p = np.linalg.norm(p, axis=(1, 2), keepdims=True)
    norm_g = np.linalg.norm(g, axis=(1, 2), keepdims=True)
    p, g = p / np.maximum(norm_p, 1e-12), g / np.maximum(norm_g, 1e-12)
    u, s, vt = np.linalg.svd(np.einsum('nki,nkj->nij', p, g))
    d = np.sign(np.linalg.det(np.einsum('nij,njk->nik', u, vt)))
    s[:, -1] *= d
    u[:, :, -1] *= d[:, None]
    r = np.einsum('nij,njk->nik', u, vt)
    scale = s.sum(1)[:, None, None] * norm_g / np.maximum(norm_p, 1e-12)
    return scale * np.einsum('nki,nij->nkj', pred - mu_p, r) + mu_g


def p_mpjpe(pred: np.ndarray, gt: np.ndarray, mask=None) -> float:
    return mpjpe(procrustes_align(pred, gt), gt, mask)
