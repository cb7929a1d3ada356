// CPU loops of the SimCC codec; see simcc_kernels.h. The per-bin arithmetic is
// fastcodec/simcc.h; what is CPU-specific here is only which values get computed:
// Gaussian labels are tabulated by distance, argmaxes vectorised, and DARK blurs only
// the bins within r + 8 of the raw peak (when the rest of the row is bounded below the
// blurred peak; otherwise the whole row) plus the five bins the Newton step reads.
#include "simcc_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "blur_cpu.h"
#include "fast_argmax.h"

#if defined(__AVX2__)
#include <immintrin.h>
#endif
#include "fastcodec/simcc.h"
#include "parallel.h"

namespace fastcodec {

namespace {

// label(d) for d = |i - mu| in [0, n): the values up to the first that rounds to 0 in
// float32 (the Gaussian decreases in d, so all later ones are 0 as well). `len` is
// where the zeros start, or n when the table ends before them.
struct GaussianTable {
  std::vector<float> t;
  int64_t len = 0;
  bool zero_after = false;
  double sigma = 1;
  bool normalize = false;
};

GaussianTable gaussian_table(int64_t n, double sigma, bool normalize) {
  GaussianTable g;
  g.sigma = sigma;
  g.normalize = normalize;
  g.t.assign(n, 0.f);
  for (; g.len < n; ++g.len) {
    g.t[g.len] = simcc_gaussian_label(g.len, 0, sigma, normalize);
    if (g.t[g.len] == 0.f) {
      g.zero_after = true;
      break;
    }
  }
  return g;
}

void write_gaussian(float* out, int64_t n, int64_t mu, const GaussianTable& g) {
  if (g.zero_after) {  // only the bins within len of mu are non-zero
    const int64_t lo = std::max<int64_t>(0, mu - g.len + 1), hi = std::min<int64_t>(n, mu + g.len);
    for (int64_t i = lo; i < hi; ++i) out[i] = g.t[i > mu ? i - mu : mu - i];
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    const int64_t d = i > mu ? i - mu : mu - i;
    out[i] = d < g.len ? g.t[d] : simcc_gaussian_label(d, 0, g.sigma, g.normalize);
  }
}

}  // namespace

void simcc_encode(const SimccEncodeArgs& a, float* tx, float* ty, uint8_t* inside) {
  const FlushDenormalResults ftz;  // serial (cheap); as parallel_for<Denormals::Flushed>
  const float ratio32 = (float)a.ratio;
  const float smooth_x = simcc_smoothing(a.label_smooth_weight, a.W);
  const float smooth_y = simcc_smoothing(a.label_smooth_weight, a.H);
  const float peak = simcc_onehot_peak(a.label_smooth_weight);
  GaussianTable gx, gy;
  if (a.gaussian) {
    gx = gaussian_table(a.W, a.sigma[0], a.normalize);
    gy = gaussian_table(a.H, a.sigma[1], a.normalize);
  }
  std::memset(tx, 0, sizeof(float) * a.R * a.W);
  std::memset(ty, 0, sizeof(float) * a.R * a.H);
  for (int64_t r = 0; r < a.R; ++r) {
    float* lx = tx + r * a.W;
    float* ly = ty + r * a.H;
    inside[r] = 1;
    if (!simcc_keypoint_drawn(a.visible[r])) continue;
    const double x = a.keypoints[2 * r], y = a.keypoints[2 * r + 1];
    if (!coord_is_usable(x) || !coord_is_usable(y)) {
      inside[r] = 0;
      continue;
    }
    const int64_t mx = simcc_bin(x, ratio32, a.ratio, a.f32);
    const int64_t my = simcc_bin(y, ratio32, a.ratio, a.f32);
    if (a.gaussian) {
      if (!simcc_gaussian_inside(mx, a.sigma[0], a.W) ||
          !simcc_gaussian_inside(my, a.sigma[1], a.H)) {
        inside[r] = 0;
        continue;
      }
      write_gaussian(lx, a.W, mx, gx);
      write_gaussian(ly, a.H, my, gy);
    } else {
      if (!simcc_onehot_inside(mx, my, a.W, a.H)) {
        inside[r] = 0;
        continue;
      }
      if (a.label_smooth_weight > 0) {
        std::fill(lx, lx + a.W, smooth_x);
        std::fill(ly, ly + a.H, smooth_y);
      }
      lx[mx] = peak;
      ly[my] = peak;
    }
  }
}

void simcc_maximum(const float* sx, const float* sy, int64_t R, int64_t Wx, int64_t Wy,
                   float* locs, float* vals) {
  parallel_for(R, 0.5 * (Wx + Wy), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const Maximum mx = fast_argmax(sx + r * Wx, Wx);
      const Maximum my = fast_argmax(sy + r * Wy, Wy);
      vals[r] = simcc_pair_maximum(mx, my, locs + 2 * r, locs + 2 * r + 1);
    }
  });
}

