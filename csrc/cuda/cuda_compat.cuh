// What the kernel sources need beyond the shared math headers, for each compiler that
// builds them: nvcc and NVRTC (the GPU), or g++ with the host emulator (emulator.h).
#pragma once

// FC_NOINLINE: a device function kept out of line, where inlining each call would
// multiply a large body (the per-pixel blur) and NVRTC's compile time with it.
#if defined(__CUDACC__)
#define FC_NOINLINE __noinline__
// `extern __shared__` arrays of every kernel alias the same dynamic shared memory; one
// byte array, cast per kernel, keeps their types from clashing within a module.
#define FC_DYNAMIC_SHARED(T, name)                                   \
  extern __shared__ __align__(16) unsigned char fc_dynamic_shared[]; \
  T* name = reinterpret_cast<T*>(fc_dynamic_shared)
#else
#define FC_NOINLINE __attribute__((noinline))
#include "emulator.h"
#endif

#include "fastcodec/common.h"

namespace fastcodec {
namespace cuda {

constexpr unsigned kFullWarp = 0xffffffffu;

// This thread's index over the whole grid, and the grid's thread count (grid-stride
// loops: any grid size covers any problem size).
__device__ __forceinline__ int64_t global_thread() {
  return (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ int64_t grid_threads() { return (int64_t)gridDim.x * blockDim.x; }

}  // namespace cuda
}  // namespace fastcodec
