// first_argmax (fastcodec/argmax.h) and np.amax vectorised for the CPU; maps holding
// a NaN take the scalar path so numpy's rule (the first NaN wins) stays exact.
#pragma once

#include <cmath>
#include <cstdint>

#include "fastcodec/argmax.h"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace fastcodec {

#if defined(__AVX2__)
// The largest value of v[0, n) (n >= 32) and whether any element is NaN.
inline float simd_max(const float* v, int64_t n, bool* has_nan) {
  // Four running maxima break the dependency chain of a single one.
  __m256 m0 = _mm256_loadu_ps(v), m1 = m0, m2 = m0, m3 = m0;
  __m256 nan = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256 a = _mm256_loadu_ps(v + i), b = _mm256_loadu_ps(v + i + 8);
    const __m256 c = _mm256_loadu_ps(v + i + 16), d = _mm256_loadu_ps(v + i + 24);
    m0 = _mm256_max_ps(m0, a);
    m1 = _mm256_max_ps(m1, b);
    m2 = _mm256_max_ps(m2, c);
    m3 = _mm256_max_ps(m3, d);
    nan = _mm256_or_ps(nan, _mm256_or_ps(_mm256_cmp_ps(a, b, _CMP_UNORD_Q),
                                         _mm256_cmp_ps(c, d, _CMP_UNORD_Q)));
  }
  float lanes[8];
  _mm256_storeu_ps(lanes, _mm256_max_ps(_mm256_max_ps(m0, m1), _mm256_max_ps(m2, m3)));
  float best = lanes[0];
  for (int j = 1; j < 8; ++j) best = lanes[j] > best ? lanes[j] : best;
  *has_nan = _mm256_movemask_ps(nan) != 0;
  for (; i < n; ++i) {
    *has_nan |= v[i] != v[i];
    best = v[i] > best ? v[i] : best;
  }
  return best;
}
#endif

// np.amax: the largest value, or NaN when there is one (numpy's max propagates NaN).
inline float fast_max(const float* v, int64_t n) {
#if defined(__AVX2__)
  if (n >= 32) {
    bool has_nan;
    const float best = simd_max(v, n, &has_nan);
    return has_nan ? NAN : best;
  }
#endif
  return first_argmax(v, n).value;
}

#if defined(__AVX2__)
inline float horizontal_max(__m256 m) {
  __m128 a = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  a = _mm_max_ps(a, _mm_movehl_ps(a, a));
  return _mm_cvtss_f32(_mm_max_ss(a, _mm_shuffle_ps(a, a, 1)));
}

// The first index of `target` in the 32 floats at v (one of them equals it).
inline int64_t first_of_32(const float* v, float target) {
  const __m256 t = _mm256_set1_ps(target);
  uint64_t bits = 0;
  for (int j = 0; j < 4; ++j)
    bits |= (uint64_t)(uint32_t)_mm256_movemask_ps(
                _mm256_cmp_ps(_mm256_loadu_ps(v + 8 * j), t, _CMP_EQ_OQ)) << (8 * j);
  return __builtin_ctzll(bits);
}
#endif

// np.argmax with its value. One pass over blocks of 32 floats keeps, per lane, the
// running maximum of the block maxima and the first block where the lane reached
// it; only that block is then searched. (A max pass followed by a search of the
// whole row costs a second, unpredictably ending loop per row: rows of a few hundred
// floats, as SimCC decodes them by the thousand, ran ~20% slower.) Rows holding a
// NaN, or nothing above -inf, take the scalar path, so numpy's rules stay exact.
inline Maximum fast_argmax(const float* v, int64_t n) {
#if defined(__AVX2__)
  const int64_t blocks = n / 32;
  if (blocks > 0) {
    __m256 best = _mm256_set1_ps(-INFINITY), nan = _mm256_setzero_ps();
    __m256i first_block = _mm256_setzero_si256(), block = _mm256_setzero_si256();
    const __m256i one = _mm256_set1_epi32(1);
    for (int64_t i = 0; i < blocks * 32; i += 32) {
      const __m256 a = _mm256_loadu_ps(v + i), b = _mm256_loadu_ps(v + i + 8);
      const __m256 c = _mm256_loadu_ps(v + i + 16), d = _mm256_loadu_ps(v + i + 24);
      const __m256 m = _mm256_max_ps(_mm256_max_ps(a, b), _mm256_max_ps(c, d));
      nan = _mm256_or_ps(nan, _mm256_or_ps(_mm256_cmp_ps(a, b, _CMP_UNORD_Q),
                                           _mm256_cmp_ps(c, d, _CMP_UNORD_Q)));
      const __m256 rises = _mm256_cmp_ps(m, best, _CMP_GT_OQ);
      best = _mm256_max_ps(best, m);
      first_block = _mm256_castps_si256(_mm256_blendv_ps(
          _mm256_castsi256_ps(first_block), _mm256_castsi256_ps(block), rises));
      block = _mm256_add_epi32(block, one);
    }
    float top = horizontal_max(best);
    bool has_nan = _mm256_movemask_ps(nan) != 0;
    int64_t tail_at = -1;
    for (int64_t i = blocks * 32; i < n; ++i) {
      has_nan |= v[i] != v[i];
      if (v[i] > top) {
        top = v[i];
        tail_at = i;
      }
    }
    if (!has_nan && top != -INFINITY) {
      if (tail_at >= 0) return Maximum{tail_at, v[tail_at]};
      // the smallest first block among the lanes that hold the maximum
      const __m256 holds = _mm256_cmp_ps(best, _mm256_set1_ps(top), _CMP_EQ_OQ);
      const __m256i none = _mm256_set1_epi32(INT32_MAX);
      const __m256i cand = _mm256_castps_si256(_mm256_blendv_ps(
          _mm256_castsi256_ps(none), _mm256_castsi256_ps(first_block), holds));
      __m128i low = _mm_min_epi32(_mm256_castsi256_si128(cand), _mm256_extracti128_si256(cand, 1));
      low = _mm_min_epi32(low, _mm_shuffle_epi32(low, 0x4E));
      low = _mm_min_epi32(low, _mm_shuffle_epi32(low, 0xB1));
      const int64_t start = (int64_t)_mm_cvtsi128_si32(low) * 32;
      const int64_t at = start + first_of_32(v + start, top);
      return Maximum{at, v[at]};
    }
  }
#endif
  return first_argmax(v, n);
}

}  // namespace fastcodec
