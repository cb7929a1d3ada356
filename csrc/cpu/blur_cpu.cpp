#include "blur_cpu.h"

#include <algorithm>

namespace fastcodec {

namespace {

// Index of the input sample p in a line of length len, or -1 for a zero.
inline int64_t border_index(int64_t p, int64_t len, Border border) {
  if (p >= 0 && p < len) return p;
  return border == Border::Zero ? -1 : reflect101(p, len);
}

}  // namespace

void blur_map(const float* in, float* out, int64_t H, int64_t W, const float* w, int r,
              Border border, BlurScratch& scratch) {
  scratch.row.assign(W + 2 * r, 0.f);
  scratch.rows.resize((H + 2 * r) * W);
  float* row = scratch.row.data();
  // rows holds the row-filtered map with r extra rows above and below, already
  // bordered, so the column pass reads it without index arithmetic.
  float* R = scratch.rows.data();
  // OpenCV filters the zero-padded (W + 2r) image in MMPose's gaussian_blur, the map
  // itself otherwise; its SIMD/tail split counts columns of that image.
  const int64_t pad = border == Border::Zero ? r : 0;
  const int64_t row_end = std::max<int64_t>(0, std::min(W, opencv_row_simd_end(W + 2 * pad) - pad));
  const int64_t column_end =
      std::max<int64_t>(0, std::min(W, opencv_column_simd_end(W + 2 * pad) - pad));
  for (int64_t y = 0; y < H; ++y) {
    const float* src = in + y * W;
    for (int64_t p = 0; p < W + 2 * r; ++p) {
      const int64_t q = border_index(p - r, W, border);
      row[p] = q < 0 ? 0.f : src[q];
    }
    float* dst = R + (y + r) * W;
    const float* c = row + r;
    // opencv_row_sum, vectorised over x up to row_end; the tail after it.
    if (r == 0) {
      for (int64_t x = 0; x < W; ++x) dst[x] = w[0] * c[x];
    } else if (r == 1) {
      for (int64_t x = 0; x < row_end; ++x)
        dst[x] = fmaf(w[2], c[x + 1] + c[x - 1], w[1] * c[x]);
    } else if (r == 2) {
      for (int64_t x = 0; x < row_end; ++x) {
        const float s = fmaf(w[2], c[x], w[3] * (c[x + 1] + c[x - 1]));
        dst[x] = fmaf(w[4], c[x + 2] + c[x - 2], s);
      }
    } else {
      for (int64_t x = 0; x < row_end; ++x) dst[x] = 0.f;
      for (int i = -r; i <= r; ++i) {
        const float wi = w[i + r];
        const float* a = c + i;
        for (int64_t x = 0; x < row_end; ++x) dst[x] = fmaf(wi, a[x], dst[x]);
      }
    }
    for (int64_t x = row_end; x < W; ++x)
      dst[x] = opencv_row_sum_tail(w, r, [&](int i) { return c[x + i]; });
  }
  for (int64_t p = 0; p < 2 * r; ++p) {
    const int64_t y = p < r ? p - r : H + (p - r);
    float* dst = R + (p < r ? p : H + p) * W;
    const int64_t q = border_index(y, H, border);
    if (q < 0)
      std::fill(dst, dst + W, 0.f);
    else
      std::copy(R + (q + r) * W, R + (q + r + 1) * W, dst);
  }
  for (int64_t y = 0; y < H; ++y) {
    const float* c = R + (y + r) * W;
    float* dst = out + y * W;
    // opencv_column_sum, vectorised over x up to column_end; the tail after it.
    for (int64_t x = 0; x < column_end; ++x) dst[x] = w[r] * c[x];
    for (int i = 1; i <= r; ++i) {
      const float wi = w[r + i];
      const float* a = c + i * W;
      const float* b = c - i * W;
      for (int64_t x = 0; x < column_end; ++x) dst[x] = fmaf(wi, a[x] + b[x], dst[x]);
    }
    for (int64_t x = column_end; x < W; ++x)
      dst[x] = opencv_column_sum_tail(w, r, [&](int i) { return c[x + i * W]; });
  }
}

}  // namespace fastcodec
