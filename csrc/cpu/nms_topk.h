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

// Bit j set for each of the n <= 16 pixels v[j] that may enter a heap whose top is
// `top` (>= 0): one above the top or not finite. The others' NMS values (themselves
// or a zero) never come before the top.
inline uint32_t above_or_not_finite(const float* v, int64_t n, float top) {
#if defined(__AVX2__)
  if (n == 16) {
    const __m256 t = _mm256_set1_ps(top), inf = _mm256_set1_ps(INFINITY);
    const __m256 sign = _mm256_set1_ps(-0.f);
    uint32_t bits = 0;
    for (int h = 0; h < 2; ++h) {
      const __m256 a = _mm256_loadu_ps(v + 8 * h);
      // !(|a| < inf) is true for infinities and NaN
      const __m256 not_finite = _mm256_cmp_ps(_mm256_andnot_ps(sign, a), inf, _CMP_NLT_UQ);
      const __m256 above = _mm256_cmp_ps(a, t, _CMP_GT_OQ);
      bits |= (uint32_t)_mm256_movemask_ps(_mm256_or_ps(not_finite, above)) << (8 * h);
    }
    return bits;
  }
#endif
  uint32_t bits = 0;
  for (int64_t j = 0; j < n; ++j) bits |= (uint32_t)(!(v[j] - v[j] == 0.f) || v[j] > top) << j;
  return bits;
}

// The window maximum with NaN read as +inf: a finite pixel is its window's
// NaN-propagating maximum (spr_nms_value keeps it) exactly when it is >= this one.
// Without NaN the order of the maxima does not change the maximum (a -0 / +0 choice
// compares equal), so they may be taken 8 lanes at a time in any order.
inline float nan_as_inf(float v) { return v != v ? INFINITY : v; }

