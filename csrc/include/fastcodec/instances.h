// Per-instance properties of the bottom-up codecs (DecoupledHeatmap), as
// mmpose.codecs.utils.instance_property computes them (MMPose 1.3.2), bit for bit:
// the root (mean or box centre of the keypoints with visibility > 0, in the
// keypoints' precision T, stored as float32), its visibility, and the diagonal of the
// float32 box around those keypoints.
#pragma once

#include "fastcodec/common.h"

namespace fastcodec {

struct InstanceGeometry {
  float root_x, root_y;  // (0, 0) for an instance without visible keypoints
  float root_visible;    // 1 or 0
  float diagonal;        // sqrt(w * w + h * h) of the float32 box (0 without keypoints)
};

// numpy's minimum / maximum reductions: a NaN, once met, is the result.
template <typename T>
FC_HD T nan_min(T acc, T v) { return (acc != acc || v < acc || v != v) ? (acc != acc ? acc : v) : acc; }
template <typename T>
FC_HD T nan_max(T acc, T v) { return (acc != acc || v > acc || v != v) ? (acc != acc ? acc : v) : acc; }

// keypoints (K, 2) in T (float or double), visibility (K,).
template <typename T>
FC_HD InstanceGeometry one_instance_geometry(const T* kps, const double* vis, int64_t K,
                                         bool kpt_center) {
  T sx = 0, sy = 0, lx = 0, ly = 0, hx = 0, hy = 0;
  int64_t count = 0;
  for (int64_t k = 0; k < K; ++k) {
    if (!(vis[k] > 0)) continue;
    const T x = kps[2 * k], y = kps[2 * k + 1];
    if (count == 0) {  // numpy's reductions start from the first row
      sx = lx = hx = x;
      sy = ly = hy = y;
    } else {
      sx += x;  // mean(axis=0): the rows added one after another
      sy += y;
      lx = nan_min(lx, x);
      ly = nan_min(ly, y);
      hx = nan_max(hx, x);
      hy = nan_max(hy, y);
    }
    ++count;
  }
  InstanceGeometry g;
  if (count == 0) {
    g.root_x = g.root_y = g.root_visible = g.diagonal = 0.f;
    return g;
  }
  if (kpt_center) {
    g.root_x = (float)(sx / (T)count);
    g.root_y = (float)(sy / (T)count);
  } else {
    g.root_x = (float)((hx + lx) / (T)2);
    g.root_y = (float)((hy + ly) / (T)2);
  }
  g.root_visible = 1.f;
  const float ex = (float)hx - (float)lx, ey = (float)hy - (float)ly;
  g.diagonal = sqrtf(ex * ex + ey * ey);
  return g;
}

// ---- CID's instance-wise sigma: DecoupledHeatmap._get_instance_wise_sigmas ----
// libm pow/powf, as numpy's scalar power; sqrt is exact in both.
FC_HD float fc_pow_t(float a, float b) { return powf(a, b); }
FC_HD double fc_pow_t(double a, double b) { return pow(a, b); }
FC_HD float fc_sqrt_t(float a) { return sqrtf(a); }
FC_HD double fc_sqrt_t(double a) { return sqrt(a); }

// Sigma of a box of height h and width w (heatmap pixels) in T, the boxes' dtype:
// the smallest radius of CornerNet's three overlap conditions, over 3, with MMPose's
// operations in its order; Python's min (the first of equal values, a NaN kept only
// in first place). `two` must be 2 given at run time: with a literal 2 a compiler
// turns pow(b, 2) into b * b, which differs from libm's pow in the last bit for a
// few values in 10,000.
template <typename T>
FC_HD float instance_sigma(T h, T w, double overlap, T two) {
  const double o = overlap;
  const T s = h + w;
  const T b1 = s, b2 = (T)2 * s, b3 = (T)(-2 * o) * s;
  const T c1 = w * h * (T)(1 - o) / (T)(1 + o);
  const T c2 = (T)(1 - o) * w * h;
  const T c3 = (T)(o - 1) * w * h;
  const T r1 = (b1 + fc_sqrt_t(fc_pow_t(b1, two) - (T)4 * c1)) / (T)2;
  const T r2 = (b2 + fc_sqrt_t(fc_pow_t(b2, two) - (T)16 * c2)) / (T)2;
  const T r3 = (b3 + fc_sqrt_t(fc_pow_t(b3, two) - (T)(4 * (4 * o)) * c3)) / (T)2;
  T r = r1;
  if (r2 < r) r = r2;
  if (r3 < r) r = r3;
  return (float)(r / (T)3);
}

}  // namespace fastcodec
