// Shared definitions for the host/device math headers.
//
// Every function in csrc/include/fastcodec is a small inline function marked FC_HD, so
// the same arithmetic is compiled by g++ for the CPU loops and by nvcc for the CUDA
// kernels (and by NVRTC, at run time, for the CUDA backend). The headers hold no STL
// containers, exceptions or allocation, and include nothing NVRTC lacks.
#pragma once

#if defined(__CUDACC_RTC__)
// NVRTC has no C library headers: the CUDA math functions (expf, logf, fmaf, ...) are
// built in, and the fixed-width integers are spelled here as on LP64 Linux.
typedef signed char int8_t;
typedef unsigned char uint8_t;
typedef int int32_t;
typedef unsigned int uint32_t;
typedef long int64_t;
typedef unsigned long uint64_t;
#else
#include <math.h>
#include <stdint.h>
#endif

#if defined(__CUDACC__)
#define FC_HD __host__ __device__ __forceinline__
#else
#define FC_HD inline
#endif

// Quiet NaN and infinity without <math.h>'s NAN / INFINITY macros: the same bits from
// CUDA's reinterpreting intrinsics in device code (NVRTC, nvcc's device pass) and from
// the compiler's builtins on the host.
#if defined(__CUDA_ARCH__)
#define FC_NAN_F __int_as_float(0x7fc00000)
#define FC_NAN __longlong_as_double(0x7ff8000000000000LL)
#define FC_INF_F __int_as_float(0x7f800000)
#else
#define FC_NAN_F __builtin_nanf("")
#define FC_NAN __builtin_nan("")
#define FC_INF_F __builtin_inff()
#endif

// INT64_MIN without <stdint.h>'s macro (NVRTC has none).
#define FC_INT64_MIN (-9223372036854775807L - 1)

namespace fastcodec {

// numpy's `astype(np.int64)`: truncation toward zero. Callers keep |v| < 2^62
// (see coord_is_usable), where the conversion is defined in C++ too.
FC_HD int64_t trunc_i64(double v) { return (int64_t)v; }

// A coordinate the kernels accept. MMPose turns NaN/Inf into INT64_MIN through
// astype(int64) and then indexes with it; fastcodec treats such keypoints as
// invisible (docs/deviations.md). 2^40 keeps every later int64 sum exact.
FC_HD bool coord_is_usable(double v) { return v == v && fabs(v) < 1099511627776.0; }

// MMPose divides keypoints by a float32 `scale_factor` array: the quotient is float32
// when the keypoints are float32 and float64 otherwise. `f32` selects which.
FC_HD double scale_coord(double v, float scale, bool f32) {
  return f32 ? (double)((float)v / scale) : v / (double)scale;
}

// `(v + 0.5).astype(np.int64)` in the keypoints' own precision.
FC_HD int64_t round_half_up(double v, bool f32) {
  return f32 ? trunc_i64((double)((float)v + 0.5f)) : trunc_i64(v + 0.5);
}

FC_HD int64_t min_i64(int64_t a, int64_t b) { return a < b ? a : b; }
FC_HD int64_t max_i64(int64_t a, int64_t b) { return a > b ? a : b; }

FC_HD float fc_exp(float v) { return expf(v); }
FC_HD double fc_exp(double v) { return exp(v); }

// numpy.sign for float32 (NaN stays NaN).
FC_HD float sign_f32(float v) { return v > 0.f ? 1.f : (v < 0.f ? -1.f : (v == 0.f ? 0.f : v)); }

// np.sign(a - b) in IEEE arithmetic, also where the kernels flush denormal results
// (FTZ): a tiny difference of two denormals keeps its sign. inf - inf is NaN.
FC_HD float sign_of_difference(float a, float b) {
  if (a > b) return 1.f;
  if (a < b) return -1.f;
  if (a == b && a - a == 0.f) return 0.f;  // equal and finite
  return a - b;                            // NaN: a NaN input, or inf - inf
}

}  // namespace fastcodec
