// CPU loop of Hand3DHeatmap's target volumes over (sample, keypoint) volumes; the
// per-voxel arithmetic lives in fastcodec/hand3d.h.
#pragma once

#include <cstdint>

namespace fastcodec {

struct Hand3dEncodeArgs {
  const double* keypoints;  // (B, N, K, 3) in input-image pixels, depth in camera units
  const double* sigma;      // (B, N)
  int64_t B, N, K, W, H, D;
  double image_w, image_h;  // image_size
  double depth_bound;       // heatmap3d_depth_bound
  bool f32;                 // keypoints were float32: the depth bracket is float32
  float max_bound;          // the volume's scale (> 0)
};

// heatmaps (B, K, D, H, W), zero on entry: each keypoint's window is written (the
// maximum where windows meet); inside (B, N, K): MMPose's depth-range weight factor.
void hand3d_encode(const Hand3dEncodeArgs& a, float* heatmaps, uint8_t* inside);

}  // namespace fastcodec