namespace {


// gaussian_blur1d's rescale factor for row v: raw max / blurred max. Bins farther than
// r + 8 from the raw peak are skipped when an upper bound of their blurred values (the
// maximum outside [peak - 8, peak + 8] times the tap sum, plus a rounding margin) is
// below the blurred value at the peak.
// max, min of v[b, e) (e > b) and whether all are finite; vectorisable loops.
struct Range { float max, min; bool finite; };
Range scan(const float* v, int64_t b, int64_t e) {
  float mx = v[b], mn = v[b];
  uint32_t bad = 0;
  int64_t i = b;
#if defined(__AVX2__)
  if (e - b >= 8) {
    __m256 vmx = _mm256_loadu_ps(v + b), vmn = vmx, unord = _mm256_setzero_ps();
    const __m256 inf = _mm256_set1_ps(INFINITY);
    for (; i + 8 <= e; i += 8) {
      const __m256 x = _mm256_loadu_ps(v + i);
      vmx = _mm256_max_ps(vmx, x);
      vmn = _mm256_min_ps(vmn, x);
      // NaN or +-Inf: |x| == inf or x unordered
      const __m256 ax = _mm256_andnot_ps(_mm256_set1_ps(-0.f), x);
      unord = _mm256_or_ps(unord, _mm256_cmp_ps(ax, inf, _CMP_NLT_UQ));
    }
    float a[8], c[8];
    _mm256_storeu_ps(a, vmx);
    _mm256_storeu_ps(c, vmn);
    for (int l = 0; l < 8; ++l) {
      mx = a[l] > mx ? a[l] : mx;
      mn = c[l] < mn ? c[l] : mn;
    }
    bad = _mm256_movemask_ps(unord) != 0;
  }
#endif
  for (; i < e; ++i) {
    const float x = v[i];
    mx = x > mx ? x : mx;
    mn = x < mn ? x : mn;
    uint32_t bits;
    std::memcpy(&bits, &v[i], 4);
    bad |= (uint32_t)((bits & 0x7f800000u) == 0x7f800000u);
  }
  return Range{mx, mn, bad == 0};
}

float blur_scale_bounded(const float* v, int64_t n, const Kernel1D& k, int64_t peak,
                         float raw_max, std::vector<float>& scratch) {
  const int r = k.r;
  const float* padded = nullptr;
  // opencv_row_sum for outputs [i0, i0 + 8), lane by lane in the same order.
  auto blur8 = [&](int64_t i0, float* out) {
    if (r <= 2) {
      for (int l = 0; l < 8; ++l)
        out[l] = opencv_row_sum(k.w, r, [&](int j) { return padded[i0 + l + j]; });
      return;
    }
#if defined(__AVX2__)
    __m256 acc8 = _mm256_setzero_ps();
    for (int j = -r; j <= r; ++j)
      acc8 = _mm256_fmadd_ps(_mm256_set1_ps(k.w[j + r]), _mm256_loadu_ps(padded + i0 + j), acc8);
    _mm256_storeu_ps(out, acc8);
    return;
#endif
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int j = -r; j <= r; ++j) {
      const float wj = k.w[j + r];
      const float* src = padded + i0 + j;
      for (int l = 0; l < 8; ++l) acc[l] = fmaf(wj, src[l], acc[l]);
    }
    for (int l = 0; l < 8; ++l) out[l] = acc[l];
  };
  const float seed = simcc_blur_at(v, n, k.w, r, peak);
  const double rel = (2.0 * r + 4.0) * 1.2e-7;
  auto bound = [&](double m, double a) {
    return m * k.wsum + std::fabs(m) * 1e-3 + rel * a * k.wsum + 1e-37;
  };
  // Outputs farther than r + 8 from the peak see none of [peak - 8, peak + 8]: bound
  // them by the maximum elsewhere (and the zero padding).
  const int64_t c0 = std::max<int64_t>(0, peak - 8), c1 = std::min<int64_t>(n, peak + 9);
  double m = 0.0, a = 0.0;
  if (c0 > 0) {
    const Range g = scan(v, 0, c0);
    m = std::max(m, (double)g.max);
    a = std::max({a, (double)std::fabs(g.max), (double)std::fabs(g.min)});
  }
  if (c1 < n) {
    const Range g = scan(v, c1, n);
    m = std::max(m, (double)g.max);
    a = std::max({a, (double)std::fabs(g.max), (double)std::fabs(g.min)});
  }
  int64_t lo = 0, hi = n;  // outputs to compute
  if (bound(m, a) < (double)seed) {
    lo = std::max<int64_t>(0, c0 - r);
    hi = std::min<int64_t>(n, c1 + r);
  }
  // v on [lo - r, hi + 8 + r), zero outside [0, n): 8 outputs at a time, no bounds tests
  const int64_t base = lo - r, len = hi - lo + 2 * r + 8;
  scratch.resize(len);
  for (int64_t q = 0; q < len; ++q) {
    const int64_t p = base + q;
    scratch[q] = (p >= 0 && p < n) ? v[p] : 0.f;
  }
  padded = scratch.data() - base;
  float best = seed, out[8];
  for (int64_t i0 = lo; i0 < hi; i0 += 8) {
    blur8(i0, out);
    const int64_t e = std::min<int64_t>(8, hi - i0);
    for (int64_t l = 0; l < e; ++l) best = out[l] > best ? out[l] : best;
  }
  return blur_rescale(raw_max, best);
}

