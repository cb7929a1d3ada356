// batch_heatmap_nms and torch.topk (CPU) of one map, as the bottom-up decoders use
// them: the per-element rules and libstdc++'s selection steps are in fastcodec/spr.h.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "fastcodec/spr.h"

namespace fastcodec {

// heatmap * (heatmap == max_pool2d(heatmap, 2r + 1, padding r)) of one H x W map into
// `peaks`, `rows` as scratch. The maxima are taken shift by shift (loops over x that
// vectorise); the order of a NaN-propagating max does not change which pixels equal
// their window's maximum.
inline void nms_map(const float* __restrict__ m, int64_t H, int64_t W, int64_t r,
                    float* __restrict__ rows, float* __restrict__ peaks) {
  for (int64_t y = 0; y < H; ++y) {
    const float* __restrict__ src = m + y * W;
    float* __restrict__ dst = rows + y * W;
    std::memcpy(dst, src, sizeof(float) * W);
    for (int64_t t = 1; t <= r && t < W; ++t) {
      for (int64_t x = 0; x < W - t; ++x) dst[x] = spr_max(dst[x], src[x + t]);
      for (int64_t x = t; x < W; ++x) dst[x] = spr_max(dst[x], src[x - t]);
    }
  }
  for (int64_t y = 0; y < H; ++y) {
    const int64_t y0 = y - r < 0 ? 0 : y - r, y1 = y + r >= H ? H - 1 : y + r;
    float* __restrict__ dst = peaks + y * W;
    std::memcpy(dst, rows + y0 * W, sizeof(float) * W);
    for (int64_t t = y0 + 1; t <= y1; ++t) {
      const float* __restrict__ src = rows + t * W;
      for (int64_t x = 0; x < W; ++x) dst[x] = spr_max(dst[x], src[x]);
    }
    const float* __restrict__ raw = m + y * W;
    for (int64_t x = 0; x < W; ++x) dst[x] = spr_nms_value(raw[x], dst[x]);
  }
}

// torch.topk(values, M) (sorted, largest) of n values into cand[0 .. M).
inline void topk_candidates(const float* values, int64_t n, int64_t M,
                            std::vector<SprCandidate>& cand) {
  if (M == 0) return;
  if (spr_partial_sort_path(M, n)) {
    cand.resize((size_t)M);
    for (int64_t i = 0; i < M; ++i) cand[i] = SprCandidate{values[i], i};
    spr_make_heap(cand.data(), M);
    SprCandidate unused;
    // Blocks in which no value comes before the heap's top change nothing: skip them
    // with a branch-free test (the heap only changes inside a block that is offered).
    const int64_t block = 16;
    int64_t i = M;
    for (; i + block <= n; i += block) {
      const float top = cand[0].value;
      bool any = false;
      for (int64_t j = 0; j < block; ++j) any |= spr_value_before(values[i + j], top);
      if (!any) continue;
      for (int64_t j = i; j < i + block; ++j)
        spr_heap_offer(cand.data(), M, SprCandidate{values[j], j}, &unused);
    }
    for (; i < n; ++i) spr_heap_offer(cand.data(), M, SprCandidate{values[i], i}, &unused);
    spr_sort_heap(cand.data(), M);
  } else {
    cand.resize((size_t)n);
    for (int64_t i = 0; i < n; ++i) cand[i] = SprCandidate{values[i], i};
    spr_nth_element(cand.data(), M - 1, n);
    spr_sort(cand.data(), M - 1);
  }
}

}  // namespace fastcodec
