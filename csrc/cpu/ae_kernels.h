// CPU loop of AssociativeEmbedding decoding: NMS, top-k, grouping, refinement and
// filling of missing keypoints, image by image on the pool. Arrays are C-contiguous;
// the per-element math (and munkres) is in fastcodec/associative_embedding.h.
#pragma once

#include <cstdint>
#include <vector>

#include "fastcodec/associative_embedding.h"

namespace fastcodec {

// ae_group_keypoints' Store on the CPU: the grouping's arrays in vectors that grow as
// groups open (contents kept), reused image after image by one thread.
struct AeVectorStore {
  AeGroups g{};
  int64_t K = 0, L = 0, M = 0, groups = 0, n = 0;
  std::vector<float> keys, joints, tags, means;
  std::vector<int64_t> counts, rows, path;
  std::vector<double> cost, dist, d2, C;
  std::vector<uint8_t> marked, row_cov, col_cov;

  // For images of K keypoints, L tags each, M candidates per keypoint.
  void prepare(int64_t K, int64_t L, int64_t M);
  bool reserve(int64_t need_groups, int64_t need_n);  // always true
};

struct AeDecodeArgs {
  const float* heatmaps;   // (B, K, H, W)
  const float* tags;       // (B, L * K, H, W): tag l of keypoint k is channel l * K + k
  const int64_t* order;    // (K,) decode_keypoint_order, each in [0, K)
  int64_t B, K, L, H, W;
  int64_t nms_kernel;      // odd, >= 1
  int64_t topk;            // in [0, H * W]
  double val_thr, tag_thr;
  int64_t max_instances;   // Python's [:max_instances]; INT64_MAX for None
  bool udp;                // refine_keypoints_dark_udp with blur_kernel, else the 0.25 px step
  int blur_kernel;
  float center_shift;
  float scale[2];
  int64_t G;               // rows of the outputs per image (>= every image's count)
};

// keypoints (B, G, K, 2), scores (B, G, K), instance_scores (B, G), counts (B,): the
// first counts[b] rows of image b are its instances, the other rows zeros.
void ae_decode(const AeDecodeArgs& a, float* keypoints, float* scores, float* instance_scores,
               int64_t* counts);

}  // namespace fastcodec