// The full path: the whole blurred, rescaled, clipped log row (for the visibility,
// and for rows holding NaN or Inf).
void blur_log_row(const float* v, int64_t n, const Kernel1D& k, float* out) {
  const float raw_max = first_argmax(v, n).value;
  for (int64_t i = 0; i < n; ++i) out[i] = simcc_blur_at(v, n, k.w, k.r, i);
  const float scale = blur_rescale(raw_max, first_argmax(out, n).value);
  for (int64_t i = 0; i < n; ++i) out[i] = simcc_dark_log(out[i] * scale);
}

bool all_finite(const float* v, int64_t n) { return scan(v, 0, n).finite; }

// DARK along one axis for location *x (from raw maximum m). When `full` is given the
// whole log row is written there (the visibility reads it).
void dark_axis(const float* v, int64_t n, const Kernel1D& k, const Maximum& m, float* x,
               float* full, std::vector<float>& scratch) {
  if (full || !all_finite(v, n)) {
    std::vector<float> own;
    float* out = full;
    if (!out) {
      own.resize(n);
      out = own.data();
    }
    blur_log_row(v, n, k, out);
    simcc_dark_step([&](int64_t o) { return out[o]; }, n, x);
    return;
  }
  const float scale = blur_scale_bounded(v, n, k, m.index, m.value, scratch);
  simcc_dark_step(
      [&](int64_t o) { return simcc_dark_log(simcc_blur_at(v, n, k.w, k.r, o) * scale); }, n, x);
}

}  // namespace

