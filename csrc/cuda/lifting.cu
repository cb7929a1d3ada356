// CUDA kernels of MotionBERTLabel's encode (the backend contract's motionbert_encode):
// the per-element math of fastcodec/lifting.h, the functions the CPU loop
// (csrc/cpu/lifting_kernels.cpp) runs, so the device rounds step by step as numpy does.
// Two kernels per dtype (f: float32, d: float64), both one thread per keypoint and
// grid-stride (block 256); launch parameters: backends/cuda/launch.py.
//
// Not computed here: whether the inputs are finite. The CPU backends report it so
// that the front's non-finite pass runs only when needed; on the device reading such
// a flag back would synchronise the host, so the device front applies its masks
// unconditionally instead (fastcodec.codecs.motionbert_label).
#include "cuda_compat.cuh"
#include "fastcodec/lifting.h"

using namespace fastcodec;
using namespace fastcodec::cuda;

namespace {

__device__ __forceinline__ MotionBertSample motionbert_sample(const double* p) {
  return MotionBertSample{p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]};
}

// keypoint_labels: one thread per keypoint (B * NK of them, D coordinates each).
// visible (B * NK) or unused (has_visible 0): written as channel D when given.
template <typename KT>
__device__ __forceinline__ void motionbert_labels(const KT* kp, const KT* visible,
                                                  int has_visible, int64_t B, int64_t NK,
                                                  int64_t D, const double* params,
                                                  KT* labels) {
  const int64_t E = D + (has_visible != 0);
  for (int64_t i = global_thread(); i < B * NK; i += grid_threads()) {
    const MotionBertSample s = motionbert_sample(params + 8 * (i / NK));
    const KT* p = kp + i * D;
    KT* l = labels + i * E;
    l[0] = motionbert_label_x<KT>(p[0], s.half_w);
    l[1] = motionbert_label_y<KT>(p[1], s.half_w, s.hw_ratio);
    for (int64_t j = 2; j < D; ++j) l[j] = p[j];
    if (has_visible) l[D] = visible[i];
  }
}

// One keypoint's target (C = 3) before the root subtraction: projected, train-scaled
// (the CPU's target_point).
template <typename LT>
__device__ __forceinline__ void motionbert_point(const LT* in, LT z_root, LT ratio,
                                                 const MotionBertSample& s, int project,
                                                 int train, LT* p) {
  if (project) {
    motionbert_project<LT>(in[0], in[1], in[2], z_root, ratio, s, p);
  } else {
    p[0] = in[0], p[1] = in[1], p[2] = in[2];
  }
  if (train) motionbert_train_scale<LT>(p, s);
}

// target_label, computed_factor and weights: one thread per target keypoint (b, t, k)
// of B * T * K. Each thread projects its frame's root itself (a few flops: cheaper
// than a second launch and a scratch array); thread k = 0 writes the frame's computed
// factor. factor (B, L), L = 1 or T; take_given (B,); target_visible (B, T, K) as
// float64 (exact for float32 visibilities) or unused (has_weights 0).
template <typename LT>
__device__ __forceinline__ void motionbert_target(
    const LT* target, int64_t B, int64_t T, int64_t K, int64_t C, int64_t root, int project,
    int train, const double* params, const double* factor, int64_t L,
    const unsigned char* take_given, const double* target_visible, int has_weights, LT* out,
    LT* computed, float* weights) {
  for (int64_t i = global_thread(); i < B * T * K; i += grid_threads()) {
    const int64_t k = i % K, frame = i / K, t = frame % T, b = frame / T;
    if (has_weights) weights[i] = lifting_weight<double>(target_visible[i]);
    const LT* row = target + frame * K * C;
    LT* o = out + i * C;
    const bool given = !train && take_given[b];
    const double f_given = factor[b * L + (L == 1 ? 0 : t)];
    if (!project && !train) {  // any C: the root subtraction and the factor only
      const double f = given ? f_given : 4.0;
      for (int64_t j = 0; j < C; ++j)
        o[j] = motionbert_test_value<LT>(row[k * C + j], row[root * C + j], f);
      continue;
    }
    // C = 3 (checked by the launch code)
    const MotionBertSample s = motionbert_sample(params + 8 * b);
    LT ratio = 0, fac = 4;
    const LT z_root = project ? row[root * 3 + 2] : LT(0);
    if (project) {
      motionbert_root_scale<LT>(row[root * 3], z_root, s.fx, s.cx, &ratio, &fac);
      if (k == 0) computed[frame] = fac;
    }
    LT pr[3], p[3];
    motionbert_point<LT>(row + root * 3, z_root, ratio, s, project, train, pr);
    motionbert_point<LT>(row + k * 3, z_root, ratio, s, project, train, p);
    const double f = given ? f_given : (double)fac;
    for (int j = 0; j < 3; ++j) {
      if (train)
        o[j] = motionbert_train_value<LT>(p[j], pr[j]);
      else if (motionbert_factor_is_exact<LT>(f))
        o[j] = motionbert_test_value_exact<LT>(p[j], pr[j], (LT)f);
      else
        o[j] = motionbert_test_value<LT>(p[j], pr[j], f);
    }
  }
}

}  // namespace

// ---- motionbert_encode: keypoint labels ----------------------------------------------------
extern "C" __global__ void fc_motionbert_labels_f(const float* kp, const float* visible,
                                                  int has_visible, int64_t B, int64_t NK,
                                                  int64_t D, const double* params,
                                                  float* labels) {
  motionbert_labels<float>(kp, visible, has_visible, B, NK, D, params, labels);
}

extern "C" __global__ void fc_motionbert_labels_d(const double* kp, const double* visible,
                                                  int has_visible, int64_t B, int64_t NK,
                                                  int64_t D, const double* params,
                                                  double* labels) {
  motionbert_labels<double>(kp, visible, has_visible, B, NK, D, params, labels);
}

// ---- motionbert_encode: target label, computed factor, weights -------------------------------
extern "C" __global__ void fc_motionbert_target_f(const float* target, int64_t B, int64_t T,
                                                  int64_t K, int64_t C, int64_t root,
                                                  int project, int train, const double* params,
                                                  const double* factor, int64_t L,
                                                  const unsigned char* take_given,
                                                  const double* target_visible,
                                                  int has_weights, float* out,
                                                  float* computed, float* weights) {
  motionbert_target<float>(target, B, T, K, C, root, project, train, params, factor, L,
                           take_given, target_visible, has_weights, out, computed, weights);
}

extern "C" __global__ void fc_motionbert_target_d(const double* target, int64_t B, int64_t T,
                                                  int64_t K, int64_t C, int64_t root,
                                                  int project, int train, const double* params,
                                                  const double* factor, int64_t L,
                                                  const unsigned char* take_given,
                                                  const double* target_visible,
                                                  int has_weights, double* out,
                                                  double* computed, float* weights) {
  motionbert_target<double>(target, B, T, K, C, root, project, train, params, factor, L,
                            take_given, target_visible, has_weights, out, computed, weights);
}
