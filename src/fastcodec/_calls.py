"""The front's side of each kernel: allocate its outputs, run it on the call's backend.

One function per kernel of the backend contract (``fastcodec.backends.contract``),
taking a ``fastcodec._arrays.Call`` and the kernel's inputs, already checked and
converted by the codec or op; each allocates the outputs once, in the namespace the
call's backend computes in (``Call.empty``), passes them to the kernel and returns them.
Shapes: B batch, N instances, K keypoints, R rows.
"""
from __future__ import annotations

import math
import mmap
from typing import Optional, Tuple

import numpy as np

from fastcodec._arrays import Call

# dtype objects, not types: np.empty converts a type on every call
F32, F64, U8, I64 = (np.dtype(t) for t in (np.float32, np.float64, np.uint8, np.int64))


# ---- heatmap targets ------------------------------------------------------------------------
def encode_gaussian(call: Call, kind: str, keypoints, visible, sigma, scale, f32: bool,
                    W: int, H: int):
    """-> heatmaps f32 (B, K, H, W), inside u8 (B, N, K)."""
    B, N, K = visible.shape
    heatmaps, inside = call.empty((B, K, H, W), F32), call.empty((B, N, K), U8)
    call.kernels.encode_gaussian(kind, keypoints, visible, sigma, scale, f32, heatmaps, inside)
    return heatmaps, inside


def encode_offset(call: Call, keypoints, visible, scale, f32: bool, W: int, H: int,
                  radius: float):
    """-> heatmaps f32 (B, 3K, H, W), inside u8 (B, N, K)."""
    B, N, K = visible.shape
    heatmaps, inside = call.empty((B, 3 * K, H, W), F32), call.empty((B, N, K), U8)
    call.kernels.encode_offset(keypoints, visible, scale, f32, radius, heatmaps, inside)
    return heatmaps, inside


def encode_megvii(call: Call, keypoints, visible, scale, f32: bool, W: int, H: int,
                  ksize: int):
    """-> heatmaps f32 (B, K, H, W), inside u8 (B, N, K)."""
    B, N, K = visible.shape
    heatmaps, inside = call.empty((B, K, H, W), F32), call.empty((B, N, K), U8)
    call.kernels.encode_megvii(keypoints, visible, scale, f32, ksize, heatmaps, inside)
    return heatmaps, inside


def instance_geometry(call: Call, keypoints, visible, kpt_center: bool):
    """-> roots f32 (R, 2), roots_visible f32 (R,), diagonals f32 (R,)."""
    R = keypoints.shape[0]
    roots, roots_visible, diagonals = (call.empty((R, 2), F32), call.empty((R,), F32),
                                       call.empty((R,), F32))
    call.kernels.instance_geometry(keypoints, visible, kpt_center, roots, roots_visible,
                                   diagonals)
    return roots, roots_visible, diagonals


def instance_sigmas(call: Call, heights, widths, overlap: float):
    """-> sigmas f32 (R,)."""
    sigmas = call.empty(heights.shape, F32)
    call.kernels.instance_sigmas(heights, widths, overlap, sigmas)
    return sigmas


# ---- heatmap decoding ---------------------------------------------------------------------
def heatmap_maximum(call: Call, heatmaps):
    """heatmaps (..., H, W) -> locs f32 (..., 2), vals f32 (...)."""
    lead = heatmaps.shape[:-2]
    locs, vals = call.empty(lead + (2,), F32), call.empty(lead, F32)
    call.kernels.heatmap_maximum(heatmaps, locs, vals)
    return locs, vals


def gaussian_blur(call: Call, heatmaps, ksize: int):
    """-> blurred f32 of heatmaps' shape."""
    blurred = call.empty(heatmaps.shape, F32)
    call.kernels.gaussian_blur(heatmaps, ksize, blurred)
    return blurred


def decode_msra(call: Call, heatmaps, scale):
    """heatmaps (B, K, H, W) -> locs f32 (B, K, 2), vals f32 (B, K)."""
    B, K = heatmaps.shape[:2]
    locs, vals = call.empty((B, K, 2), F32), call.empty((B, K), F32)
    call.kernels.decode_msra(heatmaps, scale, locs, vals)
    return locs, vals


def decode_dark(call: Call, heatmaps, ksize: int, udp: bool, scale):
    """heatmaps (B, K, H, W) -> locs f32 (B, K, 2), vals f32 (B, K)."""
    B, K = heatmaps.shape[:2]
    locs, vals = call.empty((B, K, 2), F32), call.empty((B, K), F32)
    call.kernels.decode_dark(heatmaps, ksize, udp, scale, locs, vals)
    return locs, vals


def decode_megvii(call: Call, heatmaps, ksize: int):
    """heatmaps (B, K, H, W) -> locs f32 (B, K, 2), scores f32 (B, K)."""
    B, K = heatmaps.shape[:2]
    locs, scores = call.empty((B, K, 2), F32), call.empty((B, K), F32)
    call.kernels.decode_megvii(heatmaps, ksize, locs, scores)
    return locs, scores


