"""The backend contract: the kernel functions every backend module provides.

A backend is a module that defines each function of ``KERNELS`` below with these
parameter names (and nothing else public), registered for a device type in
``fastcodec._backend.BACKENDS``: ``cpp`` (the compiled extension ``fastcodec._C``,
csrc/cpu) and ``numba`` (``fastcodec.backends.numba``) for host arrays, ``cuda``
(``fastcodec.backends.cuda.device``) for CUDA arrays and ``cuda-emulator`` (its kernels
on the host).
tests/core/test_backend_contract.py checks every available backend against this list.

The division of work (docs/design.md):

- The front (``fastcodec._arrays``, ``fastcodec._calls``, the codecs and ops) checks
  every argument, converts inputs to the dtypes named here (C-contiguous), and
  allocates the outputs: the parameters after ``|`` in a kernel's docstring below are
  output buffers, C-contiguous, of the shapes and dtypes named, uninitialised unless
  the docstring says zeroed. The kernel writes every element of an uninitialised
  buffer (zeros included) and returns None. ``_calls`` holds the one allocation of each kernel's outputs.
- A kernel asserts only memory safety: it rejects, with ValueError (TypeError for a
  wrong dtype), any shape, size or dtype it would otherwise read or write out of
  bounds, and never reads or writes outside its arrays. It gives the C++ backend's
  numbers (the parity and property tests compare the backends).
- B batch, N instances, K keypoints, R rows (any leading shape flattened). "In place"
  kernels update a float64 C-contiguous keypoints array.
- Denormal float32 values are flushed as the C++ flushes them (encoder outputs, maps
  being blurred): docs/deviations.md, tests/core/test_denormals.py.
"""
from __future__ import annotations

import ast
import inspect
from typing import Dict, NamedTuple, Tuple


class Kernel(NamedTuple):
    """One function of the contract: its name, its parameters as a Python parameter
    list (names and defaults, e.g. ``'(heatmaps, scale=(1.0, 1.0))'``), and what it
    takes and returns."""
    name: str
    params: str
    doc: str


