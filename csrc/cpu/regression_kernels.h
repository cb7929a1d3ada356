// CPU loops of RegressionLabel / IntegralRegressionLabel. Arrays are C-contiguous;
// M counts keypoints over all leading axes (batch, instance, keypoint).
#pragma once

#include <cstdint>

namespace fastcodec {

// keypoints (M, 2) and visible (M,) float64 -> labels (M, 2), weights (M,) float32.
void encode_regression(const double* keypoints, const double* visible, int64_t M, double w,
                       double h, float* labels, float* weights);

// encoded (M, D), D = 2 or 4 -> keypoints (M, 2) float64 and scores (M,): ones for
// D = 2, the sigma score for D = 4, in float32 (f32) or float64 precision.
void decode_regression(const double* encoded, int64_t M, int64_t D, double w, double h,
                       double* keypoints, float* scores);
void decode_regression(const double* encoded, int64_t M, int64_t D, double w, double h,
                       double* keypoints, double* scores);

// heat (C, H, W) float32, each map divided by its sum + 1e-24 in place.
void normalize_heatmaps(float* heat, int64_t C, int64_t H, int64_t W);

}  // namespace fastcodec
