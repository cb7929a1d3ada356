// batch_heatmap_nms and torch.topk (CPU) of one map, as the bottom-up decoders use
// them: the per-element rules and libstdc++'s selection steps are in fastcodec/spr.h.
#pragma once

#include <cstdint>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "fastcodec/spr.h"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

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

// The NMS-ed value of pixel (x, y) on its own: its window's NaN-propagating maximum
// (any order gives the same maximum, and only equality with it matters).
inline float nms_value_at(const float* m, int64_t H, int64_t W, int64_t r, int64_t x,
                          int64_t y) {
  const int64_t x0 = std::max<int64_t>(0, x - r), x1 = std::min<int64_t>(W - 1, x + r);
  const int64_t y0 = std::max<int64_t>(0, y - r), y1 = std::min<int64_t>(H - 1, y + r);
  float mx = m[y0 * W + x0];
  for (int64_t yy = y0; yy <= y1; ++yy)
    for (int64_t xx = x0; xx <= x1; ++xx) mx = spr_max(mx, m[yy * W + xx]);
  return spr_nms_value(m[y * W + x], mx);
}

// Whether a pixel of finite value v is its window's maximum (every neighbour <= v, no
// NaN): then its NMS value is v, else a zero.
inline bool nms_keeps(const float* m, int64_t H, int64_t W, int64_t r, int64_t x, int64_t y,
                      float v) {
  const int64_t x0 = std::max<int64_t>(0, x - r), x1 = std::min<int64_t>(W - 1, x + r);
  const int64_t y0 = std::max<int64_t>(0, y - r), y1 = std::min<int64_t>(H - 1, y + r);
  for (int64_t yy = y0; yy <= y1; ++yy)
    for (int64_t xx = x0; xx <= x1; ++xx)
      if (!(m[yy * W + xx] <= v)) return false;
  return true;
}

// Whether some value of v[0, n) may enter a heap whose top is `top` (>= 0): one that is
// not finite or is above the top. The others' NMS values (themselves or a zero) never
// come before the top.
inline bool block_may_enter(const float* v, int64_t n, float top) {
#if defined(__AVX2__)
  if (n == 16) {
    const __m256 t = _mm256_set1_ps(top), inf = _mm256_set1_ps(INFINITY);
    const __m256 sign = _mm256_set1_ps(-0.f);
    const __m256 a = _mm256_loadu_ps(v), b = _mm256_loadu_ps(v + 8);
    // lanes that stay out: |v| < inf and v <= top (both false for NaN)
    const __m256 out_a = _mm256_and_ps(_mm256_cmp_ps(_mm256_andnot_ps(sign, a), inf, _CMP_LT_OQ),
                                       _mm256_cmp_ps(a, t, _CMP_LE_OQ));
    const __m256 out_b = _mm256_and_ps(_mm256_cmp_ps(_mm256_andnot_ps(sign, b), inf, _CMP_LT_OQ),
                                       _mm256_cmp_ps(b, t, _CMP_LE_OQ));
    return _mm256_movemask_ps(_mm256_and_ps(out_a, out_b)) != 0xFF;
  }
#endif
  bool any = false;
  for (int64_t j = 0; j < n; ++j) any |= !((v[j] <= top) & (v[j] - v[j] == 0.f));
  return any;
}

// torch.topk(nms(m), M) in one pass over the raw map, the same result as nms_map then
// topk_candidates. On the partial_sort path the heap's top only rises, so while it is
// not negative a pixel of finite value v enters only if v is above it and v is its
// window's maximum (a suppressed pixel's NMS value is a zero, which never enters);
// only those pixels get their window looked at. Other pixels (NaN, infinities) and a
// negative top take the exact NMS value.
inline void nms_topk(const float* m, int64_t H, int64_t W, int64_t r, int64_t M,
                     std::vector<SprCandidate>& cand, std::vector<float>& rows,
                     std::vector<float>& peaks) {
  const int64_t n = H * W;
  if (M == 0) return;
  if (!spr_partial_sort_path(M, n)) {
    rows.resize(n);
    peaks.resize(n);
    nms_map(m, H, W, r, rows.data(), peaks.data());
    topk_candidates(peaks.data(), n, M, cand);
    return;
  }
  cand.resize((size_t)M);
  for (int64_t i = 0; i < M; ++i) cand[i] = SprCandidate{nms_value_at(m, H, W, r, i % W, i / W), i};
  spr_make_heap(cand.data(), M);
  SprCandidate unused;
  const int64_t block = 16;
  for (int64_t i = M; i < n;) {
    float top = cand[0].value;
    if (top != top) break;  // a NaN top: nothing comes before it any more
    const int64_t end = std::min(n, i + block);
    const bool any = !(top >= 0.f) || block_may_enter(m + i, end - i, top);
    for (int64_t j = i; any && j < end; ++j) {
      const float v = m[j];
      top = cand[0].value;
      if (top >= 0.f && v - v == 0.f) {
        if (v <= top || !nms_keeps(m, H, W, r, j % W, j / W, v)) continue;
        spr_heap_offer(cand.data(), M, SprCandidate{v, j}, &unused);
      } else {
        spr_heap_offer(cand.data(), M, SprCandidate{nms_value_at(m, H, W, r, j % W, j / W), j},
                       &unused);
      }
    }
    i = end;
  }
  spr_sort_heap(cand.data(), M);
}

}  // namespace fastcodec
