// CPU loop of MotionBERTLabel's encode: one pass over (sample, frame, keypoint), each
// element computed by fastcodec/lifting.h; samples are spread over the pool.
#include "lifting_kernels.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <type_traits>

#include "fastcodec/lifting.h"
#include "parallel.h"

namespace fastcodec {

namespace {

// The common layout (D = 2 with the visibility appended, or D = 2 alone) as
// straight-line loops the compiler vectorises; any other D takes the generic loop.
template <typename KT, int E>
void keypoint_labels_2d(const KT* __restrict kp, const KT* __restrict vis, int64_t M,
                        const MotionBertSample& s, KT* __restrict labels) {
  const double half_w = s.half_w, hw_ratio = s.hw_ratio;
  for (int64_t i = 0; i < M; ++i) {
    labels[E * i] = motionbert_label_x<KT>(kp[2 * i], half_w);
    labels[E * i + 1] = motionbert_label_y<KT>(kp[2 * i + 1], half_w, hw_ratio);
    if (E == 3) labels[E * i + 2] = vis[i];
  }
}

template <typename KT>
void keypoint_labels(const KT* kp, const KT* vis, int64_t M, int64_t D, const MotionBertSample& s,
                     KT* labels) {
  if (D == 2) {
    if (vis != nullptr) keypoint_labels_2d<KT, 3>(kp, vis, M, s, labels);
    else keypoint_labels_2d<KT, 2>(kp, vis, M, s, labels);
    return;
  }
  const int64_t E = D + (vis != nullptr);
  for (int64_t i = 0; i < M; ++i) {
    const KT* p = kp + i * D;
    KT* l = labels + i * E;
    l[0] = motionbert_label_x<KT>(p[0], s.half_w);
    l[1] = motionbert_label_y<KT>(p[1], s.half_w, s.hw_ratio);
    for (int64_t j = 2; j < D; ++j) l[j] = p[j];
    if (vis != nullptr) l[D] = vis[i];
  }
}

template <typename V>
void target_weights(const V* __restrict visible, int64_t M, float* __restrict weights) {
  for (int64_t i = 0; i < M; ++i) weights[i] = lifting_weight<V>(visible[i]);
}

// One keypoint's target (C = 3) before the root subtraction: projected, train-scaled.
template <typename LT, bool Project, bool Train>
inline void target_point(const LT* in, LT z_root, LT ratio, const MotionBertSample& s, LT* p) {
  if (Project) {
    motionbert_project<LT>(in[0], in[1], in[2], z_root, ratio, s, p);
  } else {
    p[0] = in[0], p[1] = in[1], p[2] = in[2];
  }
  if (Train) motionbert_train_scale<LT>(p, s);
}

// The keypoints of one frame (K, C = 3): a loop the compiler vectorises. Mode 0:
// train; 1: test with a factor that is a LT value; 2: test with a float64 factor.
template <typename LT, bool Project, bool Train, int Mode>
void target_points(const LT* __restrict row, int64_t K, const MotionBertSample& s, LT z_root,
                   LT ratio, const LT* pr, double f, LT* __restrict o) {
  const LT r0 = pr[0], r1 = pr[1], r2 = pr[2], fl = (LT)f;
  for (int64_t k = 0; k < K; ++k) {
    LT p[3];
    target_point<LT, Project, Train>(row + 3 * k, z_root, ratio, s, p);
    if (Mode == 0) {
      o[3 * k] = motionbert_train_value<LT>(p[0], r0);
      o[3 * k + 1] = motionbert_train_value<LT>(p[1], r1);
      o[3 * k + 2] = motionbert_train_value<LT>(p[2], r2);
    } else if (Mode == 1) {
      o[3 * k] = motionbert_test_value_exact<LT>(p[0], r0, fl);
      o[3 * k + 1] = motionbert_test_value_exact<LT>(p[1], r1, fl);
      o[3 * k + 2] = motionbert_test_value_exact<LT>(p[2], r2, fl);
    } else {
      o[3 * k] = motionbert_test_value<LT>(p[0], r0, f);
      o[3 * k + 1] = motionbert_test_value<LT>(p[1], r1, f);
      o[3 * k + 2] = motionbert_test_value<LT>(p[2], r2, f);
    }
  }
}

// One frame of one sample: the root's projection and factor, then its keypoints.
template <typename LT, bool Project, bool Train>
void target_frame(const LT* row, int64_t K, int64_t root, const MotionBertSample& s,
                  double given, bool take_given, LT* o, LT* computed) {
  LT ratio = 0, fac = 4;
  const LT z_root = Project ? row[root * 3 + 2] : LT(0);
  if (Project) {
    motionbert_root_scale<LT>(row[root * 3], z_root, s.fx, s.cx, &ratio, &fac);
    *computed = fac;
  }
  LT pr[3];
  target_point<LT, Project, Train>(row + root * 3, z_root, ratio, s, pr);
  const double f = take_given ? given : (double)fac;
  if (Train)
    target_points<LT, Project, Train, 0>(row, K, s, z_root, ratio, pr, f, o);
  else if (motionbert_factor_is_exact<LT>(f))
    target_points<LT, Project, Train, 1>(row, K, s, z_root, ratio, pr, f, o);
  else
    target_points<LT, Project, Train, 2>(row, K, s, z_root, ratio, pr, f, o);
}

template <typename LT, bool Project, bool Train>
void target_sample(const LT* target, int64_t T, int64_t K, int64_t root,
                   const MotionBertSample& s, const double* factor, int64_t L, bool take_given,
                   LT* out, LT* computed) {
  for (int64_t t = 0; t < T; ++t)
    target_frame<LT, Project, Train>(target + t * K * 3, K, root, s, factor[L == 1 ? 0 : t],
                                     take_given, out + t * K * 3, computed + (Project ? t : 0));
}

}  // namespace

// Whether n values are all finite: an exponent with every bit set is Inf or NaN. An OR
// over integer tests, which vectorises (a floating-point reduction would not), into
// four vectors' worth of accumulators so that the ORs do not wait for each other.
template <typename T>
bool all_finite(const T* v, int64_t n) {
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  constexpr Bits exponent =
      static_cast<Bits>(sizeof(T) == 4 ? 0x7f800000ull : 0x7ff0000000000000ull);
  constexpr int kLanes = 128 / sizeof(T);
  Bits lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int j = 0; j < kLanes; ++j) {
      Bits b;
      std::memcpy(&b, v + i + j, sizeof b);
      lanes[j] |= static_cast<Bits>((b & exponent) == exponent);
    }
  }
  Bits bad = 0;
  for (; i < n; ++i) {
    Bits b;
    std::memcpy(&b, v + i, sizeof b);
    bad |= static_cast<Bits>((b & exponent) == exponent);
  }
  for (int j = 0; j < kLanes; ++j) bad |= lanes[j];
  return bad == 0;
}