def decode_udp_combined(call: Call, heatmaps, ksize: int, radius: float):
    """heatmaps (B, 3K, H, W) -> locs f32 (B, K, 2), scores f32 (B, K)."""
    B, K = heatmaps.shape[0], heatmaps.shape[1] // 3
    locs, scores = call.empty((B, K, 2), F32), call.empty((B, K), F32)
    call.kernels.decode_udp_combined(heatmaps, ksize, radius, locs, scores)
    return locs, scores


# ---- regression ---------------------------------------------------------------------------
def encode_regression(call: Call, keypoints, visible, input_size, lead: Tuple[int, ...]):
    """keypoints (*lead, 2), visible lead -> labels f32 (*lead, 2), weights f32 lead.
    ``lead``: the front's copy of visible's shape (reading a shape costs 0.1 us here)."""
    labels, weights = call.empty(lead + (2,), F32), call.empty(lead, F32)
    call.kernels.encode_regression(keypoints, visible, input_size, labels, weights)
    return labels, weights


def decode_regression(call: Call, encoded, input_size, f32: bool, lead: Tuple[int, ...]):
    """encoded (*lead, D) -> keypoints f64 (*lead, 2), scores lead: f32 if f32 (which
    the front sets for D = 2), else f64."""
    keypoints = call.empty(lead + (2,), F64)
    scores = call.empty(lead, F32 if f32 else F64)
    call.kernels.decode_regression(encoded, input_size, f32, keypoints, scores)
    return keypoints, scores


# ---- SimCC --------------------------------------------------------------------------------
def simcc_encode(call: Call, keypoints, visible, gaussian: bool, sigma, ratio: float,
                 f32: bool, W: int, H: int, label_smooth_weight: float, normalize: bool):
    """-> x_labels f32 (B, N, K, W), y_labels f32 (B, N, K, H), inside u8 (B, N, K)."""
    lead = visible.shape
    x_labels, y_labels = call.empty(lead + (W,), F32), call.empty(lead + (H,), F32)
    inside = call.empty(lead, U8)
    call.kernels.simcc_encode(keypoints, visible, gaussian, sigma, ratio, f32,
                              label_smooth_weight, normalize, x_labels, y_labels, inside)
    return x_labels, y_labels, inside


def simcc_maximum(call: Call, simcc_x, simcc_y):
    """rows (R, Wx), (R, Wy) -> locs f32 (R, 2), vals f32 (R,)."""
    R = simcc_x.shape[0]
    locs, vals = call.empty((R, 2), F32), call.empty((R,), F32)
    call.kernels.simcc_maximum(simcc_x, simcc_y, locs, vals)
    return locs, vals


def simcc_decode(call: Call, simcc_x, simcc_y, kx: int, ky: int, ratio: float,
                 visibility: bool, beta: float, sigma):
    """-> locs f32 (R, 2), vals f32 (R,), visible f64 (R,) or (0,)."""
    R = simcc_x.shape[0]
    locs, vals = call.empty((R, 2), F32), call.empty((R,), F32)
    visible = call.empty((R if visibility else 0,), F64)
    call.kernels.simcc_decode(simcc_x, simcc_y, kx, ky, ratio, beta, sigma, locs, vals,
                              visible)
    return locs, vals, visible


def simcc_refine_dark(call: Call, keypoints, simcc, blur_kernel_size: int):
    """keypoints (R,), simcc (R, W) -> refined f32 (R,)."""
    refined = call.empty(keypoints.shape, F32)
    call.kernels.simcc_refine_dark(keypoints, simcc, blur_kernel_size, refined)
    return refined


# ---- SPR ------------------------------------------------------------------------------------
def spr_encode_displacements(call: Call, keypoints, visible, roots, roots_visible, diagonals,
                             radius: float, radius_f32: bool, W: int, H: int):
    """-> displacements, weights f32 (B, 2K, H, W): two halves of one zeroed buffer
    (calloc'ed, so pages no window touches are never written; from 4 MB on numpy asks
    for transparent huge pages: one 4.4 MB buffer for 128 x 128 x 34 maps costs 5x fewer
    page faults than two of 2.2 MB)."""
    B, N, K = visible.shape
    both = call.zeros((2, B, 2 * K, H, W), F32)
    call.kernels.spr_encode_displacements(keypoints, visible, roots, roots_visible, diagonals,
                                          radius, radius_f32, both[0], both[1])
    return both[0], both[1]


