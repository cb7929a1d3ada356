// AssociativeEmbedding decoding (HigherHRNet / AE bottom-up), as MMPose 1.3.2's
// mmpose.codecs.AssociativeEmbedding.batch_decode computes it: each rule of its torch
// NMS, its numpy grouping, the munkres 1.x Hungarian steps, and the filling of missing
// keypoints as one small function. The loops over images and candidates, and the
// containers, are in csrc/cpu/ae_kernels.cpp.
#pragma once

#include "fastcodec/common.h"
#include "fastcodec/refine.h"

namespace fastcodec {

// The NMS and torch.topk's order are SPR's (fastcodec/spr.h: spr_max, spr_nms_value,
// the libstdc++ partial_sort / nth_element + sort steps; the loops in
// csrc/cpu/nms_topk.h).

// ---- numpy arithmetic the grouping relies on ----

// numpy's add.reduce over n elements of a contiguous axis (pairwise_sum): plain
// summation below 8 elements, 8 accumulators up to 128, halves above.
template <typename T>
FC_HD T numpy_pairwise_sum(const T* a, int64_t n, int64_t stride) {
  if (n < 8) {
    T res = (T)0;
    for (int64_t i = 0; i < n; ++i) res += a[i * stride];
    return res;
  }
  if (n <= 128) {
    T r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j * stride];
    int64_t i = 8;
    for (; i < n - (n % 8); i += 8)
      for (int j = 0; j < 8; ++j) r[j] += a[(i + j) * stride];
    T res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i * stride];
    return res;
  }
  int64_t n2 = n / 2;
  n2 -= n2 % 8;
  return numpy_pairwise_sum(a, n2, stride) + numpy_pairwise_sum(a + n2 * stride, n - n2, stride);
}

// np.mean(list_of_tags, axis=0) for element l of `count` float32 tags of length L:
// numpy sums a (count, 1) array pairwise and a (count, L > 1) array row after row.
FC_HD float numpy_mean_of_tags(const float* tags, int64_t count, int64_t L, int64_t l) {
  float s;
  if (L == 1) {
    s = numpy_pairwise_sum(tags, count, 1);
  } else {
    s = 0.f;
    for (int64_t i = 0; i < count; ++i) s += tags[i * L + l];
  }
  return s / (float)count;
}

// `astype(np.int64)` on x86: truncation, and INT64_MIN for NaN and values out of range.
FC_HD int64_t x86_to_i64(double v) {
  if (!(v > -9223372036854775808.0 && v < 9223372036854775808.0)) return FC_INT64_MIN;
  return (int64_t)v;
}

FC_HD int64_t clip_i64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

// The grouping cost of a candidate against a group (float64, as numpy promotes the
// int64 locations): np.round(||tag - mean||) * 100 - value, np.round halving to even.
FC_HD double ae_group_cost(double distance, double value) { return rint(distance) * 100.0 - value; }

// _fill_missing_keypoints' cost of a pixel (float32): np.round(dist) * 100 - heatmap.
FC_HD float ae_fill_cost(float distance, float heat) { return rintf(distance) * 100.f - heat; }

// ---- munkres 1.x (Munkres().compute), step for step ----
//
// The package's classic algorithm: the matrix padded square with zeros, then steps
// 1-6 with its own scan orders, which decide the assignment among equal-cost ones:
// step 2 stars the first zero of each row; step 4's search starts at the last primed
// row and starred column, takes the first row (cyclically) with an uncovered zero and
// in it the LAST such zero of the cyclic column order; step 5 walks first stars and
// first primes. Arithmetic is float64, as on MMPose's float64 cost matrix, in the
// package's order ((c + m) - m on covered rows of uncovered columns).
//
// Where no uncovered cost is finite and below sys.maxsize, munkres loops forever (NaN
// or infinite tags or values) or for about cost / 2^63 rounds; this one stops there
// and returns false, the stars found so far being the assignment (docs/deviations.md).
struct MunkresWork {
  double* C;         // n * n, the costs (overwritten)
  uint8_t* marked;   // n * n: 1 starred, 2 primed
  uint8_t* row_cov;  // n
  uint8_t* col_cov;  // n
  int64_t* path;     // 2 * (2n + 1)
};