template bool all_finite(const float*, int64_t);
template bool all_finite(const double*, int64_t);

namespace {

bool span_finite(const FloatSpan& s, int64_t lo, int64_t n) {
  return s.f32 ? all_finite(static_cast<const float*>(s.data) + lo, n)
               : all_finite(static_cast<const double*>(s.data) + lo, n);
}

}  // namespace

bool all_finite_pair(const FloatSpan& a, const FloatSpan& b) {
  // One sample: no pool machinery (the per-sample call is mostly its cold-cache cost).
  if (a.n + b.n < kFinitePairSmall) return span_finite(a, 0, a.n) && span_finite(b, 0, b.n);
  // Blocks of 64 KiB or less; the pair read once, block by block, out of the last-level
  // cache or memory: 0.03-0.05 ns a byte on one core (Zen 2 VM, float32 and float64).
  constexpr int64_t kBlockBytes = 1 << 16;
  const auto values_per_block = [](const FloatSpan& s) { return kBlockBytes / (s.f32 ? 4 : 8); };
  const auto blocks = [&](const FloatSpan& s) {
    return (s.n + values_per_block(s) - 1) / values_per_block(s);
  };
  const int64_t blocks_a = blocks(a), blocks_b = blocks(b);
  std::atomic<bool> finite{true};
  parallel_for(blocks_a + blocks_b, 0.04 * kBlockBytes, [&](int64_t begin, int64_t end) {
    bool chunk_finite = true;
    for (int64_t i = begin; i < end && chunk_finite; ++i) {
      const FloatSpan& s = i < blocks_a ? a : b;
      const int64_t per = values_per_block(s), lo = (i < blocks_a ? i : i - blocks_a) * per;
      chunk_finite = span_finite(s, lo, std::min(per, s.n - lo));
    }
    if (!chunk_finite) finite.store(false, std::memory_order_relaxed);
  });
  return finite.load(std::memory_order_relaxed);
}

