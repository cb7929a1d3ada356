// CUDA kernel of Hand3DHeatmap's target volumes: one block per (sample, keypoint) volume,
// the arithmetic of fastcodec/hand3d.h as csrc/cpu/hand3d_kernels.cpp uses it (each
// window's distinct voxels, the separable product unless it lies too close to a float32
// rounding boundary, then MMPose's exact expression). Launch parameters:
// backends/cuda/launch.py.
#include "cuda_compat.cuh"
#include "fastcodec/hand3d.h"

using namespace fastcodec;
using namespace fastcodec::cuda;

// ---- hand3d_encode: one block per volume -----------------------------------------------------
// keypoints (B, N, K, 3) f64, sigma (B, N) f64; heatmaps (B, K, D, H, W) zeroed by the
// front, inside (B, N, K). Block b * K + k draws keypoint k of each instance in turn,
// taking the maximum where windows meet; three threads list the window's voxels per axis
// into dynamic shared memory (16 * (W + H + D) bytes: int64 indices, then double
// factors), then every thread takes voxels of the window. grid B * K, block 256.
extern "C" __global__ void fc_hand3d_encode(const double* kps, const double* sigma, int64_t B,
                                            int64_t N, int64_t K, int64_t W, int64_t H,
                                            int64_t D, double image_w, double image_h,
                                            double depth_bound, int f32, float max_bound,
                                            float* heatmaps, unsigned char* inside) {
  FC_DYNAMIC_SHARED(unsigned char, shared);
  __shared__ int64_t counts[3];
  int64_t* xs = reinterpret_cast<int64_t*>(shared);
  int64_t* ys = xs + W;
  int64_t* zs = ys + H;
  double* fx = reinterpret_cast<double*>(zs + D);
  double* fy = fx + W;
  double* fz = fy + H;
  const int64_t b = blockIdx.x / K, k = blockIdx.x % K;
  float* vol = heatmaps + (int64_t)blockIdx.x * D * H * W;
  for (int64_t n = 0; n < N; ++n) {
    const int64_t r = (b * N + n) * K + k;
    const double* p = kps + 3 * r;
    const double mu_x = hand3d_centre_xy(p[0], W, image_w);
    const double mu_y = hand3d_centre_xy(p[1], H, image_h);
    const double mu_z = hand3d_centre_z(p[2], depth_bound, D, f32 != 0);
    if (threadIdx.x == 0)
      inside[r] = hand3d_depth_inside(mu_z, D) && hand3d_finite(mu_x) && hand3d_finite(mu_y);
    // the CPU's rule: a non-finite or far-off centre draws nothing (same for every thread)
    if (!coord_is_usable(mu_x) || !coord_is_usable(mu_y) || !coord_is_usable(mu_z)) continue;
    const double s = sigma[b * N + n], radius = s * 3.0;
    const int64_t L = hand3d_window_length(radius);
    if (threadIdx.x == 0) counts[0] = hand3d_axis_voxels(xs, fx, L, radius, mu_x, W, s);
    if (threadIdx.x == 1) counts[1] = hand3d_axis_voxels(ys, fy, L, radius, mu_y, H, s);
    if (threadIdx.x == 2) counts[2] = hand3d_axis_voxels(zs, fz, L, radius, mu_z, D, s);
    __syncthreads();
    const int64_t nx = counts[0], ny = counts[1], nz = counts[2];
    for (int64_t t = threadIdx.x; t < nx * ny * nz; t += blockDim.x) {
      const int64_t i = t % nx, j = (t / nx) % ny, l = t / (nx * ny);
      const double fyz = fy[j] * fz[l];
      const double prod = fx[i] * fyz;
      const float v = hand3d_rounds_clear(prod)
                          ? hand3d_scaled((float)prod, max_bound)
                          : hand3d_scaled(hand3d_gaussian(xs[i], ys[j], zs[l], mu_x, mu_y,
                                                          mu_z, s),
                                          max_bound);
      float* dst = vol + (zs[l] * H + ys[j]) * W + xs[i];
      *dst = v > *dst ? v : *dst;
    }
    __syncthreads();  // the next instance's lists overwrite these
  }
}
