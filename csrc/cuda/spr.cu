// CUDA kernels of SPR (fastcodec/spr.h, the same functions csrc/cpu/spr_kernels.cpp
// runs): the displacement targets, one thread per pixel, and the decode, one block per
// sample (root NMS, torch's CPU top-k order, read-out, keypoint rescoring).
// Launch parameters: backends/cuda/launch.py.
#include "cuda_compat.cuh"
#include "fastcodec/spr.h"
#include "nms_topk.cuh"

using namespace fastcodec;
using namespace fastcodec::cuda;

// ---- spr_encode_displacements: one thread per (sample, pixel) ----------------------------
// keypoints (B, N, K, 2) f64 in heatmap pixels, visible (B, N, K) f64, roots (B, N, 2),
// roots_visible (B, N), diagonals (B, N) f32 | displacements, weights (B, 2K, H, W) f32,
// zeroed by the front: only pixels inside a usable root's window are written. A pixel's
// state (its 4K values and the size of its last writer) depends only on the (instance,
// keypoint) sequence that reaches it, so one thread replays MMPose's order for its own
// pixel, as the CPU loop does for the whole map. grid-stride, block 256.
extern "C" __global__ void fc_spr_encode_displacements(
    const double* kps, const double* vis, const float* roots, const float* roots_visible,
    const float* diagonals, int64_t B, int64_t N, int64_t K, int64_t H, int64_t W,
    double radius, int radius_f32, float* displacements, float* weights) {
  const int64_t HW = H * W, plane = 2 * K * HW;
  for (int64_t t = global_thread(); t < B * HW; t += grid_threads()) {
    const int64_t b = t / HW, p = t % HW, x = p % W, y = p / W;
    float* disp = displacements + b * plane + p;
    float* wts = weights + b * plane + p;
    float size = 0.f;  // the pixel's entry of the CPU's size map
    for (int64_t n = 0; n < N; ++n) {
      const int64_t bn = b * N + n;
      const float rx = roots[2 * bn], ry = roots[2 * bn + 1];
      if (!spr_root_usable(rx, ry, roots_visible[bn], W, H)) continue;
      const SprSpan sx = spr_span(rx, radius, radius_f32 != 0, W);
      const SprSpan sy = spr_span(ry, radius, radius_f32 != 0, H);
      if (x < sx.begin || x >= sx.end || y < sy.begin || y >= sy.end) continue;
      const float diagonal = diagonals[bn];
      const float weight = spr_displacement_weight(diagonal);
      for (int64_t k = 0; k < K; ++k) {
        const int64_t i = bn * K + k;
        const double kx = kps[2 * i], ky = kps[2 * i + 1];
        if (!spr_keypoint_usable(kx, ky, vis[i], W, H)) continue;
        spr_displacement_update(disp + 2 * k * HW, disp + (2 * k + 1) * HW, wts + 2 * k * HW,
                                wts + (2 * k + 1) * HW, &size, kx, ky, x, y, diagonal, weight);
      }
    }
  }
}

// ---- spr_decode: one block per sample --------------------------------------------------------
// heatmaps (B, C, H, W) (the root map is channel C - 1), displacements (B, 2K, H, W),
// r = (nms_kernel - 1) / 2, M <= H * W candidates | peaks (B, H*W) scratch, scratch
// (B, topk_scratch_length, 2) int64 (SprCandidate), keypoints (B, M, K, 2), root_scores
// (B, M), keypoint_scores (B, M, K) when rescore, counts (B,). block 256:
//   1. the root map's NMS and top-k (nms_topk.cuh);
//   2. thread 0: the kept candidates (score > threshold) in order, compacted;
//   3. every thread: one (instance, keypoint) each: the read-out and the rescoring.
extern "C" __global__ void fc_spr_decode(const float* heat, const float* disp, int64_t B,
                                         int64_t C, int64_t K, int64_t H, int64_t W, int64_t r,
                                         int64_t M, float threshold, float sx, float sy,
                                         int rescore, float* peaks, int64_t* scratch,
                                         float* keypoints, float* root_scores,
                                         float* keypoint_scores, int64_t* counts) {
  __shared__ int64_t kept;
  const int64_t b = blockIdx.x;
  if (b >= B) return;
  const int64_t HW = H * W;
  const float* sample = heat + b * C * HW;
  const float* root = sample + (C - 1) * HW;
  float* nms = peaks + b * HW;
  SprCandidate* cand = reinterpret_cast<SprCandidate*>(scratch) + b * topk_scratch_length(M, HW);

  block_nms_topk(root, H, W, r, M, nms, cand);

  if (threadIdx.x == 0) {
    int64_t count = 0;
    for (int64_t j = 0; j < M; ++j) {
      const SprCandidate c = cand[j];
      if (!spr_root_kept(c.value, threshold)) continue;
      root_scores[b * M + count] = c.value;
      cand[count++] = c;  // count <= j: in place
    }
    counts[b] = count;
    kept = count;
  }
  __syncthreads();

  const float* d = disp + b * 2 * K * HW;
  for (int64_t t = threadIdx.x; t < kept * K; t += blockDim.x) {
    const int64_t j = t / K, k = t % K, o = b * M + j;
    const int64_t at = cand[j].index;
    const float kx = spr_keypoint_coordinate(at % W, d[2 * k * HW + at]);
    const float ky = spr_keypoint_coordinate(at / W, d[(2 * k + 1) * HW + at]);
    if (rescore)
      keypoint_scores[o * K + k] = spr_bilinear(sample + k * HW, H, W,
                                                spr_sample_coordinate(kx, W),
                                                spr_sample_coordinate(ky, H));
    keypoints[2 * (o * K + k)] = kx * sx;
    keypoints[2 * (o * K + k) + 1] = ky * sy;
  }
}
