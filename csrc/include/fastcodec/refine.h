// Sub-pixel refinement steps of mmpose.codecs.utils.refinement and MegviiHeatmap:
// the +-0.25 px shift, the DARK Taylor step, its UDP variant, and Megvii's shift.
// Arithmetic follows numpy's float32 evaluation order term by term.
#pragma once

#include "fastcodec/common.h"

namespace fastcodec {

struct Offset { double dx, dy; };

// refine_keypoints: move 0.25 px toward the higher neighbour. Note the asymmetric
// bounds of MMPose (x needs 1 < x < W - 1 and 0 < y < H; y the transpose).
FC_HD Offset sign_step(const float* h, int64_t W, int64_t H, int64_t x, int64_t y) {
  float sx = 0.f, sy = 0.f;
  if (1 < x && x < W - 1 && 0 < y && y < H) sx = sign_of_difference(h[y * W + x + 1], h[y * W + x - 1]);
  if (1 < y && y < H - 1 && 0 < x && x < W) sy = sign_of_difference(h[(y + 1) * W + x], h[(y - 1) * W + x]);
  Offset o = {sx * 0.25f, sy * 0.25f};
  return o;
}

// MegviiHeatmap.decode: keypoint += sign(diff) * 0.25 + 0.5 inside 1 < x < W - 1,
// 1 < y < H - 1 (megvii_applies); unchanged elsewhere. Arguments: the modulated map's
// left, right, upper and lower neighbours of the maximum.
FC_HD bool megvii_applies(int64_t W, int64_t H, int64_t x, int64_t y) {
  return 1 < x && x < W - 1 && 1 < y && y < H - 1;
}

FC_HD Offset megvii_shift(float left, float right, float up, float down) {
  Offset o = {sign_of_difference(right, left) * 0.25f + 0.5f,
              sign_of_difference(down, up) * 0.25f + 0.5f};
  return o;
}

// log(max(v, 1e-10)) of refine_keypoints_dark; NaN propagates like np.maximum.
FC_HD float dark_log(float v) { return logf(v < 1e-10f ? 1e-10f : v); }
// log(clip(v, 1e-3, 50)) of refine_keypoints_dark_udp; NaN propagates like np.clip.
FC_HD float dark_udp_log(float v) { return logf(v < 1e-3f ? 1e-3f : (v > 50.f ? 50.f : v)); }

// refine_keypoints_dark: Newton step -H^-1 g on the log-modulated map L at an
// integer location, inside 1 < x < W - 2 and 1 < y < H - 2, when det(H) != 0 in float32.
// `L(dx, dy)` returns the log-modulated value at (x + dx, y + dy).
template <typename LogMap>
FC_HD bool dark_step(LogMap L, int64_t W, int64_t H, int64_t x, int64_t y, Offset* o) {
  if (!(1 < x && x < W - 2 && 1 < y && y < H - 2)) return false;
  const float c = L(0, 0);
  const float dx = 0.5f * (L(1, 0) - L(-1, 0));
  const float dy = 0.5f * (L(0, 1) - L(0, -1));
  const float dxx = 0.25f * (L(2, 0) - 2.f * c + L(-2, 0));
  const float dxy = 0.25f * (L(1, 1) - L(1, -1) - L(-1, 1) + L(-1, -1));
  const float dyy = 0.25f * (L(0, 2) - 2.f * c + L(0, -2));
  const float det32 = dxx * dyy - dxy * dxy;
  if (!(det32 != 0.f)) return false;
  // np.linalg.inv in float32, then -inv @ g in float32.
  const double det = (double)dxx * dyy - (double)dxy * dxy;
  const float i00 = (float)(dyy / det), i01 = (float)(-dxy / det), i11 = (float)(dxx / det);
  o->dx = -(i00 * dx + i01 * dy);
  o->dy = -(i01 * dx + i11 * dy);
  return true;
}

// refine_keypoints_dark_udp on the 3x3 neighbourhood of the edge-padded log map:
// v[0..6] = centre, +x, +y, +x+y, -x-y, -x, -y. The Hessian gets float32 eps on the
// diagonal and is inverted in float64. A singular matrix (np.linalg.inv raises)
// gives no step (docs/deviations.md).
FC_HD Offset dark_udp_step(const float* v) {
  const float i_ = v[0], ix1 = v[1], iy1 = v[2], ix1y1 = v[3], ix1_y1_ = v[4],
              ix1_ = v[5], iy1_ = v[6];
  const float dx = 0.5f * (ix1 - ix1_);
  const float dy = 0.5f * (iy1 - iy1_);
  const float dxx = ix1 - 2.f * i_ + ix1_;
  const float dyy = iy1 - 2.f * i_ + iy1_;
  const float dxy = 0.5f * (ix1y1 - ix1 - iy1 + i_ + i_ - ix1_ - iy1_ + ix1_y1_);
  const double eps = 1.1920928955078125e-07;  // np.finfo(np.float32).eps
  const double a = (double)dxx + eps, b = (double)dxy, d = (double)dyy + eps;
  const double det = a * d - b * b;
  Offset o = {0.0, 0.0};
  if (det == 0.0 || det != det) {
    if (det != det) o.dx = o.dy = det;  // NaN in, NaN out, as numpy
    return o;
  }
  const double i00 = d / det, i01 = -b / det, i11 = a / det;
  o.dx = i00 * dx + i01 * dy;
  o.dy = i01 * dx + i11 * dy;
  return o;
}

}  // namespace fastcodec