KERNELS: Tuple[Kernel, ...] = (
    # ---- heatmap targets (heatmap_targets.h, heatmap_kernels.cpp) ---------------------
    Kernel('encode_gaussian', '(kind, keypoints, visible, sigma, scale, f32, heatmaps, '
                              'inside)', """
        keypoints f64 (B,N,K,2), visible f64 (B,N,K), sigma (N,) or (B,N), scale (sx, sy),
        f32 bool | heatmaps f32 (B,K,H,W), inside u8 (B,N,K). kind is 'msra',
        'unbiased' or 'udp'; inside is 0 where MMPose zeroes the weight. sigma is finite,
        in [0, MAX_SIGMA], one per instance (N,) or per sample and instance (B, N); a
        float32 sigma array gets MMPose's float32 patch radius and size (a float32 sigma
        array in numpy), a float64 one float64."""),
    Kernel('encode_offset', '(keypoints, visible, scale, f32, radius, heatmaps, inside)', """
        arguments as encode_gaussian | heatmaps f32 (B,3K,H,W), inside u8 (B,N,K): UDP
        'combined' targets, label, x offset and y offset per keypoint."""),
    Kernel('encode_megvii', '(keypoints, visible, scale, f32, ksize, heatmaps, inside)', """
        arguments as encode_gaussian, N <= 1, ksize odd in [1, MAX_BLUR_KERNEL] |
        heatmaps f32 (B,K,H,W), inside u8 (B,N,K): MegviiHeatmap's targets, a blurred
        impulse scaled to 255 at its peak."""),
    Kernel('instance_geometry', '(keypoints, visible, kpt_center, roots, roots_visible, '
                                'diagonals)', """
        keypoints f32|f64 (R,K,2), visible f64 (R,K), kpt_center bool | roots f32 (R,2),
        roots_visible f32 (R,), diagonals f32 (R,): DecoupledHeatmap's per-instance
        properties, bit-exact (fastcodec/instances.h)."""),
    Kernel('instance_sigmas', '(heights, widths, overlap, sigmas)', """
        heights (R,), widths (R,), both f32 or both f64 (the precision MMPose computes in),
        overlap | sigmas f32 (R,): DecoupledHeatmap's instance-wise sigmas, bit-exact."""),
    # ---- heatmap decoding (argmax.h, blur.h, refine.h) --------------------------------
    Kernel('heatmap_maximum', '(heatmaps, locs, vals)', """
        heatmaps f32 (..., H, W) | locs f32 (..., 2), vals f32 (...): the first maximum
        of each map (numpy's argmax rule), locs -1 where vals <= 0."""),
    Kernel('gaussian_blur', '(heatmaps, ksize, blurred)', """
        heatmaps f32 (..., H, W), ksize odd in [1, MAX_BLUR_KERNEL] | blurred f32
        (..., H, W), not heatmaps itself: MMPose's gaussian_blur (OpenCV's sigma-0
        kernel, then each map rescaled to its raw maximum)."""),
    Kernel('refine_sign', '(keypoints, heatmaps)', """
        keypoints f64 (B,N,K,2) updated in place, heatmaps f32 (B,K,H,W):
        refine_keypoints' 0.25 px step toward the higher neighbour."""),
    Kernel('refine_dark', '(keypoints, heatmaps, ksize)', """
        keypoints f64 (B,N,K,2) updated in place, heatmaps f32 (B,K,H,W), ksize:
        refine_keypoints_dark."""),
    Kernel('refine_dark_udp', '(keypoints, heatmaps, ksize, f32)', """
        keypoints f64 (B,N,K,2) updated in place, heatmaps f32 (B,K,H,W), ksize, f32 bool:
        refine_keypoints_dark_udp; f32: MMPose's index math in float32."""),
    Kernel('decode_msra', '(heatmaps, scale, locs, vals)', """
        heatmaps f32 (B,K,H,W), scale (sx, sy) | locs f32 (B,K,2), vals f32 (B,K): the
        argmax, then the 0.25 px step, locations times scale in float32."""),
    Kernel('decode_dark', '(heatmaps, ksize, udp, scale, locs, vals)', """
        heatmaps f32 (B,K,H,W), ksize, udp bool, scale (sx, sy) | locs f32 (B,K,2), vals
        f32 (B,K): the argmax, then the DARK (udp False) or DARK-UDP step, locations
        times scale in float32."""),
    Kernel('decode_megvii', '(heatmaps, ksize, locs, scores)', """
        heatmaps f32 (B,K,H,W), ksize | locs f32 (B,K,2) in heatmap pixels, scores f32
        (B,K): MegviiHeatmap.decode."""),
    Kernel('decode_udp_combined', '(heatmaps, ksize, radius, locs, scores)', """
        heatmaps f32 (B,3K,H,W), ksize, radius | locs f32 (B,K,2) in heatmap pixels,
        scores f32 (B,K): UDPHeatmap('combined').decode."""),
    # ---- regression (regression.h) ----------------------------------------------------
    Kernel('encode_regression', '(keypoints, visible, input_size, labels, weights)', """
        keypoints f32|f64 (..., 2), visible f32|f64 (...), input_size (w, h) | labels f32
        (..., 2), weights f32 (...): RegressionLabel's targets, labels 0 where they would
        not be finite (weight 0 there)."""),
    Kernel('decode_regression', '(encoded, input_size, f32, keypoints, scores)', """
        encoded f32|f64 (..., D), D = 2 or 4, input_size (w, h), f32 bool | keypoints
        f64 (..., 2), scores (...) float32 for D = 2 or f32, else float64."""),
    Kernel('normalize_heatmaps', '(heatmaps)', """
        heatmaps f32 (..., H, W) updated in place: each map divided by (its sum + 1e-24)."""),
    # ---- SimCC (simcc.h) --------------------------------------------------------------
    Kernel('simcc_encode', '(keypoints, visible, gaussian, sigma, ratio, f32, '
                           'label_smooth_weight, normalize, x_labels, y_labels, inside)', """
        keypoints f64 (B,N,K,2), visible f64 (B,N,K), gaussian bool, sigma (sigma_x,
        sigma_y), ratio, f32 bool, label_smooth_weight, normalize bool | x_labels f32
        (B,N,K,W), y_labels f32 (B,N,K,H), inside u8 (B,N,K)."""),
    Kernel('simcc_maximum', '(simcc_x, simcc_y, locs, vals)', """
        simcc_x f32 (R,Wx), simcc_y f32 (R,Wy) | locs f32 (R,2), vals f32 (R,):
        get_simcc_maximum on rows."""),
    Kernel('simcc_decode', '(simcc_x, simcc_y, kx, ky, ratio, beta, sigma, locs, vals, '
                           'visible)', """
        simcc_x f32 (R,Wx), simcc_y f32 (R,Wy), kx, ky blur kernel sizes (0 skips DARK),
        ratio, beta, sigma (sigma_x, sigma_y) | locs f32 (R,2) in input pixels, vals f32
        (R,), visible f64 (R,) or (0,) (the visibility is computed when it has R
        entries)."""),
    Kernel('simcc_refine_dark', '(keypoints, simcc, blur_kernel_size, refined)', """
        keypoints f32 (R,), simcc f32 (R,W), blur_kernel_size odd in [1, MAX_BLUR_KERNEL]
        | refined f32 (R,): refine_simcc_dark."""),
    # ---- SPR (spr.h) ------------------------------------------------------------------
    Kernel('spr_encode_displacements', '(keypoints, visible, roots, roots_visible, '
                                       'diagonals, radius, radius_f32, displacements, '
                                       'weights)', """
        keypoints f64 (B,N,K,2) in heatmap pixels, visible f64 (B,N,K), roots f32 (B,N,2),
        roots_visible f32 (B,N), diagonals f32 (B,N), radius, radius_f32 bool |
        displacements f32 (B,2K,H,W), weights f32 (B,2K,H,W), both zeroed: SPR's
        displacement targets; only the windows around the roots are written (pages of
        a calloc'ed buffer outside them are never touched)."""),
    Kernel('spr_decode', '(heatmaps, displacements, nms_kernel, threshold, scale, '
                         'keypoints, root_scores, keypoint_scores, counts)', """
        heatmaps f32 (B,C,H,W), displacements f32 (B,2K,H,W), nms_kernel odd, threshold,
        scale (sx, sy) | keypoints f32 (B,M,K,2), root_scores f32 (B,M), keypoint_scores
        f32 (B,M,K) (then C = K + 1: keypoint heatmaps rescore) or (B,M,0), counts int64
        (B,): at most M <= H*W instances per sample, sample b's are its first counts[b]
        rows (what a kernel writes in the rows after them is unspecified)."""),
    # ---- pose lifting (lifting.h) -----------------------------------------------------
    Kernel('motionbert_encode', '(keypoints, visible, target, params, factor, take_given, '
                                'root_index, project, train, target_visible, labels, '
                                'target_label, computed_factor, weights)', """
        keypoints (B,N,K,D) f32|f64, visible (B,N,K) of the keypoints' dtype or None,
        target (B,T,K,C) f32|f64, params f64 (B,8), factor f64 (B,L), take_given u8 (B,),
        root_index, project bool, train bool, target_visible (B,T,K) f32|f64 or None |
        labels (B,N,K,D[+1 with visible]) of the keypoints' dtype, target_label (B,T,K,C)
        of the target's dtype, computed_factor (B,T) (project) or (B,0) of the target's
        dtype, weights f32
        (B,T,K) (with target_visible) or None: MotionBERTLabel's encode in one pass;
        weights is target_visible > 0.5. params per sample: T(w)/2, h/w, T(w/1000)/2,
        (h/1000)/(w/1000), fx, fy, cx, cy (f, c / 1000); in test mode sample b
        multiplies by factor[b] where take_given[b], else by the computed factor.
        Returns whether every value of keypoints and target is finite (the front zeroes
        what a non-finite one touched only when not); the device backends return None
        (reading a flag back would synchronise the host): the front then zeroes
        unconditionally, on the device."""),
    Kernel('all_finite', '(a, b)', """
        a, b f32|f64 (any shape and layout) -> bool: whether every value of both is
        finite (the lifting codecs' test of keypoints and target, per sample and
        batched, before their non-finite pass; a batch may take several threads); the
        device backends return None (reading the answer back would synchronise the
        host: the front then runs the pass)."""),
    # ---- Hand3DHeatmap (hand3d.h, hand3d_kernels.cpp) ----------------------------------
    Kernel('hand3d_encode', '(keypoints, sigma, f32, image_size, depth_bound, max_bound, '
                            'heatmaps, inside)', """
        keypoints f64 (B,N,K,3) (x, y in image pixels, depth), sigma f64 (B,N) in (0,
        MAX_SIGMA], f32 bool (the keypoints were float32), image_size (w, h), depth_bound,
        max_bound > 0 (the float32 scale of every value) | heatmaps f32 (B,K,D,H,W)
        zeroed, inside u8 (B,N,K): only the Gaussian windows of the volume are written
        (most of it stays zero: the front maps lazily zeroed pages); inside gets MMPose's
        depth-range factor (mu_z in [0, D))."""),
    # ---- SimCC3DLabel (simcc.h, simcc_kernels.cpp) ------------------------------------
    Kernel('simcc3d_encode', '(keypoints, visible, sigma, ratio, f32, normalize, x_labels, '
                             'y_labels, z_labels, inside)', """
        keypoints f64 (B,N,K,3) (x, y, depth in input units), visible f64 (B,N,K), sigma
        (sx, sy, sz), ratio, f32 bool, normalize bool | x_labels f32 (B,N,K,W), y_labels
        f32 (B,N,K,H), z_labels f32 (B,N,K,D), inside u8 (B,N,K): SimCCLabel's Gaussian
        labels on three axes."""),
    # ---- AssociativeEmbedding (associative_embedding.h, ae_kernels.cpp) ---------------
    Kernel('ae_decode', '(heatmaps, tags, order, nms_kernel, topk, val_thr, tag_thr, '
                        'max_instances, udp, blur_kernel, center_shift, scale, keypoints, '
                        'scores, instance_scores, counts)', """
        heatmaps f32 (B,K,H,W), tags f32 (B,L*K,H,W), order int64 (K,) in [0, K),
        nms_kernel odd, topk in [0, H*W], val_thr, tag_thr, max_instances (a Python slice
        end; INT64_MAX for None), udp bool, blur_kernel odd (udp), center_shift, scale
        (sx, sy) | keypoints f32 (B,G,K,2), scores f32 (B,G,K), instance_scores f32
        (B,G), counts int64 (B,): AssociativeEmbedding.batch_decode, image b's instances
        being its first counts[b] rows (G bounds every count; what a kernel writes in
        the rows after them is unspecified)."""),
    # ---- threads (parallel.h) ---------------------------------------------------------
    Kernel('num_threads', '()', """
        -> int: the most threads one call may use (a single-threaded backend: 1)."""),
    Kernel('set_num_threads', '(n)', """
        n -> None: that limit, 0 (or n < 0) = one per CPU the process may run on (its
        affinity on Linux; elsewhere one per core). A single-threaded backend accepts it
        and stays single-threaded."""),
    Kernel('pool_calls', '()', """
        -> int: how many calls so far ran on more than one thread (tests; a
        single-threaded backend: 0)."""),
)

