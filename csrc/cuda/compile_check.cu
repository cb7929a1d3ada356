// Compiles every shared math header for the device, with kernels that call (and so
// instantiate) their functions: tests/core/test_cuda_compile.py compiles this file with NVRTC
// (sm_80, sm_90) and with nvcc where installed. The kernels proper: the other files here.
#include "fastcodec/argmax.h"
#include "fastcodec/blur.h"
#include "fastcodec/common.h"
#include "fastcodec/hand3d.h"
#include "fastcodec/heatmap_targets.h"
#include "fastcodec/refine.h"
#include "fastcodec/simcc.h"
#include "fastcodec/spr.h"

using namespace fastcodec;

__global__ void k_common(const double* v, int64_t* out) {
  out[0] = trunc_i64(v[0]) + round_half_up(v[1], true) + (coord_is_usable(v[2]) ? 1 : 0) +
           (int64_t)scale_coord(v[3], 4.f, false) + min_i64(1, 2) + max_i64(1, 2) +
           (int64_t)sign_f32((float)v[4]) + (int64_t)fc_exp(1.0) + (int64_t)fc_exp(1.f);
}

__global__ void k_targets(const double* p, float* out) {
  const PatchGeometry g = patch_geometry(p[0]);
  const PatchWindow w = patch_window(p[1], p[2], false, g.radius);
  out[0] = patch_misses(w, 48, 64) ? 0.f : msra_patch_value(1, 2, (float)g.centre, 8.f);
  out[1] = (float)udp_patch_factor(3, g.centre, p[1], w.mu_x, 8.0);
  out[2] = unbiased_misses<float>(1.f, 2.f, 6.f, 48, 64) ? 0.f : unbiased_factor<float>(3, 1.f, 8.f);
  out[3] = (float)unbiased_factor<double>(3, 1.0, 8.0);
  const double ox = offset_along(4, p[1], 3.5), oy = offset_along(5, p[2], 3.5);
  out[4] = offset_label(ox, oy * oy) + (float)ox + (float)reflect101(-3, 10);
}

__global__ void k_argmax(const float* v, int64_t n, float* out) {
  const Maximum m = first_argmax(v, n);
  maximum_location(m, 8, out, out + 1);
}

__global__ void k_blur(const float* v, float* out) {
  float w[kMaxBlurKernel];
  opencv_gaussian_kernel(11, w);
  auto at = [&](int i) { return v[16 + i]; };
  out[0] = opencv_row_sum(w, 5, at) + opencv_row_sum_tail(w, 5, at) +
           opencv_column_sum(w, 5, at) + opencv_column_sum_tail(w, 5, at) +
           blur_rescale(1.f, 2.f) + (float)(opencv_row_simd_end(54) + opencv_column_simd_end(54));
}

__global__ void k_refine(const float* h, double* out) {
  Offset o = sign_step(h, 8, 8, 3, 3);
  if (megvii_applies(8, 8, 3, 3)) o.dx += megvii_shift(h[0], h[1], h[2], h[3]).dx;
  auto L = [&](int dx, int dy) { return dark_log(h[(3 + dy) * 8 + 3 + dx]); };
  Offset d;
  if (dark_step(L, 8, 8, 3, 3, &d)) o.dy += d.dy;
  float v[7];
  for (int i = 0; i < 7; ++i) v[i] = dark_udp_log(h[i]);
  const Offset u = dark_udp_step(v);
  out[0] = o.dx + o.dy + u.dx + u.dy;
}

// The rules moved out of csrc/cpu (issue 13): the drawn keypoint, Megvii's impulse,
// the refinements' pixel and flat indices, SimCC's one-hot label, SPR's instances.
__global__ void k_moved_rules(const double* p, const float* f, double* out) {
  double x, y;
  bool inside;
  int64_t kx, ky, ch, px, py;
  out[0] = scaled_point(p[0], p[1], 2.f, 2.f, true, &x, &y) ? x + y : 0.0;
  out[1] = point_to_draw(p[0], p[1], p[2], 2.f, 2.f, false, &x, &y, &inside) ? x : y;
  out[2] = megvii_impulse_pixel(x, y, 48, 64, &kx, &ky) ? (double)(kx + ky) : 0.0;
  out[3] = megvii_impulse_tap(-3, 48, kx) + megvii_normalize(f[0], f[1]) + megvii_score(f[2]);
  out[4] = keypoint_pixel(p[0], p[1], &kx, &ky) && dark_applies(48, 64, kx, ky) ? 1.0 : 0.0;
  const int64_t c = dark_udp_centre(p[0], p[1], 3, 48, 64, true);
  out[5] = dark_udp_neighbour(c, 4, 17, 48, 64, &ch, &px, &py) ? (double)(ch + px + py) : 0.0;
  out[6] = (double)udp_combined_index(f[0], f[1], 3, 48, 64, 17);
  out[7] = simcc_keypoint_drawn(p[2]) && simcc_onehot_inside(3, 4, 384, 512)
               ? simcc_smoothing(0.1, 384) + simcc_onehot_peak(0.1) + simcc_location(f[0], 2.0)
               : simcc_visibility(p[0], p[1]);
  out[8] = spr_root_kept(f[0], 0.01f) ? spr_keypoint_coordinate(kx, f[1]) : 0.f;
}