FC_HD void munkres_clear_covers(MunkresWork& w, int64_t n) {
  for (int64_t i = 0; i < n; ++i) w.row_cov[i] = w.col_cov[i] = 0;
}

// C (rows x cols, row-major) -> w holds the starred assignment; true when munkres ends.
FC_HD bool munkres_solve(const double* cost, int64_t rows, int64_t cols, MunkresWork& w) {
  const int64_t n = rows > cols ? rows : cols;
  double* C = w.C;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      C[i * n + j] = (i < rows && j < cols) ? cost[i * cols + j] : 0.0;
      w.marked[i * n + j] = 0;
    }
  munkres_clear_covers(w, n);
  // step 1: subtract each row's minimum (Python's min: a leading NaN stays the minimum)
  for (int64_t i = 0; i < n; ++i) {
    double m = C[i * n];
    for (int64_t j = 1; j < n; ++j)
      if (C[i * n + j] < m) m = C[i * n + j];
    for (int64_t j = 0; j < n; ++j) C[i * n + j] -= m;
  }
  // step 2: star the first zero of each row whose column holds no star yet
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      if (C[i * n + j] == 0 && !w.col_cov[j] && !w.row_cov[i]) {
        w.marked[i * n + j] = 1;
        w.col_cov[j] = 1;
        w.row_cov[i] = 1;
        break;
      }
  munkres_clear_covers(w, n);
  for (;;) {
    // step 3: cover the starred columns; n of them: done
    int64_t count = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j)
        if (w.marked[i * n + j] == 1 && !w.col_cov[j]) {
          w.col_cov[j] = 1;
          ++count;
        }
    if (count >= n) return true;
    // step 4 (and 6 until step 4 finds an unstarred row)
    int64_t row = 0, col = 0, z_row = -1, z_col = -1;
    for (;;) {
      // __find_a_zero(row, col)
      int64_t fr = -1, fc = -1;
      int64_t i = row;
      for (;;) {
        int64_t j = col;
        for (;;) {
          if (C[i * n + j] == 0 && !w.row_cov[i] && !w.col_cov[j]) {
            fr = i;
            fc = j;
          }
          j = (j + 1) % n;
          if (j == col) break;
        }
        if (fr >= 0) break;
        i = (i + 1) % n;
        if (i == row) break;
      }
      if (fr < 0) {
        // step 6: the smallest uncovered value (sys.maxsize to start with)
        double m = 9223372036854775808.0;
        bool found = false;
        for (int64_t a = 0; a < n; ++a)
          for (int64_t b = 0; b < n; ++b)
            if (!w.row_cov[a] && !w.col_cov[b] && m > C[a * n + b]) {
              m = C[a * n + b];
              found = true;
            }
        if (!found || !(m - m == 0)) return false;  // munkres would never end
        for (int64_t a = 0; a < n; ++a)
          for (int64_t b = 0; b < n; ++b) {
            if (w.row_cov[a]) C[a * n + b] += m;
            if (!w.col_cov[b]) C[a * n + b] -= m;
          }
        row = 0;
        col = 0;
        continue;
      }
      w.marked[fr * n + fc] = 2;
      int64_t star = -1;
      for (int64_t j = 0; j < n; ++j)
        if (w.marked[fr * n + j] == 1) {
          star = j;
          break;
        }
      if (star >= 0) {
        row = fr;
        col = star;
        w.row_cov[fr] = 1;
        w.col_cov[star] = 0;
      } else {
        z_row = fr;
        z_col = fc;
        break;
      }
    }
    // step 5: the alternating path of primes and stars from (z_row, z_col)
    int64_t* path = w.path;
    int64_t len = 0;
    path[0] = z_row;
    path[1] = z_col;
    for (;;) {
      int64_t r = -1;
      for (int64_t i = 0; i < n; ++i)
        if (w.marked[i * n + path[2 * len + 1]] == 1) {
          r = i;
          break;
        }
      if (r < 0) break;
      ++len;
      path[2 * len] = r;
      path[2 * len + 1] = path[2 * len - 1];
      int64_t c = -1;
      for (int64_t j = 0; j < n; ++j)
        if (w.marked[path[2 * len] * n + j] == 2) {
          c = j;
          break;
        }
      ++len;
      path[2 * len] = path[2 * len - 2];
      path[2 * len + 1] = c;
    }
    for (int64_t p = 0; p <= len; ++p) {
      uint8_t& mk = w.marked[path[2 * p] * n + path[2 * p + 1]];
      mk = mk == 1 ? 0 : 1;
    }
    munkres_clear_covers(w, n);
    for (int64_t i = 0; i < n * n; ++i)
      if (w.marked[i] == 2) w.marked[i] = 0;
  }
}