NAMES: Tuple[str, ...] = tuple(k.name for k in KERNELS)

# The output buffers of each kernel (its last parameters, allocated by the front:
# fastcodec._calls); kernels not listed update their arguments in place or take no arrays.
OUTPUTS: Dict[str, Tuple[str, ...]] = dict(
    encode_gaussian=('heatmaps', 'inside'), encode_offset=('heatmaps', 'inside'),
    encode_megvii=('heatmaps', 'inside'),
    instance_geometry=('roots', 'roots_visible', 'diagonals'), instance_sigmas=('sigmas',),
    heatmap_maximum=('locs', 'vals'), gaussian_blur=('blurred',),
    decode_msra=('locs', 'vals'), decode_dark=('locs', 'vals'),
    decode_megvii=('locs', 'scores'), decode_udp_combined=('locs', 'scores'),
    encode_regression=('labels', 'weights'), decode_regression=('keypoints', 'scores'),
    simcc_encode=('x_labels', 'y_labels', 'inside'), simcc_maximum=('locs', 'vals'),
    simcc_decode=('locs', 'vals', 'visible'), simcc_refine_dark=('refined',),
    spr_encode_displacements=('displacements', 'weights'),
    spr_decode=('keypoints', 'root_scores', 'keypoint_scores', 'counts'),
    motionbert_encode=('labels', 'target_label', 'computed_factor', 'weights'),
    hand3d_encode=('heatmaps', 'inside'),
    simcc3d_encode=('x_labels', 'y_labels', 'z_labels', 'inside'),
    ae_decode=('keypoints', 'scores', 'instance_scores', 'counts'),
)


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