// ---- regression.h (RegressionLabel / IntegralRegressionLabel) ----------------------
#include "fastcodec/regression.h"

__global__ void k_regression_label(const double* p, float* out) {
  out[0] = regression_label(p[0], 192.0);
  if (!regression_labels_finite(out[0], out[0])) out[0] = 0.f;
}

__global__ void k_regression_inside(const double* p, int* out) {
  out[0] = regression_inside(p[0], p[1], 192.0, 256.0) ? 1 : 0;
}

__global__ void k_regression_weight(const double* p, float* out) {
  out[0] = regression_weight(p[0], p[1], p[2], 192.0, 256.0);
}

__global__ void k_regression_coord(const double* p, double* out) {
  out[0] = regression_coord(p[0], 192.0);
}

__global__ void k_sigma_score(const float* s, const double* d, float* out, double* out64) {
  out[0] = sigma_score(s[0], s[1]);
  out64[0] = sigma_score(d[0], d[1]);
}

__global__ void k_heatmap_normalizer(const float* h, double sum, float* out) {
  out[0] = normalized_value(h[0], heatmap_normalizer(sum));
}
// ---- end regression.h ----------------------------------------------------------------

// ---- SimCC (fastcodec/simcc.h) ------------------------------------------------------
#include "fastcodec/simcc.h"

__global__ void k_simcc_label(const double* kp, float* out) {
  const int64_t mu = simcc_bin(kp[0], 2.f, 2.0, true) + simcc_bin(kp[1], 1.5f, 1.5, false);
  out[0] = simcc_gaussian_label(threadIdx.x, mu, 4.9, true) +
           (simcc_gaussian_inside(mu, 4.9, 384) ? 1.f : 0.f) + (float)simcc_dark_kernel_size(4.9);
}

__global__ void k_simcc_maximum(const float* x, const float* y, float* out) {
  out[2] = simcc_pair_maximum(first_argmax(x, 384), first_argmax(y, 512), out, out + 1);
}

__global__ void k_simcc_visibility(const float* x, double* out) {
  out[0] = simcc_softmax_max(x, 384, 150.f, 4.9);
}

__global__ void k_simcc_dark(const float* v, float* out) {
  float w[kMaxBlurKernel];
  opencv_gaussian_kernel(29, w);
  const float b = simcc_blur_at(v, 384, w, 14, 100);
  float x = 100.f;
  simcc_dark_step([&](int64_t o) { return simcc_dark_log(v[o] * b); }, 384, &x);
  out[0] = x;
}
// ---- end SimCC ------------------------------------------------------------------------

// ---- SPR (fastcodec/spr.h) --------------------------------------------------------------
#include "fastcodec/spr.h"

__global__ void k_spr_encode(const float* r, const double* k, float* d) {
  if (!spr_root_usable(r[0], r[1], r[2], 128, 128) || !spr_keypoint_usable(k[0], k[1], 1.0, 128, 128))
    return;
  const SprSpan sx = spr_span(r[0], 4.0, true, 128), sy = spr_span(r[1], 4.0, false, 128);
  spr_displacement_update(d, d + 1, d + 2, d + 3, d + 4, k[0], k[1], sx.begin, sy.end, r[3],
                          spr_displacement_weight(r[3]));
}

__global__ void k_spr_decode(const float* m, float* out) {
  out[0] = spr_nms_value(m[0], spr_max(m[0], m[1])) +
           spr_bilinear(m, 8, 8, spr_sample_coordinate(m[2], 8), spr_sample_coordinate(m[3], 8));
  SprCandidate c[8];
  for (int i = 0; i < 8; ++i) c[i] = SprCandidate{m[i], i};
  if (spr_partial_sort_path(2, 8)) spr_partial_sort(c, 2, 8);
  spr_nth_element(c, 3, 8);
  spr_sort(c, 3);
  out[1] = c[0].value;
}
// ---- end SPR ----------------------------------------------------------------------------

