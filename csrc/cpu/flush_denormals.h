// Denormal floats (below FLT_MIN, 1.2e-38: the far tails of encoded Gaussians) make
// every multiply-add or division that produces or reads one ~5-100x slower on Intel
// cores (measured 2-10x on whole kernels of an Emerald Rapids Xeon).
//
// FlushDenormalResults (MXCSR FTZ) turns denormal results into 0: the target encoders
// run under it (parallel_for<Denormals::Flushed>), so no target holds a denormal.
// Comparisons still see denormal inputs exactly, which the argmax rule needs (a map
// whose maximum is a positive denormal has a positive maximum).
//
// FlushDenormals (FTZ + DAZ) also reads denormal inputs as 0, for code that sums input
// maps (the blurs) through reading_denormals_as_zero below.
#pragma once

#include <xmmintrin.h>

namespace fastcodec {

template <unsigned kSet, unsigned kClear = 0>
struct MxcsrScope {
#if defined(__SSE__) || defined(__x86_64__)
  const unsigned saved = _mm_getcsr();
  const unsigned wanted = (saved | kSet) & ~kClear;
  MxcsrScope() {
    if (wanted != saved) _mm_setcsr(wanted);
  }
  ~MxcsrScope() {
    if (wanted != saved) _mm_setcsr(saved);
  }
#endif
};

using FlushDenormalResults = MxcsrScope<0x8000u>;  // FTZ
using FlushDenormals = MxcsrScope<0x8040u>;        // FTZ + DAZ
using ExactDenormals = MxcsrScope<0u, 0x8040u>;    // IEEE: neither

// Runs blur_then_decode() -- one map's work, returning its blurred maximum -- reading
// denormal inputs as 0. Below 1e-25 that maximum could have been changed (relatively)
// by the dropped denormals, and a map whose values are all denormal would blur to 0:
// then the work runs again with exact IEEE arithmetic, so such maps decode as in MMPose.
// Above it, the blurred values move by less than FLT_MIN and every raw value that
// the argmax rule compares to the maximum is normal. The work must be repeatable.
template <typename Fn>
void reading_denormals_as_zero(Fn blur_then_decode) {
  float blurred_max;
  {
    const FlushDenormals daz;
    blurred_max = blur_then_decode();
  }
  if (blurred_max < 1e-25f) {  // NaN and above: done
    const ExactDenormals exact;
    blur_then_decode();
  }
}

}  // namespace fastcodec