template <typename KT, typename LT>
bool motionbert_encode(const KT* keypoints, const KT* visible, int64_t B, int64_t N, int64_t K,
                       int64_t D, KT* labels, const LT* target, int64_t T, int64_t C,
                       int64_t root, bool project, bool train, const double* params,
                       const double* factor, int64_t L, const uint8_t* take_given, LT* out,
                       LT* computed, const void* target_visible, bool visible_f32,
                       float* weights) {
  const int64_t E = D + (visible != nullptr);
  const double cost = 6.0 * (N * K * E + T * K * C) + T * K;
  const auto encode_sample = [&](int64_t b) {
    const MotionBertSample s{params[8 * b], params[8 * b + 1], params[8 * b + 2],
                             params[8 * b + 3], params[8 * b + 4], params[8 * b + 5],
                             params[8 * b + 6], params[8 * b + 7]};
    keypoint_labels<KT>(keypoints + b * N * K * D,
                        visible == nullptr ? nullptr : visible + b * N * K, N * K, D, s,
                        labels + b * N * K * E);
    if (target_visible != nullptr) {
      if (visible_f32)
        target_weights(static_cast<const float*>(target_visible) + b * T * K, T * K,
                       weights + b * T * K);
      else
        target_weights(static_cast<const double*>(target_visible) + b * T * K, T * K,
                       weights + b * T * K);
    }
    const LT* tb = target + b * T * K * C;
    LT* ob = out + b * T * K * C;
    const double* fb = factor + b * L;
    const bool given = !train && take_given[b];
    LT* cb = computed + (project ? b * T : 0);
    if (!project && !train) {  // any C: the root subtraction and the factor only
      for (int64_t t = 0; t < T; ++t) {
        const LT* row = tb + t * K * C;
        const LT* r = row + root * C;
        const double f = given ? fb[L == 1 ? 0 : t] : 4.0;
        for (int64_t i = 0; i < K * C; ++i)
          ob[t * K * C + i] = motionbert_test_value<LT>(row[i], r[i % C], f);
      }
    } else if (project && train) {  // C = 3 (checked by the binding)
      target_sample<LT, true, true>(tb, T, K, root, s, fb, L, given, ob, cb);
    } else if (project) {
      target_sample<LT, true, false>(tb, T, K, root, s, fb, L, given, ob, cb);
    } else {
      target_sample<LT, false, true>(tb, T, K, root, s, fb, L, given, ob, cb);
    }
  };
  // The inputs are tested a group of samples at a time, while still in cache from the
  // group's pass. Tested per sample, the short loops and their scalar tails took 8-14% of
  // a batched encode of 1024 x 27 x 17 keypoints; per group, 2-6% (one thread, Zen 4).
  constexpr int64_t kSamplesPerTest = 16;
  std::atomic<bool> finite{true};
  parallel_for(B, 0.18 * cost, [&](int64_t begin, int64_t end) {
    bool chunk_finite = true;
    for (int64_t first = begin; first < end; first += kSamplesPerTest) {
      const int64_t n = std::min(kSamplesPerTest, end - first);
      for (int64_t b = first; b < first + n; ++b) encode_sample(b);
      chunk_finite = chunk_finite && all_finite(keypoints + first * N * K * D, n * N * K * D) &&
                     all_finite(target + first * T * K * C, n * T * K * C);
    }
    if (!chunk_finite) finite.store(false, std::memory_order_relaxed);
  });
  return finite.load(std::memory_order_relaxed);
}

#define FC_INSTANTIATE(KT, LT)                                                                  \
  template bool motionbert_encode<KT, LT>(const KT*, const KT*, int64_t, int64_t, int64_t,     \
                                          int64_t, KT*, const LT*, int64_t, int64_t, int64_t,  \
                                          bool, bool, const double*, const double*, int64_t,   \
                                          const uint8_t*, LT*, LT*, const void*, bool, float*);
FC_INSTANTIATE(float, float)
FC_INSTANTIATE(float, double)
FC_INSTANTIATE(double, float)
FC_INSTANTIATE(double, double)
#undef FC_INSTANTIATE

}  // namespace fastcodec
