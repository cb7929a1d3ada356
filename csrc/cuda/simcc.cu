// CUDA kernels of SimCCLabel and SimCC3DLabel's encoder: the 1-D labels, one thread per
// label bin; the decoder, one warp per keypoint row (argmax, the 1-D DARK blur and step,
// the softmax visibility), the math of fastcodec/simcc.h as the CPU loops of
// csrc/cpu/simcc_kernels.cpp use it. Launch parameters: backends/cuda/launch.py.
#include "block_reduce.cuh"
#include "cuda_compat.cuh"
#include "fastcodec/argmax.h"
#include "fastcodec/blur.h"
#include "fastcodec/simcc.h"

namespace fastcodec {
namespace cuda {

// float32's smallest normal number: the CPU encoder flushes denormal results.
__device__ __forceinline__ float simcc_flush(float v) { return fabsf(v) < 1.17549435e-38f ? 0.f : v; }

// The first maximum of a row, reduced over the warp; every lane gets it.
__device__ __forceinline__ Maximum warp_row_maximum(const float* v, int64_t n) {
  ArgMax m = warp_argmax(strided_argmax(v, threadIdx.x & 31, n, 32));
  Maximum out;
  out.value = __shfl_sync(kFullWarp, m.value, 0);
  out.index = __shfl_sync(kFullWarp, m.index, 0);
  return out;
}

// gaussian_blur1d's rescale factor of a row: raw max / blurred max (NaN propagating as
// the CPU's first_argmax value does).
__device__ __forceinline__ float warp_row_blur_scale(const float* v, int64_t n, const float* w,
                                                     int r, float raw_max) {
  float b = -FC_INF_F;
  for (int64_t i = threadIdx.x & 31; i < n; i += 32) b = nan_max(b, simcc_blur_at(v, n, w, r, i));
  b = __shfl_sync(kFullWarp, warp_nan_max(b), 0);
  return blur_rescale(raw_max, b);
}

// The DARK log value at bin i, out of line: the decoder reads it from several places.
__device__ FC_NOINLINE float simcc_dark_value(const float* v, int64_t n, const float* w, int r,
                                              float scale, int64_t i) {
  return simcc_dark_log(simcc_blur_at(v, n, w, r, i) * scale);
}

// The value the visibility softmax reads at bin i: the raw row, or with DARK MMPose's
// overwritten row, log(clip(blurred * scale)).
struct SimccRow {
  const float* v;
  int64_t n;
  const float* w;  // nullptr: no DARK
  int r;
  float scale;
  __device__ __forceinline__ float at(int64_t i) const {
    return w ? simcc_dark_value(v, n, w, r, scale, i) : v[i];
  }
};

__device__ __forceinline__ double warp_sum(double v) {
  for (int d = 16; d > 0; d >>= 1) v += __shfl_down_sync(kFullWarp, v, d);
  return __shfl_sync(kFullWarp, v, 0);
}

__device__ __forceinline__ double warp_max_double(double v) {
  for (int d = 16; d > 0; d >>= 1) {
    const double o = __shfl_down_sync(kFullWarp, v, d);
    v = o > v ? o : v;
  }
  return __shfl_sync(kFullWarp, v, 0);
}

// simcc_softmax_max over the warp: the largest softmax probability of
// fl32(value * beta) * sigma. The sum runs in a different order than the CPU's (a
// float64 sum: the difference is far below the score tolerance).
__device__ __forceinline__ double warp_softmax_max(const SimccRow& row, float beta, double sigma) {
  const int lane = threadIdx.x & 31;
  double m = -FC_INF_F;
  bool nan = false;
  for (int64_t i = lane; i < row.n; i += 32) {
    const double u = (double)(row.at(i) * beta) * sigma;
    if (u != u) nan = true;
    else if (u > m) m = u;
  }
  if (__any_sync(kFullWarp, nan)) return FC_NAN;
  m = warp_max_double(m);
  double s = 0.0, emax = 0.0;
  bool e_nan = false;
  for (int64_t i = lane; i < row.n; i += 32) {
    const double e = exp((double)(row.at(i) * beta) * sigma - m);
    if (e != e) e_nan = true;
    if (e > emax) emax = e;
    s += e;
  }
  if (__any_sync(kFullWarp, e_nan)) return FC_NAN;
  s = warp_sum(s);
  emax = warp_max_double(emax);
  return emax / s;
}

// One axis of a row: DARK (when k > 0) refines *loc from the raw maximum; returns the
// row the visibility reads.
__device__ __forceinline__ SimccRow simcc_axis(const float* v, int64_t n, const float* w, int k,
                                               const Maximum& raw, float* loc) {
  SimccRow row;
  row.v = v;
  row.n = n;
  row.w = k > 0 ? w : nullptr;
  row.r = k / 2;
  row.scale = 1.f;
  if (k > 0) {
    row.scale = warp_row_blur_scale(v, n, w, row.r, raw.value);
    if ((threadIdx.x & 31) == 0)
      simcc_dark_step([&](int64_t o) { return row.at(o); }, n, loc);
  }
  return row;
}

}  // namespace cuda
}  // namespace fastcodec

