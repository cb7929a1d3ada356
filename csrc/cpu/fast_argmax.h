// first_argmax (fastcodec/argmax.h) vectorised for the CPU: a max reduction, then a
// search for the first element equal to it; maps holding a NaN take the scalar path
// so numpy's rule (the first NaN wins) stays exact.
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

inline Maximum fast_argmax(const float* v, int64_t n) {
#if defined(__AVX2__)
  if (n >= 32) {
    bool has_nan;
    const float best = simd_max(v, n, &has_nan);
    if (has_nan) return first_argmax(v, n);
    const __m256 target = _mm256_set1_ps(best);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
      const int hit = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(v + i), target, _CMP_EQ_OQ));
      if (hit) {
        const int64_t at = i + __builtin_ctz((unsigned)hit);
        return Maximum{at, v[at]};
      }
    }
    for (; i < n; ++i)
      if (v[i] == best) return Maximum{i, v[i]};
  }
#endif
  return first_argmax(v, n);
}

}  // namespace fastcodec
