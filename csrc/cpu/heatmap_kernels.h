// CPU kernels of the heatmap codecs. Arrays are C-contiguous; B = batch, N =
// instances, K = keypoints, H x W = heatmap. Keypoints are float64 (B, N, K, 2).
#pragma once

#include <cstdint>

namespace fastcodec {

struct EncodeArgs {
  const double* keypoints;  // (B, N, K, 2), input-image space
  const double* visible;    // (B, N, K)
  int64_t B, N, K, W, H;
  float scale[2];           // MMPose's float32 scale_factor (1 for raw heatmap space)
  bool f32;                 // keypoints were float32: divide and round in float32
};

struct Point {
  double x, y;              // keypoint / scale_factor, in the keypoints' precision
};


enum class GaussianKind { Msra, Unbiased, Udp };

// heat: (B, K, H, W) float32; inside: (B, N, K), 0 where MMPose zeroes the weight.
// sigma: (N,) shared by the samples (sigma_rows = 1) or (B, N) (sigma_rows = B);
// sigma_f32: the values are float32 and MMPose computed the patch radius and size in
// float32 (patch_geometry_f32), else in float64.
void encode_gaussian(const EncodeArgs& a, GaussianKind kind, const double* sigma,
                     int64_t sigma_rows, bool sigma_f32, float* heat, uint8_t* inside);
// heat: (B, 3K, H, W): label, x offset, y offset per keypoint.
void encode_offset(const EncodeArgs& a, double radius, float* heat, uint8_t* inside);
void encode_megvii(const EncodeArgs& a, int ksize, float* heat, uint8_t* inside);

// locs (C, 2) float32, vals (C,) for C = B * K maps.
void heatmap_maximum(const float* heat, int64_t C, int64_t H, int64_t W, float* locs,
                     float* vals);
void gaussian_blur(const float* heat, int64_t C, int64_t H, int64_t W, int ksize, float* out);

// Refinements update keypoints (B, N, K, 2) in place against heatmaps (B, K, H, W).
void refine_sign(double* kps, int64_t B, int64_t N, int64_t K, const float* heat, int64_t H,
                 int64_t W);
void refine_dark(double* kps, int64_t B, int64_t N, int64_t K, const float* heat, int64_t H,
                 int64_t W, int ksize);
void refine_dark_udp(double* kps, int64_t B, int64_t N, int64_t K, const float* heat,
                     int64_t H, int64_t W, int ksize, bool f32);

// MSRAHeatmap decoding in heatmap pixels: the maximum, then the +-0.25 px step.
void decode_msra(const float* heat, int64_t B, int64_t K, int64_t H, int64_t W, float* locs,
                 float* vals);

// MSRAHeatmap(unbiased) / UDPHeatmap('gaussian') decoding in heatmap pixels: the
// maximum, then the DARK (udp = false) or DARK-UDP step; float32 like MMPose's.
void decode_dark(const float* heat, int64_t B, int64_t K, int64_t H, int64_t W, int ksize,
                 bool udp, float* locs, float* vals);

// Whole decoders of MegviiHeatmap and UDPHeatmap('combined'), in heatmap pixels.
void decode_megvii(const float* heat, int64_t B, int64_t K, int64_t H, int64_t W, int ksize,
                   float* locs, float* scores);
void decode_udp_combined(const float* heat, int64_t B, int64_t K, int64_t H, int64_t W,
                         int ksize, double radius, float* locs, float* scores);

}  // namespace fastcodec
