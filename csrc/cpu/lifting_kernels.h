// CPU loop of MotionBERTLabel's encode. Arrays are C-contiguous.
#pragma once

#include <cstdint>

namespace fastcodec {

// One pass over a batch, each element computed by fastcodec/lifting.h.
//   keypoints (B, N, K, D) KT; visible (B, N, K) KT or null: written as channel D of
//   labels when not null; labels (B, N, K, D + (visible != null)) KT.
//   target (B, T, K, C) LT (C = 3 when project or train); out (B, T, K, C) LT;
//   computed (B, T) LT: the projection's factor (written when project).
//   params (B, 8) float64: MotionBertSample per sample.
//   factor (B, L) float64 (L = 1 or T) and take_given (B,): in test mode, sample b
//   multiplies by factor[b] when take_given[b], else by the computed factor (4 without
//   a projection).
//   target_visible (B, T, K) float32 (visible_f32) or float64, or null: weights (B, T, K)
//   float32 = lifting_weight(target_visible) when not null.
// Returns whether every value of keypoints and target is finite: the front's
// non-finite pass (fastcodec.codecs._lifting) runs only when one is not, without a
// second read of the batch.
template <typename KT, typename LT>
bool motionbert_encode(const KT* keypoints, const KT* visible, int64_t B, int64_t N, int64_t K,
                       int64_t D, KT* labels, const LT* target, int64_t T, int64_t C,
                       int64_t root, bool project, bool train, const double* params,
                       const double* factor, int64_t L, const uint8_t* take_given, LT* out,
                       LT* computed, const void* target_visible, bool visible_f32,
                       float* weights);

// Whether n values are all finite (neither NaN nor +-Inf).
template <typename T>
bool all_finite(const T* v, int64_t n);

// One C-contiguous float array: n values, float32 if f32 else float64.
struct FloatSpan {
  const void* data;
  int64_t n;
  bool f32;
};

// Below this many values in all, a pair is one sample's keypoints and target: two plain
// loops on the calling thread (the binding keeps the GIL).
constexpr int64_t kFinitePairSmall = 1 << 16;

// Whether every value of a and b is finite; a large pair (a batch) is split over the
// pool in blocks.
bool all_finite_pair(const FloatSpan& a, const FloatSpan& b);

}  // namespace fastcodec