void simcc_decode(const SimccDecodeArgs& a, float* locs, float* vals, double* vis) {
  const Kernel1D kx(a.kx), ky(a.ky);
  double cost = a.Wx + a.Wy;
  if (a.kx > 0) cost += a.visibility ? (double)(a.kx) * (a.Wx + a.Wy) : 40.0 * (a.kx + a.ky);
  if (a.visibility) cost += 40.0 * (a.Wx + a.Wy);
  parallel_for(a.R, 0.36 * cost, [&](int64_t begin, int64_t end) {
    std::vector<float> bx, by, scratch;
    if (a.visibility && a.kx > 0) bx.resize(a.Wx);
    if (a.visibility && a.ky > 0) by.resize(a.Wy);
    for (int64_t r = begin; r < end; ++r) {
      const float* x = a.sx + r * a.Wx;
      const float* y = a.sy + r * a.Wy;
      float* loc = locs + 2 * r;
      const Maximum mx = fast_argmax(x, a.Wx), my = fast_argmax(y, a.Wy);
      vals[r] = simcc_pair_maximum(mx, my, loc, loc + 1);
      // MMPose's refinement overwrites simcc with the log map, which the visibility reads.
      if (a.kx > 0) {
        dark_axis(x, a.Wx, kx, mx, loc, a.visibility ? bx.data() : nullptr, scratch);
        if (a.visibility) x = bx.data();
      }
      if (a.ky > 0) {
        dark_axis(y, a.Wy, ky, my, loc + 1, a.visibility ? by.data() : nullptr, scratch);
        if (a.visibility) y = by.data();
      }
      loc[0] = simcc_location(loc[0], a.ratio);
      loc[1] = simcc_location(loc[1], a.ratio);
      if (a.visibility) {
        const double px = simcc_softmax_max(x, a.Wx, a.beta, a.sigma[0]);
        const double py = simcc_softmax_max(y, a.Wy, a.beta, a.sigma[1]);
        vis[r] = simcc_visibility(px, py);
      }
    }
  });
}

void simcc_refine_dark(float* x, const float* simcc, int64_t R, int64_t W, int k) {
  const Kernel1D kern(k);
  parallel_for(R, 0.3 * (40.0 * k + W), [&](int64_t begin, int64_t end) {
    std::vector<float> scratch;
    for (int64_t r = begin; r < end; ++r) {
      const float* v = simcc + r * W;
      dark_axis(v, W, kern, fast_argmax(v, W), x + r, nullptr, scratch);
    }
  });
}

}  // namespace fastcodec

namespace fastcodec {

// SimCCLabel's Gaussian rule on three axes; the loop of simcc_encode's 'gaussian' case
// with a third label, all three skipped when any axis misses.
void simcc3d_encode(const Simcc3dEncodeArgs& a, float* tx, float* ty, float* tz,
                    uint8_t* inside) {
  const float ratio32 = (float)a.ratio;
  const FlushDenormalResults ftz;  // the tables, as the rows (parallel_for's Flushed)
  const GaussianTable gx = gaussian_table(a.W, a.sigma[0], a.normalize);
  const GaussianTable gy = gaussian_table(a.H, a.sigma[1], a.normalize);
  const GaussianTable gz = gaussian_table(a.D, a.sigma[2], a.normalize);
  const int64_t size[3] = {a.W, a.H, a.D};
  parallel_for<Denormals::Flushed>(a.R, 0.3 * (a.W + a.H + a.D), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      float* lx = tx + r * a.W;
      float* ly = ty + r * a.H;
      float* lz = tz + r * a.D;
      std::memset(lx, 0, sizeof(float) * a.W);
      std::memset(ly, 0, sizeof(float) * a.H);
      std::memset(lz, 0, sizeof(float) * a.D);
      inside[r] = 1;
      if (!simcc_keypoint_drawn(a.visible[r])) continue;
      int64_t mu[3];
      if (!simcc3d_bins(a.keypoints + 3 * r, ratio32, a.ratio, a.f32, a.sigma, size, mu)) {
        inside[r] = 0;
        continue;
      }
      write_gaussian(lx, a.W, mu[0], gx);
      write_gaussian(ly, a.H, mu[1], gy);
      write_gaussian(lz, a.D, mu[2], gz);
    }
  });
}

}  // namespace fastcodec