// ---- instances (fastcodec/instances.h) ---------------------------------------------------
#include "fastcodec/instances.h"

__global__ void k_instances(const float* kps, const double* vis, const double* box, float* out) {
  const InstanceGeometry g = one_instance_geometry(kps, vis, 17, true);
  out[0] = g.root_x + g.root_y + g.root_visible + g.diagonal;
  out[1] = instance_sigma(box[0], box[1], 0.7, box[2]) + instance_sigma((float)box[0], 2.f, 0.7, 2.f);
}

// ---- MotionBERTLabel (fastcodec/lifting.h) ----------------------------------------------
#include "fastcodec/lifting.h"

template <typename T>
__global__ void k_motionbert(const T* v, const double* prm, T* out) {
  const MotionBertSample s{prm[0], prm[1], prm[2], prm[3], prm[4], prm[5], prm[6], prm[7]};
  T ratio, factor, p[3], pr[3];
  motionbert_root_scale<T>(v[0], v[2], s.fx, s.cx, &ratio, &factor);
  motionbert_project<T>(v[0], v[1], v[2], v[2], ratio, s, pr);
  motionbert_project<T>(v[3], v[4], v[5], v[2], ratio, s, p);
  motionbert_train_scale<T>(p, s);
  motionbert_train_scale<T>(pr, s);
  out[0] = motionbert_label_x<T>(v[6], s.half_w) + motionbert_label_y<T>(v[7], s.half_w, s.hw_ratio);
  out[1] = motionbert_train_value<T>(p[0], pr[0]) + motionbert_test_value<T>(p[1], pr[1], (double)factor) +
           lifting_to_pixel<T>(v[8], v[5], s.fy, s.cy) + lifting_weight<T>(v[9]) +
           (motionbert_factor_is_exact<T>(prm[0]) ? motionbert_test_value_exact<T>(p[2], pr[2], factor)
                                                 : T(0));
}
template __global__ void k_motionbert<float>(const float*, const double*, float*);
template __global__ void k_motionbert<double>(const double*, const double*, double*);
// ---- end MotionBERTLabel ------------------------------------------------------------------

__global__ void k_hand3d(const double* p, float* out) {
  const double mx = hand3d_centre_xy(p[0], 64, 256.0), my = hand3d_centre_xy(p[1], 64, 256.0);
  const double mz = hand3d_centre_z(p[2], 400.0, 64, true);
  const int64_t L = hand3d_window_length(7.5);
  const int64_t x = hand3d_voxel(L - 1, 7.5, mx, 64), y = hand3d_voxel(0, 7.5, my, 64);
  const double f = hand3d_axis_factor((double)x - mx, 2.5);
  const float g = hand3d_rounds_clear(f) ? (float)f : hand3d_gaussian(x, y, 3, mx, my, mz, 2.5);
  out[0] = hand3d_scaled(g, 255.f) + (hand3d_depth_inside(mz, 64) && hand3d_finite(mx) ? 1.f : 0.f);
}

// ---- AssociativeEmbedding (fastcodec/associative_embedding.h) -------------------------
#include "fastcodec/associative_embedding.h"

__global__ void k_ae(const float* tags, const double* cost, double* C, uint8_t* marked,
                     uint8_t* row_cov, uint8_t* col_cov, int64_t* path, float* out) {
  MunkresWork w{C, marked, row_cov, col_cov, path};
  const bool ok = munkres_solve(cost, 3, 4, w);
  const int64_t c = munkres_star_in_row(w, 4, 1);
  const double d = (double)numpy_pairwise_sum(tags, 200, 1) + numpy_pairwise_sum(cost, 12, 1);
  out[0] = numpy_mean_of_tags(tags, 9, 2, 1) + ae_fill_cost(tags[0], tags[1]) +
           (float)ae_group_cost(d, cost[0]) + (ok ? (float)c : 0.f);
  int64_t ch, y, x;
  const int64_t q = dark_udp_centre_f32(tags[2], tags[3], 5, 64, 48);
  out[1] = padded_pixel(q, 17, 64, 48, &ch, &y, &x) ? (float)clip_i64(ch + y + x, 0, 99) : 0.f;
  munkres_clear_covers(w, 4);
}
