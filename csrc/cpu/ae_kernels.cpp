// AssociativeEmbedding decoding on the CPU, MMPose 1.3.2's batch_decode in one call:
//   1. every map: NMS (max_pool2d equality) and torch.topk's candidates, ties in
//      torch's order (the same libstdc++ partial_sort / nth_element + sort);
//   2. every image: grouping keypoint by keypoint in decode_keypoint_order (munkres
//      1.x on the float64 tag costs), the 0.25 px or DARK-UDP refinement, the centre
//      shift, the filling of missing keypoints, the scale to input pixels.
// Step 1 runs on the pool over maps, step 2 over images.
#include "ae_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "fastcodec/associative_embedding.h"
#include "fastcodec/refine.h"
#include "fast_argmax.h"
#include "heatmap_kernels.h"
#include "nms_topk.h"
#include "parallel.h"

namespace fastcodec {
namespace {

struct ImageScratch {
  AeVectorStore store;
  std::vector<float> found_tags, tag, gain;
};

void decode_image(const AeDecodeArgs& a, int64_t b, const float* cand_vals,
                  const int64_t* cand_idx, const float* modulated, ImageScratch& s,
                  float* out_kps, float* out_scores, float* out_inst, int64_t* count) {
  const int64_t K = a.K, L = a.L, H = a.H, W = a.W, HW = H * W;
  const float* heat = a.heatmaps + b * K * HW;
  const float* tags = a.tags + b * L * K * HW;
  s.store.prepare(K, L, a.topk);
  const AeCandidates cands{cand_vals, cand_idx, tags, a.order, K, L, W, HW, a.topk,
                           a.val_thr, a.tag_thr};
  const int64_t groups = ae_group_keypoints(cands, s.store);  // vectors never run out
  const int64_t keep = ae_kept_groups(groups, a.max_instances, a.G);
  *count = keep;
  for (int64_t g = 0; g < keep; ++g)
    out_inst[g] = ae_instance(s.store.g.joints + g * K * 3, K, out_kps + g * K * 2,
                              out_scores + g * K);
  std::fill(out_kps + keep * K * 2, out_kps + a.G * K * 2, 0.f);
  std::fill(out_scores + keep * K, out_scores + a.G * K, 0.f);
  std::fill(out_inst + keep, out_inst + a.G, 0.f);
  if (keep == 0 || K == 0) return;

  // UDP: refine_keypoints_dark_udp modulates the maps in place (blur, clip, log), and
  // the filling below reads those modulated maps, as in MMPose.
  const float* mod = a.udp ? modulated + b * K * HW : nullptr;
  for (int64_t i = 0; i < keep * K; ++i)
    ae_refine_keypoint(out_kps + 2 * i, out_scores[i], i % K, heat, mod, a.udp, K, H, W,
                       a.center_shift);

  const float* maps = a.udp ? mod : heat;
  s.found_tags.resize(K * L);
  s.tag.resize(L);
  s.gain.resize(HW);
  for (int64_t g = 0; g < keep; ++g) {
    float* kps = out_kps + g * K * 2;
    float* sc = out_scores + g * K;
    ae_group_tag(kps, sc, tags, K, L, H, W, s.found_tags.data(), s.tag.data());
    for (int64_t k = 0; k < K; ++k) {
      if (sc[k] > 0.f) continue;
      const float* map = maps + k * HW;
      const float* tags_k = tags + k * HW;
      float* gain = s.gain.data();
      if (L == 1) {  // the common case, as a loop the compiler vectorises
        for (int64_t p = 0; p < HW; ++p) gain[p] = ae_fill_gain(tags_k, 0, 1, s.tag.data(), map[p], p);
      } else {
        for (int64_t p = 0; p < HW; ++p)
          gain[p] = ae_fill_gain(tags_k, K * HW, L, s.tag.data(), map[p], p);
      }
      const int64_t best = fast_argmax(gain, HW).index;  // np.argmin of the cost
      kps[2 * k] = (float)(best % W);
      kps[2 * k + 1] = (float)(best / W);
      sc[k] = map[best];
    }
  }
  for (int64_t i = 0; i < keep * K; ++i) {
    out_kps[2 * i] *= a.scale[0];
    out_kps[2 * i + 1] *= a.scale[1];
  }
}

}  // namespace

void AeVectorStore::prepare(int64_t K_, int64_t L_, int64_t M_) {
  K = K_, L = L_, M = M_;
  rows.resize(M);
  d2.resize(L);
  reserve(0, 0);
}

bool AeVectorStore::reserve(int64_t need_groups, int64_t need_n) {
  if (need_groups > groups) {
    groups = std::max(need_groups, 2 * groups);
    keys.resize(groups);
    counts.resize(groups);
    joints.resize(groups * K * 3);
    tags.resize(groups * K * L);
    means.resize(groups * L);
    dist.resize(M * groups);
  }
  if (need_n > n) {
    n = std::max(need_n, 2 * n);
    cost.resize(M * n);
    C.resize(n * n);
    marked.resize(n * n);
    row_cov.resize(n);
    col_cov.resize(n);
    path.resize(2 * (2 * n + 1));
  }
  g = AeGroups{keys.data(), counts.data(), joints.data(), tags.data(), rows.data(),
               means.data(), cost.data(), dist.data(), d2.data(),
               MunkresWork{C.data(), marked.data(), row_cov.data(), col_cov.data(), path.data()}};
  return true;
}

void ae_decode(const AeDecodeArgs& a, float* keypoints, float* scores, float* instance_scores,
               int64_t* counts) {
  const int64_t B = a.B, K = a.K, H = a.H, W = a.W, M = a.topk, HW = H * W;
  std::vector<float> vals(B * K * M);
  std::vector<int64_t> idx(B * K * M);
  const int64_t r = (a.nms_kernel - 1) / 2;
  parallel_for(B * K, 1.2 * HW + 200.0 * M,  // measured: ~20 us per 128 x 128 map, top-30
               [&](int64_t begin, int64_t end) {
    std::vector<float> rows, peaks;
    std::vector<SprCandidate> cand;
    for (int64_t c = begin; c < end; ++c) {
      nms_topk(a.heatmaps + c * HW, H, W, r, M, cand, rows, peaks);
      for (int64_t j = 0; j < M; ++j) {
        vals[c * M + j] = cand[j].value;
        idx[c * M + j] = cand[j].index;
      }
    }
  });
  std::vector<float> modulated;
  if (a.udp && B * K > 0) {
    modulated.resize(B * K * HW);
    gaussian_blur(a.heatmaps, B * K, H, W, a.blur_kernel, modulated.data());
    float* m = modulated.data();
    parallel_for(B * K, 6.0 * HW, [&](int64_t begin, int64_t end) {  // ~6 ns a logf
      for (int64_t i = begin * HW; i < end * HW; ++i) m[i] = dark_udp_log(m[i]);
    });
  }
  // measured: ~100 us per 128 x 128 image of 17 keypoints, top-30, 10 people
  parallel_for(B, 40.0 * K * M + 5.0 * HW, [&](int64_t begin, int64_t end) {
    ImageScratch s;
    for (int64_t b = begin; b < end; ++b)
      decode_image(a, b, vals.data() + b * K * M, idx.data() + b * K * M, modulated.data(), s,
                   keypoints + b * a.G * K * 2, scores + b * a.G * K, instance_scores + b * a.G,
                   counts + b);
  });
}

}  // namespace fastcodec
