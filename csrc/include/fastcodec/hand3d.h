// Hand3DHeatmap (InterNet) math of mmpose.codecs 1.3.2: the 3-D Gaussian volume of
// generate_3d_gaussian_heatmaps, one keypoint's window at a time, under NumPy 2's type
// promotion (the image and heatmap sizes are numpy int64 scalars, which promote float32
// keypoints to float64).
#pragma once

#include "fastcodec/common.h"

namespace fastcodec {

// Window centre along x or y in heatmap voxels: `keypoints[..., 0] * W / image_size[0]`
// (float64: float32 keypoints times a numpy int64 scalar is float64 in NumPy 2).
FC_HD double hand3d_centre_xy(double v, int64_t size, double image) {
  return v * (double)size / image;
}

// Window centre along depth: `(keypoints[..., 2] / heatmap3d_depth_bound + 0.5) * D`;
// the bracket is float32 for float32 keypoints (a Python float bound is weak), the
// product with the int64 scalar D float64.
FC_HD double hand3d_centre_z(double z, double bound, int64_t D, bool f32) {
  if (f32) return (double)((float)z / (float)bound + 0.5f) * (double)D;
  return (z / bound + 0.5) * (double)D;
}

// MMPose's keypoint weight factor: `(mu_z >= 0) * (mu_z < D)` (NaN: 0).
FC_HD bool hand3d_depth_inside(double mu_z, int64_t D) { return mu_z >= 0.0 && mu_z < (double)D; }

// A finite window centre (NaN and Inf keypoints are invisible: weight 0).
FC_HD bool hand3d_finite(double mu) { return mu - mu == 0.0; }

// Window length `np.arange(2 * radius + 1)` with radius = 3 sigma: ceil(2 r + 1).
FC_HD int64_t hand3d_window_length(double radius) { return (int64_t)ceil(2.0 * radius + 1.0); }

// Voxel index of window step i along one axis of `size` voxels:
// `(np.arange(n, dtype=float32) - radius + mu).round().clip(0, size - 1)`; the offset
// is float32 (radius is a weak Python number), the sum with mu float64, rounding half
// to even. Callers pass a finite mu (coord_is_usable).
FC_HD int64_t hand3d_voxel(int64_t i, double radius, double mu, int64_t size) {
  const double offset = (double)((float)i - (float)radius);
  double c = rint(offset + mu);
  c = c < 0.0 ? 0.0 : (c > (double)(size - 1) ? (double)(size - 1) : c);
  return (int64_t)c;
}

// The value written at voxel (x, y, z) (indices, after clipping) for centre mu:
// `exp(-((x - mu_x)**2 + (y - mu_y)**2 + (z - mu_z)**2) / (2 * sigma**2))` in float64,
// stored as float32 (np.maximum with the float32 volume, assigned back into it).
FC_HD float hand3d_gaussian(int64_t x, int64_t y, int64_t z, double mu_x, double mu_y,
                            double mu_z, double sigma) {
  const double dx = (double)x - mu_x, dy = (double)y - mu_y, dz = (double)z - mu_z;
  return (float)exp(-(dx * dx + dy * dy + dz * dz) / (2.0 * (sigma * sigma)));
}

// The separable form the CPU loops evaluate: exp(-d^2 / (2 sigma^2)) per axis, one
// factor per window step and axis, so a window costs 3 L exponentials instead of L^3.
// Their product p differs from MMPose's exp of the sum by a few float64 ulps (1e-14
// relative at most); both round to the same float32 unless p lies within that of a
// float32 rounding boundary, which hand3d_rounds_clear detects (then the loops call
// hand3d_gaussian). So the stored float32 values are MMPose's bit for bit.
FC_HD double hand3d_axis_factor(double d, double sigma) {
  return exp(-(d * d) / (2.0 * (sigma * sigma)));
}

// A window's distinct voxel indices along one axis of `size` voxels, in order (window
// steps map to non-decreasing indices: clipping and half-to-even rounding repeat them,
// adjacently), each with its Gaussian factor hand3d_axis_factor: at most `size`
// entries of voxel and factor. Returns their count. Every voxel a window writes is one
// of these per axis, and every repeat of a voxel writes the same value, so a window is
// drawn once per distinct voxel.
FC_HD int64_t hand3d_axis_voxels(int64_t* voxel, double* factor, int64_t L, double radius,
                                 double mu, int64_t size, double sigma) {
  int64_t n = 0;
  for (int64_t i = 0; i < L; ++i) {
    const int64_t c = hand3d_voxel(i, radius, mu, size);
    if (n == 0 || voxel[n - 1] != c) {
      voxel[n] = c;
      factor[n] = hand3d_axis_factor((double)c - mu, sigma);
      ++n;
    }
  }
  return n;
}

// Whether float64 p (a product of axis factors) is at least 2^13 float64 ulps (about
// 2e-12 relative) from the nearest float32 rounding boundary: the 29 low mantissa bits
// that float32 drops are far from their midpoint 2^28. Values below FLT_MIN (float32
// denormals, zero) take the exact path as well.
FC_HD bool hand3d_rounds_clear(double p) {
  if (!(p >= 1.1754943508222875e-38)) return false;
  union {
    double d;
    uint64_t u;
  } bits;
  bits.d = p;
  const int64_t low = (int64_t)(bits.u & 0x1FFFFFFFull), mid = 0x10000000;
  return (low > mid ? low - mid : mid - low) > 0x2000;
}

// The volume's scale, `heatmaps * max_bound` in float32 (a Python max_bound is weak).
// Applied to each window value before the maximum of overlapping windows: for
// max_bound > 0 (the codec checks it) float32 rounding keeps the order, so
// max(a * m, b * m) == max(a, b) * m bit for bit, and the zeros stay zeros.
FC_HD float hand3d_scaled(float g, float max_bound) { return g * max_bound; }

}  // namespace fastcodec
