"""Heatmap target generators, maximum search, blur and refinement.

Drop-ins for the functions of the same names in ``mmpose.codecs.utils``
(MMPose 1.3.2): same arguments, same results (docs/design.md tolerances), numpy or
torch CPU tensors in and the same kind out. Shapes: N instances, K keypoints,
heatmaps (K, H, W), heatmap_size (W, H).
"""
from __future__ import annotations

from typing import Any, Sequence, Tuple, Union

import numpy as np

from fastcodec import _calls
from fastcodec._arrays import (F64, open_call, check_kernel_size, check_ndim, check_positive,
                               check_size, heatmaps_f32, keypoints_f64, open_keypoints,
                               weights_from)

Sigma = Union[float, Sequence[float], np.ndarray]


def _sigmas(sigma: Any, n: int) -> np.ndarray:
    """One positive sigma per instance (MMPose repeats a scalar)."""
    values = np.asarray(sigma, dtype=np.float64)
    if values.ndim == 0:
        values = np.full(n, float(values))
    if values.shape != (n,):
        raise ValueError(f'sigma must be a number or hold one value per instance ({n}), '
                         f'got shape {values.shape}')
    if not np.all(np.isfinite(values) & (values > 0)):
        raise ValueError(f'sigma must be positive and finite, got {sigma!r}')
    if isinstance(sigma, np.ndarray) and sigma.dtype == np.float32 and sigma.ndim == 1:
        # numpy computes the patch radius and size of a float32 sigma in float32; the
        # kernels do the same for a float32 sigma array
        return values.astype(np.float32)
    return values


def _encode(kind: str, heatmap_size, keypoints, keypoints_visible, sigma=None,
            radius_factor=None):
    W, H = check_size(heatmap_size, 'heatmap_size')
    call, kps, vis = open_keypoints(keypoints, keypoints_visible, 3, '(N, K, 2)')
    N = kps.shape[0]
    xy, f32 = keypoints_f64(call, kps)
    vis64 = call.xp.ascontiguousarray(vis, dtype=F64)[None]
    if kind == 'offset':
        radius = check_positive(radius_factor, 'radius_factor') * max(W, H)
        heat, inside = _calls.encode_offset(call, xy[None], vis64, (1.0, 1.0), f32, W, H,
                                            radius)
    else:
        sigmas = _sigmas(sigma, N)
        # a number: filled on the call's device (no host-to-device copy)
        sigmas = call.xp.full(N, float(sigma)) if np.ndim(sigma) == 0 else call.xp.asarray(sigmas)
        heat, inside = _calls.encode_gaussian(call, kind, xy[None], vis64, sigmas,
                                              (1.0, 1.0), f32, W, H)
    return call.result(heat[0]), call.result(weights_from(call, vis, inside[0]))


def generate_gaussian_heatmaps(heatmap_size: Tuple[int, int], keypoints, keypoints_visible,
                               sigma: Sigma):
    """MSRA Gaussian targets: (K, H, W) heatmaps and (N, K) weights.

    A Gaussian patch of radius 3 * sigma centred on the rounded keypoint; the
    heatmap keeps the maximum over instances. sigma: a number or one per instance.
    """
    return _encode('msra', heatmap_size, keypoints, keypoints_visible, sigma)


def generate_unbiased_gaussian_heatmaps(heatmap_size: Tuple[int, int], keypoints,
                                        keypoints_visible, sigma: float):
    """DARK's unbiased Gaussian targets centred on the sub-pixel keypoint."""
    return _encode('unbiased', heatmap_size, keypoints, keypoints_visible, sigma)


def generate_udp_gaussian_heatmaps(heatmap_size: Tuple[int, int], keypoints,
                                   keypoints_visible, sigma: float):
    """UDP Gaussian targets: the MSRA patch shifted by the sub-pixel offset."""
    return _encode('udp', heatmap_size, keypoints, keypoints_visible, sigma)


def generate_offset_heatmap(heatmap_size: Tuple[int, int], keypoints, keypoints_visible,
                            radius_factor: float):
    """UDP 'combined' targets: (3K, H, W) of a disc label and x/y offset maps."""
    return _encode('offset', heatmap_size, keypoints, keypoints_visible,
                   radius_factor=radius_factor)