// The column starred in row r of a solved n x n matrix, or -1.
FC_HD int64_t munkres_star_in_row(const MunkresWork& w, int64_t n, int64_t r) {
  for (int64_t j = 0; j < n; ++j)
    if (w.marked[r * n + j] == 1) return j;
  return -1;
}

// ---- _group_keypoints_by_tags: the grouping, keypoint by keypoint ----

// One image's top-k candidates: candidate m of keypoint k has value vals[k * M + m] and
// flat pixel idx[k * M + m]; tags are the image's (L * K, H, W) maps, tag l of keypoint
// k being channel l * K + k.
struct AeCandidates {
  const float* vals;
  const int64_t* idx;
  const float* tags;
  const int64_t* order;  // decode_keypoint_order, each in [0, K)
  int64_t K, L, W, HW, M;
  double val_thr, tag_thr;
};

// The grouping's state, as arrays. Group g (joint_dict / tag_dict in insertion order):
// keys[g] (the first tag of the keypoint that opened it), joints[g * K * 3 ..] (x, y,
// value per keypoint; zeros where missing), counts[g] tags of L at tags[g * K * L ..]
// (at most K: a group takes one keypoint per step, and reopening its key restarts its
// list). Scratch: rows (M), means (L per group), cost (M * n), dist (M per group), d2
// (L), munkres (n x n).
struct AeGroups {
  float* keys;
  int64_t* counts;
  float* joints;
  float* tags;
  int64_t* rows;
  float* means;
  double* cost;
  double* dist;
  double* d2;
  MunkresWork munkres;
};

// The group of `key` (joint_dict.setdefault(key, zeros)): the first whose key equals it
// (NaN equals none), else a new one at the end with zero joints. `*n` groups so far.
FC_HD int64_t ae_group_for_key(AeGroups& s, int64_t* n, float key, int64_t K) {
  for (int64_t g = 0; g < *n; ++g)
    if (s.keys[g] == key) return g;
  const int64_t g = (*n)++;
  s.keys[g] = key;
  for (int64_t j = 0; j < 3 * K; ++j) s.joints[g * 3 * K + j] = 0.f;
  return g;
}

