// SimCC (Li et al. 2022) math of mmpose.codecs.SimCCLabel 1.3.2: the per-bin label
// values, the two-axis maximum, the softmax visibility term, the 1-D blur of
// gaussian_blur1d and the 1-D DARK step of refine_simcc_dark.
#pragma once

#include "fastcodec/argmax.h"
#include "fastcodec/blur.h"
#include "fastcodec/common.h"

namespace fastcodec {

// `np.around(v * ratio).astype(np.int64)` (round half to even) in the keypoints' own
// precision: float32 keypoints multiply in float32.
FC_HD int64_t simcc_bin(double v, float ratio_f32, double ratio, bool f32) {
  return f32 ? trunc_i64((double)rintf((float)v * ratio_f32)) : trunc_i64(rint(v * ratio));
}

// A keypoint with visibility < 0.5 gets no label and keeps weight 1 (NaN is drawn).
FC_HD bool simcc_keypoint_drawn(double visible) { return !(visible < 0.5); }

// The one-hot label (use_gaussian=False) with label smoothing: weight / (n - 1) on
// every bin of an n-bin axis (0 where n == 1), 1 - weight at the keypoint's bin.
FC_HD float simcc_smoothing(double label_smooth_weight, int64_t n) {
  return n > 1 ? (float)(label_smooth_weight / (double)(n - 1)) : 0.f;
}
FC_HD float simcc_onehot_peak(double label_smooth_weight) {
  return (float)(1.0 - label_smooth_weight);
}
// ...drawn only where both bins are on their axes (else weight 0).
FC_HD bool simcc_onehot_inside(int64_t mx, int64_t my, int64_t W, int64_t H) {
  return !(mx >= W || my >= H || mx < 0 || my < 0);
}

// Gaussian label at bin i for centre mu (a function of |i - mu| only, so the CPU
// loops tabulate it once per call): float32(exp(-(i - mu)^2 / (2 sigma^2))), then,
// when normalising, float32(label / (sigma * sqrt(2 pi))) in float64 like numpy.
FC_HD float simcc_gaussian_label(int64_t i, int64_t mu, double sigma, bool normalize) {
  const double d = (double)(i - mu);
  float v = (float)exp(-(d * d) / (2.0 * sigma * sigma));
  if (normalize) v = (float)((double)v / (sigma * 2.5066282746310002));
  return v;
}

// MMPose's test that a Gaussian label has an in-bounds part (3-sigma radius).
FC_HD bool simcc_gaussian_inside(int64_t mu, double sigma, int64_t W) {
  const double radius = sigma * 3.0;
  return !((double)mu - radius >= (double)W || (double)mu + radius + 1.0 < 0.0);
}

// SimCC3DLabel's rule for a drawn keypoint p = (x, y, depth): its three bins into mu
// (axes of size[0..2]), true when it gets labels; false (no label on any axis, weight
// 0) where a coordinate is not usable or a Gaussian of sigma[a] misses its axis.
FC_HD bool simcc3d_bins(const double* p, float ratio_f32, double ratio, bool f32,
                        const double* sigma, const int64_t* size, int64_t* mu) {
  for (int a = 0; a < 3; ++a)
    if (!coord_is_usable(p[a])) return false;
  bool inside = true;
  for (int a = 0; a < 3; ++a) {
    mu[a] = simcc_bin(p[a], ratio_f32, ratio, f32);
    inside = inside && simcc_gaussian_inside(mu[a], sigma[a], size[a]);
  }
  return inside;
}

// Maximum of one axis pair: numpy's first-occurrence argmax per axis, the smaller of
// the two maxima as the score (NaN stays when it is the x maximum, as `mask = x > y`
// leaves it), and location (-1, -1) where the score is <= 0.
FC_HD float simcc_pair_maximum(const Maximum& mx, const Maximum& my, float* lx, float* ly) {
  const float v = mx.value > my.value ? my.value : mx.value;
  if (v <= 0.f) {
    *lx = -1.f;
    *ly = -1.f;
  } else {
    *lx = (float)mx.index;
    *ly = (float)my.index;
  }
  return v;
}

// decode: a bin location in input pixels, `locs / simcc_split_ratio` (stored as float32).
FC_HD float simcc_location(float bin, double ratio) { return (float)((double)bin / ratio); }

// The keypoint's visibility: the smaller of the two axes' softmax maxima (np.minimum
// keeps a NaN only in second place, as `px > py ? py : px`).
FC_HD double simcc_visibility(double px, double py) { return px > py ? py : px; }

// Largest softmax probability of fl32(v * beta) * scale (float64, as numpy computes
// simcc * decode_beta * sigma): exp(0) / sum(exp(u - max u)).
FC_HD double simcc_softmax_max(const float* v, int64_t n, float beta, double scale) {
  double m = (double)(v[0] * beta) * scale;
  bool nan = m != m;
  for (int64_t i = 1; i < n; ++i) {
    const double u = (double)(v[i] * beta) * scale;
    if (u != u) nan = true;
    else if (u > m) m = u;
  }
  if (nan) return FC_NAN;
  double s = 0.0, emax = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double e = exp((double)(v[i] * beta) * scale - m);
    if (e != e) return FC_NAN;
    if (e > emax) emax = e;
    s += e;
  }
  return emax / s;
}

