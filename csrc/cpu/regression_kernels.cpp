// CPU loops of the regression codecs, each element computed by fastcodec/regression.h.
// The work per keypoint is a handful of flops: only very large batches use the pool.
#include "regression_kernels.h"

#include "fastcodec/regression.h"
#include "parallel.h"

namespace fastcodec {

void encode_regression(const double* keypoints, const double* visible, int64_t M, double w,
                       double h, float* labels, float* weights) {
  parallel_for(M, 8.0, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const double x = keypoints[2 * i], y = keypoints[2 * i + 1];
      labels[2 * i] = regression_label(x, w);
      labels[2 * i + 1] = regression_label(y, h);
      weights[i] = regression_weight(x, y, visible[i], w, h);
    }
  });
}

namespace {

template <typename S>
void decode_regression_impl(const double* encoded, int64_t M, int64_t D, double w, double h,
                            double* keypoints, S* scores) {
  parallel_for(M, 8.0, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const double* e = encoded + D * i;
      keypoints[2 * i] = regression_coord(e[0], w);
      keypoints[2 * i + 1] = regression_coord(e[1], h);
      scores[i] = D == 4 ? sigma_score((S)e[2], (S)e[3]) : (S)1;
    }
  });
}

}  // namespace

void decode_regression(const double* encoded, int64_t M, int64_t D, double w, double h,
                       double* keypoints, float* scores) {
  decode_regression_impl(encoded, M, D, w, h, keypoints, scores);
}

void decode_regression(const double* encoded, int64_t M, int64_t D, double w, double h,
                       double* keypoints, double* scores) {
  decode_regression_impl(encoded, M, D, w, h, keypoints, scores);
}

void normalize_heatmaps(float* heat, int64_t C, int64_t HW) {
  parallel_for(C, 3.0 * HW, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      float* m = heat + c * HW;
      // Eight partial sums: independent chains the compiler can vectorise.
      double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      int64_t p = 0;
      for (; p + 8 <= HW; p += 8)
        for (int j = 0; j < 8; ++j) part[j] += m[p + j];
      for (; p < HW; ++p) part[0] += m[p];
      const double sum = ((part[0] + part[1]) + (part[2] + part[3])) +
                         ((part[4] + part[5]) + (part[6] + part[7]));
      const float norm = heatmap_normalizer(sum);
      for (p = 0; p < HW; ++p) m[p] = normalized_value(m[p], norm);
    }
  });
}

}  // namespace fastcodec
