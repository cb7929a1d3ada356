// Denormal floats (below FLT_MIN, 1.2e-38: the far tails of encoded Gaussians) make
// every multiply-add or division that produces or reads one ~5-100x slower on Intel
// cores (measured 2-10x on whole kernels of an Emerald Rapids Xeon).
//
// FlushDenormalResults (MXCSR FTZ) turns denormal results into 0: every kernel chunk
// runs under it (parallel.h), so no output holds a denormal. Comparisons still see
// denormal inputs exactly, which the argmax rule needs (a map whose maximum is a
// positive denormal has a positive maximum).
//
// FlushDenormals (FTZ + DAZ) also reads denormal inputs as 0: only for code that sums
// or divides input maps (the blurs) and does not compare raw input values, or
// re-checks such comparisons (blurred_argmax). Results move by less than FLT_MIN
// (docs/deviations.md).
#pragma once

#include <xmmintrin.h>

namespace fastcodec {

template <unsigned kBits>
struct MxcsrScope {
#if defined(__SSE__) || defined(__x86_64__)
  const unsigned saved = _mm_getcsr();
  MxcsrScope() {
    if ((saved & kBits) != kBits) _mm_setcsr(saved | kBits);
  }
  ~MxcsrScope() {
    if ((saved & kBits) != kBits) _mm_setcsr(saved);
  }
#endif
};

using FlushDenormalResults = MxcsrScope<0x8000u>;  // FTZ
using FlushDenormals = MxcsrScope<0x8040u>;        // FTZ + DAZ

}  // namespace fastcodec
