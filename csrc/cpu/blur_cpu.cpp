#include "blur_cpu.h"

#include <algorithm>
#include <cmath>

#include "fast_argmax.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define FASTCODEC_AVX2 1
#endif

namespace fastcodec {

namespace {

// Index of the input sample p in a line of length len, or -1 for a zero.
inline int64_t border_index(int64_t p, int64_t len, Border border) {
  if (p >= 0 && p < len) return p;
  return border == Border::Zero ? -1 : reflect101(p, len);
}

#if FASTCODEC_AVX2
// NB independent 8-float accumulators per call hide the FMA latency of the tap chains.
template <int NB>
inline void row_blocks(const float* c, float* dst, const float* w, int r) {
  __m256 s[NB];
  for (int j = 0; j < NB; ++j) s[j] = _mm256_setzero_ps();
  for (int i = -r; i <= r; ++i) {
    const __m256 wi = _mm256_set1_ps(w[i + r]);
    for (int j = 0; j < NB; ++j) s[j] = _mm256_fmadd_ps(wi, _mm256_loadu_ps(c + i + 8 * j), s[j]);
  }
  for (int j = 0; j < NB; ++j) _mm256_storeu_ps(dst + 8 * j, s[j]);
}

template <int NB>
inline void column_blocks(const float* c, float* dst, int64_t stride, const float* w, int r) {
  const __m256 wr = _mm256_set1_ps(w[r]);
  __m256 s[NB];
  for (int j = 0; j < NB; ++j) s[j] = _mm256_mul_ps(wr, _mm256_loadu_ps(c + 8 * j));
  for (int i = 1; i <= r; ++i) {
    const __m256 wi = _mm256_set1_ps(w[r + i]);
    const float* a = c + i * stride;
    const float* b = c - i * stride;
    for (int j = 0; j < NB; ++j)
      s[j] = _mm256_fmadd_ps(
          wi, _mm256_add_ps(_mm256_loadu_ps(a + 8 * j), _mm256_loadu_ps(b + 8 * j)), s[j]);
  }
  for (int j = 0; j < NB; ++j) _mm256_storeu_ps(dst + 8 * j, s[j]);
}
#endif

// opencv_row_sum for x in [0, end) of one row; c[-r .. end + r) must be readable.
void row_pass(const float* c, float* dst, int64_t end, const float* w, int r) {
  int64_t x = 0;
  if (r >= 3) {
#if FASTCODEC_AVX2
    for (; x + 48 <= end; x += 48) row_blocks<6>(c + x, dst + x, w, r);
    for (; x + 16 <= end; x += 16) row_blocks<2>(c + x, dst + x, w, r);
    for (; x + 8 <= end; x += 8) row_blocks<1>(c + x, dst + x, w, r);
#endif
    for (; x < end; ++x) dst[x] = opencv_row_sum(w, r, [&](int i) { return c[x + i]; });
    return;
  }
  // r <= 2: the plain loops vectorise as written.
  if (r == 0) {
    for (; x < end; ++x) dst[x] = w[0] * c[x];
  } else if (r == 1) {
    for (; x < end; ++x) dst[x] = fmaf(w[2], c[x + 1] + c[x - 1], w[1] * c[x]);
  } else {
    for (; x < end; ++x) {
      const float s = fmaf(w[2], c[x], w[3] * (c[x + 1] + c[x - 1]));
      dst[x] = fmaf(w[4], c[x + 2] + c[x - 2], s);
    }
  }
}

// opencv_column_sum for x in [0, end); rows are `stride` floats apart.
void column_pass(const float* c, float* dst, int64_t end, int64_t stride, const float* w, int r) {
  int64_t x = 0;
#if FASTCODEC_AVX2
  for (; x + 48 <= end; x += 48) column_blocks<6>(c + x, dst + x, stride, w, r);
  for (; x + 16 <= end; x += 16) column_blocks<2>(c + x, dst + x, stride, w, r);
  for (; x + 8 <= end; x += 8) column_blocks<1>(c + x, dst + x, stride, w, r);
#endif
  for (; x < end; ++x)
    dst[x] = opencv_column_sum(w, r, [&](int i) { return c[x + i * stride]; });
}

}  // namespace

void blur_map(const float* in, float* out, int64_t H, int64_t W, const float* w, int r,
              Border border, BlurScratch& scratch) {
  blur_rect(in, blur_plan(H, W, w, r, border), 0, W, 0, H, out, scratch);
}

BlurPlan blur_plan(int64_t H, int64_t W, const float* w, int r, Border border) {
  const int64_t pad = border == Border::Zero ? r : 0;
  BlurPlan p{H, W, w, r, border, 0, 0};
  p.row_end = std::max<int64_t>(0, std::min(W, opencv_row_simd_end(W + 2 * pad) - pad));
  p.column_end = std::max<int64_t>(0, std::min(W, opencv_column_simd_end(W + 2 * pad) - pad));
  return p;
}

#if FASTCODEC_AVX2
namespace {

// blur_rect for an 8-column block whose row windows stay inside the map and whose
// columns all take the SIMD formulas: rows are filtered four at a time and output
// rows eight at a time, so the FMA chains run side by side.
void blur_block8(const float* in, const BlurPlan& p, int64_t x0, int64_t y0, int64_t y1,
                 float* out, BlurScratch& scratch) {
  const int r = p.r;
  const int64_t rows = (y1 - y0) + 2 * r;
  scratch.rows.resize(rows * 8 + 8);
  float* R = scratch.rows.data();
  const __m256 zero = _mm256_setzero_ps();
  int64_t t = 0;
  while (t < rows) {
    const float* src[4];
    int n = 0;
    int64_t slot[4];
    for (; t < rows && n < 4; ++t) {
      const int64_t q = border_index(y0 - r + t, p.H, p.border);
      if (q < 0) {
        _mm256_storeu_ps(R + t * 8, zero);
        continue;
      }
      src[n] = in + q * p.W + x0;
      slot[n++] = t;
    }
    __m256 acc[4] = {zero, zero, zero, zero};
    for (int i = -r; i <= r; ++i) {
      const __m256 wi = _mm256_set1_ps(p.w[i + r]);
      for (int j = 0; j < n; ++j) acc[j] = _mm256_fmadd_ps(wi, _mm256_loadu_ps(src[j] + i), acc[j]);
    }
    for (int j = 0; j < n; ++j) _mm256_storeu_ps(R + slot[j] * 8, acc[j]);
  }
  const __m256 wr = _mm256_set1_ps(p.w[r]);
  for (int64_t y = 0; y < y1 - y0; y += 8) {
    const int m = (int)std::min<int64_t>(8, (y1 - y0) - y);
    __m256 acc[8];
    for (int j = 0; j < m; ++j) acc[j] = _mm256_mul_ps(wr, _mm256_loadu_ps(R + (y + j + r) * 8));
    for (int i = 1; i <= r; ++i) {
      const __m256 wi = _mm256_set1_ps(p.w[r + i]);
      for (int j = 0; j < m; ++j) {
        const float* c = R + (y + j + r) * 8;
        acc[j] = _mm256_fmadd_ps(
            wi, _mm256_add_ps(_mm256_loadu_ps(c + i * 8), _mm256_loadu_ps(c - i * 8)), acc[j]);
      }
    }
    for (int j = 0; j < m; ++j) _mm256_storeu_ps(out + (y + j) * 8, acc[j]);
  }
}

}  // namespace
#endif

void blur_rect(const float* in, const BlurPlan& p, int64_t x0, int64_t x1, int64_t y0,
               int64_t y1, float* out, BlurScratch& scratch) {
  const int r = p.r;
#if FASTCODEC_AVX2
  if (r >= 3 && x1 - x0 == 8 && x0 - r >= 0 && x1 + r <= p.W && x1 <= p.row_end &&
      x1 <= p.column_end) {
    blur_block8(in, p, x0, y0, y1, out, scratch);
    return;
  }
#endif
  const int64_t n = x1 - x0, rows = (y1 - y0) + 2 * r;
  scratch.row.resize(n + 2 * r);
  scratch.rows.resize(rows * n);
  float* row = scratch.row.data();
  float* R = scratch.rows.data();
  const int64_t row_vec = std::max<int64_t>(0, std::min(n, p.row_end - x0));
  const int64_t col_vec = std::max<int64_t>(0, std::min(n, p.column_end - x0));
  for (int64_t t = 0; t < rows; ++t) {
    float* dst = R + t * n;
    const int64_t q = border_index(y0 - r + t, p.H, p.border);
    if (q < 0) {
      std::fill(dst, dst + n, 0.f);
      continue;
    }
    const float* src = in + q * p.W;
    if (x0 - r >= 0 && x1 + r <= p.W) {  // the taps stay inside the row: read it in place
      const float* c = src + x0;
      row_pass(c, dst, row_vec, p.w, r);
      for (int64_t k = row_vec; k < n; ++k)
        dst[k] = opencv_row_sum_tail(p.w, r, [&](int i) { return c[k + i]; });
      continue;
    }
    // Columns x0 - r .. x1 + r: a straight copy of the part inside the map, border
    // rules for the rest.
    const int64_t a = std::max<int64_t>(x0 - r, 0), b = std::min<int64_t>(x1 + r, p.W);
    for (int64_t j = 0; j < a - (x0 - r); ++j) {
      const int64_t c = border_index(x0 - r + j, p.W, p.border);
      row[j] = c < 0 ? 0.f : src[c];
    }
    std::copy(src + a, src + b, row + (a - (x0 - r)));
    for (int64_t j = b - (x0 - r); j < n + 2 * r; ++j) {
      const int64_t c = border_index(x0 - r + j, p.W, p.border);
      row[j] = c < 0 ? 0.f : src[c];
    }
    const float* c = row + r;
    row_pass(c, dst, row_vec, p.w, r);
    for (int64_t k = row_vec; k < n; ++k)
      dst[k] = opencv_row_sum_tail(p.w, r, [&](int i) { return c[k + i]; });
  }
  for (int64_t y = y0; y < y1; ++y) {
    const float* c = R + (y - y0 + r) * n;
    float* dst = out + (y - y0) * n;
    column_pass(c, dst, col_vec, n, p.w, r);
    for (int64_t k = col_vec; k < n; ++k)
      dst[k] = opencv_column_sum_tail(p.w, r, [&](int i) { return c[k + i * n]; });
  }
}

namespace {

// dst[x] = sum_j w[j] * src[x + j] for x in [0, n), j in [0, taps): the upper bounds
// of the pruning. Not OpenCV's rounding order; the callers' margins absorb the
// difference.
void window_sums(const float* src, float* dst, int64_t n, const float* w, int taps) {
  int64_t x = 0;
#if FASTCODEC_AVX2
  // Four 8-float chains side by side, then single ones: the tap chains are latency-bound.
  for (; x + 32 <= n; x += 32) {
    __m256 s[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
    for (int j = 0; j < taps; ++j) {
      const __m256 wj = _mm256_set1_ps(w[j]);
      for (int b = 0; b < 4; ++b)
        s[b] = _mm256_fmadd_ps(wj, _mm256_loadu_ps(src + x + 8 * b + j), s[b]);
    }
    for (int b = 0; b < 4; ++b) _mm256_storeu_ps(dst + x + 8 * b, s[b]);
  }
  for (; x + 8 <= n; x += 8) {
    __m256 s = _mm256_setzero_ps();
    for (int j = 0; j < taps; ++j)
      s = _mm256_fmadd_ps(_mm256_set1_ps(w[j]), _mm256_loadu_ps(src + x + j), s);
    _mm256_storeu_ps(dst + x, s);
  }
#endif
  for (; x < n; ++x) {
    float a = 0.f;
    for (int j = 0; j < taps; ++j) a += w[j] * src[x + j];
    dst[x] = a;
  }
}

// A lower bound of the blurred map's maximum: the largest value of blurred row y,
// summed column-first (vectorised over x) instead of in OpenCV's order, minus
// `margin`, which exceeds the rounding difference. buf holds 2W + 2r floats.
float blurred_row_floor(const float* in, const BlurPlan& p, int64_t y, float margin, float* buf) {
  const int64_t W = p.W;
  const int r = p.r;
  float* column = buf;  // W + 2r: the column pass at row y, bordered like a row
  float* c = column + r;
  float* row = column + W + 2 * r;
  std::fill(c, c + W, 0.f);
  for (int t = -r; t <= r; ++t) {
    const int64_t q = border_index(y + t, p.H, p.border);
    if (q < 0) continue;  // a zero row
    const float wt = p.w[t + r];
    const float* v = in + q * W;
    for (int64_t x = 0; x < W; ++x) c[x] += wt * v[x];
  }
  for (int64_t i = 1; i <= r; ++i) {
    const int64_t left = border_index(-i, W, p.border), right = border_index(W - 1 + i, W, p.border);
    c[-i] = left < 0 ? 0.f : c[left];
    c[W - 1 + i] = right < 0 ? 0.f : c[right];
  }
  window_sums(column, row, W, p.w, 2 * r + 1);
  return *std::max_element(row, row + W) - margin;
}

// The first maximum of fl(blur * scale) over rows [y0, y1), blurring only the 8-column
// blocks whose bound can reach `floor`: column x is bounded by the row pass of the
// column maxima over the rows its taps read.
Maximum run_argmax(const float* in, const BlurPlan& p, int64_t y0, int64_t y1, float scale,
                   float floor, float margin, float gain, BlurScratch& scratch,
                   BlurredRect* rect) {
  const int64_t H = p.H, W = p.W;
  const int r = p.r;
  scratch.map.resize(H * W + 3 * (W + 2 * r));
  float* m = scratch.map.data();
  float* cmax = m + H * W;          // W + 2r, bordered
  float* cbound = cmax + W + 2 * r;  // W
  float* c = cmax + r;
  std::fill(c, c + W, p.border == Border::Zero ? 0.f : -INFINITY);
  for (int64_t t = y0 - r; t < y1 + r; ++t) {
    const int64_t q = border_index(t, H, p.border);
    if (q < 0) {
      for (int64_t x = 0; x < W; ++x) c[x] = std::max(c[x], 0.f);
      continue;
    }
    const float* v = in + q * W;
    int64_t x = 0;
#if FASTCODEC_AVX2
    for (; x + 8 <= W; x += 8)
      _mm256_storeu_ps(c + x, _mm256_max_ps(_mm256_loadu_ps(c + x), _mm256_loadu_ps(v + x)));
#endif
    for (; x < W; ++x) c[x] = std::max(c[x], v[x]);
  }
  for (int64_t i = 1; i <= r; ++i) {
    const int64_t left = border_index(-i, W, p.border), right = border_index(W - 1 + i, W, p.border);
    c[-i] = left < 0 ? 0.f : c[left];
    c[W - 1 + i] = right < 0 ? 0.f : c[right];
  }
  window_sums(cmax, cbound, W, p.w, 2 * r + 1);
  // 8-column blocks holding a column that can reach the floor, merged into spans.
  Maximum best{-1, -INFINITY};
  int64_t first_x = W, last_x = -1;
  for (int64_t x = 0; x < W; ++x) {
    const float b = cbound[x];
    if (b * (b >= 0 ? gain : 1.f / gain) + margin >= floor) {
      first_x = std::min(first_x, x);
      last_x = x;
    }
  }
  if (last_x < 0) return best;
  const int64_t x0 = first_x / 8 * 8, x1 = std::min(W, (last_x / 8 + 1) * 8);
  const int64_t n = x1 - x0;
  float* out = m + y0 * W;  // (y1 - y0) x n, packed; runs' rows never overlap
  blur_rect(in, p, x0, x1, y0, y1, out, scratch);
  *rect = BlurredRect{x0, x1, y0, y1, out};
  for (int64_t y = y0; y < y1; ++y) {
    const float* o = out + (y - y0) * n;
    for (int64_t k = 0; k < n; ++k) {
      const float v = scale == 1.f ? o[k] : o[k] * scale;
      if (v > best.value || v != v) {
        best = Maximum{y * W + x0 + k, v};
        if (v != v) return best;
      }
    }
  }
  return best;
}

}  // namespace

Maximum blurred_argmax(const float* in, const BlurPlan& p, float scale, BlurScratch& scratch,
                       Maximum* raw, BlurredRect* rect) {
  BlurredRect unused;
  if (!rect || scale != 1.f) rect = &unused;
  *rect = BlurredRect{};
  const int64_t H = p.H, W = p.W;
  const int r = p.r;
  // The whole map, for the cases the bounds do not cover.
  auto whole = [&] {
    if (raw) *raw = fast_argmax(in, H * W);
    scratch.map.resize(H * W);
    float* m = scratch.map.data();
    blur_rect(in, p, 0, W, 0, H, m, scratch);
    *rect = BlurredRect{0, W, 0, H, m};
    if (scale != 1.f)
      for (int64_t i = 0; i < H * W; ++i) m[i] *= scale;
    return fast_argmax(m, H * W);
  };
  if (!(scale > 0.f) || !std::isfinite(scale) || H < 2 * (2 * r + 1)) return whole();
  // Rows whose blurred values cannot reach the blurred value at the raw maximum are
  // skipped. Bound for row y: the column pass of the row maxima (with the zero padding
  // where the taps leave the map), times the tap sum, plus a rounding margin.
  float lo = INFINITY, hi = -INFINITY;
  bool has_nan = false;
  scratch.bound.resize(2 * (H + 2 * r) + 2 * (W + r));  // not row/rows: blur_rect uses those
  float* rowmax = scratch.bound.data();
  float* keep = rowmax + H + 2 * r;
#if FASTCODEC_AVX2
  // Vector minimum and NaN flags run over the whole map; only the row maxima are
  // reduced per row.
  __m256 vlo = _mm256_set1_ps(INFINITY), vnan = _mm256_setzero_ps();
#endif
  for (int64_t y = 0; y < H; ++y) {
    const float* v = in + y * W;
    // Sixteen rows ahead: the hardware prefetcher stops at 4 KiB page boundaries.
    for (int64_t i = 16 * W; i < 17 * W; i += 16) __builtin_prefetch(v + i);
    float a = v[0], b = v[0];
    int64_t x = 1;
#if FASTCODEC_AVX2
    if (W >= 8) {
      __m256 va = _mm256_loadu_ps(v);
      vlo = _mm256_min_ps(vlo, va);
      vnan = _mm256_or_ps(vnan, _mm256_cmp_ps(va, va, _CMP_UNORD_Q));
      for (x = 8; x + 8 <= W; x += 8) {
        const __m256 t = _mm256_loadu_ps(v + x);
        va = _mm256_max_ps(va, t);
        vlo = _mm256_min_ps(vlo, t);
        vnan = _mm256_or_ps(vnan, _mm256_cmp_ps(t, t, _CMP_UNORD_Q));
      }
      __m128 m = _mm_max_ps(_mm256_castps256_ps128(va), _mm256_extractf128_ps(va, 1));
      m = _mm_max_ps(m, _mm_movehl_ps(m, m));
      m = _mm_max_ss(m, _mm_movehdup_ps(m));
      a = _mm_cvtss_f32(m);
    }
#endif
    for (; x < W; ++x) {
      has_nan |= v[x] != v[x];
      a = v[x] > a ? v[x] : a;
      b = v[x] < b ? v[x] : b;
    }
    has_nan |= v[0] != v[0];
    rowmax[y + r] = a;
    hi = std::max(hi, a);
    lo = std::min(lo, b);
  }
#if FASTCODEC_AVX2
  {
    float l[8];
    _mm256_storeu_ps(l, vlo);
    for (int j = 0; j < 8; ++j) lo = std::min(lo, l[j]);
    has_nan |= _mm256_movemask_ps(vnan) != 0;
  }
#endif
  const float maxabs = std::max(std::fabs(lo), std::fabs(hi));
  if (has_nan || !std::isfinite(maxabs)) return whole();
  // The first raw maximum: the first row holding it, then the first column.
  int64_t peak = 0;
  for (int64_t y = 0; y < H; ++y)
    if (rowmax[y + r] == hi) {
      const float* v = in + y * W;
      int64_t x = 0;
      while (v[x] != hi) ++x;
      peak = y * W + x;
      break;
    }
  if (raw) *raw = Maximum{peak, in[peak]};
  if (p.border == Border::Zero)
    for (int64_t y = 0; y < H; ++y) rowmax[y + r] = std::max(rowmax[y + r], 0.f);
  for (int64_t i = 0; i < r; ++i) {
    const int64_t top = border_index(i - r, H, p.border), bottom = border_index(H + i, H, p.border);
    rowmax[i] = top < 0 ? 0.f : rowmax[top + r];
    rowmax[H + r + i] = bottom < 0 ? 0.f : rowmax[bottom + r];
  }
  const float margin = 1e-4f * maxabs + 1e-30f;
  double wsum = 0;
  for (int j = 0; j <= 2 * r; ++j) wsum += p.w[j];
  const float up = (float)(wsum * (1 + 1e-6)), down = (float)(wsum * (1 - 1e-6));
  window_sums(rowmax, keep, H, p.w, 2 * r + 1);
  // The floor: the maximum of the row with the largest bound, nearly the answer.
  const int64_t best_row = std::max_element(keep, keep + H) - keep;
  const float at_peak = blurred_row_floor(in, p, best_row, margin, keep + H + 2 * r);
  Maximum best{-1, -INFINITY};
  int64_t y = 0;
  auto needed = [&](int64_t row) {
    const float v = keep[row];
    return v * (v >= 0 ? up : down) + margin >= at_peak;
  };
  while (y < H) {
    if (!needed(y)) {
      ++y;
      continue;
    }
    int64_t y1 = y + 1;
    while (y1 < H && needed(y1)) ++y1;
    BlurredRect run_rect;
    const Maximum run = run_argmax(in, p, y, y1, scale, at_peak, margin, up, scratch, &run_rect);
    if (run.value > best.value) {
      best = run;
      *rect = run_rect;
    }
    y = y1;
  }
  return best;
}

}  // namespace fastcodec
