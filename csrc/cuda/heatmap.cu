// CUDA kernels of the heatmap codecs (MSRAHeatmap, UDPHeatmap's Gaussian targets,
// the argmax and the DARK decoder). The math is csrc/include/fastcodec's, shared with
// the CPU loops of csrc/cpu/heatmap_kernels.cpp; these kernels only lay it out on the
// GPU. Launch parameters (grid, block, dynamic shared memory) come from
// src/fastcodec/backends/cuda/launch.py, which must agree with the comments here.
#include "block_reduce.cuh"
#include "cuda_compat.cuh"
#include "fastcodec/argmax.h"
#include "fastcodec/blur.h"
#include "fastcodec/blur_pixel.h"
#include "fastcodec/heatmap_targets.h"
#include "fastcodec/refine.h"

namespace fastcodec {
namespace cuda {

// float32's smallest normal number: the CPU encoders run with denormal results flushed
// to zero, so targets never hold a denormal; the kernels flush explicitly.
constexpr float kMinNormal = 1.17549435e-38f;
__device__ __forceinline__ float flush_denormal(float v) { return v < kMinNormal ? 0.f : v; }

// The keypoint of row i divided by the encoder's scale, as the CPU's scaled_point
// (csrc/cpu/heatmap_kernels.cpp) computes it: NaN/Inf/huge coordinates are unusable.
__device__ __forceinline__ bool scaled_point(const double* kps, int64_t i, float sx, float sy,
                                             bool f32, double* x, double* y) {
  const double rx = kps[2 * i], ry = kps[2 * i + 1];
  if (!coord_is_usable(rx) || !coord_is_usable(ry)) return false;
  *x = scale_coord(rx, sx, f32);
  *y = scale_coord(ry, sy, f32);
  return coord_is_usable(*x) && coord_is_usable(*y);
}

// The Gaussian patch of one instance: MMPose's geometry for a float64 or float32 sigma.
__device__ __forceinline__ PatchGeometry instance_geometry(double sigma, bool sigma_f32) {
  return sigma_f32 ? patch_geometry_f32((float)sigma) : patch_geometry(sigma);
}

}  // namespace cuda
}  // namespace fastcodec

using namespace fastcodec;
using namespace fastcodec::cuda;

// ---- heatmap_maximum: one block per map ----------------------------------------------
// grid (C), block 128 threads (whole warps). Each thread scans a strided share of the
// map (coalesced), then a warp-shuffle and a shared-memory step reduce under numpy's
// argmax rule. locs (C, 2), vals (C).
extern "C" __global__ void fc_heatmap_maximum(const float* heat, int64_t C, int64_t H, int64_t W,
                                              float* locs, float* vals) {
  __shared__ ArgMax scratch[33];
  const int64_t c = blockIdx.x;
  if (c >= C) return;  // whole block leaves together
  const ArgMax m = block_argmax(strided_argmax(heat + c * H * W, threadIdx.x, H * W, blockDim.x),
                                scratch);
  if (threadIdx.x == 0) {
    Maximum mx;
    mx.index = m.index;
    mx.value = m.value;
    maximum_location(mx, W, locs + 2 * c, locs + 2 * c + 1);
    vals[c] = m.value;
  }
}

// ---- decode_msra: the argmax, then the 0.25 px step toward the higher neighbour --------
// grid (C), block 128. locs (C, 2), vals (C); locations times (sx, sy) in float32.
extern "C" __global__ void fc_decode_msra(const float* heat, int64_t C, int64_t H, int64_t W,
                                          float sx, float sy, float* locs, float* vals) {
  __shared__ ArgMax scratch[33];
  const int64_t c = blockIdx.x;
  if (c >= C) return;
  const float* map = heat + c * H * W;
  const ArgMax m = block_argmax(strided_argmax(map, threadIdx.x, H * W, blockDim.x), scratch);
  if (threadIdx.x == 0) {
    Maximum mx;
    mx.index = m.index;
    mx.value = m.value;
    float x, y;
    maximum_location(mx, W, &x, &y);
    const Offset o = sign_step(map, W, H, (int64_t)x, (int64_t)y);
    x += (float)o.dx;
    y += (float)o.dy;
    locs[2 * c] = x * sx;
    locs[2 * c + 1] = y * sy;
    vals[c] = m.value;
  }
}

