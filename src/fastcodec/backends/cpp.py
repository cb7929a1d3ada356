"""The C++ backend: the compiled extension ``fastcodec._C`` (csrc/cpu).

Functions, all on C-contiguous numpy arrays (B batch, N instances, K keypoints):

- ``encode_gaussian(kind, keypoints f64 (B,N,K,2), visible f64 (B,N,K), sigma (N,) or (B,N),
  scale (sx, sy), f32, W, H) -> (heatmaps f32 (B,K,H,W), inside u8 (B,N,K))``;
  kind is 'msra', 'unbiased' or 'udp'; inside is 0 where MMPose zeroes the weight.
  sigma is finite, in [0, 1e4], one per instance (N,) or per sample and instance (B, N);
  a float32 sigma array gets MMPose's float32 patch radius and size (a float32 sigma
  array in numpy), any other dtype float64.
- ``encode_offset(keypoints, visible, scale, f32, W, H, radius) -> (heatmaps (B,3K,H,W), inside)``
- ``encode_megvii(keypoints, visible, scale, f32, W, H, ksize) -> (heatmaps, inside)``
- ``instance_geometry(keypoints f32|f64 (R,K,2), visible f64 (R,K), kpt_center) -> (roots f32
  (R,2), root visibility f32 (R,), box diagonals f32 (R,))``: DecoupledHeatmap's per-instance
  properties, bit-exact (fastcodec/instances.h)
- ``instance_sigmas(heights (R,), widths (R,) f32|f64, overlap) -> sigmas f32 (R,)``: its
  instance-wise sigmas, bit-exact
- ``heatmap_maximum(heatmaps (..., H, W)) -> (locs (..., 2), vals (...))``
- ``gaussian_blur(heatmaps (..., H, W), ksize) -> heatmaps``
- ``refine_sign / refine_dark / refine_dark_udp(keypoints f64 (B,N,K,2), heatmaps (B,K,H,W), ...)``:
  in place
- ``decode_msra(heatmaps (B,K,H,W), scale=(1, 1)) -> (locs f32 (B,K,2), vals (B,K))``: argmax then
  the 0.25 px step, locations times scale in float32
- ``decode_dark(heatmaps (B,K,H,W), ksize, udp, scale=(1, 1)) -> (locs f32 (B,K,2), vals (B,K))``:
  argmax then the DARK or DARK-UDP step, locations times scale in float32
- ``decode_megvii(heatmaps, ksize)``, ``decode_udp_combined(heatmaps (B,3K,H,W), ksize, radius)``
  ``-> (locs f32 (B,K,2), scores f32 (B,K))`` in heatmap pixels
- ``encode_regression(keypoints (..., 2), visible (...), input_size (w, h))
  -> (labels f32 (..., 2), weights f32 (...))``: RegressionLabel's targets; float32 and
  float64 C-contiguous inputs are read as they are, others converted to float64
- ``decode_regression(encoded (..., D), input_size, f32) -> (keypoints f64 (..., 2),
  scores (...))``, D = 2 or 4; scores float32 for D = 2 or f32, else float64
- ``normalize_heatmaps(heatmaps f32 (..., H, W))``: each map / (its sum + 1e-24), in place
- ``simcc_encode(keypoints f64 (B,N,K,2), visible f64 (B,N,K), gaussian, (sigma_x, sigma_y),
  ratio, f32, W, H, label_smooth_weight, normalize) -> (x_labels f32 (B,N,K,W), y_labels
  (B,N,K,H), inside u8 (B,N,K))``
- ``simcc_maximum(simcc_x f32 (R,Wx), simcc_y f32 (R,Wy)) -> (locs f32 (R,2), vals (R,))``
- ``simcc_decode(simcc_x (R,Wx), simcc_y (R,Wy), kx, ky, ratio, visibility, beta, sigma)
  -> (locs f32 (R,2) in input pixels, vals f32 (R,), visibility f64 (R,) or (0,))``;
  kx = ky = 0 skips DARK
- ``simcc_refine_dark(x f32 (R,), simcc f32 (R,W), ksize) -> x refined (R,)``
- ``spr_encode_displacements(keypoints f64 (B,N,K,2) in heatmap pixels, visible f64 (B,N,K),
  roots f32 (B,N,2), roots_visible f32 (B,N), diagonals f32 (B,N), radius, radius_f32, W, H)
  -> (displacements f32 (B,2K,H,W), weights f32 (B,2K,H,W))``: SPR's displacement targets
- ``spr_decode(heatmaps f32 (B,C,H,W), displacements f32 (B,2K,H,W), nms_kernel, max_instances,
  threshold, keypoint_scores, scale) -> (keypoints f32 (B,M,K,2), root_scores (B,M),
  keypoint_scores (B,M,K or 0), counts int64 (B,))``, M = min(max_instances, H*W); sample b's
  instances are its first counts[b] rows
- ``motionbert_encode(keypoints (B,N,K,D) f32|f64, visible (B,N,K) keypoints' dtype or None,
  target (B,T,K,C) f32|f64, params f64 (B,8), factor f64 (B,L), take_given u8 (B,), root_index,
  project, train, target_visible=None (B,T,K) f32|f64) -> (labels (B,N,K,D[+1]) keypoints'
  dtype, target label (B,T,K,C) target's dtype, computed factor (B,T) or (B,0), weights f32
  (B,T,K) of target_visible > 0.5 or None)``: MotionBERTLabel's encode in one pass;
  params per sample: T(w)/2, h/w, T(w/1000)/2, (h/1000)/(w/1000), fx, fy, cx, cy (f, c / 1000);
  in test mode sample b multiplies by factor[b] where take_given[b], else by the computed factor
- ``num_threads()``, ``set_num_threads(n)``; ``pool_calls()``: how many calls so far ran
  on more than one thread (tests)
"""
from fastcodec._C import (decode_dark, decode_megvii, decode_msra, decode_udp_combined, encode_gaussian,  # noqa: F401
                          encode_megvii, encode_offset, gaussian_blur, heatmap_maximum,
                          instance_geometry, instance_sigmas,
                          num_threads, pool_calls, refine_dark, refine_dark_udp, refine_sign,
                          set_num_threads)
from fastcodec._C import decode_regression, encode_regression, normalize_heatmaps  # noqa: F401
from fastcodec._C import simcc_decode, simcc_encode, simcc_maximum, simcc_refine_dark  # noqa: F401
from fastcodec._C import spr_decode, spr_encode_displacements  # noqa: F401
from fastcodec._C import motionbert_encode  # noqa: F401
