// Warp and block reductions of the decoders: numpy's argmax rule (the first maximum;
// the first NaN if there is one) and a NaN-propagating maximum. Blocks are whole warps
// (the launch code sizes them so); every thread of the block must call a block_*
// function, which returns the result to all of them.
#pragma once

#include "cuda_compat.cuh"

namespace fastcodec {
namespace cuda {

// A candidate maximum: value and flat index; kNoIndex marks "none yet".
struct ArgMax {
  float value;
  int64_t index;
};
constexpr int64_t kNoIndex = 0x7fffffffffffffffLL;

__device__ __forceinline__ ArgMax no_argmax() {
  ArgMax m;
  m.value = 0.f;
  m.index = kNoIndex;
  return m;
}

// Whether candidate b replaces a under numpy's rule: a NaN beats every number and an
// earlier NaN a later one; otherwise the larger value, and on ties the earlier index.
// The rule is associative and commutative, so any reduction order gives numpy's answer.
__device__ __forceinline__ bool argmax_prefers(const ArgMax& a, const ArgMax& b) {
  if (b.index == kNoIndex) return false;
  if (a.index == kNoIndex) return true;
  const bool a_nan = a.value != a.value, b_nan = b.value != b.value;
  if (a_nan || b_nan) return b_nan && (!a_nan || b.index < a.index);
  return b.value > a.value || (b.value == a.value && b.index < a.index);
}

// A thread's candidate over v[begin], v[begin + step], ... (< n): increasing indices, so
// the first of equal values stays.
__device__ __forceinline__ ArgMax strided_argmax(const float* v, int64_t begin, int64_t n,
                                                 int64_t step) {
  ArgMax m = no_argmax();
  for (int64_t i = begin; i < n; i += step) {
    ArgMax c;
    c.value = v[i];
    c.index = i;
    if (argmax_prefers(m, c)) m = c;
  }
  return m;
}

__device__ __forceinline__ ArgMax warp_argmax(ArgMax m) {
  for (int d = 16; d > 0; d >>= 1) {
    ArgMax o;
    o.value = __shfl_down_sync(kFullWarp, m.value, d);
    o.index = __shfl_down_sync(kFullWarp, m.index, d);
    if (argmax_prefers(m, o)) m = o;
  }
  return m;  // lane 0 holds the warp's result
}

// scratch: 33 entries of __shared__ memory.
__device__ __forceinline__ ArgMax block_argmax(ArgMax m, ArgMax* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  m = warp_argmax(m);
  if (lane == 0) scratch[warp] = m;
  __syncthreads();
  if (warp == 0) {
    ArgMax t = lane < warps ? scratch[lane] : no_argmax();
    t = warp_argmax(t);
    if (lane == 0) scratch[32] = t;
  }
  __syncthreads();
  const ArgMax result = scratch[32];
  __syncthreads();  // scratch may be reused once everyone has read it
  return result;
}

// max that propagates NaN, as np.max does.
__device__ __forceinline__ float nan_max(float a, float b) {
  if (a != a) return a;
  if (b != b) return b;
  return b > a ? b : a;
}

__device__ __forceinline__ float warp_nan_max(float v) {
  for (int d = 16; d > 0; d >>= 1) v = nan_max(v, __shfl_down_sync(kFullWarp, v, d));
  return v;
}

// scratch: 33 floats of __shared__ memory. `empty` is the result of no values.
__device__ __forceinline__ float block_nan_max(float v, float* scratch, float empty) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  v = warp_nan_max(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  if (warp == 0) {
    float t = lane < warps ? scratch[lane] : empty;
    t = warp_nan_max(t);
    if (lane == 0) scratch[32] = t;
  }
  __syncthreads();
  const float result = scratch[32];
  __syncthreads();
  return result;
}

}  // namespace cuda
}  // namespace fastcodec
