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
FC_HD InstanceGeometry instance_geometry(const T* kps, const double* vis, int64_t K,
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

}  // namespace fastcodec
