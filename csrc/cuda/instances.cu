// CUDA kernels of DecoupledHeatmap's per-instance properties: roots, root visibility
// and box diagonals, and the instance-wise sigmas, one thread per instance, with the
// math of fastcodec/instances.h that the CPU loops (csrc/cpu/heatmap_module.cpp) run.
// Launch parameters: backends/cuda/launch.py. The heatmaps themselves are
// fc_encode_gaussian's (heatmap.cu).
#include "cuda_compat.cuh"
#include "fastcodec/instances.h"

using namespace fastcodec;
using namespace fastcodec::cuda;

// ---- instance_geometry: one thread per instance ----------------------------------------
// keypoints (R, K, 2) in kps32 (f32 != 0) or kps64 (the other may be empty), visible
// (R, K) float64 -> roots (R, 2), roots_visible (R,), diagonals (R,). grid-stride.
extern "C" __global__ void fc_instance_geometry(const float* kps32, const double* kps64, int f32,
                                                const double* vis, int64_t R, int64_t K,
                                                int kpt_center, float* roots,
                                                float* roots_visible, float* diagonals) {
  for (int64_t i = global_thread(); i < R; i += grid_threads()) {
    const InstanceGeometry g =
        f32 ? one_instance_geometry<float>(kps32 + 2 * K * i, vis + K * i, K, kpt_center != 0)
            : one_instance_geometry<double>(kps64 + 2 * K * i, vis + K * i, K, kpt_center != 0);
    roots[2 * i] = g.root_x;
    roots[2 * i + 1] = g.root_y;
    roots_visible[i] = g.root_visible;
    diagonals[i] = g.diagonal;
  }
}

// ---- instance_sigmas: one thread per instance ------------------------------------------
// heights, widths (R,) in h32/w32 (f32 != 0) or h64/w64 -> sigmas (R,) float32. `two` is
// 2, a run-time value as on the CPU (instances.h). On a GPU pow/powf are CUDA's (not
// correctly rounded: sigmas may differ from the CPU's libm in the last bits; the targets
// stay within the parity contract, tests/cuda/test_cuda_emulator.py); the emulator runs
// the host's libm, bit for bit.
extern "C" __global__ void fc_instance_sigmas(const float* h32, const float* w32,
                                              const double* h64, const double* w64, int f32,
                                              int64_t R, double overlap, double two,
                                              float* sigmas) {
  for (int64_t i = global_thread(); i < R; i += grid_threads())
    sigmas[i] = f32 ? instance_sigma<float>(h32[i], w32[i], overlap, (float)two)
                    : instance_sigma<double>(h64[i], w64[i], overlap, two);
}
