// Denormal floats (below FLT_MIN, 1.2e-38: the far tails of encoded Gaussians) make
// every multiply-add or division they touch ~5-100x slower. Code that sums or divides
// maps holding them treats them as zero, in and out (MXCSR DAZ + FTZ), while one of
// these is alive; results move by less than FLT_MIN (docs/deviations.md). Comparisons
// (argmax) must run outside: DAZ would make a denormal maximum compare equal to 0.
#pragma once

#include <xmmintrin.h>

namespace fastcodec {

struct FlushDenormals {
#if defined(__SSE__) || defined(__x86_64__)
  unsigned saved = _mm_getcsr();
  FlushDenormals() { _mm_setcsr(saved | 0x8040u); }
  ~FlushDenormals() { _mm_setcsr(saved); }
#endif
};

}  // namespace fastcodec
