#include "blur_cpu.h"

#include <algorithm>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define FASTCODEC_AVX2 1
#endif

namespace fastcodec {

namespace {

// Index of the input sample p in a line of length len, or -1 for a zero.
inline int64_t border_index(int64_t p, int64_t len, Border border) {
  if (p >= 0 && p < len) return p;
  return border == Border::Zero ? -1 : reflect101(p, len);
}

// opencv_row_sum for x in [0, end) of one row; c[-r .. end + r) must be readable.
void row_pass(const float* c, float* dst, int64_t end, const float* w, int r) {
  int64_t x = 0;
  if (r >= 3) {
#if FASTCODEC_AVX2
    // Four independent accumulators hide the FMA latency of the tap chain.
    for (; x + 32 <= end; x += 32) {
      __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
      for (int i = -r; i <= r; ++i) {
        const __m256 wi = _mm256_set1_ps(w[i + r]);
        const float* p = c + x + i;
        s0 = _mm256_fmadd_ps(wi, _mm256_loadu_ps(p), s0);
        s1 = _mm256_fmadd_ps(wi, _mm256_loadu_ps(p + 8), s1);
        s2 = _mm256_fmadd_ps(wi, _mm256_loadu_ps(p + 16), s2);
        s3 = _mm256_fmadd_ps(wi, _mm256_loadu_ps(p + 24), s3);
      }
      _mm256_storeu_ps(dst + x, s0);
      _mm256_storeu_ps(dst + x + 8, s1);
      _mm256_storeu_ps(dst + x + 16, s2);
      _mm256_storeu_ps(dst + x + 24, s3);
    }
    for (; x + 8 <= end; x += 8) {
      __m256 s = _mm256_setzero_ps();
      for (int i = -r; i <= r; ++i)
        s = _mm256_fmadd_ps(_mm256_set1_ps(w[i + r]), _mm256_loadu_ps(c + x + i), s);
      _mm256_storeu_ps(dst + x, s);
    }
#endif
    for (; x < end; ++x) dst[x] = opencv_row_sum(w, r, [&](int i) { return c[x + i]; });
    return;
  }
  // r <= 2: the plain loops vectorise as written.
  if (r == 0) {
    for (; x < end; ++x) dst[x] = w[0] * c[x];
  } else if (r == 1) {
    for (; x < end; ++x) dst[x] = fmaf(w[2], c[x + 1] + c[x - 1], w[1] * c[x]);
  } else {
    for (; x < end; ++x) {
      const float s = fmaf(w[2], c[x], w[3] * (c[x + 1] + c[x - 1]));
      dst[x] = fmaf(w[4], c[x + 2] + c[x - 2], s);
    }
  }
}

// opencv_column_sum for x in [0, end); rows are `stride` floats apart.
void column_pass(const float* c, float* dst, int64_t end, int64_t stride, const float* w, int r) {
  int64_t x = 0;
#if FASTCODEC_AVX2
  for (; x + 32 <= end; x += 32) {
    const __m256 wr = _mm256_set1_ps(w[r]);
    __m256 s[4];
    for (int j = 0; j < 4; ++j) s[j] = _mm256_mul_ps(wr, _mm256_loadu_ps(c + x + 8 * j));
    for (int i = 1; i <= r; ++i) {
      const __m256 wi = _mm256_set1_ps(w[r + i]);
      const float* a = c + x + i * stride;
      const float* b = c + x - i * stride;
      for (int j = 0; j < 4; ++j)
        s[j] = _mm256_fmadd_ps(
            wi, _mm256_add_ps(_mm256_loadu_ps(a + 8 * j), _mm256_loadu_ps(b + 8 * j)), s[j]);
    }
    for (int j = 0; j < 4; ++j) _mm256_storeu_ps(dst + x + 8 * j, s[j]);
  }
  for (; x + 8 <= end; x += 8) {
    __m256 s = _mm256_mul_ps(_mm256_set1_ps(w[r]), _mm256_loadu_ps(c + x));
    for (int i = 1; i <= r; ++i) {
      const __m256 pair = _mm256_add_ps(_mm256_loadu_ps(c + x + i * stride),
                                        _mm256_loadu_ps(c + x - i * stride));
      s = _mm256_fmadd_ps(_mm256_set1_ps(w[r + i]), pair, s);
    }
    _mm256_storeu_ps(dst + x, s);
  }
#endif
  for (; x < end; ++x)
    dst[x] = opencv_column_sum(w, r, [&](int i) { return c[x + i * stride]; });
}

}  // namespace

void blur_map(const float* in, float* out, int64_t H, int64_t W, const float* w, int r,
              Border border, BlurScratch& scratch) {
  scratch.row.assign(W + 2 * r, 0.f);
  scratch.rows.resize((H + 2 * r) * W);
  float* row = scratch.row.data();
  // rows holds the row-filtered map with r extra rows above and below, already
  // bordered, so the column pass reads it without index arithmetic.
  float* R = scratch.rows.data();
  // OpenCV filters the zero-padded (W + 2r) image in MMPose's gaussian_blur, the map
  // itself otherwise; its SIMD/tail split counts columns of that image.
  const int64_t pad = border == Border::Zero ? r : 0;
  const int64_t row_end =
      std::max<int64_t>(0, std::min(W, opencv_row_simd_end(W + 2 * pad) - pad));
  const int64_t column_end =
      std::max<int64_t>(0, std::min(W, opencv_column_simd_end(W + 2 * pad) - pad));
  for (int64_t y = 0; y < H; ++y) {
    const float* src = in + y * W;
    std::copy(src, src + W, row + r);
    for (int64_t p = 0; p < r; ++p) {
      const int64_t left = border_index(p - r, W, border);
      const int64_t right = border_index(W + p, W, border);
      row[p] = left < 0 ? 0.f : src[left];
      row[W + r + p] = right < 0 ? 0.f : src[right];
    }
    float* dst = R + (y + r) * W;
    const float* c = row + r;
    row_pass(c, dst, row_end, w, r);
    for (int64_t x = row_end; x < W; ++x)
      dst[x] = opencv_row_sum_tail(w, r, [&](int i) { return c[x + i]; });
  }
  for (int64_t p = 0; p < 2 * r; ++p) {
    const int64_t y = p < r ? p - r : H + (p - r);
    float* dst = R + (p < r ? p : H + p) * W;
    const int64_t q = border_index(y, H, border);
    if (q < 0)
      std::fill(dst, dst + W, 0.f);
    else
      std::copy(R + (q + r) * W, R + (q + r + 1) * W, dst);
  }
  for (int64_t y = 0; y < H; ++y) {
    const float* c = R + (y + r) * W;
    float* dst = out + y * W;
    column_pass(c, dst, column_end, W, w, r);
    for (int64_t x = column_end; x < W; ++x)
      dst[x] = opencv_column_sum_tail(w, r, [&](int i) { return c[x + i * W]; });
  }
}

}  // namespace fastcodec
