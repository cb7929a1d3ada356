// One pixel of the decoders' Gaussian blur (blur.h's OpenCV formulas) computed from
// the input map directly, for code that blurs point by point or row band by row band
// (the CUDA kernels) rather than a whole rectangle at a time (csrc/cpu/blur_cpu.cpp).
// The value at (x, y) is bit-identical to the CPU's blur_rect at that pixel: the row
// pass uses the SIMD formula left of row_end and the scalar tail from there, the column
// pass likewise with column_end, both placed as OpenCV places them for the padded image.
// It lives with the kernels, not in csrc/include: it is the GPU's layout of blur.h's
// rules (the CPU blurs whole rectangles), not an MMPose rule of its own, so it has no
// Numba mirror.
#pragma once

#include "fastcodec/blur.h"
#include "fastcodec/heatmap_targets.h"

namespace fastcodec {

struct BlurGeometry {
  int64_t H, W;
  int r;
  bool reflect;                 // BORDER_REFLECT_101 (cv2.GaussianBlur); else zero padding
  int64_t row_end, column_end;  // columns from here on take the tail formulas
};

// MMPose's gaussian_blur pads the map with r zeros on each side before calling OpenCV,
// which places OpenCV's SIMD boundaries in the padded image (the CPU's blur_plan).
FC_HD BlurGeometry blur_geometry(int64_t H, int64_t W, int r, bool reflect) {
  BlurGeometry g;
  g.H = H;
  g.W = W;
  g.r = r;
  g.reflect = reflect;
  const int64_t pad = reflect ? 0 : r;
  g.row_end = max_i64(0, min_i64(W, opencv_row_simd_end(W + 2 * pad) - pad));
  g.column_end = max_i64(0, min_i64(W, opencv_column_simd_end(W + 2 * pad) - pad));
  return g;
}

// The input sample at position p of a line of length len under the border rule, or -1
// for a zero.
FC_HD int64_t blur_source_index(int64_t p, int64_t len, bool reflect) {
  if (p >= 0 && p < len) return p;
  return reflect ? reflect101(p, len) : -1;
}

// The row pass at column x of row y (y may lie outside the map: its border rule).
FC_HD float blur_row_value(const float* in, const BlurGeometry& g, const float* w, int64_t x,
                           int64_t y) {
  const int64_t q = blur_source_index(y, g.H, g.reflect);
  if (q < 0) return 0.f;
  const float* row = in + q * g.W;
  auto at = [&](int i) {
    const int64_t c = blur_source_index(x + i, g.W, g.reflect);
    return c < 0 ? 0.f : row[c];
  };
  return x < g.row_end ? opencv_row_sum(w, g.r, at) : opencv_row_sum_tail(w, g.r, at);
}

// The column pass at (x, y) given the row pass: rows(i) = the row pass at (x, y + i).
template <typename Rows>
FC_HD float blur_column_value(const BlurGeometry& g, const float* w, int64_t x, Rows rows) {
  return x < g.column_end ? opencv_column_sum(w, g.r, rows) : opencv_column_sum_tail(w, g.r, rows);
}

// The blurred value at (x, y) from the input alone ((2r + 1)^2 taps).
FC_HD float blur_pixel(const float* in, const BlurGeometry& g, const float* w, int64_t x,
                       int64_t y) {
  auto rows = [&](int i) { return blur_row_value(in, g, w, x, y + i); };
  return blur_column_value(g, w, x, rows);
}

}  // namespace fastcodec
