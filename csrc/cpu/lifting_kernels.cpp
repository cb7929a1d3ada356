// CPU loop of MotionBERTLabel's encode: one pass over (sample, frame, keypoint), each
// element computed by fastcodec/lifting.h; samples are spread over the pool.
#include "lifting_kernels.h"

#include "fastcodec/lifting.h"
#include "parallel.h"

namespace fastcodec {

namespace {

template <typename KT>
void keypoint_labels(const KT* kp, const KT* vis, int64_t M, int64_t D, const MotionBertSample& s,
                     KT* labels) {
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

// One keypoint's target (C = 3) before the root subtraction: projected, train-scaled.
template <typename LT>
inline void target_point(const LT* in, bool project, bool train, LT z_root, LT ratio,
                         const MotionBertSample& s, LT* p) {
  if (project) {
    motionbert_project<LT>(in[0], in[1], in[2], z_root, ratio, s, p);
  } else {
    p[0] = in[0], p[1] = in[1], p[2] = in[2];
  }
  if (train) motionbert_train_scale<LT>(p, s);
}

}  // namespace

template <typename KT, typename LT>
void motionbert_encode(const KT* keypoints, const KT* visible, int64_t B, int64_t N, int64_t K,
                       int64_t D, KT* labels, const LT* target, int64_t T, int64_t C,
                       int64_t root, bool project, bool train, const double* params,
                       const double* factor, int64_t L, const uint8_t* take_given, LT* out,
                       LT* computed) {
  const int64_t E = D + (visible != nullptr);
  const double cost = 6.0 * (N * K * E + T * K * C);
  parallel_for(B, cost, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      const MotionBertSample s{params[8 * b], params[8 * b + 1], params[8 * b + 2],
                               params[8 * b + 3], params[8 * b + 4], params[8 * b + 5],
                               params[8 * b + 6], params[8 * b + 7]};
      keypoint_labels<KT>(keypoints + b * N * K * D,
                          visible == nullptr ? nullptr : visible + b * N * K, N * K, D, s,
                          labels + b * N * K * E);
      for (int64_t t = 0; t < T; ++t) {
        const LT* row = target + (b * T + t) * K * C;
        LT* o = out + (b * T + t) * K * C;
        LT ratio = 0, fac = 4;
        const LT z_root = project ? row[root * C + 2] : LT(0);
        if (project) {
          motionbert_root_scale<LT>(row[root * C], z_root, s.fx, s.cx, &ratio, &fac);
          computed[b * T + t] = fac;
        }
        const double f = train ? 0.0
                         : take_given[b] ? factor[b * L + (L == 1 ? 0 : t)] : (double)fac;
        if (!project && !train) {  // any C: the root subtraction and the factor only
          const LT* r = row + root * C;
          for (int64_t k = 0; k < K; ++k)
            for (int64_t j = 0; j < C; ++j)
              o[k * C + j] = motionbert_test_value<LT>(row[k * C + j], r[j], f);
          continue;
        }
        LT p[3], pr[3];  // C = 3 (checked by the binding)
        target_point<LT>(row + root * C, project, train, z_root, ratio, s, pr);
        for (int64_t k = 0; k < K; ++k) {
          target_point<LT>(row + k * C, project, train, z_root, ratio, s, p);
          for (int64_t j = 0; j < 3; ++j)
            o[k * 3 + j] = train ? motionbert_train_value<LT>(p[j], pr[j])
                                 : motionbert_test_value<LT>(p[j], pr[j], f);
        }
      }
    }
  });
}

#define FC_INSTANTIATE(KT, LT)                                                                  \
  template void motionbert_encode<KT, LT>(const KT*, const KT*, int64_t, int64_t, int64_t,     \
                                          int64_t, KT*, const LT*, int64_t, int64_t, int64_t,  \
                                          bool, bool, const double*, const double*, int64_t,   \
                                          const uint8_t*, LT*, LT*);
FC_INSTANTIATE(float, float)
FC_INSTANTIATE(float, double)
FC_INSTANTIATE(double, float)
FC_INSTANTIATE(double, double)
#undef FC_INSTANTIATE

}  // namespace fastcodec
