// The heatmap NMS and torch.topk of one map by one block, shared by the bottom-up
// decoders (SPR's roots, AssociativeEmbedding's keypoints): the per-element rules and
// libstdc++'s selection steps are fastcodec/spr.h's, as in csrc/cpu/nms_topk.h.
#pragma once

#include "cuda_compat.cuh"
#include "fastcodec/spr.h"

namespace fastcodec {
namespace cuda {

// Where torch's CPU top-k keeps its candidates: M on the partial_sort (heap) path,
// every pixel on the nth_element path.
__device__ __forceinline__ int64_t topk_scratch_length(int64_t M, int64_t HW) {
  return spr_partial_sort_path(M, HW) ? M : HW;
}

// Every thread of the block calls it. map (H, W) | nms (H * W): the NMS value of each
// pixel; cand[0 .. M): torch.topk(nms, M) in the CPU's order (cand holds
// topk_scratch_length entries). Steps:
//   1. every thread: the NMS value of its pixels (spr_max over the clipped window, then
//      spr_nms_value: torch's max_pool2d comparison);
//   2. warp 0: the selection as the CPU runs it (equal values come out in the CPU's
//      order). On the heap path each 32 pixels are one ballot of "comes before the
//      heap's top"; only the pixels it marks are offered, one by one, by lane 0 (the
//      top only moves later in the order, so a pixel not before it now never enters).
//      The nth_element path (M * 64 > H * W: small maps) runs on lane 0.
__device__ void block_nms_topk(const float* map, int64_t H, int64_t W, int64_t r, int64_t M,
                               float* nms, SprCandidate* cand) {
  const int64_t HW = H * W;
  for (int64_t p = threadIdx.x; p < HW; p += blockDim.x) {
    const int64_t x = p % W, y = p / W;
    const int64_t x0 = x - r < 0 ? 0 : x - r, x1 = x + r >= W ? W - 1 : x + r;
    const int64_t y0 = y - r < 0 ? 0 : y - r, y1 = y + r >= H ? H - 1 : y + r;
    float mx = map[y0 * W + x0];
    for (int64_t yy = y0; yy <= y1; ++yy)
      for (int64_t xx = x0; xx <= x1; ++xx) mx = spr_max(mx, map[yy * W + xx]);
    nms[p] = spr_nms_value(map[p], mx);
  }
  __syncthreads();

  const unsigned lane = threadIdx.x % 32;
  if (threadIdx.x < 32 && M > 0) {
    if (spr_partial_sort_path(M, HW)) {
      if (lane == 0) {
        for (int64_t i = 0; i < M; ++i) cand[i] = SprCandidate{nms[i], i};
        spr_make_heap(cand, M);
      }
      SprCandidate unused;
      for (int64_t base = M; base < HW; base += 32) {
        const float top = __shfl_sync(kFullWarp, lane == 0 ? cand[0].value : 0.f, 0);
        const int64_t i = base + lane;
        const bool before = i < HW && spr_value_before(nms[i], top);
        unsigned offered = __ballot_sync(kFullWarp, before);
        if (lane == 0) {
          for (; offered; offered &= offered - 1) {
            const int64_t at = base + __ffs((int)offered) - 1;
            spr_heap_offer(cand, M, SprCandidate{nms[at], at}, &unused);
          }
        }
      }
      if (lane == 0) spr_sort_heap(cand, M);
    } else if (lane == 0) {
      for (int64_t i = 0; i < HW; ++i) cand[i] = SprCandidate{nms[i], i};
      spr_nth_element(cand, M - 1, HW);
      spr_sort(cand, M - 1);
    }
  }
  __syncthreads();
}

// SprCandidate arrays live in int64 scratch: two slots each.
static_assert(sizeof(SprCandidate) == 2 * sizeof(int64_t), "SprCandidate is 16 bytes");

}  // namespace cuda
}  // namespace fastcodec