def get_heatmap_maximum(heatmaps):
    """Location (x, y) and value of each map's maximum.

    heatmaps (K, H, W) or (B, K, H, W) -> locs (K, 2) / (B, K, 2) float32 and vals
    (K,) / (B, K); the first maximum wins ties, and locations are -1 where the
    maximum is <= 0.
    """
    call = open_call((heatmaps,), ('heatmaps',))
    heat = call.array(heatmaps, 'heatmaps')
    check_ndim(heat, 'heatmaps', (3, 4), '(K, H, W) or (B, K, H, W)')
    locs, vals = _calls.heatmap_maximum(call, heatmaps_f32(call, heat))
    if heat.dtype == np.float64:
        vals = call.xp.asarray(vals, dtype=F64)
    return call.result(locs), call.result(vals)


def gaussian_blur(heatmaps, kernel: int = 11):
    """DARK's heatmap modulation: cv2.GaussianBlur of each zero-padded map, rescaled
    to the map's original maximum. heatmaps (K, H, W); like MMPose, a float32
    array is overwritten in place and returned."""
    call = open_call((heatmaps,), ('heatmaps',))
    heat = call.array(heatmaps, 'heatmaps')
    check_ndim(heat, 'heatmaps', (3,), '(K, H, W)')
    out = _calls.gaussian_blur(call, heatmaps_f32(call, heat), check_kernel_size(kernel, 'kernel'))
    if heat.dtype == np.float32 and _writeable(heat):
        call.xp.copyto(heat, out)
        return heatmaps
    return call.result(out)


def refine_keypoints(keypoints, heatmaps):
    """Move each keypoint 0.25 px toward its higher neighbour. keypoints (N, K, 2) are
    updated in place and returned; heatmaps (K, H, W)."""
    return _refine('sign', keypoints, heatmaps)


def refine_keypoints_dark(keypoints, heatmaps, blur_kernel_size: int):
    """DARK: a Newton step on the log of the blurred heatmap. In place, like MMPose."""
    return _refine('dark', keypoints, heatmaps, blur_kernel_size)


def refine_keypoints_dark_udp(keypoints, heatmaps, blur_kernel_size: int):
    """DARK-UDP: the Newton step on the clipped log heatmap. In place, like MMPose."""
    return _refine('dark_udp', keypoints, heatmaps, blur_kernel_size)


def _writeable(x) -> bool:
    """numpy's writeable flag; device arrays (CuPy's flags have none) are writeable."""
    return getattr(x.flags, 'writeable', True)


def _refine(mode: str, keypoints, heatmaps, blur_kernel_size=None):
    call = open_call((keypoints, heatmaps), ('keypoints', 'heatmaps'))
    kps = call.array(keypoints, 'keypoints')
    check_ndim(kps, 'keypoints', (3,), '(N, K, 2)')
    heat = call.array(heatmaps, 'heatmaps')
    check_ndim(heat, 'heatmaps', (3,), '(K, H, W)')
    heat32 = heatmaps_f32(call, heat)[None]
    if heat.shape[0] != kps.shape[1]:
        raise ValueError(f'heatmaps hold {heat.shape[0]} maps but keypoints have '
                         f'{kps.shape[1]} keypoints (shape {tuple(kps.shape)})')
    if not _writeable(kps) or not np.issubdtype(kps.dtype, np.floating):
        raise TypeError('keypoints must be a writeable float array: the refinement '
                        'updates it in place, as MMPose does')
    xy, f32 = keypoints_f64(call, kps)
    xy, backend = xy[None], call.kernels
    if mode == 'sign':
        backend.refine_sign(xy, heat32)
    else:
        ksize = check_kernel_size(blur_kernel_size, 'blur_kernel_size')
        if mode == 'dark':
            backend.refine_dark(xy, heat32, ksize)
        else:
            backend.refine_dark_udp(xy, heat32, ksize, f32)
    call.xp.copyto(kps, xy[0])
    return keypoints
