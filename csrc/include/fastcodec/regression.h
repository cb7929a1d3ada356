// Per-keypoint math of RegressionLabel and IntegralRegressionLabel (MMPose 1.3.2,
// mmpose/codecs/regression_label.py and integral_regression_label.py).
//
// Coordinates arrive as float64 (float32 inputs convert exactly); MMPose divides and
// multiplies by `np.array([w, h])`, an int64 array, so its arithmetic is float64 for
// float32 and float64 keypoints alike.
#pragma once

#include "fastcodec/common.h"

namespace fastcodec {

// keypoint_labels: `(keypoints / np.array([w, h])).astype(np.float32)`.
FC_HD float regression_label(double v, double size) { return (float)(v / size); }

// fastcodec's rule, not MMPose's (docs/deviations.md): a keypoint whose float32 labels
// are not both finite (a NaN or Inf coordinate, or one beyond float32's range) lies
// outside the image, so its weight is 0; its labels are written as 0, because in a loss
// `NaN * 0` is still NaN. `v - v == 0` is false exactly for NaN and +-Inf (no <math.h>
// macro: NVRTC has none).
FC_HD bool regression_labels_finite(float lx, float ly) {
  return (lx - lx == 0.f) & (ly - ly == 0.f);
}

// MMPose's inside-image rule: `(kp >= 0) & (kp <= [w - 1, h - 1])` on both axes.
// NaN fails every comparison, so NaN keypoints are outside (weight 0), as in MMPose.
// `&`, not `&&`: no branches, so the CPU loop vectorises.
FC_HD bool regression_inside(double x, double y, double w, double h) {
  return (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1);
}

// keypoint_weights: 1 where inside and `keypoints_visible > 0.5`, else 0 (float32).
FC_HD float regression_weight(double x, double y, double visible, double w, double h) {
  return (regression_inside(x, y, w, h) & (visible > 0.5)) ? 1.f : 0.f;
}

// decode: `normalized_coords * np.array([w, h])`, float64.
FC_HD double regression_coord(double v, double size) { return v * size; }

// decode of (..., 4) outputs: `(1 - sigma).mean(axis=-1)` in the outputs' precision.
FC_HD float sigma_score(float sx, float sy) { return ((1.f - sx) + (1.f - sy)) / 2.f; }
FC_HD double sigma_score(double sx, double sy) { return ((1.0 - sx) + (1.0 - sy)) / 2.0; }

// IntegralRegressionLabel's normaliser: `heatmaps.sum(axis=(-1, -2)) + 1e-24` in
// float32; `sum` is the map's total (the CPU loop adds float32 row sums in float64).
FC_HD float heatmap_normalizer(double sum) { return (float)sum + 1e-24f; }
FC_HD float normalized_value(float v, float normalizer) { return v / normalizer; }

}  // namespace fastcodec
