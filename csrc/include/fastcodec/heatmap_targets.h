// Per-keypoint and per-pixel math of the heatmap target generators, matching
// mmpose.codecs.utils.gaussian_heatmap / offset_heatmap and MegviiHeatmap.encode
// of MMPose 1.3.2 bit for bit where integers decide (window bounds, centre pixel)
// and to float rounding elsewhere.
#pragma once

#include "fastcodec/common.h"

namespace fastcodec {

// The largest Gaussian sigma the encoders accept (fastcodec/limits.py holds the same).
constexpr double kMaxSigma = 1e4;


// ---- The keypoint every encoder draws ----
// `keypoints / scale_factor` in the keypoints' precision (scale_coord). False for a
// NaN/Inf/huge keypoint or quotient: fastcodec gives it weight 0 (docs/deviations.md).
FC_HD bool scaled_point(double rx, double ry, float sx, float sy, bool f32, double* px,
                        double* py) {
  if (!coord_is_usable(rx) || !coord_is_usable(ry)) return false;
  *px = scale_coord(rx, sx, f32);
  *py = scale_coord(ry, sy, f32);
  return coord_is_usable(*px) && coord_is_usable(*py);
}

// Whether the encoders draw a keypoint: a usable one (scaled_point, which also sets
// *inside, its weight before the window tests) that is not `visible < 0.5`; a
// keypoint with visibility < 0.5 keeps weight 1 in MMPose, a NaN visibility draws.
FC_HD bool point_to_draw(double rx, double ry, double visible, float sx, float sy, bool f32,
                         double* px, double* py, bool* inside) {
  *inside = scaled_point(rx, ry, sx, sy, f32, px, py);
  return *inside && !(visible < 0.5);
}

// ---- MSRA (generate_gaussian_heatmaps) and UDP (generate_udp_gaussian_heatmaps) ----
//
// Both paste a (gaussian_size x gaussian_size) patch centred on mu = int(p + 0.5).
// MMPose computes the window edges with astype(int64), i.e. truncation toward zero,
// so a window that starts left of the heatmap is shifted by one pixel when the radius
// is fractional; the patch index of heatmap pixel h is always h - left.
struct PatchWindow {
  int64_t mu_x, mu_y;                 // centre pixel
  int64_t left, top, right, bottom;   // [left, right) x [top, bottom) before clipping
};

struct PatchGeometry {
  double radius;   // 3 * sigma
  int64_t length;  // len(np.arange(0, 2 * radius + 1)), the patch side
  double centre;   // (2 * radius + 1) // 2, the patch centre before the UDP shift
};

FC_HD PatchGeometry patch_geometry(double sigma) {
  PatchGeometry g;
  g.radius = sigma * 3;
  const double size = 2 * g.radius + 1;
  g.length = (int64_t)ceil(size);
  g.centre = floor(size / 2);
  return g;
}

// The same for a float32 sigma (MMPose's per-instance sigma array of DecoupledHeatmap):
// numpy computes radius = sigma * 3 and 2 * radius + 1 in float32.
FC_HD PatchGeometry patch_geometry_f32(float sigma) {
  PatchGeometry g;
  const float r = sigma * 3.0f;
  const float size = 2.0f * r + 1.0f;
  g.radius = r;
  g.length = (int64_t)ceil((double)size);
  g.centre = floor((double)size / 2);
  return g;
}

FC_HD PatchWindow patch_window(double px, double py, bool f32, double radius) {
  PatchWindow w;
  w.mu_x = round_half_up(px, f32);
  w.mu_y = round_half_up(py, f32);
  w.left = trunc_i64((double)w.mu_x - radius);
  w.top = trunc_i64((double)w.mu_y - radius);
  w.right = trunc_i64((double)w.mu_x + radius + 1);
  w.bottom = trunc_i64((double)w.mu_y + radius + 1);
  return w;
}

// MMPose zeroes the weight of a keypoint whose window misses the heatmap entirely.
FC_HD bool patch_misses(const PatchWindow& w, int64_t W, int64_t H) {
  return w.left >= W || w.top >= H || w.right < 0 || w.bottom < 0;
}

// MSRA patch value at patch index (gx, gy); float32 throughout, as numpy does it.
// The centre is exactly 1 (exp(-0)); for sigma = 0 numpy's 0/0 makes it NaN there,
// fastcodec keeps the limit 1 (docs/deviations.md, DecoupledHeatmap).
FC_HD float msra_patch_value(int64_t gx, int64_t gy, float centre, float two_sigma2) {
  const float dx = (float)gx - centre, dy = (float)gy - centre;
  const float d2 = dx * dx + dy * dy;
  if (d2 == 0.f) return 1.f;
  return expf(-d2 / two_sigma2);
}

// UDP: the patch centre moves by the sub-pixel part p - mu (float64 in numpy).
FC_HD double udp_patch_factor(int64_t g, double centre, double p, int64_t mu,
                              double two_sigma2) {
  const double d = (double)g - (centre + (p - (double)mu));
  return exp(-(d * d) / two_sigma2);
}

// ---- Unbiased (DARK) Gaussian: generate_unbiased_gaussian_heatmaps ----
// Evaluated over the whole heatmap. The 2-D Gaussian is the product of two 1-D
// factors; T is float32 or float64, the precision of MMPose's `keypoints / scale`.
template <typename T>
FC_HD bool unbiased_misses(T mx, T my, T radius, int64_t W, int64_t H) {
  const T left = mx - radius, top = my - radius;
  const T right = mx + radius + (T)1, bottom = my + radius + (T)1;
  return left >= (T)W || top >= (T)H || right < (T)0 || bottom < (T)0;
}

template <typename T>
FC_HD T unbiased_factor(int64_t x, T mu, T two_sigma2) {
  const T d = (T)x - mu;
  return fc_exp(-(d * d) / two_sigma2);
}

// ---- UDP 'combined' target: generate_offset_heatmap (float64 in numpy) ----
// numpy computes (mu - x) / radius and the disc test in float64; the 2-D pixel
// (x, y) has label offset_label(offset_along(x), offset_along(y)^2) and offsets
// (float)offset_along(x), (float)offset_along(y).
FC_HD double offset_along(int64_t x, double mu, double radius) { return (mu - (double)x) / radius; }

FC_HD float offset_label(double ox, double oy_squared) {
  return ox * ox + oy_squared <= 1.0 ? 1.f : 0.f;
}

// ---- Megvii: a unit impulse blurred by cv2.GaussianBlur (BORDER_REFLECT_101) ----
// (the blur arithmetic itself is in blur.h)
// OpenCV's borderInterpolate for BORDER_REFLECT_101, including repeated reflection
// when the kernel is wider than the image.
FC_HD int64_t reflect101(int64_t p, int64_t len) {
  if (len == 1) return 0;
  while (p < 0 || p >= len) p = p < 0 ? -p : 2 * (len - 1) - p;
  return p;
}

// The impulse pixel: `(keypoints / scale_factor).astype(np.int64)`, truncation, no
// rounding. False (weight 0) where it falls off the W x H heatmap.
FC_HD bool megvii_impulse_pixel(double px, double py, int64_t W, int64_t H, int64_t* kx,
                                int64_t* ky) {
  *kx = trunc_i64(px);
  *ky = trunc_i64(py);
  return !(*kx < 0 || *kx >= W || *ky < 0 || *ky >= H);
}

// The impulse as the blur reads it through the border: 1 where padded index p of an
// axis `len` long reflects onto the impulse at k, else 0.
FC_HD float megvii_impulse_tap(int64_t p, int64_t len, int64_t k) {
  return reflect101(p, len) == k ? 1.f : 0.f;
}

// MegviiHeatmap.encode's final `heatmap / heatmap[ky, kx] * 255`, in float32.
FC_HD float megvii_normalize(float v, float centre) { return v / centre * 255.f; }

}  // namespace fastcodec
