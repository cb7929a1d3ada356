// CPU loops of SPR, each pixel computed by fastcodec/spr.h. Samples run in parallel;
// within a sample the instances and keypoints are visited in MMPose's order (each
// pixel's state depends only on the (instance, keypoint) sequence that reaches it).
#include "spr_kernels.h"

#include <cstring>
#include <vector>

#include "fastcodec/spr.h"
#include "nms_topk.h"
#include "parallel.h"

namespace fastcodec {

void spr_displacements(const SprEncodeArgs& a, float* displacements, float* weights) {
  const int64_t HW = a.H * a.W, plane = 2 * a.K * HW;
  parallel_for<Denormals::Flushed>(a.B, 1.5 * ((double)HW + 64.0 * a.N * a.K), [&](int64_t begin, int64_t end) {
    std::vector<float> size_map((size_t)HW);
    for (int64_t b = begin; b < end; ++b) {
      float* disp = displacements + b * plane;
      float* wts = weights + b * plane;
      std::memset(size_map.data(), 0, sizeof(float) * HW);
      for (int64_t n = 0; n < a.N; ++n) {
        const int64_t bn = b * a.N + n;
        const float rx = a.roots[2 * bn], ry = a.roots[2 * bn + 1];
        if (!spr_root_usable(rx, ry, a.roots_visible[bn], a.W, a.H)) continue;
        const float diagonal = a.diagonals[bn];
        const float weight = spr_displacement_weight(diagonal);
        const SprSpan sx = spr_span(rx, a.radius, a.radius_f32, a.W);
        const SprSpan sy = spr_span(ry, a.radius, a.radius_f32, a.H);
        for (int64_t k = 0; k < a.K; ++k) {
          const int64_t i = bn * a.K + k;
          const double kx = a.keypoints[2 * i], ky = a.keypoints[2 * i + 1];
          if (!spr_keypoint_usable(kx, ky, a.visible[i], a.W, a.H)) continue;
          float* dx = disp + 2 * k * HW;
          float* dy = dx + HW;
          float* wx = wts + 2 * k * HW;
          float* wy = wx + HW;
          for (int64_t y = sy.begin; y < sy.end; ++y)
            for (int64_t x = sx.begin; x < sx.end; ++x) {
              const int64_t p = y * a.W + x;
              spr_displacement_update(dx + p, dy + p, wx + p, wy + p, size_map.data() + p, kx,
                                      ky, x, y, diagonal, weight);
            }
        }
      }
    }
  });
}

void spr_decode(const SprDecodeArgs& a, float* keypoints, float* root_scores,
                float* keypoint_scores, int64_t* counts) {
  const int64_t HW = a.H * a.W;
  const int64_t M = a.max_instances < HW ? a.max_instances : HW;
  const int64_t r = (a.nms_kernel - 1) / 2;
  parallel_for(a.B, 0.5 * HW * (2.0 * a.nms_kernel + 4.0), [&](int64_t begin, int64_t end) {
    std::vector<float> rows((size_t)HW), scores((size_t)HW);
    std::vector<SprCandidate> cand;
    for (int64_t b = begin; b < end; ++b) {
      const float* heat = a.heatmaps + b * a.C * HW;
      const float* disp = a.displacements + b * 2 * a.K * HW;
      nms_map(heat + (a.C - 1) * HW, a.H, a.W, r, rows.data(), scores.data());
      int64_t count = 0;
      if (M > 0) {
        topk_candidates(scores.data(), HW, M, cand);
        for (int64_t j = 0; j < M; ++j) {
          const SprCandidate c = cand[j];
          if (!spr_root_kept(c.value, a.threshold)) continue;
          const int64_t o = b * M + count;
          root_scores[o] = c.value;
          const int64_t gx = c.index % a.W, gy = c.index / a.W;
          for (int64_t k = 0; k < a.K; ++k) {
            const float kx = spr_keypoint_coordinate(gx, disp[2 * k * HW + c.index]);
            const float ky = spr_keypoint_coordinate(gy, disp[(2 * k + 1) * HW + c.index]);
            if (a.keypoint_scores)
              keypoint_scores[o * a.K + k] =
                  spr_bilinear(heat + k * HW, a.H, a.W, spr_sample_coordinate(kx, a.W),
                               spr_sample_coordinate(ky, a.H));
            keypoints[2 * (o * a.K + k)] = kx * a.scale[0];
            keypoints[2 * (o * a.K + k) + 1] = ky * a.scale[1];
          }
          ++count;
        }
      }
      counts[b] = count;
    }
  });
}

}  // namespace fastcodec
