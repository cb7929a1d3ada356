// AssociativeEmbedding decoding (HigherHRNet / AE bottom-up), as MMPose 1.3.2's
// mmpose.codecs.AssociativeEmbedding.batch_decode computes it: each rule of its torch
// NMS, its numpy grouping, the munkres 1.x Hungarian steps, and the filling of missing
// keypoints as one small function. The loops over images and candidates, and the
// containers, are in csrc/cpu/ae_kernels.cpp.
#pragma once

#include "fastcodec/common.h"

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

}  // namespace fastcodec
