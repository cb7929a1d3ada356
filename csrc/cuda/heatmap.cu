// CUDA kernels of the heatmap codecs (MSRAHeatmap, UDPHeatmap's Gaussian targets,
// the argmax and the DARK decoder). The math is csrc/include/fastcodec's, shared with
// the CPU loops of csrc/cpu/heatmap_kernels.cpp; these kernels only lay it out on the
// GPU. Launch parameters (grid, block, dynamic shared memory) come from
// src/fastcodec/backends/cuda/launch.py, which must agree with the comments here.
#include "block_reduce.cuh"
#include "blur_pixel.cuh"
#include "cuda_compat.cuh"
#include "fastcodec/argmax.h"
#include "fastcodec/blur.h"
#include "fastcodec/heatmap_targets.h"
#include "fastcodec/refine.h"

namespace fastcodec {
namespace cuda {

// float32's smallest normal number: the CPU encoders run with denormal results flushed
// to zero, so targets never hold a denormal; the kernels flush explicitly.
constexpr float kMinNormal = 1.17549435e-38f;
__device__ __forceinline__ float flush_denormal(float v) { return fabsf(v) < kMinNormal ? 0.f : v; }

// The Gaussian patch of one instance: MMPose's geometry for a float64 or float32 sigma.
__device__ __forceinline__ PatchGeometry instance_geometry(double sigma, bool sigma_f32) {
  return sigma_f32 ? patch_geometry_f32((float)sigma) : patch_geometry(sigma);
}

// blur_pixel out of line: one copy of its (2r + 1)^2-tap loops per program.
__device__ FC_NOINLINE float blur_pixel_at(const float* map, const BlurGeometry& g,
                                           const float* taps, int64_t x, int64_t y) {
  return blur_pixel(map, g, taps, x, y);
}

// Every pixel of one blurred map, visit(x, y, value) once each, shared by the threads of
// the block; every thread of the block must call it. band_rows > 0: row bands, the row
// pass of a band (with its r halo rows) in the dynamic shared memory `rows`,
// (band_rows + 2r) * W floats, the column pass from there; band_rows == 0: each pixel
// from global memory (blur_pixel), for maps too wide for a band.
template <typename Visit>
__device__ __forceinline__ void block_blur(const float* map, const BlurGeometry& g,
                                          const float* taps, int64_t band_rows, float* rows,
                                          Visit visit) {
  const int64_t H = g.H, W = g.W;
  const int r = g.r;
  if (band_rows > 0) {
    for (int64_t y0 = 0; y0 < H; y0 += band_rows) {
      const int64_t n = min_i64(band_rows, H - y0);
      for (int64_t t = threadIdx.x; t < (n + 2 * r) * W; t += blockDim.x)
        rows[t] = blur_row_value(map, g, taps, t % W, y0 - r + t / W);
      __syncthreads();
      for (int64_t t = threadIdx.x; t < n * W; t += blockDim.x) {
        const int64_t x = t % W, yb = t / W;
        auto at = [&](int i) { return rows[(yb + r + i) * W + x]; };
        visit(x, y0 + yb, blur_column_value(g, taps, x, at));
      }
      __syncthreads();  // the band's rows are overwritten next
    }
  } else {
    for (int64_t t = threadIdx.x; t < H * W; t += blockDim.x)
      visit(t % W, t / W, blur_pixel_at(map, g, taps, t % W, t / W));
  }
}

// The first maximum of one map (every thread gets it) and, from it, the integer
// location MMPose steps from (-1 where the maximum is <= 0).
__device__ __forceinline__ Maximum block_map_maximum(const float* map, int64_t n, ArgMax* scratch) {
  const ArgMax m = block_argmax(strided_argmax(map, threadIdx.x, n, blockDim.x), scratch);
  Maximum mx;
  mx.index = m.index;
  mx.value = m.value;
  return mx;
}

// The static shared memory of the blurring decoders: the OpenCV taps and the scratch of
// the block reductions.
struct BlurDecoderShared {
  float taps[kMaxBlurKernel];
  ArgMax scratch[33];
  float max_scratch[33];
};

// The ksize taps into shared memory, computed by thread 0; the caller synchronises.
__device__ __forceinline__ void load_taps(int ksize, float* taps) {
  if (threadIdx.x == 0) opencv_gaussian_kernel(ksize, taps);
}

// How each blurring decoder starts on its map: the taps (load_taps) and the map's raw
// first maximum (block_map_maximum, whose reduction also orders the taps' writes).
__device__ __forceinline__ Maximum taps_and_maximum(const float* map, int64_t n, int ksize,
                                                    BlurDecoderShared& sh) {
  load_taps(ksize, sh.taps);
  return block_map_maximum(map, n, sh.scratch);
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
// > 0 (block_blur). The raw argmax first; then the blurred map band by band, tracking
// the blurred maximum (MMPose's rescale factor) and keeping the 5x5 blurred patch
// around the argmax in shared memory; then one thread takes the Taylor step on that
// patch. The ksize OpenCV taps are computed once per block.
extern "C" __global__ void fc_decode_dark(const float* heat, int64_t C, int64_t H, int64_t W,
                                          int ksize, int64_t band_rows, float sx, float sy,
                                          float* locs, float* vals) {
  __shared__ BlurDecoderShared sh;
  __shared__ float patch[25];
  FC_DYNAMIC_SHARED(float, rows);
  const int64_t c = blockIdx.x;
  if (c >= C) return;  // whole block leaves together
  const float* map = heat + c * H * W;
  const Maximum raw = taps_and_maximum(map, H * W, ksize, sh);
  float px, py;
  maximum_location(raw, W, &px, &py);
  const int64_t ix = (int64_t)px, iy = (int64_t)py;
  float blurred_max = -FC_INF_F;
  block_blur(map, blur_geometry(H, W, ksize / 2, false), sh.taps, band_rows, rows,
             [&](int64_t x, int64_t y, float v) {
               blurred_max = nan_max(blurred_max, v);
               const int64_t dx = x - ix, dy = y - iy;
               if (dx >= -2 && dx <= 2 && dy >= -2 && dy <= 2) patch[(dy + 2) * 5 + dx + 2] = v;
             });
  blurred_max = block_nan_max(blurred_max, sh.max_scratch, -FC_INF_F);  // patch ready
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

// ---- map maxima and rescale factors: the first stage of DARK-UDP and the refine ops ----
// grid (C), block 256, shared memory as fc_decode_dark. locs (C, 2) the raw maximum's
// location (-1 where <= 0), vals (C) its value, scales (C) MMPose's gaussian_blur
// rescale factor of the map (raw max / blurred max).
extern "C" __global__ void fc_dark_maxima(const float* heat, int64_t C, int64_t H, int64_t W,
                                          int ksize, int64_t band_rows, float* locs,
                                          float* vals, float* scales) {
  __shared__ BlurDecoderShared sh;
  FC_DYNAMIC_SHARED(float, rows);
  const int64_t c = blockIdx.x;
  if (c >= C) return;
  const float* map = heat + c * H * W;
  const Maximum raw = taps_and_maximum(map, H * W, ksize, sh);
  float blurred_max = -FC_INF_F;
  block_blur(map, blur_geometry(H, W, ksize / 2, false), sh.taps, band_rows, rows,
             [&](int64_t, int64_t, float v) { blurred_max = nan_max(blurred_max, v); });
  blurred_max = block_nan_max(blurred_max, sh.max_scratch, -FC_INF_F);
  if (threadIdx.x == 0) {
    maximum_location(raw, W, locs + 2 * c, locs + 2 * c + 1);
    vals[c] = raw.value;
    scales[c] = blur_rescale(raw.value, blurred_max);
  }
}

namespace fastcodec {
namespace cuda {

// refine_keypoints_dark_udp for one keypoint kp (sample b, keypoint k): refine.h's flat
// index into the edge-padded (K, H + 2, W + 2) maps and its neighbours, the seven
// blurred values (each blurred from global memory) times their map's scale.
__device__ __forceinline__ void dark_udp_refine(double* kp, int64_t b, int64_t k, int64_t K,
                                                const float* heat, const BlurGeometry& g,
                                                const float* taps, const float* scales,
                                                bool f32) {
  const int64_t H = g.H, W = g.W;
  if (!coord_is_usable(kp[0]) || !coord_is_usable(kp[1])) return;
  const int64_t centre = dark_udp_centre(kp[0], kp[1], k, W, H, f32);
  float v[7];
  for (int j = 0; j < 7; ++j) {
    int64_t ch, x, y;
    if (!dark_udp_neighbour(centre, j, K, W, H, &ch, &x, &y)) return;  // IndexError in MMPose
    const int64_t map = b * K + ch;
    v[j] = dark_udp_log(blur_pixel_at(heat + map * H * W, g, taps, x, y) * scales[map]);
  }
  const Offset o = dark_udp_step(v);
  kp[0] -= o.dx;
  kp[1] -= o.dy;
}

}  // namespace cuda
}  // namespace fastcodec

// ---- the DARK-UDP step of decode_dark(udp=True) -------------------------------------------
// One thread per (b, k) after fc_dark_maxima: locs (B, K, 2) hold the raw maxima and are
// refined in place, then multiplied by (sx, sy). grid ceil(B*K / 128), block 128.
extern "C" __global__ void fc_decode_dark_udp_step(const float* heat, int64_t B, int64_t K,
                                                   int64_t H, int64_t W, int ksize,
                                                   const float* scales, float sx, float sy,
                                                   float* locs) {
  __shared__ float taps[kMaxBlurKernel];
  load_taps(ksize, taps);
  __syncthreads();
  const int64_t c = global_thread();
  if (c >= B * K) return;
  double kp[2] = {(double)locs[2 * c], (double)locs[2 * c + 1]};
  dark_udp_refine(kp, c / K, c % K, K, heat, blur_geometry(H, W, ksize / 2, false), taps, scales,
                  true);
  locs[2 * c] = (float)kp[0] * sx;
  locs[2 * c + 1] = (float)kp[1] * sy;
}

// ---- refine_dark_udp / refine_dark / refine_sign: keypoints (B, N, K, 2) f64 in place -----
// One thread per keypoint, grid ceil(B*N*K / 128), block 128; scales (B*K) from
// fc_dark_maxima (refine_sign needs none).
extern "C" __global__ void fc_refine_dark_udp(double* kps, int64_t B, int64_t N, int64_t K,
                                              const float* heat, int64_t H, int64_t W, int ksize,
                                              const float* scales, int f32) {
  __shared__ float taps[kMaxBlurKernel];
  load_taps(ksize, taps);
  __syncthreads();
  const int64_t i = global_thread();
  if (i >= B * N * K) return;
  dark_udp_refine(kps + 2 * i, i / (N * K), i % K, K, heat, blur_geometry(H, W, ksize / 2, false),
                  taps, scales, f32 != 0);
}

extern "C" __global__ void fc_refine_dark(double* kps, int64_t B, int64_t N, int64_t K,
                                          const float* heat, int64_t H, int64_t W, int ksize,
                                          const float* scales) {
  __shared__ float taps[kMaxBlurKernel];
  load_taps(ksize, taps);
  __syncthreads();
  const int64_t i = global_thread();
  if (i >= B * N * K) return;
  double* kp = kps + 2 * i;
  int64_t x, y;
  if (!keypoint_pixel(kp[0], kp[1], &x, &y) || !dark_applies(W, H, x, y)) return;
  const int64_t map = (i / (N * K)) * K + i % K;
  const float* src = heat + map * H * W;
  const BlurGeometry g = blur_geometry(H, W, ksize / 2, false);
  const float s = scales[map];
  float patch[25];  // the 5x5 blurred block around (x, y); dark_step reads 13 of them
  for (int j = 0; j < 25; ++j) {
    const int dx = j % 5 - 2, dy = j / 5 - 2;
    patch[j] = (dx == 0 || dy == 0 || (dx >= -1 && dx <= 1 && dy >= -1 && dy <= 1))
                   ? blur_pixel_at(src, g, taps, x + dx, y + dy)
                   : 0.f;
  }
  auto L = [&](int dx, int dy) { return dark_log(patch[(dy + 2) * 5 + dx + 2] * s); };
  Offset o;
  if (dark_step(L, W, H, x, y, &o)) {
    kp[0] += o.dx;
    kp[1] += o.dy;
  }
}

extern "C" __global__ void fc_refine_sign(double* kps, int64_t B, int64_t N, int64_t K,
                                          const float* heat, int64_t H, int64_t W) {
  const int64_t i = global_thread();
  if (i >= B * N * K) return;
  double* kp = kps + 2 * i;
  int64_t x, y;
  if (!keypoint_pixel(kp[0], kp[1], &x, &y)) return;
  const int64_t map = (i / (N * K)) * K + i % K;
  const Offset o = sign_step(heat + map * H * W, W, H, x, y);
  kp[0] += o.dx;
  kp[1] += o.dy;
}

// ---- decode_megvii: one block per map ----------------------------------------------------
// grid (C), block 256, shared memory as fc_decode_dark. MMPose: m = gaussian_blur(map)
// (rescaled to the raw maximum), the argmax of m, the sign step on m's neighbours, score
// max / 255 + 0.5; locations in heatmap pixels.
extern "C" __global__ void fc_decode_megvii(const float* heat, int64_t C, int64_t H, int64_t W,
                                            int ksize, int64_t band_rows, float* locs,
                                            float* scores) {
  __shared__ BlurDecoderShared sh;
  FC_DYNAMIC_SHARED(float, rows);
  const int64_t c = blockIdx.x;
  if (c >= C) return;
  const float* map = heat + c * H * W;
  const Maximum raw = taps_and_maximum(map, H * W, ksize, sh);
  const BlurGeometry g = blur_geometry(H, W, ksize / 2, false);
  ArgMax best = no_argmax();
  auto track = [&](float scale) {
    return [&best, scale, W](int64_t x, int64_t y, float v) {
      ArgMax cand;
      cand.value = v * scale;
      cand.index = y * W + x;
      if (argmax_prefers(best, cand)) best = cand;
    };
  };
  // Pass 0: the blurred maximum, hence the rescale factor s; pass 1 (when s != 1): the
  // argmax of the rescaled blur, which rounding may move. One loop: one copy of the blur.
  float s = 1.f;
  ArgMax m = no_argmax();
  for (int pass = 0; pass < 2; ++pass) {
    best = no_argmax();
    block_blur(map, g, sh.taps, band_rows, rows, track(s));
    m = block_argmax(best, sh.scratch);
    if (pass == 0) {
      s = blur_rescale(raw.value, m.value);
      if (s == 1.f) break;  // the same for every thread of the block
    }
  }
  if (threadIdx.x == 0) {
    Maximum mx;
    mx.index = m.index;
    mx.value = m.value;
    float* loc = locs + 2 * c;
    maximum_location(mx, W, loc, loc + 1);
    const int64_t x = (int64_t)loc[0], y = (int64_t)loc[1];
    if (megvii_applies(W, H, x, y)) {
      auto at = [&](int64_t dx, int64_t dy) { return blur_pixel_at(map, g, sh.taps, x + dx, y + dy) * s; };
      const Offset o = megvii_shift(at(-1, 0), at(1, 0), at(0, -1), at(0, 1));
      loc[0] += (float)o.dx;
      loc[1] += (float)o.dy;
    }
    scores[c] = megvii_score(m.value);
  }
}

// ---- decode_udp_combined: one block per (b, k) ----------------------------------------------
// heatmaps (B, 3K, H, W): label, x offset, y offset per keypoint. grid (B*K), block 256,
// shared memory as fc_decode_dark. The first maximum of cv2.GaussianBlur(label)
// (BORDER_REFLECT_101), then the offsets at MMPose's flat index (float32 index math,
// -1 locations wrapping into the sample's other maps) times the radius.
extern "C" __global__ void fc_decode_udp_combined(const float* heat, int64_t B, int64_t K,
                                                  int64_t H, int64_t W, int ksize,
                                                  int64_t band_rows, float radius, float* locs,
                                                  float* scores) {
  __shared__ BlurDecoderShared sh;
  FC_DYNAMIC_SHARED(float, rows);
  const int64_t c = blockIdx.x;
  if (c >= B * K) return;
  const int64_t b = c / K, k = c % K, HW = H * W, total = K * HW;
  const float* sample = heat + b * 3 * total;
  load_taps(ksize, sh.taps);
  __syncthreads();
  ArgMax best = no_argmax();
  block_blur(sample + 3 * k * HW, blur_geometry(H, W, ksize / 2, true), sh.taps, band_rows, rows,
             [&](int64_t x, int64_t y, float v) {
               ArgMax cand;
               cand.value = v;
               cand.index = y * W + x;
               if (argmax_prefers(best, cand)) best = cand;
             });
  const ArgMax m = block_argmax(best, sh.scratch);
  if (threadIdx.x == 0) {
    Maximum mx;
    mx.index = m.index;
    mx.value = m.value;
    float* loc = locs + 2 * c;
    maximum_location(mx, W, loc, loc + 1);
    scores[c] = m.value;
    const int64_t q = udp_combined_index(loc[0], loc[1], k, W, H, K);
    const int64_t ch = q / HW, p = q % HW;
    loc[0] += sample[(3 * ch + 1) * HW + p] * radius;
    loc[1] += sample[(3 * ch + 2) * HW + p] * radius;
  }
}

// ---- encode_gaussian: one block per (b, k) map ----------------------------------------
// kind 0 'msra', 1 'unbiased', 2 'udp'. grid (B*K), block 256. The instances' geometry
// (point, window, sigma terms) is computed once per keypoint, up to kInstanceChunk at a
// time, into shared memory; then every thread takes its pixels of the map (coalesced,
// 32-bit index math within the map) and keeps the maximum over the instances whose
// patch covers the pixel, as the CPU pastes them one after another: exp() runs only
// inside the patches. Thread 0 writes inside[b, :, k].
namespace fastcodec {
namespace cuda {

constexpr int kInstanceChunk = 32;

struct GaussianInstance {
  bool draw;                          // visible, usable and not missing the map
  int64_t left, top, x_end, y_end;    // covered pixels: [left, x_end) x [top, y_end), clipped
  double px, py, centre, s2;          // point, patch centre, 2 sigma^2 (float64)
  int64_t mu_x, mu_y;                 // UDP: the patch's integer centre
  float centre_f, s2_f, px_f, py_f;   // the float32 terms of MSRA / unbiased in float32
};

// Instance n of keypoint (b, k): what the CPU's encode_gaussian decides for it.
__device__ __forceinline__ GaussianInstance gaussian_instance(
    int kind, const double* kps, const double* vis, const double* sigma, int64_t sigma_rows,
    bool sigma_f32, float sx, float sy, bool f32, int64_t b, int64_t n, int64_t N, int64_t k,
    int64_t K, int64_t H, int64_t W, unsigned char* inside) {
  GaussianInstance g;
  g.draw = false;
  const int64_t i = (b * N + n) * K + k;
  double p_x, p_y;
  bool in;
  if (point_to_draw(kps[2 * i], kps[2 * i + 1], vis[i], sx, sy, f32, &p_x, &p_y, &in)) {
    const double sg = sigma[(sigma_rows == 1 ? 0 : b) * N + n];
    const PatchGeometry geo = instance_geometry(sg, sigma_f32);
    g.px = p_x;
    g.py = p_y;
    g.s2 = 2 * sg * sg;
    g.s2_f = (float)g.s2;
    g.px_f = (float)p_x;
    g.py_f = (float)p_y;
    g.centre = geo.centre;
    g.centre_f = (float)geo.centre;
    if (kind == 1) {
      const bool misses = f32 ? unbiased_misses<float>(g.px_f, g.py_f, (float)geo.radius, W, H)
                              : unbiased_misses<double>(p_x, p_y, geo.radius, W, H);
      in = !misses;
      g.left = 0, g.top = 0, g.x_end = W, g.y_end = H;  // the whole map
    } else {
      const PatchWindow win = patch_window(p_x, p_y, f32, geo.radius);
      in = !patch_misses(win, W, H);
      g.mu_x = win.mu_x;
      g.mu_y = win.mu_y;
      g.left = win.left;
      g.top = win.top;
      // clipped to the map and to the patch (MMPose pastes no further)
      g.x_end = min_i64(min_i64(W, win.right), win.left + geo.length);
      g.y_end = min_i64(min_i64(H, win.bottom), win.top + geo.length);
    }
    g.draw = in;
  }
  if (inside) inside[i] = in ? 1 : 0;
  return g;
}

// The instance's target value at (x, y), or -1 where its patch does not cover it.
__device__ __forceinline__ float gaussian_value(int kind, bool f32, const GaussianInstance& g,
                                                int64_t x, int64_t y) {
  if (!g.draw || x < g.left || x >= g.x_end || y < g.top || y >= g.y_end) return -1.f;
  if (kind == 0) return msra_patch_value(x - g.left, y - g.top, g.centre_f, g.s2_f);
  if (kind == 2)
    return (float)(udp_patch_factor(x - g.left, g.centre, g.px, g.mu_x, g.s2) *
                   udp_patch_factor(y - g.top, g.centre, g.py, g.mu_y, g.s2));
  if (f32)
    return (float)(unbiased_factor<float>(x, g.px_f, g.s2_f) * unbiased_factor<float>(y, g.py_f, g.s2_f));
  return (float)(unbiased_factor<double>(x, g.px, g.s2) * unbiased_factor<double>(y, g.py, g.s2));
}

}  // namespace cuda
}  // namespace fastcodec

extern "C" __global__ void fc_encode_gaussian(int kind, const double* kps, const double* vis,
                                              const double* sigma, int64_t sigma_rows,
                                              int sigma_f32, float sx, float sy, int f32,
                                              int64_t B, int64_t N, int64_t K, int64_t H,
                                              int64_t W, float* heat, unsigned char* inside) {
  __shared__ GaussianInstance chunk[kInstanceChunk];
  const int64_t c = blockIdx.x;
  if (c >= B * K) return;
  const int64_t b = c / K, k = c % K, HW = H * W;
  float* map = heat + c * HW;
  for (int64_t n0 = 0; n0 < N || n0 == 0; n0 += kInstanceChunk) {
    const int64_t count = min_i64(kInstanceChunk, N - n0);
    if (threadIdx.x < count)
      chunk[threadIdx.x] = gaussian_instance(kind, kps, vis, sigma, sigma_rows, sigma_f32 != 0,
                                             sx, sy, f32 != 0, b, n0 + threadIdx.x, N, k, K, H,
                                             W, inside);
    __syncthreads();
    for (int64_t p = threadIdx.x; p < HW; p += blockDim.x) {
      // the first chunk starts from 0; later ones from what this thread wrote before
      float acc = n0 == 0 ? 0.f : map[p];
      const int64_t x = p % W, y = p / W;
      for (int64_t j = 0; j < count; ++j) {
        const float v = gaussian_value(kind, f32 != 0, chunk[j], x, y);
        if (v > acc) acc = v;
      }
      map[p] = flush_denormal(acc);
    }
    __syncthreads();  // the chunk is overwritten next
  }
}

// ---- encode_offset (UDPHeatmap 'combined'): one block per (b, k) ----------------------
// heatmaps (B, 3K, H, W): per keypoint the disc label, x offset and y offset of the last
// drawn instance (each instance overwrites the whole channel in MMPose). grid (B*K),
// block 256: thread 0 finds that instance (and writes inside[b, :, k]), then the block
// writes the three channels, coalesced.
extern "C" __global__ void fc_encode_offset(const double* kps, const double* vis, float sx,
                                            float sy, int f32, double radius, int64_t B,
                                            int64_t N, int64_t K, int64_t H, int64_t W,
                                            float* heat, unsigned char* inside) {
  __shared__ double last[2];
  __shared__ int drawn;
  const int64_t c = blockIdx.x;
  if (c >= B * K) return;
  const int64_t b = c / K, k = c % K, HW = H * W;
  if (threadIdx.x == 0) {
    drawn = 0;
    for (int64_t n = 0; n < N; ++n) {
      const int64_t i = (b * N + n) * K + k;
      double p_x, p_y;
      bool usable;
      const bool draw = point_to_draw(kps[2 * i], kps[2 * i + 1], vis[i], sx, sy, f32 != 0,
                                      &p_x, &p_y, &usable);
      inside[i] = usable ? 1 : 0;
      if (draw) {
        last[0] = p_x;
        last[1] = p_y;
        drawn = 1;
      }
    }
  }
  __syncthreads();
  float* label = heat + 3 * c * HW;
  for (int64_t p = threadIdx.x; p < HW; p += blockDim.x) {
    float l = 0.f, dx = 0.f, dy = 0.f;
    if (drawn) {
      const double ox = offset_along(p % W, last[0], radius), oy = offset_along(p / W, last[1], radius);
      l = offset_label(ox, oy * oy);
      dx = (float)ox;
      dy = (float)oy;
    }
    label[p] = l;
    label[HW + p] = flush_denormal(dx);
    label[2 * HW + p] = flush_denormal(dy);
  }
}

namespace fastcodec {
namespace cuda {

// MegviiHeatmap's target before its rescale to 255 at (x, y), for the impulse at
// (kx, ky): cv2.GaussianBlur of the impulse as OpenCV rounds it, pass by pass, exactly
// as the CPU's encode_megvii evaluates it (csrc/cpu/heatmap_kernels.cpp). `written`:
// whether the CPU writes row y at all (untouched rows stay 0 and are not rescaled).
__device__ __forceinline__ float megvii_blurred(const float* w, int r, int64_t W, int64_t H,
                                                int64_t kx, int64_t ky, int64_t x, int64_t y,
                                                bool* written) {
  const int64_t row_end = opencv_row_simd_end(W), column_end = opencv_column_simd_end(W);
  // the row pass at column x
  float px;
  if (!opencv_blur_filters_axis(W)) {
    px = x == kx ? 1.f : 0.f;  // a one-column map: no row pass
  } else if (kx - r > 0 && kx + r < W - 1) {
    const int64_t d = kx - x;
    px = (d >= -r && d <= r) ? w[d + r] : 0.f;
  } else {
    auto at = [&](int i) { return megvii_impulse_tap(x + i, W, kx); };
    px = x < row_end ? opencv_row_sum(w, r, at) : opencv_row_sum_tail(w, r, at);
  }
  if (!opencv_blur_filters_axis(H)) {  // a one-row map: no column pass
    *written = true;
    return px;
  }
  // the column pass at row y: hits[i], taps +i and -i that reflect onto ky
  const bool interior_y = ky - r > 0 && ky + r < H - 1;
  *written = false;
  if (interior_y && (y < ky - r || y > ky + r)) return 0.f;
  auto tap = [&](int i) { return megvii_impulse_tap(y + i, H, ky); };
  float total = tap(0);
  for (int i = 1; i <= r; ++i) total += tap(i) + tap(-i);
  if (!(total > 0.f)) return 0.f;
  *written = true;
  float out = w[r] * (tap(0) * px);
  for (int i = 1; i <= r; ++i) {
    const float h = tap(i) + tap(-i);
    if (h == 0.f) continue;
    out = x < column_end ? fmaf(w[r + i], h * px, out) : out + w[r + i] * (h * px);
  }
  return out;
}

}  // namespace cuda
}  // namespace fastcodec

// ---- encode_megvii: one block per (b, k) --------------------------------------------------
// N <= 1 (checked by the front). grid (B*K), block 256: thread 0 decides the impulse
// (and writes inside[b, :, k]) and its blurred centre value, the taps are computed once
// per block into shared memory, then every thread takes its pixels of the map.
extern "C" __global__ void fc_encode_megvii(const double* kps, const double* vis, float sx,
                                            float sy, int f32, int ksize, int64_t B, int64_t N,
                                            int64_t K, int64_t H, int64_t W, float* heat,
                                            unsigned char* inside) {
  __shared__ float taps[kMaxBlurKernel];
  __shared__ int64_t impulse[2];  // (kx, ky), or kx = -1: nothing drawn
  __shared__ float centre;
  const int64_t c = blockIdx.x;
  if (c >= B * K) return;
  const int64_t b = c / K, k = c % K, HW = H * W;
  const int r = ksize / 2;
  if (threadIdx.x == 0) {
    opencv_gaussian_kernel(ksize, taps);
    impulse[0] = -1;
    for (int64_t n = 0; n < N; ++n) {
      const int64_t i = (b * N + n) * K + k;
      double p_x, p_y;
      bool in;
      if (point_to_draw(kps[2 * i], kps[2 * i + 1], vis[i], sx, sy, f32 != 0, &p_x, &p_y, &in)) {
        int64_t kx, ky;
        if (!megvii_impulse_pixel(p_x, p_y, W, H, &kx, &ky)) {
          in = false;
        } else {
          impulse[0] = kx;
          impulse[1] = ky;
          bool written;
          centre = megvii_blurred(taps, r, W, H, kx, ky, kx, ky, &written);
        }
      }
      inside[i] = in ? 1 : 0;
    }
  }
  __syncthreads();
  float* map = heat + c * HW;
  const int64_t kx = impulse[0], ky = impulse[1];
  for (int64_t p = threadIdx.x; p < HW; p += blockDim.x) {
    float v = 0.f;
    if (kx >= 0) {
      bool written;
      const float value = megvii_blurred(taps, r, W, H, kx, ky, p % W, p / W, &written);
      v = written ? megvii_normalize(value, centre) : 0.f;
    }
    map[p] = flush_denormal(v);
  }
}

// ---- gaussian_blur: one block per map ------------------------------------------------------
// MMPose's gaussian_blur: out = blur(map) (zero padding, OpenCV's sigma-0 taps), then each
// map rescaled so its maximum equals the raw maximum. grid (C), block 256, shared memory
// as fc_decode_dark.
extern "C" __global__ void fc_gaussian_blur(const float* heat, int64_t C, int64_t H, int64_t W,
                                            int ksize, int64_t band_rows, float* out) {
  __shared__ float taps[kMaxBlurKernel];
  __shared__ float max_scratch[33];
  FC_DYNAMIC_SHARED(float, rows);
  const int64_t c = blockIdx.x;
  if (c >= C) return;
  const float* map = heat + c * H * W;
  float* dst = out + c * H * W;
  load_taps(ksize, taps);
  float raw = -FC_INF_F;
  for (int64_t p = threadIdx.x; p < H * W; p += blockDim.x) raw = nan_max(raw, map[p]);
  __syncthreads();  // the taps
  float blurred = -FC_INF_F;
  block_blur(map, blur_geometry(H, W, ksize / 2, false), taps, band_rows, rows,
             [&](int64_t x, int64_t y, float v) {
               dst[y * W + x] = v;
               blurred = nan_max(blurred, v);
             });
  raw = block_nan_max(raw, max_scratch, -FC_INF_F);
  blurred = block_nan_max(blurred, max_scratch, -FC_INF_F);  // also orders dst
  const float s = blur_rescale(raw, blurred);
  for (int64_t p = threadIdx.x; p < H * W; p += blockDim.x) dst[p] *= s;
}
