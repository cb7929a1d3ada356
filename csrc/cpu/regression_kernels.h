// CPU loops of RegressionLabel / IntegralRegressionLabel. Arrays are C-contiguous;
// M counts keypoints over all leading axes (batch, instance, keypoint).
#pragma once

#include <cstdint>

namespace fastcodec {

// keypoints (M, 2) and visible (M,) -> labels (M, 2), weights (M,) float32. K and V
// are float or double (instantiated for all four pairs).
template <typename K, typename V>
void encode_regression(const K* keypoints, const V* visible, int64_t M, double w, double h,
                       float* labels, float* weights);

// encoded (M, D), D = 2 or 4, E float or double -> keypoints (M, 2) float64 and scores
// (M,) S: ones for D = 2, the sigma score for D = 4 computed in S (float for float32
// outputs, as numpy does).
template <typename E, typename S>
void decode_regression(const E* encoded, int64_t M, int64_t D, double w, double h,
                       double* keypoints, S* scores);

// heat (C, H, W) float32, each map divided by its sum + 1e-24 in place.
void normalize_heatmaps(float* heat, int64_t C, int64_t H, int64_t W);

}  // namespace fastcodec
