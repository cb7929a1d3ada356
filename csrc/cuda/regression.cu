// CUDA kernels of RegressionLabel and IntegralRegressionLabel: one thread per keypoint
// (fastcodec/regression.h), and the heatmap normalisation, one block per map.
// Launch parameters: backends/cuda/launch.py.
#include "cuda_compat.cuh"
#include "fastcodec/regression.h"

using namespace fastcodec;
using namespace fastcodec::cuda;

// ---- encode_regression: one thread per keypoint -------------------------------------------
// keypoints (M, 2) and visible (M,) as float64 (float32 inputs convert exactly, as the
// CPU reads them); labels (M, 2), weights (M,). grid-stride, block 256.
extern "C" __global__ void fc_encode_regression(const double* kps, const double* vis, int64_t M,
                                                double w, double h, float* labels,
                                                float* weights) {
  for (int64_t i = global_thread(); i < M; i += grid_threads()) {
    const double x = kps[2 * i], y = kps[2 * i + 1];
    const float lx = regression_label(x, w), ly = regression_label(y, h);
    const bool finite = regression_labels_finite(lx, ly);
    labels[2 * i] = finite ? lx : 0.f;
    labels[2 * i + 1] = finite ? ly : 0.f;
    weights[i] = regression_weight(x, y, vis[i], w, h);
  }
}

// ---- decode_regression: one thread per keypoint -------------------------------------------
// encoded (M, D) as float64, D = 2 or 4; keypoints (M, 2) float64; scores into scores32
// (f32: float32 arithmetic, as for float32 outputs) or scores64 (the other may be empty).
extern "C" __global__ void fc_decode_regression(const double* encoded, int64_t M, int64_t D,
                                                double w, double h, int f32, double* keypoints,
                                                float* scores32, double* scores64) {
  for (int64_t i = global_thread(); i < M; i += grid_threads()) {
    const double* e = encoded + D * i;
    keypoints[2 * i] = regression_coord(e[0], w);
    keypoints[2 * i + 1] = regression_coord(e[1], h);
    if (f32)
      scores32[i] = D == 4 ? sigma_score((float)e[2], (float)e[3]) : 1.f;
    else
      scores64[i] = D == 4 ? sigma_score(e[2], e[3]) : 1.0;
  }
}

// ---- normalize_heatmaps: one block per map, in place ------------------------------------------
// Each map divided by heatmap_normalizer(its sum). The sum as the CPU forms it: per row,
// eight float32 lanes over x % 8 (the tail into lane 0) combined pairwise, the rows added
// in order in float64 -- one thread per row, then thread 0 in row order. block 128.
extern "C" __global__ void fc_normalize_heatmaps(float* heat, int64_t C, int64_t H, int64_t W) {
  __shared__ float row_sums[128];
  __shared__ float norm;
  const int64_t c = blockIdx.x;
  if (c >= C) return;
  float* m = heat + c * H * W;
  double total = 0;  // meaningful in thread 0
  for (int64_t y0 = 0; y0 < H; y0 += 128) {
    const int64_t y = y0 + threadIdx.x;
    if (threadIdx.x < 128 && y < H) {
      const float* row = m + y * W;
      float part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      int64_t x = 0;
      for (; x + 8 <= W; x += 8)
        for (int j = 0; j < 8; ++j) part[j] += row[x + j];
      for (; x < W; ++x) part[0] += row[x];
      row_sums[threadIdx.x] =
          ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
    }
    __syncthreads();
    if (threadIdx.x == 0)
      for (int64_t t = 0; t < 128 && y0 + t < H; ++t) total += row_sums[t];
    __syncthreads();
  }
  if (threadIdx.x == 0) norm = heatmap_normalizer(total);
  __syncthreads();
  for (int64_t p = threadIdx.x; p < H * W; p += blockDim.x) m[p] = normalized_value(m[p], norm);
}