// The grouping of one image; returns the number of groups, or -1 where the store runs
// out of room. `Store` owns the arrays: `store.g` (AeGroups, rows and d2 sized M and L)
// and `store.reserve(groups, n)`, which makes room for that many groups and an n x n
// munkres (moving the arrays, contents kept) or returns false. The CPU grows vectors;
// a CUDA block has a fixed scratch for the worst case (every candidate its own group).
template <class Store>
FC_HD int64_t ae_group_keypoints(const AeCandidates& c, Store& store) {
  const int64_t K = c.K, L = c.L, M = c.M, HW = c.HW, KHW = K * HW;
  AeGroups& s = store.g;  // the store updates these pointers when it moves the arrays
  int64_t n_groups = 0;
  for (int64_t i = 0; i < K; ++i) {
    const int64_t k = c.order[i];
    const float* vals = c.vals + k * M;
    const int64_t* idx = c.idx + k * M;
    int64_t R = 0;
    for (int64_t m = 0; m < M; ++m)
      if ((double)vals[m] > c.val_thr) s.rows[R++] = m;
    if (R == 0) continue;
    // The first keypoint with candidates opens a group per candidate; later ones are
    // matched to the groups so far (munkres on float64 costs; MMPose pads the columns
    // up to R with 1e10).
    const bool match = i > 0 && n_groups > 0;
    const int64_t G = n_groups, cols = R > G ? R : G;
    if (match) {
      if (!store.reserve(G, cols)) return -1;
      for (int64_t g = 0; g < G; ++g)
        for (int64_t l = 0; l < L; ++l)
          s.means[g * L + l] = numpy_mean_of_tags(s.tags + g * K * L, s.counts[g], L, l);
      for (int64_t j = 0; j < R * cols; ++j) s.cost[j] = 1e10;
      for (int64_t r = 0; r < R; ++r) {
        const float* t = c.tags + k * HW + idx[s.rows[r]];
        for (int64_t g = 0; g < G; ++g) {
          for (int64_t l = 0; l < L; ++l) {
            const double d = (double)t[l * KHW] - (double)s.means[g * L + l];
            s.d2[l] = d * d;
          }
          const double dist = sqrt(numpy_pairwise_sum(s.d2, L, 1));
          s.dist[r * G + g] = dist;
          s.cost[r * cols + g] = ae_group_cost(dist, (double)vals[s.rows[r]]);
        }
      }
      munkres_solve(s.cost, R, cols, s.munkres);
    }
    for (int64_t r = 0; r < R; ++r) {
      const int64_t m = s.rows[r], p = idx[m];
      const float* t = c.tags + k * HW + p;
      int64_t g = -1;
      if (match) {
        const int64_t col = munkres_star_in_row(s.munkres, cols, r);
        if (col >= 0 && col < G && s.dist[r * G + col] < c.tag_thr) g = col;
      }
      if (g >= 0) {  // tag_dict[key].append(tag)
        for (int64_t l = 0; l < L; ++l) s.tags[(g * K + s.counts[g]) * L + l] = t[l * KHW];
        ++s.counts[g];
      } else {  // a new key, or a reopened one: tag_dict[key] = [tag]
        if (!store.reserve(n_groups + 1, match ? cols : 0)) return -1;
        g = ae_group_for_key(s, &n_groups, t[0], K);
        for (int64_t l = 0; l < L; ++l) s.tags[g * K * L + l] = t[l * KHW];
        s.counts[g] = 1;
      }
      float* joint = s.joints + (g * K + k) * 3;
      joint[0] = (float)(p % c.W);
      joint[1] = (float)(p / c.W);
      joint[2] = vals[m];
    }
  }
  return n_groups;
}

// How many groups MMPose keeps: joint_dict_keys[:max_instances] (a Python slice end;
// INT64_MAX for None), at most G (the rows of the outputs).
FC_HD int64_t ae_kept_groups(int64_t groups, int64_t max_instances, int64_t G) {
  int64_t keep = max_instances >= 0 ? (groups < max_instances ? groups : max_instances)
                                    : (groups + max_instances > 0 ? groups + max_instances : 0);
  return keep < G ? keep : G;
}

// ---- refine_keypoints_dark_udp's lookup in the edge-padded flattened maps ----

// Python's index q into the flattened (K, H + 2, W + 2) edge-padded maps -> the map
// pixel (channel, y, x) it reads; false when q is out of range (IndexError).
FC_HD bool padded_pixel(int64_t q, int64_t K, int64_t H, int64_t W, int64_t* ch, int64_t* y,
                        int64_t* x) {
  const int64_t Wp = W + 2, S = (H + 2) * Wp, total = K * S;
  if (q < -total || q >= total) return false;
  if (q < 0) q += total;
  *ch = q / S;
  *y = clip_i64((q % S) / Wp - 1, 0, H - 1);
  *x = clip_i64(q % Wp - 1, 0, W - 1);
  return true;
}

// int(x + 1 + (y + 1) * (W + 2) + k * S) with float32 keypoints, as numpy evaluates it.
FC_HD int64_t dark_udp_centre_f32(float x, float y, int64_t k, int64_t H, int64_t W) {
  const int64_t Wp = W + 2, S = (H + 2) * Wp;
  const float t = (x + 1.f) + (y + 1.f) * (float)Wp;
  return x86_to_i64((double)(float)((double)t + (double)(k * S)));
}