def spr_decode(call: Call, heatmaps, displacements, nms_kernel: int, max_instances: int,
               threshold: float, keypoint_scores: bool, scale):
    """-> keypoints f32 (B, M, K, 2), root_scores f32 (B, M), keypoint_scores f32
    (B, M, K or 0), counts int64 (B,), M = min(max_instances, H * W)."""
    B, _, H, W = heatmaps.shape
    K = displacements.shape[1] // 2
    M = min(max_instances, H * W)
    keypoints, root_scores = call.empty((B, M, K, 2), F32), call.empty((B, M), F32)
    kpt_scores = call.empty((B, M, K if keypoint_scores else 0), F32)
    counts = call.empty((B,), I64)
    call.kernels.spr_decode(heatmaps, displacements, nms_kernel, threshold, scale, keypoints,
                            root_scores, kpt_scores, counts)
    return keypoints, root_scores, kpt_scores, counts


def ae_decode(call: Call, heatmaps, tags, order, nms_kernel: int, topk: int, val_thr: float,
              tag_thr: float, max_instances: int, udp: bool, blur_kernel: int,
              center_shift: float, scale, G: int):
    """heatmaps (B, K, H, W) -> keypoints f32 (B, G, K, 2), scores f32 (B, G, K),
    instance scores f32 (B, G), counts int64 (B,): at most G instances per image."""
    B, K = heatmaps.shape[:2]
    keypoints, scores = call.empty((B, G, K, 2), F32), call.empty((B, G, K), F32)
    instance_scores, counts = call.empty((B, G), F32), call.empty((B,), I64)
    call.kernels.ae_decode(heatmaps, tags, order, nms_kernel, topk, val_thr, tag_thr,
                           max_instances, udp, blur_kernel, center_shift, scale, keypoints,
                           scores, instance_scores, counts)
    return keypoints, scores, instance_scores, counts


# ---- pose lifting ---------------------------------------------------------------------------
def motionbert_encode(call: Call, keypoints, visible, target, params, factor, take_given,
                      root_index: int, project: bool, train: bool, target_visible
                      ) -> Tuple[np.ndarray, np.ndarray, np.ndarray, Optional[np.ndarray], bool]:
    """-> labels (B, N, K, D [+1 with visible]) of the keypoints' dtype, target label
    (B, T, K, C) and computed factor (B, T) or (B, 0) of the target's dtype, weights f32
    (B, T, K) or None, and whether keypoints and target are all finite (False where the
    backend does not say: a device backend, which would have to synchronise)."""
    B, N, K, D = keypoints.shape
    T = target.shape[1]
    labels = call.empty((B, N, K, D + (visible is not None)), keypoints.dtype)
    target_label = call.empty(target.shape, target.dtype)
    computed = call.empty((B, T if project else 0), target.dtype)
    weights = None if target_visible is None else call.empty((B, T, target.shape[2]), F32)
    finite = call.kernels.motionbert_encode(keypoints, visible, target, params, factor,
                                            take_given, root_index, project, train,
                                            target_visible, labels, target_label, computed,
                                            weights)
    return labels, target_label, computed, weights, finite is not None and bool(finite)


# ---- 3-D targets ----------------------------------------------------------------------------
# Volumes from this size on are mapped as lazily zeroed pages (see _zero_volumes).
_LAZY_BYTES = 4 << 20


def _zero_volumes(shape: Tuple[int, ...]) -> np.ndarray:
    """A float32 array of zeros whose pages the OS zeroes on first write. A 42 x 64^3
    target is 44 MB of which the Gaussian windows cover under 10%: numpy's zeros of that
    size ask for transparent huge pages, and the first write into each then clears 2 MB;
    a private anonymous mapping clears only the 4 KB pages written."""
    nbytes = math.prod(shape) * 4
    if nbytes < _LAZY_BYTES or not hasattr(mmap, 'MAP_PRIVATE'):
        return np.zeros(shape, np.float32)
    return np.frombuffer(mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE),
                         np.float32).reshape(shape)


def hand3d_encode(call: Call, keypoints, sigma, f32: bool, image_size, depth_bound: float,
                  max_bound: float, D: int, H: int, W: int):
    """keypoints (B, N, K, 3) -> heatmaps f32 (B, K, D, H, W), inside u8 (B, N, K)."""
    B, N, K = keypoints.shape[:3]
    shape = (B, K, D, H, W)
    heatmaps = _zero_volumes(shape) if call.X.kind == 'numpy' else call.zeros(shape, F32)
    inside = call.empty((B, N, K), U8)
    call.kernels.hand3d_encode(keypoints, sigma, f32, image_size, depth_bound, max_bound,
                               heatmaps, inside)
    return heatmaps, inside


def simcc3d_encode(call: Call, keypoints, visible, sigma, ratio: float, f32: bool,
                   normalize: bool, bins: Tuple[int, int, int]):
    """-> x_labels, y_labels, z_labels f32 (B, N, K, W | H | D), inside u8 (B, N, K)."""
    lead = visible.shape
    W, H, D = bins
    x_labels, y_labels, z_labels = (call.empty(lead + (n,), F32) for n in (W, H, D))
    inside = call.empty(lead, U8)
    call.kernels.simcc3d_encode(keypoints, visible, sigma, ratio, f32, normalize, x_labels,
                                y_labels, z_labels, inside)
    return x_labels, y_labels, z_labels, inside