using namespace fastcodec;
using namespace fastcodec::cuda;

// ---- simcc_encode: one thread per label bin ---------------------------------------------
// x labels (R, W) then y labels (R, H) as one grid-stride range over R * (W + H), block
// 256; the thread of x bin 0 writes inside[r]. gaussian: MMPose's Gaussian labels, else
// 'standard' one-hot labels with label smoothing.
extern "C" __global__ void fc_simcc_encode(const double* kps, const double* vis, int64_t R,
                                           int64_t W, int64_t H, int gaussian, double sigma_x,
                                           double sigma_y, double ratio, int f32,
                                           double label_smooth_weight, int normalize,
                                           float* x_labels, float* y_labels,
                                           unsigned char* inside) {
  const int64_t total = R * (W + H);
  const float ratio32 = (float)ratio;
  for (int64_t e = global_thread(); e < total; e += grid_threads()) {
    const bool along_x = e < R * W;
    const int64_t r = along_x ? e / W : (e - R * W) / H;
    const int64_t i = along_x ? e % W : (e - R * W) % H;
    const int64_t n = along_x ? W : H;
    float v = 0.f;
    bool in = true;
    if (simcc_keypoint_drawn(vis[r])) {
      const double x = kps[2 * r], y = kps[2 * r + 1];
      if (!coord_is_usable(x) || !coord_is_usable(y)) {
        in = false;
      } else {
        const int64_t mx = simcc_bin(x, ratio32, ratio, f32 != 0);
        const int64_t my = simcc_bin(y, ratio32, ratio, f32 != 0);
        const int64_t mu = along_x ? mx : my;
        if (gaussian) {
          if (!simcc_gaussian_inside(mx, sigma_x, W) || !simcc_gaussian_inside(my, sigma_y, H)) {
            in = false;
          } else {
            v = simcc_flush(simcc_gaussian_label(i, mu, along_x ? sigma_x : sigma_y, normalize != 0));
          }
        } else if (!simcc_onehot_inside(mx, my, W, H)) {
          in = false;
        } else if (i == mu) {
          v = simcc_onehot_peak(label_smooth_weight);
        } else if (label_smooth_weight > 0) {
          v = simcc_smoothing(label_smooth_weight, n);
        }
      }
    }
    if (along_x && i == 0) inside[r] = in ? 1 : 0;
    (along_x ? x_labels : y_labels)[along_x ? r * W + i : r * H + i] = v;
  }
}

// ---- simcc3d_encode: one thread per label bin ---------------------------------------------
// SimCC3DLabel: simcc_encode's Gaussian rule on three axes. Row r's bins x (W), y (H) and
// z (D) as one grid-stride range over R * (W + H + D), block 256; the thread of row r's
// first bin writes inside[r]. All three labels stay zero when any axis misses.
extern "C" __global__ void fc_simcc3d_encode(const double* kps, const double* vis, int64_t R,
                                             int64_t W, int64_t H, int64_t D, double sigma_x,
                                             double sigma_y, double sigma_z, double ratio,
                                             int f32, int normalize, float* x_labels,
                                             float* y_labels, float* z_labels,
                                             unsigned char* inside) {
  const int64_t per_row = W + H + D;
  const float ratio32 = (float)ratio;
  const double sigma[3] = {sigma_x, sigma_y, sigma_z};
  const int64_t size[3] = {W, H, D};
  for (int64_t e = global_thread(); e < R * per_row; e += grid_threads()) {
    const int64_t r = e / per_row, j = e % per_row;
    const int axis = j < W ? 0 : (j < W + H ? 1 : 2);
    const int64_t i = axis == 0 ? j : (axis == 1 ? j - W : j - W - H);
    float v = 0.f;
    bool in = true;
    if (simcc_keypoint_drawn(vis[r])) {
      int64_t mu[3];
      in = simcc3d_bins(kps + 3 * r, ratio32, ratio, f32 != 0, sigma, size, mu);
      if (in) v = simcc_flush(simcc_gaussian_label(i, mu[axis], sigma[axis], normalize != 0));
    }
    if (j == 0) inside[r] = in ? 1 : 0;
    float* row = axis == 0 ? x_labels + r * W : (axis == 1 ? y_labels + r * H : z_labels + r * D);
    row[i] = v;
  }
}