// pooled[j] for j < 16: the window maximum (NaN as +inf, the window clipped to the map)
// of pixel (x + j, y), for x + j < W. `col` holds 16 + 2 min(r, W - 1) floats: the
// maxima of columns x - r .. x + 15 + r over the window's rows (-inf outside the
// map), then taken along the row.
inline void block_window_maxima(const float* m, int64_t H, int64_t W, int64_t r, int64_t x,
                                int64_t y, float* col, float* pooled) {
  const int64_t R = std::min(r, W - 1);  // a wider window covers the row
  const int64_t y0 = std::max<int64_t>(0, y - r), y1 = std::min(H - 1, y + r);
  const int64_t n = 16 + 2 * R, x0 = x - R;  // col[i] is column x0 + i
  const int64_t lo = std::max<int64_t>(0, x0), hi = std::min(W, x0 + n);  // in the map
  for (int64_t i = 0; i < lo - x0; ++i) col[i] = -INFINITY;
  for (int64_t i = hi - x0; i < n; ++i) col[i] = -INFINITY;
  int64_t c = lo;
#if defined(__AVX2__)
  if (hi - lo >= 8) {
    const __m256 inf = _mm256_set1_ps(INFINITY);
    auto load = [&](const float* p) {
      const __m256 v = _mm256_loadu_ps(p);
      return _mm256_blendv_ps(v, inf, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    };
    for (; c < hi; c += 8) {
      const int64_t at = std::min(c, hi - 8);  // the last chunk may overlap the one before
      __m256 mx = load(m + y0 * W + at);
      for (int64_t t = y0 + 1; t <= y1; ++t) mx = _mm256_max_ps(mx, load(m + t * W + at));
      _mm256_storeu_ps(col + at - x0, mx);
    }
    for (int h = 0; h < 2; ++h) {
      __m256 mx = _mm256_loadu_ps(col + 8 * h);
      for (int64_t t = 1; t <= 2 * R; ++t) mx = _mm256_max_ps(mx, _mm256_loadu_ps(col + 8 * h + t));
      _mm256_storeu_ps(pooled + 8 * h, mx);
    }
    return;
  }
#endif
  for (; c < hi; ++c) {
    float mx = nan_as_inf(m[y0 * W + c]);
    for (int64_t t = y0 + 1; t <= y1; ++t) {
      const float v = nan_as_inf(m[t * W + c]);
      mx = v > mx ? v : mx;
    }
    col[c - x0] = mx;
  }
  for (int64_t j = 0; j < 16; ++j) {
    float mx = col[j];
    for (int64_t t = 1; t <= 2 * R; ++t) mx = col[j + t] > mx ? col[j + t] : mx;
    pooled[j] = mx;
  }
}

// Bit j set for each of the n <= 16 pixels v[j] that is >= its window maximum
// pooled[j] (NaN read as +inf: a finite pixel so marked is kept by the NMS) or is not
// finite.
inline uint32_t peaks_or_not_finite(const float* v, const float* pooled, int64_t n) {
#if defined(__AVX2__)
  if (n == 16) {
    const __m256 inf = _mm256_set1_ps(INFINITY), sign = _mm256_set1_ps(-0.f);
    uint32_t bits = 0;
    for (int h = 0; h < 2; ++h) {
      const __m256 a = _mm256_loadu_ps(v + 8 * h), p = _mm256_loadu_ps(pooled + 8 * h);
      const __m256 not_finite = _mm256_cmp_ps(_mm256_andnot_ps(sign, a), inf, _CMP_NLT_UQ);
      const __m256 peak = _mm256_cmp_ps(a, p, _CMP_GE_OQ);
      bits |= (uint32_t)_mm256_movemask_ps(_mm256_or_ps(not_finite, peak)) << (8 * h);
    }
    return bits;
  }
#endif
  uint32_t bits = 0;
  for (int64_t j = 0; j < n; ++j) bits |= (uint32_t)(!(v[j] - v[j] == 0.f) || v[j] >= pooled[j]) << j;
  return bits;
}

// torch.topk(nms(m), M) over the raw map, the same result as nms_map then
// topk_candidates (which the nth_element path takes). On the partial_sort path the
// heap's top only rises, so while it is not negative a pixel of finite value v enters
// only if v is above it and v is its window's maximum (a suppressed pixel's NMS value
// is a zero, which never enters). The map is scanned 16 pixels of a row at a time;
// only blocks holding a pixel above the top (a quarter of them on network-like maps)
// get their window maxima, and only their pixels above the top that are their
// window's maximum are offered, in index order: masks, not a branch per pixel (a
// tenth of those above the top are maxima; mispredicted branches on the others cost
// more than the rest of the scan). Pixels that are not finite, and every pixel while
// the top is negative, take the exact NMS value. `rows` and `peaks` are scratch.
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
  rows.resize((size_t)(16 + 2 * std::min(r, W - 1)));
  peaks.resize(16);
  SprCandidate unused;
  const int64_t block = 16;
  for (int64_t y = M / W; y < H; ++y) {
    const float* row = m + y * W;
    for (int64_t x = y == M / W ? M % W : 0; x < W; x += block) {
      const float top = cand[0].value;
      if (top != top) {  // a NaN top: nothing comes before it any more
        spr_sort_heap(cand.data(), M);
        return;
      }
      const int64_t len = std::min(block, W - x);
      uint32_t bits = top >= 0.f ? above_or_not_finite(row + x, len, top)
                                 : (uint32_t)((1ull << len) - 1);
      if (!bits) continue;
      block_window_maxima(m, H, W, r, x, y, rows.data(), peaks.data());
      if (top >= 0.f) bits &= peaks_or_not_finite(row + x, peaks.data(), len);
      for (; bits; bits &= bits - 1) {
        const int64_t j = __builtin_ctz(bits), at = y * W + x + j;
        const float v = row[x + j], now = cand[0].value;
        if (now >= 0.f && v - v == 0.f) {
          if (v <= now || !(v >= peaks[j])) continue;
          spr_heap_offer(cand.data(), M, SprCandidate{v, at}, &unused);
        } else {
          spr_heap_offer(cand.data(), M, SprCandidate{nms_value_at(m, H, W, r, x + j, y), at},
                         &unused);
        }
      }
    }
  }
  spr_sort_heap(cand.data(), M);
}

}  // namespace fastcodec
