// CPU loops of the regression codecs, each element computed by fastcodec/regression.h.
// The work per keypoint is a handful of flops: only very large batches use the pool.
#include "regression_kernels.h"

#include <cstring>
#include <type_traits>

#if defined(__AVX2__)
#include <immintrin.h>
#endif
#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

#include "fastcodec/regression.h"
#include "flush_denormals.h"
#include "parallel.h"

namespace fastcodec {

#if defined(__AVX2__)
namespace {

// Four keypoints (eight coordinates) of encode_regression, lane by lane the functions
// of fastcodec/regression.h: regression_label (a float64 division rounded to float32:
// the same IEEE operations, so the same bits), regression_labels_finite, and
// regression_weight's inside-image test. The two float64 divisions per keypoint bound
// the scalar loop; here one vdivpd does two keypoints' four.
template <typename K, typename V>
inline void encode_four(const K* keypoints, const V* visible, __m256d size, __m256d last,
                        float* labels, float* weights) {
  __m256d a, b;  // (x0, y0, x1, y1), (x2, y2, x3, y3)
  if constexpr (std::is_same<K, float>::value) {
    a = _mm256_cvtps_pd(_mm_loadu_ps(keypoints));
    b = _mm256_cvtps_pd(_mm_loadu_ps(keypoints + 4));
  } else {
    a = _mm256_loadu_pd(keypoints);
    b = _mm256_loadu_pd(keypoints + 4);
  }
  const __m256 l = _mm256_set_m128(_mm256_cvtpd_ps(_mm256_div_pd(b, size)),
                                   _mm256_cvtpd_ps(_mm256_div_pd(a, size)));
  // v - v == 0: false for NaN and +-Inf; a keypoint's labels are kept when both are
  const __m256 finite = _mm256_cmp_ps(_mm256_sub_ps(l, l), _mm256_setzero_ps(), _CMP_EQ_OQ);
  const __m256 both = _mm256_and_ps(finite, _mm256_permute_ps(finite, 0xB1));  // pair swap
  _mm256_storeu_ps(labels, _mm256_and_ps(l, both));  // 0.f where not finite
  // (v >= 0) & (v <= size - 1), false for NaN; bit j of the masks: coordinate j
  const __m256d zero = _mm256_setzero_pd();
  const int ia = _mm256_movemask_pd(_mm256_and_pd(_mm256_cmp_pd(a, zero, _CMP_GE_OQ),
                                                  _mm256_cmp_pd(a, last, _CMP_LE_OQ)));
  const int ib = _mm256_movemask_pd(_mm256_and_pd(_mm256_cmp_pd(b, zero, _CMP_GE_OQ),
                                                  _mm256_cmp_pd(b, last, _CMP_LE_OQ)));
  const int inside[4] = {(ia & 3) == 3, (ia >> 2) == 3, (ib & 3) == 3, (ib >> 2) == 3};
  for (int k = 0; k < 4; ++k)
    weights[k] = (inside[k] & ((double)visible[k] > 0.5)) ? 1.f : 0.f;
}

}  // namespace
#endif

template <typename K, typename V>
void encode_regression(const K* keypoints, const V* visible, int64_t M, double w, double h,
                       float* labels, float* weights) {
  parallel_for(M, 2.0, [&](int64_t begin, int64_t end) {
    int64_t i = begin;
#if defined(__AVX2__)
    const __m256d size = _mm256_setr_pd(w, h, w, h);
    const __m256d last = _mm256_setr_pd(w - 1, h - 1, w - 1, h - 1);
    for (; i + 4 <= end; i += 4)
      encode_four(keypoints + 2 * i, visible + i, size, last, labels + 2 * i, weights + i);
#endif
    for (; i < end; ++i) {
      const double x = keypoints[2 * i], y = keypoints[2 * i + 1];
      const float lx = regression_label(x, w), ly = regression_label(y, h);
      const bool finite = regression_labels_finite(lx, ly);
      labels[2 * i] = finite ? lx : 0.f;
      labels[2 * i + 1] = finite ? ly : 0.f;
      weights[i] = regression_weight(x, y, (double)visible[i], w, h);
    }
  });
}

namespace {

// One loop for both layouts; decode_regression calls it with a literal 2 for D = 2, so
// the inlined copy is specialised and its strided loads vectorise (1.35 -> 0.80 us for
// 1,088 keypoints, AMD EPYC Zen 2). A template on D was slower for D = 4 (1.79 us).
template <typename E, typename S>
void decode_rows(const E* encoded, int64_t begin, int64_t end, int64_t D, double w, double h,
                 double* keypoints, S* scores) {
  for (int64_t i = begin; i < end; ++i) {
    const E* e = encoded + D * i;
    keypoints[2 * i] = regression_coord((double)e[0], w);
    keypoints[2 * i + 1] = regression_coord((double)e[1], h);
    scores[i] = D == 4 ? sigma_score((S)e[2], (S)e[3]) : (S)1;
  }
}

}  // namespace

template <typename E, typename S>
void decode_regression(const E* encoded, int64_t M, int64_t D, double w, double h,
                       double* keypoints, S* scores) {
  parallel_for(M, 2.0, [&](int64_t begin, int64_t end) {
    if (D == 2)  // the literal: see decode_rows
      decode_rows(encoded, begin, end, 2, w, h, keypoints, scores);
    else
      decode_rows(encoded, begin, end, D, w, h, keypoints, scores);
  });
}

template void encode_regression(const float*, const float*, int64_t, double, double, float*, float*);
template void encode_regression(const float*, const double*, int64_t, double, double, float*, float*);
template void encode_regression(const double*, const float*, int64_t, double, double, float*, float*);
template void encode_regression(const double*, const double*, int64_t, double, double, float*, float*);
template void decode_regression(const float*, int64_t, int64_t, double, double, double*, float*);
template void decode_regression(const double*, int64_t, int64_t, double, double, double*, float*);
template void decode_regression(const float*, int64_t, int64_t, double, double, double*, double*);
template void decode_regression(const double*, int64_t, int64_t, double, double, double*, double*);

namespace {

// One heatmap row: its sum (eight float32 lanes over x % 8, as numpy's pairwise sum
// starts) and whether it holds anything but +-0 (NaN included). The AVX2 and scalar
// paths add in the same order.
inline float row_sum(const float* row, int64_t W, bool* nonzero) {
  float part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  uint32_t bits[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t x = 0;
#if defined(__AVX2__)
  __m256 acc = _mm256_setzero_ps();
  __m256i any = _mm256_setzero_si256();
  for (; x + 8 <= W; x += 8) {
    const __m256 v = _mm256_loadu_ps(row + x);
    acc = _mm256_add_ps(acc, v);
    any = _mm256_or_si256(any, _mm256_slli_epi32(_mm256_castps_si256(v), 1));
  }
  _mm256_storeu_ps(part, acc);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(bits), any);
#else
  for (; x + 8 <= W; x += 8)
    for (int j = 0; j < 8; ++j) {
      uint32_t b;
      std::memcpy(&b, row + x + j, sizeof b);
      part[j] += row[x + j];
      bits[j] |= b << 1;  // drop the sign: -0 counts as zero
    }
#endif
  for (; x < W; ++x) {
    uint32_t b;
    std::memcpy(&b, row + x, sizeof b);
    part[0] += row[x];
    bits[0] |= b << 1;
  }
  *nonzero = (bits[0] | bits[1] | bits[2] | bits[3] | bits[4] | bits[5] | bits[6] | bits[7]) != 0;
  return ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
}

}  // namespace

void normalize_heatmaps(float* heat, int64_t C, int64_t H, int64_t W) {
  parallel_for(C, 0.23 * H * W, [&](int64_t begin, int64_t end) {
    const FlushDenormals flush;
    for (int64_t c = begin; c < end; ++c) {
      float* m = heat + c * H * W;
      // The sum row by row, noting which rows hold anything but zeros: a Gaussian
      // target covers a few rows, and 0 / norm stays 0, so the division skips the rest.
      double total = 0;
      int64_t first = H, last = -1;
      for (int64_t y = 0; y < H; ++y) {
        bool nonzero;
        total += row_sum(m + y * W, W, &nonzero);
        if (nonzero) {
          if (first == H) first = y;
          last = y;
        }
      }
      const float norm = heatmap_normalizer(total);
      if (!isfinite(norm)) first = 0, last = H - 1;  // 0 / NaN is NaN, as in MMPose
      for (int64_t p = first * W; p < (last + 1) * W; ++p)
        m[p] = normalized_value(m[p], norm);
    }
  });
}

}  // namespace fastcodec
