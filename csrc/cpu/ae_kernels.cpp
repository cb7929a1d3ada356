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

// One group of _group_keypoints_by_tags: its dict key (the first tag of the keypoint
// that opened it), its keypoints (x, y, value per keypoint; zeros where missing) and
// its tag list (tag_dict).
struct Group {
  float key;
  std::vector<float> joints;  // K * 3
  std::vector<float> tags;    // count * L
  int64_t count;
};

struct ImageScratch {
  std::vector<Group> groups;
  std::vector<int64_t> rows;
  std::vector<float> means, fill_tags, tag, fill_cost;
  std::vector<double> cost, dist, d2;
  std::vector<double> C;
  std::vector<uint8_t> marked, row_cov, col_cov;
  std::vector<int64_t> path;
};

// joint_dict.setdefault(key, zeros): the group whose key equals `key` (NaN equals
// none), else a new one at the end.
int64_t group_for_key(std::vector<Group>& groups, float key, int64_t K) {
  for (size_t g = 0; g < groups.size(); ++g)
    if (groups[g].key == key) return (int64_t)g;
  groups.push_back(Group{key, std::vector<float>(K * 3, 0.f), {}, 0});
  return (int64_t)groups.size() - 1;
}

void decode_image(const AeDecodeArgs& a, int64_t b, const float* cand_vals,
                  const int64_t* cand_idx, const float* modulated, ImageScratch& s,
                  float* out_kps, float* out_scores, float* out_inst, int64_t* count) {
  const int64_t K = a.K, L = a.L, H = a.H, W = a.W, M = a.topk, HW = H * W;
  const float* heat = a.heatmaps + b * K * HW;
  const float* tags = a.tags + b * L * K * HW;
  auto tag_of = [&](int64_t k, int64_t m, int64_t l) {
    return tags[(l * K + k) * HW + cand_idx[k * M + m]];
  };
  std::vector<Group>& groups = s.groups;
  groups.clear();

  // ---- _group_keypoints_by_tags ----
  for (int64_t i = 0; i < K; ++i) {
    const int64_t k = a.order[i];
    s.rows.clear();
    for (int64_t m = 0; m < M; ++m)
      if ((double)cand_vals[k * M + m] > a.val_thr) s.rows.push_back(m);
    const int64_t R = (int64_t)s.rows.size();
    if (R == 0) continue;
    auto put = [&](Group& g, int64_t m) {
      const int64_t p = cand_idx[k * M + m];
      g.joints[3 * k] = (float)(p % W);
      g.joints[3 * k + 1] = (float)(p / W);
      g.joints[3 * k + 2] = cand_vals[k * M + m];
    };
    auto open = [&](int64_t m) {  // setdefault(tag[0]) and tag_dict[key] = [tag]
      Group& g = groups[group_for_key(groups, tag_of(k, m, 0), K)];
      put(g, m);
      g.tags.resize(L);
      for (int64_t l = 0; l < L; ++l) g.tags[l] = tag_of(k, m, l);
      g.count = 1;
    };
    if (i == 0 || groups.empty()) {
      for (int64_t r = 0; r < R; ++r) open(s.rows[r]);
      continue;
    }
    const int64_t G = (int64_t)groups.size(), cols = std::max(R, G);
    s.means.resize(G * L);
    for (int64_t g = 0; g < G; ++g)
      for (int64_t l = 0; l < L; ++l)
        s.means[g * L + l] = numpy_mean_of_tags(groups[g].tags.data(), groups[g].count, L, l);
    s.cost.assign(R * cols, 1e10);  // MMPose pads the columns up to R with 1e10
    s.dist.resize(R * G);
    s.d2.resize(L);
    for (int64_t r = 0; r < R; ++r) {
      const int64_t m = s.rows[r];
      for (int64_t g = 0; g < G; ++g) {
        for (int64_t l = 0; l < L; ++l) {
          const double d = (double)tag_of(k, m, l) - (double)s.means[g * L + l];
          s.d2[l] = d * d;
        }
        const double dist = std::sqrt(numpy_pairwise_sum(s.d2.data(), L, 1));
        s.dist[r * G + g] = dist;
        s.cost[r * cols + g] = ae_group_cost(dist, (double)cand_vals[k * M + m]);
      }
    }
    const int64_t n = cols;
    s.C.resize(n * n);
    s.marked.resize(n * n);
    s.row_cov.resize(n);
    s.col_cov.resize(n);
    s.path.resize(2 * (2 * n + 1));
    MunkresWork w{s.C.data(), s.marked.data(), s.row_cov.data(), s.col_cov.data(), s.path.data()};
    munkres_solve(s.cost.data(), R, cols, w);
    for (int64_t r = 0; r < R; ++r) {
      const int64_t c = munkres_star_in_row(w, n, r);
      const int64_t m = s.rows[r];
      if (c >= 0 && c < G && s.dist[r * G + c] < a.tag_thr) {
        Group& g = groups[c];
        put(g, m);
        g.tags.resize((g.count + 1) * L);
        for (int64_t l = 0; l < L; ++l) g.tags[g.count * L + l] = tag_of(k, m, l);
        ++g.count;
      } else {
        open(m);
      }
    }
  }

  // joint_dict_keys[:max_instances]
  const int64_t total = (int64_t)groups.size();
  int64_t keep = a.max_instances >= 0 ? std::min(total, a.max_instances)
                                      : std::max<int64_t>(0, total + a.max_instances);
  keep = std::min(keep, a.G);
  *count = keep;
  for (int64_t g = 0; g < keep; ++g) {
    for (int64_t k = 0; k < K; ++k) {
      out_kps[(g * K + k) * 2] = groups[g].joints[3 * k];
      out_kps[(g * K + k) * 2 + 1] = groups[g].joints[3 * k + 1];
      out_scores[g * K + k] = groups[g].joints[3 * k + 2];
    }
    out_inst[g] = numpy_pairwise_sum(out_scores + g * K, K, 1) / (float)K;
  }
  std::fill(out_kps + keep * K * 2, out_kps + a.G * K * 2, 0.f);
  std::fill(out_scores + keep * K, out_scores + a.G * K, 0.f);
  std::fill(out_inst + keep, out_inst + a.G, 0.f);
  if (keep == 0 || K == 0) return;

  // ---- refinement, centre shift ----
  // UDP: refine_keypoints_dark_udp modulates the maps in place (blur, clip, log), and
  // the filling below reads those modulated maps, as in MMPose.
  const float* maps = a.udp ? modulated + b * K * HW : heat;
  const int64_t Wp = W + 2;
  const int64_t steps[7] = {0, 1, Wp, Wp + 1, -Wp - 1, -1, -Wp};
  for (int64_t g = 0; g < keep; ++g) {
    for (int64_t k = 0; k < K; ++k) {
      float* kp = out_kps + (g * K + k) * 2;
      if (a.udp) {
        const int64_t q = dark_udp_centre_f32(kp[0], kp[1], k, H, W);
        float v[7];
        bool ok = true;
        for (int j = 0; j < 7 && ok; ++j) {
          int64_t ch, y, x;
          ok = padded_pixel(q + steps[j], K, H, W, &ch, &y, &x);
          if (ok) v[j] = maps[ch * HW + y * W + x];
        }
        if (ok) {
          const Offset o = dark_udp_step(v);
          kp[0] = (float)((double)kp[0] - o.dx);
          kp[1] = (float)((double)kp[1] - o.dy);
        }
      } else {
        const Offset o = sign_step(heat + k * HW, W, H, (int64_t)kp[0], (int64_t)kp[1]);
        kp[0] += (float)o.dx;
        kp[1] += (float)o.dy;
      }
      const float shift = a.center_shift * (out_scores[g * K + k] > 0.f ? 1.f : 0.f);
      kp[0] += shift;
      kp[1] += shift;
    }
  }

  // ---- _fill_missing_keypoints ----
  s.fill_cost.resize(HW);
  for (int64_t g = 0; g < keep; ++g) {
    float* kps = out_kps + g * K * 2;
    float* sc = out_scores + g * K;
    s.fill_tags.clear();
    int64_t found = 0;
    for (int64_t k = 0; k < K; ++k) {
      if (!(sc[k] > 0.f)) continue;
      const int64_t x = clip_i64(x86_to_i64(kps[2 * k]), 0, W - 1);
      const int64_t y = clip_i64(x86_to_i64(kps[2 * k + 1]), 0, H - 1);
      for (int64_t l = 0; l < L; ++l) s.fill_tags.push_back(tags[(l * K + k) * HW + y * W + x]);
      ++found;
    }
    s.tag.resize(L);
    for (int64_t l = 0; l < L; ++l)  // np.mean of no tags is NaN
      s.tag[l] = found ? numpy_mean_of_tags(s.fill_tags.data(), found, L, l)
                       : std::numeric_limits<float>::quiet_NaN();
    for (int64_t k = 0; k < K; ++k) {
      if (sc[k] > 0.f) continue;
      const float* map = maps + k * HW;
      // np.argmin of the cost map (the first NaN, else the first minimum) as the
      // vectorised argmax of the negated costs: negation is exact and keeps NaN, ties
      // and numpy's first-occurrence rule.
      float* neg_cost = s.fill_cost.data();
      if (L == 1) {
        const float* t = tags + k * HW;
        const float t0 = s.tag[0];
        for (int64_t p = 0; p < HW; ++p) {
          const float d = t[p] - t0;
          neg_cost[p] = -ae_fill_cost(std::sqrt(d * d), map[p]);
        }
      } else {
        for (int64_t p = 0; p < HW; ++p) {
          float acc = 0.f;
          for (int64_t l = 0; l < L; ++l) {
            const float d = tags[(l * K + k) * HW + p] - s.tag[l];
            acc += d * d;
          }
          neg_cost[p] = -ae_fill_cost(std::sqrt(acc), map[p]);
        }
      }
      const int64_t best = fast_argmax(neg_cost, HW).index;
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
    for (float& v : modulated) v = dark_udp_log(v);
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
