"""SimCC array functions with the signatures of ``mmpose.codecs.utils``.

numpy in -> numpy out, torch CPU in -> torch out (the kernel functions on device arrays:
the same kind out, on the device); inputs are never modified (MMPose's
refine_simcc_dark also overwrites ``simcc`` with its log map).
"""
from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np

from fastcodec import _calls
from fastcodec._arrays import F32, open_call, check_kernel_size, check_ndim, is_torch


def _pair(simcc_x, simcc_y):
    call = open_call((simcc_x, simcc_y), ('simcc_x', 'simcc_y'))
    sx, sy = call.array(simcc_x, 'simcc_x'), call.array(simcc_y, 'simcc_y')
    check_ndim(sx, 'simcc_x', (2, 3), '(K, Wx) or (N, K, Wx)')
    check_ndim(sy, 'simcc_y', (2, 3), '(K, Wy) or (N, K, Wy)')
    if sx.shape[:-1] != sy.shape[:-1]:
        raise ValueError(f'simcc_x and simcc_y must agree in all but the last axis, '
                         f'got {tuple(sx.shape)} and {tuple(sy.shape)}')
    if sx.shape[-1] == 0 or sy.shape[-1] == 0:
        raise ValueError(f'simcc vectors must be non-empty, got {tuple(sx.shape)} '
                         f'and {tuple(sy.shape)}')
    return call, sx, sy


def get_simcc_maximum(simcc_x: Any, simcc_y: Any,
                      apply_softmax: bool = False) -> Tuple[Any, Any]:
    """First-occurrence argmax of each SimCC vector: simcc_x (K, Wx) or (N, K, Wx),
    simcc_y likewise -> locs (..., 2) float32 (-1 where the score is <= 0) and vals
    (...,): the smaller of the two maxima. ``apply_softmax`` takes the softmax first
    (computed as MMPose does, in numpy)."""
    call, sx, sy = _pair(simcc_x, simcc_y)
    xp, back = call.xp, call.result
    lead = sx.shape[:-1]
    if apply_softmax:
        def softmax(v):
            v = v.reshape(-1, v.shape[-1])
            e = xp.exp(xp.subtract(v, xp.max(v, axis=1, keepdims=True)))
            return xp.divide(e, xp.sum(e, axis=1, keepdims=True))
        px, py = softmax(sx), softmax(sy)
        locs, _ = _calls.simcc_maximum(call, xp.ascontiguousarray(px, F32),
                                       xp.ascontiguousarray(py, F32))
        mx, my = xp.amax(px, axis=1), xp.amax(py, axis=1)
        vals = xp.where(xp.greater(mx, my), my, mx)
        xp.copyto(locs, -1, where=xp.less_equal(vals, 0)[:, None])
        return back(locs.reshape(lead + (2,))), back(vals.reshape(lead))
    locs, vals = _calls.simcc_maximum(
        call, xp.ascontiguousarray(sx, F32).reshape(-1, sx.shape[-1]),
        xp.ascontiguousarray(sy, F32).reshape(-1, sy.shape[-1]))
    return back(locs.reshape(lead + (2,))), back(vals.reshape(lead))


def get_simcc_normalized(batch_pred_simcc: Any, sigma: Optional[float] = None) -> Any:
    """MMPose's get_simcc_normalized on (B, K, W): optionally divide by
    sigma * sqrt(2 pi), clamp at 0, and divide the vectors whose maximum exceeds 1 by
    that maximum. Torch in -> torch out."""
    torch_in = is_torch(batch_pred_simcc)
    call = open_call((batch_pred_simcc,), ('batch_pred_simcc',))
    x, back = call.array(batch_pred_simcc, 'batch_pred_simcc'), call.result
    check_ndim(x, 'batch_pred_simcc', (3,), '(B, K, W)')
    if x.shape[-1] == 0:
        raise ValueError(f'batch_pred_simcc must have W > 0, got {tuple(x.shape)}')
    if not torch_in and x.dtype.kind != 'f':
        x = x.astype(np.float32)
    if sigma is not None:
        x = x / (sigma * np.sqrt(np.pi * 2))
        if torch_in:
            x = x.astype(batch_pred_simcc.detach().numpy().dtype, copy=False)
    x = np.maximum(x, x.dtype.type(0))
    peak = np.max(x, axis=-1, keepdims=True)
    with np.errstate(divide='ignore', invalid='ignore'):
        out = np.where(peak > 1, x / peak, x)
    return back(out.astype(x.dtype, copy=False))


def refine_simcc_dark(keypoints: Any, simcc: Any, blur_kernel_size: int) -> Any:
    """1-D DARK: keypoints (N, K) along one axis, simcc (N, K, W) -> refined
    keypoints (N, K) float32. The Newton step on log(clip(blur(simcc), 1e-3, 50))."""
    call = open_call((keypoints, simcc), ('keypoints', 'simcc'))
    kps, s = call.array(keypoints, 'keypoints'), call.array(simcc, 'simcc')
    check_ndim(kps, 'keypoints', (2,), '(N, K)')
    check_ndim(s, 'simcc', (3,), '(N, K, W)')
    if s.shape[:2] != kps.shape:
        raise ValueError(f'simcc must be (N, K, W) with (N, K) = {tuple(kps.shape)}, '
                         f'got {tuple(s.shape)}')
    if s.shape[-1] == 0:
        raise ValueError(f'simcc must have W > 0, got {tuple(s.shape)}')
    k = check_kernel_size(blur_kernel_size, 'blur_kernel_size')
    out = _calls.simcc_refine_dark(
        call, call.xp.ascontiguousarray(kps, F32).reshape(-1),
        call.xp.ascontiguousarray(s, F32).reshape(-1, s.shape[-1]), k)
    return call.result(out.reshape(kps.shape))
