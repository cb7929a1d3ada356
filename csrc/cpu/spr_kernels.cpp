// CPU loops of SPR, each pixel computed by fastcodec/spr.h. Samples run in parallel;
// within a sample the instances and keypoints are visited in MMPose's order (each
// pixel's state depends only on the (instance, keypoint) sequence that reaches it).
#include "spr_kernels.h"

#include <cstring>
#include <vector>

#include "fastcodec/spr.h"
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

namespace {

// batch_heatmap_nms of one root map into `scores` (H x W), with `rows` as scratch. The
// maxima are taken shift by shift (loops over x that vectorise); the order of a
// NaN-propagating max does not change which pixels equal their window's maximum.
void nms(const float* __restrict__ m, int64_t H, int64_t W, int64_t r, float* __restrict__ rows,
         float* __restrict__ scores) {
  for (int64_t y = 0; y < H; ++y) {
    const float* __restrict__ src = m + y * W;
    float* __restrict__ dst = rows + y * W;
    std::memcpy(dst, src, sizeof(float) * W);
    for (int64_t t = 1; t <= r && t < W; ++t) {
      for (int64_t x = 0; x < W - t; ++x) dst[x] = spr_max(dst[x], src[x + t]);
      for (int64_t x = t; x < W; ++x) dst[x] = spr_max(dst[x], src[x - t]);
    }
  }
  for (int64_t y = 0; y < H; ++y) {
    const int64_t y0 = y - r < 0 ? 0 : y - r, y1 = y + r >= H ? H - 1 : y + r;
    float* __restrict__ dst = scores + y * W;
    std::memcpy(dst, rows + y0 * W, sizeof(float) * W);
    for (int64_t t = y0 + 1; t <= y1; ++t) {
      const float* __restrict__ src = rows + t * W;
      for (int64_t x = 0; x < W; ++x) dst[x] = spr_max(dst[x], src[x]);
    }
    const float* __restrict__ raw = m + y * W;
    for (int64_t x = 0; x < W; ++x) dst[x] = spr_nms_value(raw[x], dst[x]);
  }
}

// torch.topk(scores, M) (sorted, largest) into cand[0 .. M).
void topk(const float* scores, int64_t n, int64_t M, std::vector<SprCandidate>& cand) {
  if (spr_partial_sort_path(M, n)) {
    cand.resize((size_t)M);
    for (int64_t i = 0; i < M; ++i) cand[i] = SprCandidate{scores[i], i};
    spr_make_heap(cand.data(), M);
    SprCandidate unused;
    // Blocks in which no value comes before the heap's top change nothing: skip them
    // with a branch-free test (the heap only changes inside a block that is offered).
    const int64_t block = 16;
    int64_t i = M;
    for (; i + block <= n; i += block) {
      const float top = cand[0].value;
      bool any = false;
      for (int64_t j = 0; j < block; ++j) any |= spr_value_before(scores[i + j], top);
      if (!any) continue;
      for (int64_t j = i; j < i + block; ++j)
        spr_heap_offer(cand.data(), M, SprCandidate{scores[j], j}, &unused);
    }
    for (; i < n; ++i) spr_heap_offer(cand.data(), M, SprCandidate{scores[i], i}, &unused);
    spr_sort_heap(cand.data(), M);
  } else {
    cand.resize((size_t)n);
    for (int64_t i = 0; i < n; ++i) cand[i] = SprCandidate{scores[i], i};
    spr_nth_element(cand.data(), M - 1, n);
    spr_sort(cand.data(), M - 1);
  }
}

}  // namespace

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
      nms(heat + (a.C - 1) * HW, a.H, a.W, r, rows.data(), scores.data());
      int64_t count = 0;
      if (M > 0) {
        topk(scores.data(), HW, M, cand);
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
