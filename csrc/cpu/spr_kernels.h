// CPU loops of SPR (encode displacements, decode). Arrays are C-contiguous; the
// per-pixel math is in fastcodec/spr.h. Both run on the pool over the batch.
#pragma once

#include <cstdint>

namespace fastcodec {

struct SprEncodeArgs {
  const double* keypoints;  // (B, N, K, 2) in heatmap pixels
  const double* visible;    // (B, N, K)
  const float* roots;       // (B, N, 2) float32
  const float* roots_visible;  // (B, N)
  const float* diagonals;   // (B, N) float32
  int64_t B, N, K, W, H;
  double radius;            // sigma[0]
  bool radius_f32;          // numpy subtracts the radius from a float32 root in float32
};

// displacements and weights (B, 2K, H, W) float32; they must hold zeros on entry (the
// binding allocates them with numpy.zeros: untouched pages then cost nothing here).
void spr_displacements(const SprEncodeArgs& a, float* displacements, float* weights);

struct SprDecodeArgs {
  const float* heatmaps;       // (B, C, H, W): the root map is channel C - 1
  const float* displacements;  // (B, 2K, H, W)
  int64_t B, C, K, H, W;
  int64_t nms_kernel;          // odd, >= 1
  int64_t max_instances;       // M = min(max_instances, H * W) candidates per sample
  float threshold;             // root scores must be > threshold
  bool keypoint_scores;        // sample channels 0 .. K-1 (needs C == K + 1)
  float scale[2];
};

// keypoints (B, M, K, 2), root_scores (B, M), keypoint_scores (B, M, K) (when asked),
// counts (B,): the first counts[b] rows of sample b are its instances.
void spr_decode(const SprDecodeArgs& a, float* keypoints, float* root_scores,
                float* keypoint_scores, int64_t* counts);

}  // namespace fastcodec
