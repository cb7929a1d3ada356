// Sub-pixel refinement steps of mmpose.codecs.utils.refinement and MegviiHeatmap:
// the +-0.25 px shift, the DARK Taylor step, its UDP variant, and Megvii's shift.
// Arithmetic follows numpy's float32 evaluation order term by term.
#pragma once

#include "fastcodec/common.h"

namespace fastcodec {

struct Offset { double dx, dy; };

// The integer pixel refinements read at: `keypoints.astype(int)` (truncation). False
// for a NaN/Inf/huge keypoint, which fastcodec leaves unrefined (docs/deviations.md).
FC_HD bool keypoint_pixel(double kx, double ky, int64_t* x, int64_t* y) {
  if (!coord_is_usable(kx) || !coord_is_usable(ky)) return false;
  *x = trunc_i64(kx);
  *y = trunc_i64(ky);
  return true;
}

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

// MegviiHeatmap.decode's score: `maxvals / 255 + 0.5` in float32.
FC_HD float megvii_score(float v) { return v / 255.f + 0.5f; }

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
FC_HD bool dark_applies(int64_t W, int64_t H, int64_t x, int64_t y) {
  return 1 < x && x < W - 2 && 1 < y && y < H - 2;
}

template <typename LogMap>
FC_HD bool dark_step(LogMap L, int64_t W, int64_t H, int64_t x, int64_t y, Offset* o) {
  if (!dark_applies(W, H, x, y)) return false;
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

// refine_keypoints_dark_udp reads the flattened, edge-padded (K, H + 2, W + 2) log
// maps at `int(x + 1 + (y + 1) * (W + 2) + k * (H + 2) * (W + 2))`, evaluated in the
// keypoints' dtype (f32: float32, the last addition rounded once more to float32, as
// numpy adds the int64 offset), then at the six neighbours of dark_udp_neighbour.
FC_HD int64_t dark_udp_centre(double x, double y, int64_t k, int64_t W, int64_t H, bool f32) {
  const int64_t Wp = W + 2, S = (H + 2) * Wp;
  double f;
  if (f32) {
    const float t = ((float)x + 1.f) + ((float)y + 1.f) * (float)Wp;
    f = (double)(float)((double)t + (double)(k * S));
  } else {
    f = (x + 1) + (y + 1) * (double)Wp + (double)(k * S);
  }
  return trunc_i64(f);
}

// Neighbour j (0..6: centre, +x, +y, +x+y, -x-y, -x, -y) of flat index `centre` in
// K padded maps: its map *ch and its pixel (*px, *py) in the unpadded map (the edge
// padding repeats the border). Negative indices wrap around as in Python, so a -1
// location reads the previous (or the last) map; false where Python raises IndexError.
FC_HD bool dark_udp_neighbour(int64_t centre, int j, int64_t K, int64_t W, int64_t H,
                              int64_t* ch, int64_t* px, int64_t* py) {
  const int64_t Wp = W + 2, S = (H + 2) * Wp, total = K * S;
  const int64_t step = j == 0 ? 0 : j == 1 ? 1 : j == 2 ? Wp : j == 3 ? Wp + 1
                     : j == 4 ? -Wp - 1 : j == 5 ? -1 : -Wp;
  int64_t q = centre + step;
  if (q < -total || q >= total) return false;
  if (q < 0) q += total;
  *ch = q / S;
  *py = min_i64(max_i64((q % S) / Wp - 1, 0), H - 1);
  *px = min_i64(max_i64(q % Wp - 1, 0), W - 1);
  return true;
}

// UDPHeatmap('combined') reads its offsets at `int(x + y * W + k * H * W)` (float32)
// of one sample's flattened (K, H, W) offset maps; a -1 location wraps around as in
// Python. Returns the flat index in [0, K * H * W): map q / (H * W), pixel q % (H * W).
FC_HD int64_t udp_combined_index(float x, float y, int64_t k, int64_t W, int64_t H, int64_t K) {
  const float t = x + y * (float)W;
  int64_t q = trunc_i64((double)(float)((double)t + (double)(k * H * W)));
  if (q < 0) q += K * H * W;
  return q;
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
