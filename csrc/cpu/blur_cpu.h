// Whole-map separable Gaussian blur on the CPU, vectorised over x. The per-sample
// arithmetic is symmetric_tap_sum of fastcodec/blur.h, evaluated pass by pass.
#pragma once

#include <cstdint>
#include <vector>

#include "fastcodec/blur.h"
#include "fastcodec/heatmap_targets.h"

namespace fastcodec {

enum class Border { Zero, Reflect101 };

// Scratch buffers reused across the maps one thread blurs.
struct BlurScratch {
  std::vector<float> row, rows;
};

// out = blur(in), both H x W. Border::Zero is MMPose's gaussian_blur (zero padding of
// r on every side, so OpenCV's own border never shows); Border::Reflect101 is a direct
// cv2.GaussianBlur call.
void blur_map(const float* in, float* out, int64_t H, int64_t W, const float* w, int r,
              Border border, BlurScratch& scratch);

}  // namespace fastcodec