// ---- decode_dark (DARK, not UDP): one block per map, the blur fused with the step -----
// grid (C), block 256, dynamic shared memory (band_rows + 2r) * W floats when band_rows
// > 0. The raw argmax first; then the blurred map row band by row band: the row pass of
// the band (and r rows either side) into shared memory, the column pass from there,
// tracking the blurred maximum (MMPose's rescale factor) and keeping the 5x5 blurred
// patch around the argmax in shared memory; then one thread takes the Taylor step on
// that patch. band_rows == 0 (a map too wide for shared memory) blurs each pixel from
// global memory instead. The ksize OpenCV taps are computed once per block.
extern "C" __global__ void fc_decode_dark(const float* heat, int64_t C, int64_t H, int64_t W,
                                          int ksize, int64_t band_rows, float sx, float sy,
                                          float* locs, float* vals) {
  __shared__ float taps[kMaxBlurKernel];
  __shared__ ArgMax scratch[33];
  __shared__ float max_scratch[33];
  __shared__ float patch[25];
  FC_DYNAMIC_SHARED(float, rows);
  const int64_t c = blockIdx.x;
  if (c >= C) return;
  const float* map = heat + c * H * W;
  const int64_t HW = H * W;
  if (threadIdx.x == 0) opencv_gaussian_kernel(ksize, taps);
  // (block_argmax synchronises the block before anyone reads the taps)
  const ArgMax m = block_argmax(strided_argmax(map, threadIdx.x, HW, blockDim.x), scratch);
  Maximum raw;
  raw.index = m.index;
  raw.value = m.value;
  float px, py;
  maximum_location(raw, W, &px, &py);
  const int64_t ix = (int64_t)px, iy = (int64_t)py;
  const BlurGeometry g = blur_geometry(H, W, ksize / 2, false);
  const int r = g.r;
  float blurred_max = negative_infinity();
  // Keep the blurred value of (x, y) when it lies in the 5x5 block around the argmax.
  auto keep = [&](int64_t x, int64_t y, float v) {
    const int64_t dx = x - ix, dy = y - iy;
    if (dx >= -2 && dx <= 2 && dy >= -2 && dy <= 2) patch[(dy + 2) * 5 + dx + 2] = v;
  };
  if (band_rows > 0) {
    for (int64_t y0 = 0; y0 < H; y0 += band_rows) {
      const int64_t n = min_i64(band_rows, H - y0);
      for (int64_t t = threadIdx.x; t < (n + 2 * r) * W; t += blockDim.x)
        rows[t] = blur_row_value(map, g, taps, t % W, y0 - r + t / W);
      __syncthreads();
      for (int64_t t = threadIdx.x; t < n * W; t += blockDim.x) {
        const int64_t x = t % W, yb = t / W;
        auto at = [&](int i) { return rows[(yb + r + i) * W + x]; };
        const float v = blur_column_value(g, taps, x, at);
        blurred_max = nan_max(blurred_max, v);
        keep(x, y0 + yb, v);
      }
      __syncthreads();  // the band's rows are overwritten next
    }
  } else {
    for (int64_t t = threadIdx.x; t < HW; t += blockDim.x) {
      const float v = blur_pixel(map, g, taps, t % W, t / W);
      blurred_max = nan_max(blurred_max, v);
      keep(t % W, t / W, v);
    }
  }
  blurred_max = block_nan_max(blurred_max, max_scratch, negative_infinity());  // synchronises: patch ready
  if (threadIdx.x == 0) {
    const float s = blur_rescale(raw.value, blurred_max);
    auto L = [&](int dx, int dy) { return dark_log(patch[(2 + dy) * 5 + 2 + dx] * s); };
    Offset o;
    if (dark_step(L, W, H, ix, iy, &o)) {
      px = (float)((double)px + o.dx);
      py = (float)((double)py + o.dy);
    }
    locs[2 * c] = px * sx;
    locs[2 * c + 1] = py * sy;
    vals[c] = raw.value;
  }
}