// ---- simcc_maximum: one warp per row -------------------------------------------------------
// grid ceil(R / 4), block 128 (4 warps).
extern "C" __global__ void fc_simcc_maximum(const float* sx, const float* sy, int64_t R,
                                            int64_t Wx, int64_t Wy, float* locs, float* vals) {
  const int64_t r = (int64_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  if (r >= R) return;  // whole warps leave together
  const Maximum mx = warp_row_maximum(sx + r * Wx, Wx);
  const Maximum my = warp_row_maximum(sy + r * Wy, Wy);
  if ((threadIdx.x & 31) == 0) vals[r] = simcc_pair_maximum(mx, my, locs + 2 * r, locs + 2 * r + 1);
}

// ---- simcc_decode: one warp per row ----------------------------------------------------------
// grid ceil(R / 4), block 128 (4 warps); the blur taps of both axes computed once per
// block into shared memory. kx, ky: DARK blur sizes (0: no DARK); vis (R,) written when
// visibility (else it may be empty).
extern "C" __global__ void fc_simcc_decode(const float* sx, const float* sy, int64_t R,
                                           int64_t Wx, int64_t Wy, int kx, int ky, double ratio,
                                           int visibility, float beta, double sigma_x,
                                           double sigma_y, float* locs, float* vals,
                                           double* vis) {
  __shared__ float taps_x[kMaxBlurKernel];
  __shared__ float taps_y[kMaxBlurKernel];
  if (threadIdx.x == 0) {
    if (kx > 0) opencv_gaussian_kernel(kx, taps_x);
    if (ky > 0) opencv_gaussian_kernel(ky, taps_y);
  }
  __syncthreads();
  const int64_t r = (int64_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  if (r >= R) return;  // whole warps leave together; no block barrier follows
  const bool lead = (threadIdx.x & 31) == 0;
  const float* x = sx + r * Wx;
  const float* y = sy + r * Wy;
  const Maximum mx = warp_row_maximum(x, Wx), my = warp_row_maximum(y, Wy);
  float lx, ly;
  const float v = simcc_pair_maximum(mx, my, &lx, &ly);
  // x then y in one loop: one copy of the (large) DARK and softmax code per kernel
  double p[2];
  for (int axis = 0; axis < 2; ++axis) {
    const SimccRow row = axis == 0 ? simcc_axis(x, Wx, taps_x, kx, mx, &lx)
                                   : simcc_axis(y, Wy, taps_y, ky, my, &ly);
    if (visibility) p[axis] = warp_softmax_max(row, beta, axis == 0 ? sigma_x : sigma_y);
  }
  if (lead) {
    vals[r] = v;
    locs[2 * r] = simcc_location(lx, ratio);
    locs[2 * r + 1] = simcc_location(ly, ratio);
    if (visibility) vis[r] = simcc_visibility(p[0], p[1]);
  }
}

// ---- simcc_refine_dark: one warp per row --------------------------------------------------
// refine_simcc_dark: keypoints (R,) refined into out (R,). grid ceil(R / 4), block 128.
extern "C" __global__ void fc_simcc_refine_dark(const float* kps, const float* simcc, int64_t R,
                                                int64_t W, int ksize, float* out) {
  __shared__ float taps[kMaxBlurKernel];
  if (threadIdx.x == 0) opencv_gaussian_kernel(ksize, taps);
  __syncthreads();
  const int64_t r = (int64_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  if (r >= R) return;
  const float* v = simcc + r * W;
  const Maximum m = warp_row_maximum(v, W);
  float x = kps[r];
  simcc_axis(v, W, taps, ksize, m, &x);
  if ((threadIdx.x & 31) == 0) out[r] = x;
}