// A kept group as MMPose returns it: its joints (K x (x, y, value)) split into
// keypoints (K x 2) and scores (K); returns the instance score, the scores' mean.
FC_HD float ae_instance(const float* joints, int64_t K, float* kps, float* scores) {
  for (int64_t k = 0; k < K; ++k) {
    kps[2 * k] = joints[3 * k];
    kps[2 * k + 1] = joints[3 * k + 1];
    scores[k] = joints[3 * k + 2];
  }
  return numpy_pairwise_sum(scores, K, 1) / (float)K;
}

// ---- refinement and _fill_missing_keypoints, per kept group ----

// Keypoint k of a kept group (x, y in heatmap pixels, in place), as MMPose refines it:
// with UDP, refine_keypoints_dark_udp's step read from `modulated` (the image's K maps
// blurred, clipped and logged, edge-padded through padded_pixel), else the 0.25 px step
// on the image's heatmaps; then the centre shift where the keypoint was found.
FC_HD void ae_refine_keypoint(float* kp, float score, int64_t k, const float* heat,
                              const float* modulated, bool udp, int64_t K, int64_t H,
                              int64_t W, float center_shift) {
  const int64_t HW = H * W;
  if (udp) {
    const int64_t Wp = W + 2, q = dark_udp_centre_f32(kp[0], kp[1], k, H, W);
    const int64_t steps[7] = {0, 1, Wp, Wp + 1, -Wp - 1, -1, -Wp};
    float v[7];
    bool inside = true;  // an index past the padded maps raises IndexError in MMPose
    for (int j = 0; j < 7 && inside; ++j) {
      int64_t ch, y, x;
      inside = padded_pixel(q + steps[j], K, H, W, &ch, &y, &x);
      if (inside) v[j] = modulated[ch * HW + y * W + x];
    }
    if (inside) {
      const Offset o = dark_udp_step(v);
      kp[0] = (float)((double)kp[0] - o.dx);
      kp[1] = (float)((double)kp[1] - o.dy);
    }
  } else {
    const Offset o = sign_step(heat + k * HW, W, H, (int64_t)kp[0], (int64_t)kp[1]);
    kp[0] += (float)o.dx;
    kp[1] += (float)o.dy;
  }
  const float s = center_shift * (score > 0.f ? 1.f : 0.f);
  kp[0] += s;
  kp[1] += s;
}

// A kept group's tag for filling (np.mean over its found keypoints, score > 0, of the
// tags at their refined and shifted locations, `astype(int64)` and clipped): L floats
// into `tag`, NaN where none was found. `found_tags`: K * L floats of scratch.
FC_HD void ae_group_tag(const float* kps, const float* scores, const float* tags, int64_t K,
                        int64_t L, int64_t H, int64_t W, float* found_tags, float* tag) {
  const int64_t HW = H * W;
  int64_t found = 0;
  for (int64_t k = 0; k < K; ++k) {
    if (!(scores[k] > 0.f)) continue;
    const int64_t x = clip_i64(x86_to_i64(kps[2 * k]), 0, W - 1);
    const int64_t y = clip_i64(x86_to_i64(kps[2 * k + 1]), 0, H - 1);
    for (int64_t l = 0; l < L; ++l) found_tags[found * L + l] = tags[(l * K + k) * HW + y * W + x];
    ++found;
  }
  for (int64_t l = 0; l < L; ++l)
    tag[l] = found ? numpy_mean_of_tags(found_tags, found, L, l) : FC_NAN_F;
}

// The negated filling cost of pixel p for a missing keypoint (np.argmin of the cost is
// the argmax of its negation: negation is exact and keeps NaN and ties):
// -(np.round(||tags(p) - tag||) * 100 - map(p)) in float32. tags_k: the keypoint's
// first tag map, map l at tags_k[l * KHW].
FC_HD float ae_fill_gain(const float* tags_k, int64_t KHW, int64_t L, const float* tag,
                         float map, int64_t p) {
  float acc = 0.f;
  for (int64_t l = 0; l < L; ++l) {
    const float d = tags_k[l * KHW + p] - tag[l];
    acc += d * d;
  }
  return -ae_fill_cost(sqrtf(acc), map);
}

}  // namespace fastcodec
