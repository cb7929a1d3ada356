"""The backend contract: the kernel functions every CPU backend module provides.

A backend is a module, ``fastcodec.backends.<name>``, that defines each function of
``KERNELS`` below with these parameter names and defaults, and nothing else public.
Today: ``cpp`` (the compiled extension ``fastcodec._C``, csrc/cpu) and ``numba``
(``fastcodec.backends.numba``); tests/test_backend_contract.py checks every available
backend against this list.

What a kernel may assume, and must do:

- Arrays are numpy arrays; B batch, N instances, K keypoints, R rows (any leading
  shape flattened). Inputs are converted as pybind11's forcecast converts them
  (C-contiguous, to the dtype named) unless a function says it reads a dtype as it is;
  outputs are new C-contiguous arrays of the shapes and dtypes named. "In place"
  functions update a float64 C-contiguous keypoints array; any other one is converted
  into a temporary copy, and the update is lost, as with pybind11.
- The front (``fastcodec.ops``, the codecs) checks arguments before a call; a kernel
  still rejects a wrong ndim, shape or size with ``ValueError`` (a wrong type:
  ``TypeError``), never reads or writes out of bounds, and gives the C++ backend's
  numbers (the parity and property tests compare the backends).
- Denormal float32 values are flushed as the C++ flushes them (encoder outputs, maps
  being blurred): docs/deviations.md, tests/test_denormals.py.
"""
from __future__ import annotations

import ast
import inspect
from typing import NamedTuple, Tuple


class Kernel(NamedTuple):
    """One function of the contract: its name, its parameters as a Python parameter
    list (names and defaults, e.g. ``'(heatmaps, scale=(1.0, 1.0))'``), and what it
    takes and returns."""
    name: str
    params: str
    doc: str


