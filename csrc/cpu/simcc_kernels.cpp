// CPU loops of the SimCC codec; see simcc_kernels.h.
#include "simcc_kernels.h"

#include <cstring>
#include <vector>

#include "fastcodec/simcc.h"
#include "parallel.h"

namespace fastcodec {

void simcc_encode(const SimccEncodeArgs& a, float* tx, float* ty, uint8_t* inside) {
  const float ratio32 = (float)a.ratio;
  const float smooth_x = a.W > 1 ? (float)(a.label_smooth_weight / (double)(a.W - 1)) : 0.f;
  const float smooth_y = a.H > 1 ? (float)(a.label_smooth_weight / (double)(a.H - 1)) : 0.f;
  const float peak = (float)(1.0 - a.label_smooth_weight);
  parallel_for(a.R, 2.0 * (a.W + a.H), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      float* lx = tx + r * a.W;
      float* ly = ty + r * a.H;
      std::memset(lx, 0, sizeof(float) * a.W);
      std::memset(ly, 0, sizeof(float) * a.H);
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
        for (int64_t i = 0; i < a.W; ++i) lx[i] = simcc_gaussian_label(i, mx, a.sigma[0], a.normalize);
        for (int64_t i = 0; i < a.H; ++i) ly[i] = simcc_gaussian_label(i, my, a.sigma[1], a.normalize);
      } else {
        if (mx >= a.W || my >= a.H || mx < 0 || my < 0) {
          inside[r] = 0;
          continue;
        }
        if (a.label_smooth_weight > 0) {
          for (int64_t i = 0; i < a.W; ++i) lx[i] = smooth_x;
          for (int64_t i = 0; i < a.H; ++i) ly[i] = smooth_y;
        }
        lx[mx] = peak;
        ly[my] = peak;
      }
    }
  });
}

void simcc_maximum(const float* sx, const float* sy, int64_t R, int64_t Wx, int64_t Wy,
                   float* locs, float* vals) {
  parallel_for(R, (double)(Wx + Wy), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const Maximum mx = first_argmax(sx + r * Wx, Wx);
      const Maximum my = first_argmax(sy + r * Wy, Wy);
      vals[r] = simcc_pair_maximum(mx, my, locs + 2 * r, locs + 2 * r + 1);
    }
  });
}

namespace {

// gaussian_blur1d then log(clip(., 1e-3, 50)) of one row, into out (n floats).
void blur_log_row(const float* v, int64_t n, const float* w, int r, float* out) {
  const float raw_max = first_argmax(v, n).value;
  for (int64_t i = 0; i < n; ++i) out[i] = simcc_blur_at(v, n, w, r, i);
  const float scale = blur_rescale(raw_max, first_argmax(out, n).value);
  for (int64_t i = 0; i < n; ++i) out[i] = simcc_dark_log(out[i] * scale);
}

}  // namespace

void simcc_decode(const SimccDecodeArgs& a, float* locs, float* vals, double* vis) {
  float wx[kMaxBlurKernel], wy[kMaxBlurKernel];
  if (a.kx > 0) opencv_gaussian_kernel(a.kx, wx);
  if (a.ky > 0) opencv_gaussian_kernel(a.ky, wy);
  const double cost = (a.kx > 0 ? 4.0 + a.kx : 1.0) * (a.Wx + a.Wy) + (a.visibility ? 40.0 * (a.Wx + a.Wy) : 0);
  parallel_for(a.R, cost, [&](int64_t begin, int64_t end) {
    std::vector<float> bx(a.kx > 0 ? a.Wx : 0), by(a.ky > 0 ? a.Wy : 0);
    for (int64_t r = begin; r < end; ++r) {
      const float* x = a.sx + r * a.Wx;
      const float* y = a.sy + r * a.Wy;
      float* loc = locs + 2 * r;
      vals[r] = simcc_pair_maximum(first_argmax(x, a.Wx), first_argmax(y, a.Wy), loc, loc + 1);
      if (a.kx > 0) {  // MMPose's refinement overwrites simcc with the log map
        blur_log_row(x, a.Wx, wx, a.kx / 2, bx.data());
        simcc_dark_step(bx.data(), a.Wx, loc);
        x = bx.data();
      }
      if (a.ky > 0) {
        blur_log_row(y, a.Wy, wy, a.ky / 2, by.data());
        simcc_dark_step(by.data(), a.Wy, loc + 1);
        y = by.data();
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
  float w[kMaxBlurKernel];
  opencv_gaussian_kernel(k, w);
  parallel_for(R, (4.0 + k) * W, [&](int64_t begin, int64_t end) {
    std::vector<float> b(W);
    for (int64_t r = begin; r < end; ++r) {
      blur_log_row(simcc + r * W, W, w, k / 2, b.data());
      simcc_dark_step(b.data(), W, x + r);
    }
  });
}

}  // namespace fastcodec