// ---- encode_gaussian: one thread per target pixel ---------------------------------------
// kind 0 'msra', 1 'unbiased', 2 'udp'. grid-stride over B*K*H*W pixels, block 256. Each
// pixel takes the maximum over the instances whose patch covers it, as the CPU pastes
// them one after another; the thread of pixel 0 of a (b, k) map also writes inside[b, :, k].
// sigma (sigma_rows, N) float64 values; sigma_f32: MMPose's float32 patch geometry.
extern "C" __global__ void fc_encode_gaussian(int kind, const double* kps, const double* vis,
                                              const double* sigma, int64_t sigma_rows,
                                              int sigma_f32, float sx, float sy, int f32,
                                              int64_t B, int64_t N, int64_t K, int64_t H,
                                              int64_t W, float* heat, unsigned char* inside) {
  const int64_t total = B * K * H * W;
  for (int64_t e = global_thread(); e < total; e += grid_threads()) {
    const int64_t x = e % W, y = (e / W) % H, k = (e / (H * W)) % K, b = e / (H * W * K);
    const bool first = x == 0 && y == 0;
    float acc = 0.f;
    for (int64_t n = 0; n < N; ++n) {
      const int64_t i = (b * N + n) * K + k;
      double p_x, p_y;
      const bool usable = scaled_point(kps, i, sx, sy, f32 != 0, &p_x, &p_y);
      bool in = usable;
      const bool draw = usable && !(vis[i] < 0.5);
      if (draw) {
        const double sg = sigma[(sigma_rows == 1 ? 0 : b) * N + n];
        const PatchGeometry geo = instance_geometry(sg, sigma_f32 != 0);
        float v = -1.f;  // < 0: this pixel is not covered
        if (kind == 1) {
          const bool misses = f32 ? unbiased_misses<float>((float)p_x, (float)p_y, (float)geo.radius, W, H)
                                  : unbiased_misses<double>(p_x, p_y, geo.radius, W, H);
          if (misses) {
            in = false;
          } else if (f32) {
            const float s2 = (float)(2 * sg * sg);
            v = (float)(unbiased_factor<float>(x, (float)p_x, s2) *
                        unbiased_factor<float>(y, (float)p_y, s2));
          } else {
            const double s2 = 2 * sg * sg;
            v = (float)(unbiased_factor<double>(x, p_x, s2) * unbiased_factor<double>(y, p_y, s2));
          }
        } else {
          const PatchWindow win = patch_window(p_x, p_y, f32 != 0, geo.radius);
          if (patch_misses(win, W, H)) {
            in = false;
          } else {
            const int64_t gx = x - win.left, gy = y - win.top, L = geo.length;
            // inside the clipped window and the patch (MMPose pastes no further)
            if (x >= win.left && x < win.right && y >= win.top && y < win.bottom && gx < L && gy < L) {
              if (kind == 0) {
                v = msra_patch_value(gx, gy, (float)geo.centre, (float)(2 * sg * sg));
              } else {
                const double s2 = 2 * sg * sg;
                v = (float)(udp_patch_factor(gx, geo.centre, p_x, win.mu_x, s2) *
                            udp_patch_factor(gy, geo.centre, p_y, win.mu_y, s2));
              }
            }
          }
        }
        if (v > acc) acc = v;
      }
      if (first) inside[i] = in ? 1 : 0;
    }
    heat[e] = flush_denormal(acc);
  }
}