KERNELS: Tuple[Kernel, ...] = (
    # ---- heatmap targets (heatmap_targets.h, heatmap_kernels.cpp) ---------------------
    Kernel('encode_gaussian', '(kind, keypoints, visible, sigma, scale, f32, W, H)', """
        keypoints f64 (B,N,K,2), visible f64 (B,N,K), sigma (N,) or (B,N), scale (sx, sy),
        f32 bool, W, H -> (heatmaps f32 (B,K,H,W), inside u8 (B,N,K)). kind is 'msra',
        'unbiased' or 'udp'; inside is 0 where MMPose zeroes the weight. sigma is finite,
        in [0, 1e4], one per instance (N,) or per sample and instance (B, N); a float32
        sigma array gets MMPose's float32 patch radius and size (a float32 sigma array in
        numpy), any other dtype float64."""),
    Kernel('encode_offset', '(keypoints, visible, scale, f32, W, H, radius)', """
        -> (heatmaps f32 (B,3K,H,W), inside u8 (B,N,K)): UDP 'combined' targets, label,
        x offset and y offset per keypoint; arguments as encode_gaussian."""),
    Kernel('encode_megvii', '(keypoints, visible, scale, f32, W, H, ksize)', """
        -> (heatmaps f32 (B,K,H,W), inside u8 (B,N,K)): MegviiHeatmap's targets, a
        blurred impulse scaled to 255 at its peak; N <= 1; ksize odd in [1, 255]."""),
    Kernel('instance_geometry', '(keypoints, visible, kpt_center)', """
        keypoints f32|f64 (R,K,2), visible f64 (R,K), kpt_center bool -> (roots f32
        (R,2), root visibility f32 (R,), box diagonals f32 (R,)): DecoupledHeatmap's
        per-instance properties, bit-exact (fastcodec/instances.h)."""),
    Kernel('instance_sigmas', '(heights, widths, overlap)', """
        heights (R,), widths (R,) f32|f64 (the precision MMPose computes in), overlap
        -> sigmas f32 (R,): DecoupledHeatmap's instance-wise sigmas, bit-exact."""),
    # ---- heatmap decoding (argmax.h, blur.h, refine.h) --------------------------------
    Kernel('heatmap_maximum', '(heatmaps)', """
        heatmaps f32 (..., H, W) -> (locs f32 (..., 2), vals f32 (...)): the first
        maximum of each map (numpy's argmax rule), locs -1 where vals <= 0."""),
    Kernel('gaussian_blur', '(heatmaps, ksize)', """
        heatmaps f32 (..., H, W), ksize odd in [1, 255] -> heatmaps f32 (..., H, W), new:
        MMPose's gaussian_blur (OpenCV's sigma-0 kernel, then each map rescaled to its
        raw maximum)."""),
    Kernel('refine_sign', '(keypoints, heatmaps)', """
        keypoints f64 (B,N,K,2), heatmaps f32 (B,K,H,W) -> None: refine_keypoints' 0.25 px
        step toward the higher neighbour, in place."""),
    Kernel('refine_dark', '(keypoints, heatmaps, ksize)', """
        keypoints f64 (B,N,K,2), heatmaps f32 (B,K,H,W), ksize -> None:
        refine_keypoints_dark, in place."""),
    Kernel('refine_dark_udp', '(keypoints, heatmaps, ksize, f32)', """
        keypoints f64 (B,N,K,2), heatmaps f32 (B,K,H,W), ksize, f32 bool -> None:
        refine_keypoints_dark_udp, in place; f32: MMPose's index math in float32."""),
    Kernel('decode_msra', '(heatmaps, scale=(1.0, 1.0))', """
        heatmaps f32 (B,K,H,W) -> (locs f32 (B,K,2), vals f32 (B,K)): the argmax, then
        the 0.25 px step, locations times scale in float32."""),
    Kernel('decode_dark', '(heatmaps, ksize, udp, scale=(1.0, 1.0))', """
        heatmaps f32 (B,K,H,W), ksize, udp bool -> (locs f32 (B,K,2), vals f32 (B,K)):
        the argmax, then the DARK (udp False) or DARK-UDP step, locations times scale in
        float32."""),
    Kernel('decode_megvii', '(heatmaps, ksize)', """
        heatmaps f32 (B,K,H,W) -> (locs f32 (B,K,2), scores f32 (B,K)) in heatmap pixels:
        MegviiHeatmap.decode."""),
    Kernel('decode_udp_combined', '(heatmaps, ksize, radius)', """
        heatmaps f32 (B,3K,H,W) -> (locs f32 (B,K,2), scores f32 (B,K)) in heatmap
        pixels: UDPHeatmap('combined').decode."""),
    # ---- regression (regression.h) ----------------------------------------------------
    Kernel('encode_regression', '(keypoints, visible, input_size)', """
        keypoints (..., 2), visible (...), input_size (w, h) -> (labels f32 (..., 2),
        weights f32 (...)): RegressionLabel's targets; float32 and float64 C-contiguous
        inputs are read as they are, others converted to float64."""),
    Kernel('decode_regression', '(encoded, input_size, f32)', """
        encoded (..., D), D = 2 or 4, input_size (w, h), f32 bool -> (keypoints f64
        (..., 2), scores (...)); scores float32 for D = 2 or f32, else float64."""),
    Kernel('normalize_heatmaps', '(heatmaps)', """
        heatmaps f32 (..., H, W), C-contiguous and writeable -> None: each map divided
        by (its sum + 1e-24), in place."""),
    # ---- SimCC (simcc.h) --------------------------------------------------------------
    Kernel('simcc_encode', '(keypoints, visible, gaussian, sigma, ratio, f32, W, H, '
                           'label_smooth_weight, normalize)', """
        keypoints f64 (B,N,K,2), visible f64 (B,N,K), gaussian bool, sigma (sigma_x,
        sigma_y), ratio, f32 bool, W, H, label_smooth_weight, normalize bool ->
        (x_labels f32 (B,N,K,W), y_labels f32 (B,N,K,H), inside u8 (B,N,K))."""),
    Kernel('simcc_maximum', '(simcc_x, simcc_y)', """
        simcc_x f32 (R,Wx), simcc_y f32 (R,Wy) -> (locs f32 (R,2), vals f32 (R,)):
        get_simcc_maximum on rows."""),
    Kernel('simcc_decode', '(simcc_x, simcc_y, kx, ky, ratio, visibility, beta, sigma)', """
        simcc_x f32 (R,Wx), simcc_y f32 (R,Wy), kx, ky blur kernel sizes (0 skips DARK),
        ratio, visibility bool, beta, sigma (sigma_x, sigma_y) -> (locs f32 (R,2) in
        input pixels, vals f32 (R,), visibility f64 (R,) or (0,))."""),
    Kernel('simcc_refine_dark', '(keypoints, simcc, blur_kernel_size)', """
        keypoints f32 (R,), simcc f32 (R,W), blur_kernel_size odd in [1, 255] -> keypoints
        f32 (R,) refined (refine_simcc_dark; a new array)."""),
    # ---- SPR (spr.h) ------------------------------------------------------------------
    Kernel('spr_encode_displacements', '(keypoints, visible, roots, roots_visible, '
                                       'diagonals, radius, radius_f32, W, H)', """
        keypoints f64 (B,N,K,2) in heatmap pixels, visible f64 (B,N,K), roots f32 (B,N,2),
        roots_visible f32 (B,N), diagonals f32 (B,N), radius, radius_f32 bool, W, H ->
        (displacements f32 (B,2K,H,W), weights f32 (B,2K,H,W)): SPR's displacement
        targets."""),
    Kernel('spr_decode', '(heatmaps, displacements, nms_kernel, max_instances, threshold, '
                         'keypoint_scores, scale)', """
        heatmaps f32 (B,C,H,W), displacements f32 (B,2K,H,W), nms_kernel odd, max_instances,
        threshold, keypoint_scores bool (then C = K + 1), scale (sx, sy) -> (keypoints f32
        (B,M,K,2), root_scores f32 (B,M), keypoint_scores f32 (B,M,K or 0), counts int64
        (B,)), M = min(max_instances, H*W); sample b's instances are its first counts[b]
        rows."""),
    # ---- pose lifting (lifting.h) -----------------------------------------------------
    Kernel('motionbert_encode', '(keypoints, visible, target, params, factor, take_given, '
                                'root_index, project, train, target_visible=None)', """
        keypoints (B,N,K,D) f32|f64, visible (B,N,K) of the keypoints' dtype or None,
        target (B,T,K,C) f32|f64, params f64 (B,8), factor f64 (B,L), take_given u8 (B,),
        root_index, project bool, train bool, target_visible (B,T,K) f32|f64 or None ->
        (labels (B,N,K,D[+1]) of the keypoints' dtype, target label (B,T,K,C) of the
        target's dtype, computed factor (B,T) or (B,0), weights f32 (B,T,K) of
        target_visible > 0.5 or None): MotionBERTLabel's encode in one pass. params per
        sample: T(w)/2, h/w, T(w/1000)/2, (h/1000)/(w/1000), fx, fy, cx, cy (f, c / 1000);
        in test mode sample b multiplies by factor[b] where take_given[b], else by the
        computed factor."""),
    # ---- AssociativeEmbedding (associative_embedding.h, ae_kernels.cpp) ---------------
    Kernel('ae_decode', '(heatmaps, tags, order, nms_kernel, topk, val_thr, tag_thr, '
                        'max_instances, udp, blur_kernel, center_shift, scale, keypoints, '
                        'scores, instance_scores, counts)', """
        heatmaps f32 (B,K,H,W), tags f32 (B,L*K,H,W), order int64 (K,) in [0, K),
        nms_kernel odd, topk in [0, H*W], val_thr, tag_thr, max_instances (a Python slice
        end; INT64_MAX for None), udp bool, blur_kernel odd (udp), center_shift, scale
        (sx, sy); outputs allocated by the caller: keypoints f32 (B,G,K,2), scores f32
        (B,G,K), instance_scores f32 (B,G), counts int64 (B,) -> None:
        AssociativeEmbedding.batch_decode, image b's instances being its first counts[b]
        rows (the kernel writes every row, zeros past counts[b]; G bounds every count)."""),
    # ---- threads (parallel.h) ---------------------------------------------------------
    Kernel('num_threads', '()', """
        -> int: the most threads one call may use (a single-threaded backend: 1)."""),
    Kernel('set_num_threads', '(n)', """
        n -> None: that limit, 0 (or n < 0) = one per core (a single-threaded backend
        accepts it and stays single-threaded)."""),
    Kernel('pool_calls', '()', """
        -> int: how many calls so far ran on more than one thread (tests; a
        single-threaded backend: 0)."""),
)

NAMES: Tuple[str, ...] = tuple(k.name for k in KERNELS)


def signature(kernel: Kernel) -> inspect.Signature:
    """The kernel's parameters as an ``inspect.Signature`` (names and defaults, every
    parameter positional-or-keyword)."""
    args = ast.parse(f'def {kernel.name}{kernel.params}: pass').body[0].args
    defaults = [ast.literal_eval(d) for d in args.defaults]
    first = len(args.args) - len(defaults)
    return inspect.Signature([
        inspect.Parameter(a.arg, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                          default=defaults[i - first] if i >= first else inspect.Parameter.empty)
        for i, a in enumerate(args.args)])