// MMPose's DARK blur size from a SimCC sigma: int((20 sigma - 7) // 3), made odd
// downwards. Sizes below 1 (sigma < 0.8), which crash MMPose, become 1 (no blur;
// docs/deviations.md). Mirrored by the Python front (codecs/simcc_label.py), which
// computes it once per codec.
FC_HD int simcc_dark_kernel_size(double sigma) {
  int k = (int)floor((sigma * 20.0 - 7.0) / 3.0);
  if (k % 2 == 0) k -= 1;
  return k < 1 ? 1 : k;
}

// One output of gaussian_blur1d's cv2.GaussianBlur((1, n + 2r) float32, (2r + 1, 1), 0):
// the column pass is the identity and the row pass sees r zeros either side. On a
// one-row image OpenCV runs its vectorised row formula on every column (no scalar
// tail, unlike blur.h's 2-D maps), so opencv_row_sum everywhere is bit-exact.
FC_HD float simcc_blur_at(const float* v, int64_t n, const float* w, int r, int64_t i) {
  auto at = [&](int j) -> float {
    const int64_t p = i + j;
    return (p >= 0 && p < n) ? v[p] : 0.f;
  };
  return opencv_row_sum(w, r, at);
}

// The log-domain value refine_simcc_dark reads: log(clip(blurred, 1e-3, 50)).
FC_HD float simcc_dark_log(float b) {
  const float c = b < 1e-3f ? 1e-3f : (b > 50.f ? 50.f : b);
  return c != c ? c : logf(c);
}

// The 1-D DARK step: x - dx / dxx from the five samples around px = int(x + 2.5) of
// the edge-padded (2 each side) log map, numpy's negative indices wrapping. `L(o)`
// returns the log-map value at unpadded index o in [0, n). Returns false (x unchanged)
// where MMPose would raise IndexError.
template <typename Log>
FC_HD bool simcc_dark_step(Log L, int64_t n, float* x) {
  const float xp = *x + 2.5f;
  if (!(xp == xp) || fabsf(xp) > 1e15f) return false;
  const int64_t px = trunc_i64((double)xp);
  const int64_t np_ = n + 4;
  float d[5];
  for (int j = -2; j <= 2; ++j) {
    int64_t q = px + j;
    if (q < 0) q += np_;
    if (q < 0 || q >= np_) return false;
    int64_t o = q - 2;
    o = o < 0 ? 0 : (o >= n ? n - 1 : o);
    d[j + 2] = L(o);
  }
  const float dx = 0.5f * (d[3] - d[1]);
  const float dxx = 1e-9f + 0.25f * ((d[4] - 2.f * d[2]) + d[0]);
  *x = *x - dx / dxx;
  return true;
}

}  // namespace fastcodec
