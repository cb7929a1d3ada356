// CPU loops of the SimCC codec; see simcc_kernels.h. The per-bin arithmetic is
// fastcodec/simcc.h; what is CPU-specific here is only which values get computed:
// Gaussian labels are tabulated by distance, argmaxes vectorised, and DARK blurs only
// the 8-bin blocks that can hold the blurred maximum plus the five bins the Newton
// step reads.
#include "simcc_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "fast_argmax.h"
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
  const float ratio32 = (float)a.ratio;
  const float smooth_x = a.W > 1 ? (float)(a.label_smooth_weight / (double)(a.W - 1)) : 0.f;
  const float smooth_y = a.H > 1 ? (float)(a.label_smooth_weight / (double)(a.H - 1)) : 0.f;
  const float peak = (float)(1.0 - a.label_smooth_weight);
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
    if (a.visible[r] < 0.5) continue;
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
      if (mx >= a.W || my >= a.H || mx < 0 || my < 0) {
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
  parallel_for(R, (double)(Wx + Wy), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const Maximum mx = fast_argmax(sx + r * Wx, Wx);
      const Maximum my = fast_argmax(sy + r * Wy, Wy);
      vals[r] = simcc_pair_maximum(mx, my, locs + 2 * r, locs + 2 * r + 1);
    }
  });
}

namespace {

struct Kernel1d {
  float w[kMaxBlurKernel];
  int r = 0;
  double wsum = 0;
  explicit Kernel1d(int k) {
    if (k <= 0) return;
    opencv_gaussian_kernel(k, w);
    r = k / 2;
    for (int i = 0; i < k; ++i) wsum += w[i];
  }
};

// gaussian_blur1d's rescale factor for row v: raw max / blurred max, computing the
// blurred values only in the 8-bin blocks whose upper bound (window maximum times the
// tap sum, plus a rounding margin) reaches the blurred value at the raw argmax.
float blur_scale_bounded(const float* v, int64_t n, const Kernel1d& k, int64_t peak,
                         float raw_max, std::vector<float>& scratch) {
  const int r = k.r;
  auto blur = [&](int64_t i) { return simcc_blur_at(v, n, k.w, r, i); };
  const float seed = blur(peak);
  const int64_t nb = (n + 7) / 8;
  scratch.resize(2 * nb);
  float* bmax = scratch.data();
  float* babs = bmax + nb;
  for (int64_t b = 0; b < nb; ++b) {
    const int64_t e = std::min(n, 8 * b + 8);
    float m = v[8 * b], a = std::fabs(v[8 * b]);
    for (int64_t i = 8 * b + 1; i < e; ++i) {
      m = v[i] > m ? v[i] : m;
      a = std::fabs(v[i]) > a ? std::fabs(v[i]) : a;
    }
    bmax[b] = m;
    babs[b] = a;
  }
  const double rel = (2.0 * r + 4.0) * 1.2e-7;
  float best = seed;
  for (int64_t b = 0; b < nb; ++b) {
    const int64_t lo = 8 * b - r, hi = std::min(n, 8 * b + 8) - 1 + r;
    double m = (lo < 0 || hi >= n) ? 0.0 : -INFINITY, a = 0.0;
    for (int64_t c = std::max<int64_t>(0, lo) / 8; c <= std::min(n - 1, hi) / 8; ++c) {
      m = std::max(m, (double)bmax[c]);
      a = std::max(a, (double)babs[c]);
    }
    const double bound = m * k.wsum + std::fabs(m) * 1e-3 + rel * a * k.wsum + 1e-37;
    if (bound < (double)best) continue;
    const int64_t e = std::min(n, 8 * b + 8);
    for (int64_t i = 8 * b; i < e; ++i) {
      const float y = blur(i);
      best = y > best ? y : best;
    }
  }
  return blur_rescale(raw_max, best);
}

// The full path: the whole blurred, rescaled, clipped log row (for the visibility,
// and for rows holding NaN or Inf).
void blur_log_row(const float* v, int64_t n, const Kernel1d& k, float* out) {
  const float raw_max = first_argmax(v, n).value;
  for (int64_t i = 0; i < n; ++i) out[i] = simcc_blur_at(v, n, k.w, k.r, i);
  const float scale = blur_rescale(raw_max, first_argmax(out, n).value);
  for (int64_t i = 0; i < n; ++i) out[i] = simcc_dark_log(out[i] * scale);
}

bool all_finite(const float* v, int64_t n) {
  float acc = 0.f;
  for (int64_t i = 0; i < n; ++i) acc += v[i] * 0.f;  // NaN iff some v[i] is NaN or Inf
  return acc == acc;
}

// DARK along one axis for location *x (from raw maximum m). When `full` is given the
// whole log row is written there (the visibility reads it).
void dark_axis(const float* v, int64_t n, const Kernel1d& k, const Maximum& m, float* x,
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
  const Kernel1d kx(a.kx), ky(a.ky);
  double cost = a.Wx + a.Wy;
  if (a.kx > 0) cost += a.visibility ? (double)(a.kx) * (a.Wx + a.Wy) : 40.0 * (a.kx + a.ky);
  if (a.visibility) cost += 40.0 * (a.Wx + a.Wy);
  parallel_for(a.R, cost, [&](int64_t begin, int64_t end) {
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
      loc[0] = loc[0] / a.ratio;
      loc[1] = loc[1] / a.ratio;
      if (a.visibility) {
        const double px = simcc_softmax_max(x, a.Wx, a.beta, a.sigma[0]);
        const double py = simcc_softmax_max(y, a.Wy, a.beta, a.sigma[1]);
        vis[r] = px > py ? py : px;
      }
    }
  });
}

void simcc_refine_dark(float* x, const float* simcc, int64_t R, int64_t W, int k) {
  const Kernel1d kern(k);
  parallel_for(R, 40.0 * k + W, [&](int64_t begin, int64_t end) {
    std::vector<float> scratch;
    for (int64_t r = begin; r < end; ++r) {
      const float* v = simcc + r * W;
      dark_axis(v, W, kern, fast_argmax(v, W), x + r, nullptr, scratch);
    }
  });
}

}  // namespace fastcodec
