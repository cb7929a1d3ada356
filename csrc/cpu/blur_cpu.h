// Whole-map separable Gaussian blur on the CPU, vectorised over x. The per-sample
// arithmetic is symmetric_tap_sum of fastcodec/blur.h, evaluated pass by pass.
#pragma once

#include <cstdint>
#include <vector>

#include "fastcodec/argmax.h"
#include "fastcodec/blur.h"
#include "fastcodec/heatmap_targets.h"

namespace fastcodec {

enum class Border { Zero, Reflect101 };

// OpenCV's Gaussian taps for a k-tap kernel (cv2.GaussianBlur with sigma 0), their
// radius and their sum; k <= 0 means no kernel (r = 0, wsum = 0).
struct Kernel1D {
  float w[kMaxBlurKernel];
  int r = 0;
  double wsum = 0;
  explicit Kernel1D(int k) {
    if (k <= 0) return;
    opencv_gaussian_kernel(k, w);
    r = k / 2;
    for (int i = 0; i < k; ++i) wsum += w[i];
  }
};

// Scratch buffers reused across the maps one thread blurs.
struct BlurScratch {
  std::vector<float> row, rows, map, bound;
};

// This thread's scratch, kept between calls: a job's chunks then allocate nothing.
inline BlurScratch& thread_scratch() {
  thread_local BlurScratch scratch;
  return scratch;
}

// How OpenCV blurs one H x W map: kernel, border, and where its SIMD part ends.
struct BlurPlan {
  int64_t H, W;
  const float* w;
  int r;
  Border border;
  int64_t row_end, column_end;  // columns from here on take the tail formulas
};

BlurPlan blur_plan(int64_t H, int64_t W, const float* w, int r, Border border);

// The blurred values on [x0, x1) x [y0, y1) (inside the map), row-major into out:
// bit-identical to the same pixels of blur_map.
void blur_rect(const float* in, const BlurPlan& p, int64_t x0, int64_t x1, int64_t y0,
               int64_t y1, float* out, BlurScratch& scratch);

// A rectangle of blurred values blurred_argmax computed on its way, valid until the
// scratch's next use: values[(y - y0) * (x1 - x0) + x - x0] = blur(in) at (x, y).
struct BlurredRect {
  int64_t x0 = 0, x1 = 0, y0 = 0, y1 = 0;
  const float* values = nullptr;  // nullptr: none
  bool holds(int64_t xa, int64_t xb, int64_t ya, int64_t yb) const {
    return values && x0 <= xa && xb < x1 && y0 <= ya && yb < y1;
  }
  float at(int64_t x, int64_t y) const { return values[(y - y0) * (x1 - x0) + x - x0]; }
};

// First maximum of fl(blur(in) * scale), with numpy's argmax rules. Only the rows
// and 8-column blocks that can hold it are blurred: a row is skipped when the column
// pass of the row maxima (an upper bound, the taps being non-negative) stays below a
// floor (the largest value of the most promising blurred row, less a rounding margin),
// and likewise a block with the row pass of the column maxima. Maps with NaN/Inf, a
// scale <= 0 or few rows are blurred whole. `raw`, when given, receives the first
// maximum of `in` itself (first_argmax), which the bounds compute anyway; `rect`, the
// blurred (unscaled) values around the maximum, when scale is 1.
Maximum blurred_argmax(const float* in, const BlurPlan& p, float scale, BlurScratch& scratch,
                       Maximum* raw = nullptr, BlurredRect* rect = nullptr);

// out = blur(in), both H x W: blur_rect over the whole map. Border::Zero is MMPose's
// gaussian_blur (zero padding of r on every side, so OpenCV's own border never shows);
// Border::Reflect101 is a direct cv2.GaussianBlur call.
void blur_map(const float* in, float* out, int64_t H, int64_t W, const float* w, int r,
              Border border, BlurScratch& scratch);

}  // namespace fastcodec
