// The Gaussian blur used by DARK, DARK-UDP, Megvii and UDP-combined decoding:
// cv2.GaussianBlur(src, (k, k), 0) on float32 data, as separable row and column
// passes with OpenCV's sigma-0 kernel.
#pragma once

#include "fastcodec/common.h"

namespace fastcodec {

// The largest blur kernel accepted (fastcodec/limits.py holds the same value).
constexpr int kMaxBlurKernel = 255;

// cv2.getGaussianKernel(k, 0, CV_32F) of OpenCV 5: fixed tables for k <= 9,
// otherwise sigma = 0.3 * ((k - 1) * 0.5 - 1) + 0.8, taps normalised in float64.
FC_HD void opencv_gaussian_kernel(int k, float* w) {
  const float t1[] = {1.f};
  const float t3[] = {0.25f, 0.5f, 0.25f};
  const float t5[] = {0.0625f, 0.25f, 0.375f, 0.25f, 0.0625f};
  const float t7[] = {0.03125f, 0.109375f, 0.21875f, 0.28125f,
                      0.21875f, 0.109375f, 0.03125f};
  const float t9[] = {4 / 256.f, 13 / 256.f, 30 / 256.f, 51 / 256.f, 60 / 256.f,
                      51 / 256.f, 30 / 256.f, 13 / 256.f, 4 / 256.f};
  const float* fixed = k == 1 ? t1 : k == 3 ? t3 : k == 5 ? t5 : k == 7 ? t7 : k == 9 ? t9 : 0;
  if (fixed) {
    for (int i = 0; i < k; ++i) w[i] = fixed[i];
    return;
  }
  const double sigma = ((k - 1) * 0.5 - 1) * 0.3 + 0.8;
  const double scale2x = -0.5 / (sigma * sigma);
  double sum = 0;
  for (int i = 0; i < k; ++i) {
    const double x = i - (k - 1) * 0.5;
    sum += exp(scale2x * x * x);
  }
  sum = 1. / sum;
  for (int i = 0; i < k; ++i) {
    const double x = i - (k - 1) * 0.5;
    w[i] = (float)(exp(scale2x * x * x) * sum);
  }
}

// One output sample of OpenCV's row pass and column pass for float32 data, in the
// order and with the fused multiply-adds of its SIMD filters (FilterEngine on an
// FMA-capable x86 CPU), so results match cv2.GaussianBlur bit for bit there.
// `at(i)` returns the input i taps from the centre (0 outside a zero-padded border).
template <typename Tap>
FC_HD float opencv_row_sum(const float* w, int r, Tap at) {
  if (r == 0) return w[0] * at(0);
  if (r == 1) return fmaf(w[2], at(1) + at(-1), w[1] * at(0));
  if (r == 2) {  // SymmRowSmall: k1 * (x1 + x-1), then the centre, then the ends
    float s = w[3] * (at(1) + at(-1));
    s = fmaf(w[2], at(0), s);
    return fmaf(w[4], at(2) + at(-2), s);
  }
  float s = 0.f;
  for (int i = -r; i <= r; ++i) s = fmaf(w[i + r], at(i), s);
  return s;
}

// OpenCV's scalar tail (the last columns a SIMD register does not cover): the row
// pass sums tap by tap without fusing, the column pass pairs taps without fusing.
template <typename Tap>
FC_HD float opencv_row_sum_tail(const float* w, int r, Tap at) {
  if (r <= 2) {
    float s = w[r] * at(0);
    for (int i = 1; i <= r; ++i) s = s + w[r + i] * (at(i) + at(-i));
    return s;
  }
  float s = w[0] * at(-r);
  for (int i = -r + 1; i <= r; ++i) s = s + w[i + r] * at(i);
  return s;
}

template <typename Tap>
FC_HD float opencv_column_sum_tail(const float* w, int r, Tap at) {
  float s = w[r] * at(0);
  for (int i = 1; i <= r; ++i) s = s + w[r + i] * (at(i) + at(-i));
  return s;
}

// Where OpenCV's SIMD part ends for an image `width` floats wide (8-float registers,
// plus one 4-float step in the row pass); columns from there on take the tail formulas.
FC_HD int64_t opencv_row_simd_end(int64_t width) {
  const int64_t v = width / 8 * 8;
  return width - v >= 4 ? v + 4 : v;
}
FC_HD int64_t opencv_column_simd_end(int64_t width) { return width / 8 * 8; }

// cv2.GaussianBlur (OpenCV 5) filters no axis of length 1: a one-row image gets no
// column pass and a one-column image no row pass (as a kernel size of 1 there).
FC_HD bool opencv_blur_filters_axis(int64_t len) { return len > 1; }

template <typename Tap>
FC_HD float opencv_column_sum(const float* w, int r, Tap at) {
  float s = w[r] * at(0);
  for (int i = 1; i <= r; ++i) s = fmaf(w[r + i], at(i) + at(-i), s);
  return s;
}

// MMPose's gaussian_blur rescales each blurred map so its maximum equals the raw
// maximum. A map whose blurred maximum is 0 divides 0 by 0 in MMPose (NaN map);
// fastcodec keeps the blurred map unscaled there (docs/deviations.md).
FC_HD float blur_rescale(float raw_max, float blurred_max) {
  return blurred_max == 0.f ? 1.f : raw_max / blurred_max;
}

}  // namespace fastcodec
