// CPU loops of the heatmap codecs: parallel over (sample, keypoint) channels, each
// element computed by the shared math in csrc/include/fastcodec.
#include "heatmap_kernels.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "blur_cpu.h"
#include "flush_denormals.h"
#include "fast_argmax.h"
#include "fastcodec/argmax.h"
#include "fastcodec/blur.h"
#include "fastcodec/heatmap_targets.h"
#include "fastcodec/refine.h"
#include "parallel.h"

namespace fastcodec {

namespace {

// A per-thread buffer reused across calls: large fresh allocations cost page faults
// comparable to the blur itself.
float* scratch_floats(size_t n) {
  thread_local std::vector<float> buffer;
  if (buffer.size() < n) buffer.resize(n);
  return buffer.data();
}

template <typename T>
void paint_unbiased(float* hm, int64_t W, int64_t H, double px, double py, double sigma,
                    std::vector<T>& fx, std::vector<T>& fy) {
  const T two_sigma2 = (T)(2 * sigma * sigma);
  fx.resize(W);
  fy.resize(H);
  for (int64_t x = 0; x < W; ++x) fx[x] = unbiased_factor<T>(x, (T)px, two_sigma2);
  for (int64_t y = 0; y < H; ++y) fy[y] = unbiased_factor<T>(y, (T)py, two_sigma2);
  for (int64_t y = 0; y < H; ++y) {
    float* row = hm + y * W;
    const T gy = fy[y];
    for (int64_t x = 0; x < W; ++x) {
      const float g = (float)(fx[x] * gy);
      row[x] = g > row[x] ? g : row[x];
    }
  }
}

// Keypoint i of the batch through point_to_draw (heatmap_targets.h), setting inside[i].
inline bool draw_point(const EncodeArgs& a, int64_t i, Point* p, uint8_t* inside) {
  bool usable;
  const bool draw = point_to_draw(a.keypoints[2 * i], a.keypoints[2 * i + 1], a.visible[i],
                                  a.scale[0], a.scale[1], a.f32, &p->x, &p->y, &usable);
  inside[i] = usable ? 1 : 0;
  return draw;
}

}  // namespace

void encode_gaussian(const EncodeArgs& a, GaussianKind kind, const double* sigma,
                     int64_t sigma_rows, bool sigma_f32, float* heat, uint8_t* inside) {
  const int64_t B = a.B, N = a.N, K = a.K, W = a.W, H = a.H;
  // The MSRA patch depends only on sigma: build it once per (row, instance).
  const int64_t S = sigma_rows * N;
  std::vector<PatchGeometry> geom(S);
  std::vector<std::vector<float>> patch(S);
  double patch_cost = 0;
  for (int64_t s = 0; s < S; ++s) {
    geom[s] = sigma_f32 ? patch_geometry_f32((float)sigma[s]) : patch_geometry(sigma[s]);
    patch_cost += (double)geom[s].length * geom[s].length;
  }
  if (kind == GaussianKind::Msra) {
    // The value depends on dx * dx + dy * dy only (integer offsets from the centre):
    // evaluate one octant, |dy| <= |dx|, and copy it to the other seven.
    parallel_for<Denormals::Flushed>(S, 3.6 * patch_cost / (S ? S : 1), [&](int64_t begin, int64_t end) {
      std::vector<float> octant;
      for (int64_t s = begin; s < end; ++s) {
        const int64_t L = geom[s].length, c = (int64_t)geom[s].centre;
        const int64_t R = std::max<int64_t>(c, L - 1 - c) + 1;
        const float cf = (float)geom[s].centre, s2 = (float)(2 * sigma[s] * sigma[s]);
        octant.assign(R * R, 0.f);
        for (int64_t ax = 0; ax < R; ++ax)
          for (int64_t ay = 0; ay <= ax; ++ay)
            octant[ax * R + ay] = msra_patch_value(c + ax, c + ay, cf, s2);
        patch[s].resize(L * L);
        float* P = patch[s].data();
        for (int64_t gy = 0; gy < L; ++gy) {
          const int64_t ay = gy < c ? c - gy : gy - c;
          for (int64_t gx = 0; gx < L; ++gx) {
            const int64_t ax = gx < c ? c - gx : gx - c;
            P[gy * L + gx] = ax >= ay ? octant[ax * R + ay] : octant[ay * R + ax];
          }
        }
      }
    });
  }
  // ns per map: clearing it, then each instance's patch (DARK: the whole map).
  const double map_ns = 0.6 * H * W + N * (kind == GaussianKind::Unbiased ? 1.0 * H * W
                                                                        : 4.0 * patch_cost / (S ? S : 1));
  parallel_for<Denormals::Flushed>(B * K, map_ns, [&](int64_t begin, int64_t end) {
    std::vector<double> ux, uy;
    std::vector<float> vx, vy;
    for (int64_t bk = begin; bk < end; ++bk) {
      const int64_t b = bk / K, k = bk % K;
      float* hm = heat + bk * H * W;
      std::memset(hm, 0, sizeof(float) * H * W);
      for (int64_t n = 0; n < N; ++n) {
        const int64_t i = (b * N + n) * K + k;
        Point p;
        if (!draw_point(a, i, &p, inside)) continue;
        const int64_t s = (sigma_rows == 1 ? 0 : b) * N + n;
        const PatchGeometry& g = geom[s];
        if (kind == GaussianKind::Unbiased) {
          bool misses = a.f32 ? unbiased_misses<float>((float)p.x, (float)p.y, (float)g.radius, W, H)
                              : unbiased_misses<double>(p.x, p.y, g.radius, W, H);
          if (misses) {
            inside[i] = 0;
            continue;
          }
          if (a.f32)
            paint_unbiased<float>(hm, W, H, p.x, p.y, sigma[s], vx, vy);
          else
            paint_unbiased<double>(hm, W, H, p.x, p.y, sigma[s], ux, uy);
          continue;
        }
        const PatchWindow win = patch_window(p.x, p.y, a.f32, g.radius);
        if (patch_misses(win, W, H)) {
          inside[i] = 0;
          continue;
        }
        const int64_t x1 = max_i64(0, win.left), x2 = min_i64(W, win.right);
        const int64_t y1 = max_i64(0, win.top), y2 = min_i64(H, win.bottom);
        const int64_t L = g.length;
        if (kind == GaussianKind::Msra) {
          // patch columns/rows past L are not pasted (the loop below breaks there)
          const int64_t xe = min_i64(x2, win.left + L), ye = min_i64(y2, win.top + L);
          const float* P = patch[s].data();
          for (int64_t y = y1; y < ye; ++y) {
            const float* src = P + (y - win.top) * L + (x1 - win.left);
            float* row = hm + y * W + x1;
            for (int64_t t = 0; t < xe - x1; ++t) row[t] = src[t] > row[t] ? src[t] : row[t];
          }
          continue;
        }
        if (kind == GaussianKind::Udp) {
          const double s2 = 2 * sigma[s] * sigma[s];
          ux.resize(L);
          uy.resize(L);
          for (int64_t t = 0; t < L; ++t) {
            ux[t] = udp_patch_factor(t, g.centre, p.x, win.mu_x, s2);
            uy[t] = udp_patch_factor(t, g.centre, p.y, win.mu_y, s2);
          }
        }
        for (int64_t y = y1; y < y2; ++y) {
          const int64_t gy = y - win.top;
          if (gy >= L) break;
          float* row = hm + y * W;
          for (int64_t x = x1; x < x2; ++x) {
            const int64_t gx = x - win.left;
            if (gx >= L) break;
            const float v = (float)(ux[gx] * uy[gy]);
            row[x] = v > row[x] ? v : row[x];
          }
        }
      }
    }
  });
}

void encode_offset(const EncodeArgs& a, double radius, float* heat, uint8_t* inside) {
  const int64_t K = a.K, N = a.N, W = a.W, H = a.H;
  // Bound by storing 3 maps per keypoint.
  parallel_for<Denormals::Flushed>(a.B * K, 0.7 * H * W, [&](int64_t begin, int64_t end) {
    std::vector<double> ox(W), oy(H);
    std::vector<float> fx(W);
    for (int64_t bk = begin; bk < end; ++bk) {
      const int64_t b = bk / K, k = bk % K;
      float* label = heat + bk * 3 * H * W;
      float* dx = label + H * W;
      float* dy = dx + H * W;
      // Each instance overwrites the whole channel in MMPose: only the last visible
      // one shows.
      Point last;
      bool drawn = false;
      for (int64_t n = 0; n < N; ++n) {
        const int64_t i = (b * N + n) * K + k;
        Point p;
        if (draw_point(a, i, &p, inside)) {
          last = p;
          drawn = true;
        }
      }
      if (!drawn) {
        std::memset(label, 0, sizeof(float) * 3 * H * W);
        continue;
      }
      for (int64_t x = 0; x < W; ++x) {
        ox[x] = offset_along(x, last.x, radius);
        fx[x] = (float)ox[x];
      }
      for (int64_t y = 0; y < H; ++y) oy[y] = offset_along(y, last.y, radius);
      // Whole-plane memset/memcpy where possible: they store faster than row loops.
      std::memset(label, 0, sizeof(float) * H * W);
      for (int64_t y = 0; y < H; ++y) {
        const double oyy = oy[y] * oy[y];
        // ox^2 + oyy >= oyy in floating point too: rows beyond the disc stay 0.
        if (oyy > 1.0) continue;
        float* lrow = label + y * W;
        for (int64_t x = 0; x < W; ++x) lrow[x] = offset_label(ox[x], oyy);
      }
      std::copy(fx.begin(), fx.end(), dx);  // then the rows so far, doubled
      for (int64_t done = 1; done < H; done *= 2)
        std::memcpy(dx + done * W, dx, sizeof(float) * W * std::min(done, H - done));
      for (int64_t y = 0; y < H; ++y) std::fill(dy + y * W, dy + (y + 1) * W, (float)oy[y]);
    }
  });
}

void encode_megvii(const EncodeArgs& a, int ksize, float* heat, uint8_t* inside) {
  const int64_t K = a.K, N = a.N, W = a.W, H = a.H;
  const Kernel1D kern(ksize);
  const int64_t row_end = opencv_row_simd_end(W), column_end = opencv_column_simd_end(W);
  // Mostly clearing memory.
  parallel_for<Denormals::Flushed>(a.B * K, 0.4 * H * W, [&](int64_t begin, int64_t end) {
    std::vector<float> px(W);
    std::vector<uint8_t> row_written(H);
    std::vector<float> on_kx(W + 2 * kern.r), on_ky(H + 2 * kern.r);
    for (int64_t bk = begin; bk < end; ++bk) {
      const int64_t b = bk / K, k = bk % K;
      float* hm = heat + bk * H * W;
      std::memset(hm, 0, sizeof(float) * H * W);
      for (int64_t n = 0; n < N; ++n) {  // N == 1, checked by the caller
        const int64_t i = (b * N + n) * K + k;
        Point p;
        if (!draw_point(a, i, &p, inside)) continue;
        int64_t kx, ky;
        if (!megvii_impulse_pixel(p.x, p.y, W, H, &kx, &ky)) {
          inside[i] = 0;
          continue;
        }
        // cv2.GaussianBlur of the impulse, pass by pass as OpenCV rounds it: the row
        // pass gives px; output row y is the column sum over the taps that reflect onto
        // ky, i.e. px times a per-row pattern of 0/1/2 hits per symmetric tap pair.
        const int r = kern.r;
        const bool interior_x = kx - r > 0 && kx + r < W - 1;
        std::fill(px.begin(), px.end(), 0.f);
        if (!opencv_blur_filters_axis(W)) {
          px[kx] = 1.f;  // a one-column map: no row pass
        } else if (interior_x) {
          // Reflected taps land in [1, r] and [W - 1 - r, W - 2]: with the impulse
          // outside both, each response is one tap, exactly.
          for (int64_t x = kx - r; x <= kx + r; ++x) px[x] = kern.w[kx - x + r];
        } else {
          // on_kx[j + r]: does padded column j reflect onto kx?
          for (int64_t j = -r; j < W + r; ++j) on_kx[j + r] = megvii_impulse_tap(j, W, kx);
          for (int64_t x = 0; x < W; ++x) {
            auto at = [&](int i) { return on_kx[x + i + r]; };
            px[x] = x < row_end ? opencv_row_sum(kern.w, r, at)
                                : opencv_row_sum_tail(kern.w, r, at);
          }
        }
        // Away from the top and bottom borders only rows within r of ky are reached.
        const bool interior_y = ky - r > 0 && ky + r < H - 1;
        const int64_t y_begin = interior_y ? ky - r : 0, y_end = interior_y ? ky + r + 1 : H;
        for (int64_t j = y_begin - r; j < y_end + r; ++j)
          on_ky[j - y_begin + r] = megvii_impulse_tap(j, H, ky);
        const bool column_pass = opencv_blur_filters_axis(H);
        if (!column_pass) {  // a one-row map: no column pass, the row pass is the result
          std::copy(px.begin(), px.end(), hm);
          row_written[0] = 1;
        }
        for (int64_t y = y_begin; column_pass && y < y_end; ++y) {
          const float* taps = on_ky.data() + (y - y_begin + r);  // taps[i]: row y + i
          float hits[kMaxBlurKernel / 2 + 1];  // hits[i]: taps +i and -i landing on ky
          hits[0] = taps[0];
          float total = hits[0];
          for (int i = 1; i <= r; ++i) {
            hits[i] = taps[i] + taps[-i];
            total += hits[i];
          }
          row_written[y] = total > 0.f;
          if (!row_written[y]) continue;  // stays zero
          float* out = hm + y * W;
          // Taps pair up as at(i) + at(-i) = hits[i] * px (exact: hits is 0, 1 or 2);
          // absent pairs add fma(w, 0, s) = s, so only hit pairs are summed.
          for (int64_t x = 0; x < W; ++x) out[x] = kern.w[r] * (hits[0] * px[x]);
          for (int i = 1; i <= r; ++i) {
            if (hits[i] == 0.f) continue;
            const float w = kern.w[r + i], h = hits[i];
            for (int64_t x = 0; x < column_end; ++x) out[x] = fmaf(w, h * px[x], out[x]);
            for (int64_t x = column_end; x < W; ++x) out[x] = out[x] + w * (h * px[x]);
          }
        }
        const float centre = hm[ky * W + kx];
        for (int64_t y = y_begin; y < y_end; ++y) {
          if (!row_written[y]) continue;
          float* out = hm + y * W;
          for (int64_t x = 0; x < W; ++x) out[x] = megvii_normalize(out[x], centre);
        }
      }
    }
  });
}

// ----------------------------------------------------------------------------------
// Decoding

void heatmap_maximum(const float* heat, int64_t BK, int64_t H, int64_t W, float* locs,
                     float* vals) {
  parallel_for(BK, 0.15 * H * W, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      const Maximum m = fast_argmax(heat + c * H * W, H * W);
      maximum_location(m, W, locs + 2 * c, locs + 2 * c + 1);
      vals[c] = m.value;
    }
  });
}

namespace {

// Columns [x0, x1) of at most 8 covering [lo, hi]: 8 wide where the map allows, so
// blur_rect takes its SIMD path for the small refinement patches.
void patch_columns(int64_t lo, int64_t hi, int64_t W, int r, int64_t* x0, int64_t* x1) {
  *x0 = std::max<int64_t>(0, std::max<int64_t>(hi - 7, std::min<int64_t>(lo, W - r - 8)));
  *x1 = std::min<int64_t>(W, *x0 + 8);
}

// The DARK step at integer (x, y) of one map whose modulation scale is s.
bool dark_offset(const float* src, const BlurPlan& plan, int64_t x, int64_t y, float s,
                 BlurScratch& scratch, Offset* o, const BlurredRect* known = nullptr) {
  if (!dark_applies(plan.W, plan.H, x, y)) return false;
  if (known && known->holds(x - 2, x + 2, y - 2, y + 2)) {  // blurred already: same bits
    auto L = [&](int dx, int dy) { return dark_log(known->at(x + dx, y + dy) * s); };
    return dark_step(L, plan.W, plan.H, x, y, o);
  }
  int64_t x0, x1;
  patch_columns(x - 2, x + 2, plan.W, plan.r, &x0, &x1);
  float patch[5 * 8];
  blur_rect(src, plan, x0, x1, y - 2, y + 3, patch, scratch);
  const int64_t n = x1 - x0;
  auto L = [&](int dx, int dy) { return dark_log(patch[(2 + dy) * n + x - x0 + dx] * s); };
  return dark_step(L, plan.W, plan.H, x, y, o);
}

// The per-channel factor of MMPose's gaussian_blur that rescales each blurred map to
// its raw maximum; only the blurred maximum is needed, not the blurred map.
void modulation_scales(const float* heat, int64_t C, int64_t H, int64_t W, const Kernel1D& kern,
                       float* scale) {
  const BlurPlan plan = blur_plan(H, W, kern.w, kern.r, Border::Zero);
  parallel_for(C, 0.08 * H * W * (2 * kern.r + 3), [&](int64_t begin, int64_t end) {
    BlurScratch& scratch = thread_scratch();
    for (int64_t c = begin; c < end; ++c) {
      const float* src = heat + c * H * W;
      reading_denormals_as_zero([&] {
        Maximum raw;
        const Maximum blurred = blurred_argmax(src, plan, 1.f, scratch, &raw);
        scale[c] = blur_rescale(raw.value, blurred.value);
        return blurred.value;
      });
    }
  });
}

}  // namespace

void refine_sign(double* kps, int64_t B, int64_t N, int64_t K, const float* heat, int64_t H,
                 int64_t W) {
  parallel_for(B * N * K, 10.0, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int64_t b = i / (N * K), k = i % K;
      int64_t x, y;
      double* kp = kps + 2 * i;
      if (!keypoint_pixel(kp[0], kp[1], &x, &y)) continue;
      const Offset o = sign_step(heat + (b * K + k) * H * W, W, H, x, y);
      kp[0] += o.dx;
      kp[1] += o.dy;
    }
  });
}

void gaussian_blur(const float* heat, int64_t C, int64_t H, int64_t W, int ksize, float* out) {
  const Kernel1D kern(ksize);
  parallel_for(C, 0.1 * H * W * (ksize + 2), [&](int64_t begin, int64_t end) {
    BlurScratch& scratch = thread_scratch();
    for (int64_t c = begin; c < end; ++c) {
      float* m = out + c * H * W;
      reading_denormals_as_zero([&] {
        blur_map(heat + c * H * W, m, H, W, kern.w, kern.r, Border::Zero, scratch);
        const float blurred = fast_max(m, H * W);
        const float s = blur_rescale(fast_max(heat + c * H * W, H * W), blurred);
        for (int64_t p = 0; p < H * W; ++p) m[p] *= s;
        return blurred;
      });
    }
  });
}

void refine_dark(double* kps, int64_t B, int64_t N, int64_t K, const float* heat, int64_t H,
                 int64_t W, int ksize) {
  const Kernel1D kern(ksize);
  std::vector<float> scale(B * K);
  modulation_scales(heat, B * K, H, W, kern, scale.data());
  const BlurPlan plan = blur_plan(H, W, kern.w, kern.r, Border::Zero);
  parallel_for(B * N * K, 10.0 * (2 * kern.r + 1) * 3, [&](int64_t begin, int64_t end) {
    BlurScratch& scratch = thread_scratch();
    for (int64_t i = begin; i < end; ++i) {
      const int64_t b = i / (N * K), k = i % K;
      int64_t x, y;
      double* kp = kps + 2 * i;
      if (!keypoint_pixel(kp[0], kp[1], &x, &y)) continue;
      Offset o;
      if (dark_offset(heat + (b * K + k) * H * W, plan, x, y, scale[b * K + k], scratch, &o)) {
        kp[0] += o.dx;
        kp[1] += o.dy;
      }
    }
  });
}

namespace {

// The DARK-UDP step of every keypoint, given each map's modulation scale.
// The DARK-UDP step of one keypoint kp (sample b, keypoint k), given the modulation
// scale of every map it reads.
void dark_udp_step_one(double* kp, int64_t b, int64_t k, int64_t K, const float* heat,
                       int64_t H, int64_t W, const BlurPlan& plan, int r, const float* scale,
                       bool f32, BlurScratch& scratch) {
  if (!coord_is_usable(kp[0]) || !coord_is_usable(kp[1])) return;
  const int64_t centre = dark_udp_centre(kp[0], kp[1], k, W, H, f32);
  int64_t ch[7], yy[7], xx[7];
  for (int j = 0; j < 7; ++j)
    if (!dark_udp_neighbour(centre, j, K, W, H, &ch[j], &xx[j], &yy[j])) return;
  // Usually all seven lie in one channel within a 3x3 block: blur that block once.
  int64_t x0 = xx[0], x1 = xx[0], y0 = yy[0], y1 = yy[0];
  bool one_block = true;
  for (int j = 1; j < 7; ++j) {
    one_block &= ch[j] == ch[0];
    x0 = min_i64(x0, xx[j]), x1 = max_i64(x1, xx[j]);
    y0 = min_i64(y0, yy[j]), y1 = max_i64(y1, yy[j]);
  }
  // Indices that wrap across a padded row spread wider than 3x3: per point then.
  one_block &= x1 - x0 <= 2 && y1 - y0 <= 2;
  float v[7], patch[24];
  if (one_block) {
    int64_t wx0, wx1;
    patch_columns(x0, x1, W, r, &wx0, &wx1);
    blur_rect(heat + (b * K + ch[0]) * H * W, plan, wx0, wx1, y0, y1 + 1, patch, scratch);
    for (int j = 0; j < 7; ++j)
      v[j] = dark_udp_log(patch[(yy[j] - y0) * (wx1 - wx0) + xx[j] - wx0] * scale[b * K + ch[0]]);
  } else {
    for (int j = 0; j < 7; ++j) {
      blur_rect(heat + (b * K + ch[j]) * H * W, plan, xx[j], xx[j] + 1, yy[j], yy[j] + 1, patch,
                scratch);
      v[j] = dark_udp_log(patch[0] * scale[b * K + ch[j]]);
    }
  }
  const Offset o = dark_udp_step(v);
  kp[0] -= o.dx;
  kp[1] -= o.dy;
}

// The DARK-UDP step of every keypoint, given each map's modulation scale.
void dark_udp_steps(double* kps, int64_t B, int64_t N, int64_t K, const float* heat, int64_t H,
                    int64_t W, const Kernel1D& kern, const float* scale, bool f32) {
  const BlurPlan plan = blur_plan(H, W, kern.w, kern.r, Border::Zero);
  parallel_for(B * N * K, 4.0 * (2 * kern.r + 1) * 3, [&](int64_t begin, int64_t end) {
    BlurScratch& scratch = thread_scratch();
    for (int64_t i = begin; i < end; ++i)
      dark_udp_step_one(kps + 2 * i, i / (N * K), i % K, K, heat, H, W, plan, kern.r, scale, f32,
                        scratch);
  });
}

}  // namespace

void refine_dark_udp(double* kps, int64_t B, int64_t N, int64_t K, const float* heat,
                     int64_t H, int64_t W, int ksize, bool f32) {
  const Kernel1D kern(ksize);
  std::vector<float> scale(B * K);
  modulation_scales(heat, B * K, H, W, kern, scale.data());
  dark_udp_steps(kps, B, N, K, heat, H, W, kern, scale.data(), f32);
}

void decode_megvii(const float* heat, int64_t B, int64_t K, int64_t H, int64_t W, int ksize,
                   float* locs, float* scores) {
  const Kernel1D kern(ksize);
  const BlurPlan plan = blur_plan(H, W, kern.w, kern.r, Border::Zero);
  parallel_for(B * K, 0.08 * H * W * (2 * kern.r + 5), [&](int64_t begin, int64_t end) {
    BlurScratch& scratch = thread_scratch();
    for (int64_t c = begin; c < end; ++c) {
      const float* src = heat + c * H * W;
      float* loc = locs + 2 * c;
      // MMPose: m = gaussian_blur(map) (rescaled to the raw maximum), argmax of m, then
      // the sign step on m's neighbours. Only the blurred maximum, the argmax of the
      // rescaled blur and the 3x3 block around it are needed, not the whole of m.
      reading_denormals_as_zero([&] {
        Maximum raw;
        const Maximum blurred = blurred_argmax(src, plan, 1.f, scratch, &raw);
        const float s = blur_rescale(raw.value, blurred.value);
        const Maximum mx = s == 1.f ? blurred : blurred_argmax(src, plan, s, scratch);
        maximum_location(mx, W, loc, loc + 1);
        const int64_t x = (int64_t)loc[0], y = (int64_t)loc[1];
        if (megvii_applies(W, H, x, y)) {
          int64_t x0, x1;
          patch_columns(x - 1, x + 1, W, plan.r, &x0, &x1);
          float patch[3 * 8];
          blur_rect(src, plan, x0, x1, y - 1, y + 2, patch, scratch);
          const int64_t n = x1 - x0;
          auto m = [&](int64_t dx, int64_t dy) { return patch[(1 + dy) * n + x - x0 + dx] * s; };
          const Offset o = megvii_shift(m(-1, 0), m(1, 0), m(0, -1), m(0, 1));
          loc[0] += (float)o.dx;
          loc[1] += (float)o.dy;
        }
        scores[c] = megvii_score(mx.value);
        return blurred.value;
      });
    }
  });
}

void decode_udp_combined(const float* heat, int64_t B, int64_t K, int64_t H, int64_t W,
                         int ksize, double radius, float* locs, float* scores) {
  const Kernel1D kern(ksize);
  const int64_t HW = H * W, total = K * HW;
  const float rad = (float)radius;
  const BlurPlan plan = blur_plan(H, W, kern.w, kern.r, Border::Reflect101);
  parallel_for(B * K, 0.05 * HW * (2 * kern.r + 3), [&](int64_t begin, int64_t end) {
    BlurScratch& scratch = thread_scratch();
    for (int64_t c = begin; c < end; ++c) {
      const int64_t b = c / K, k = c % K;
      const float* sample = heat + b * 3 * total;
      float* loc = locs + 2 * c;
      reading_denormals_as_zero([&] {
        const Maximum mx = blurred_argmax(sample + 3 * k * HW, plan, 1.f, scratch);
        maximum_location(mx, W, loc, loc + 1);
        scores[c] = mx.value;
        return mx.value;
      });
      const int64_t q = udp_combined_index(loc[0], loc[1], k, W, H, K);
      const int64_t ch = q / HW, p = q % HW;
      loc[0] += sample[(3 * ch + 1) * HW + p] * rad;
      loc[1] += sample[(3 * ch + 2) * HW + p] * rad;
    }
  });
}

void decode_msra(const float* heat, int64_t B, int64_t K, int64_t H, int64_t W, float* locs,
                 float* vals) {
  parallel_for(B * K, 0.25 * H * W, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      const float* map = heat + c * H * W;
      const Maximum m = fast_argmax(map, H * W);
      float* loc = locs + 2 * c;
      maximum_location(m, W, loc, loc + 1);
      vals[c] = m.value;
      const Offset o = sign_step(map, W, H, (int64_t)loc[0], (int64_t)loc[1]);
      loc[0] += (float)o.dx;
      loc[1] += (float)o.dy;
    }
  });
}

void decode_dark(const float* heat, int64_t B, int64_t K, int64_t H, int64_t W, int ksize,
                 bool udp, float* locs, float* vals) {
  if (!udp) {
    // DARK reads only its own map: one pass per map, the blur only where a step is due.
    const Kernel1D kern(ksize);
    const BlurPlan plan = blur_plan(H, W, kern.w, kern.r, Border::Zero);
    parallel_for(B * K, 0.05 * H * W * (2 * kern.r + 5), [&](int64_t begin, int64_t end) {
      BlurScratch& scratch = thread_scratch();
      for (int64_t c = begin; c < end; ++c) {
        const float* src = heat + c * H * W;
        reading_denormals_as_zero([&] {
          Maximum m;  // the raw maximum; its value is np.max, NaN included
          BlurredRect near_peak;
          const Maximum blurred = blurred_argmax(src, plan, 1.f, scratch, &m, &near_peak);
          float* loc = locs + 2 * c;
          maximum_location(m, W, loc, loc + 1);
          vals[c] = m.value;
          Offset o;
          if (dark_offset(src, plan, (int64_t)loc[0], (int64_t)loc[1],
                          blur_rescale(m.value, blurred.value), scratch, &o, &near_peak)) {
            loc[0] = (float)((double)loc[0] + o.dx);
            loc[1] = (float)((double)loc[1] + o.dy);
          }
          return blurred.value;
        });
      }
    });
    return;
  }
  // DARK-UDP may read neighbouring maps (MMPose's wrap-around indexing for -1
  // locations): every map's maximum and scale first, then the steps.
  const Kernel1D kern(ksize);
  const BlurPlan plan = blur_plan(H, W, kern.w, kern.r, Border::Zero);
  std::vector<float> scale(B * K);
  std::vector<double> kps(2 * B * K);
  parallel_for(B * K, 0.05 * H * W * (2 * kern.r + 5), [&](int64_t begin, int64_t end) {
    BlurScratch& scratch = thread_scratch();
    for (int64_t c = begin; c < end; ++c) {
      const float* src = heat + c * H * W;
      reading_denormals_as_zero([&] {
        Maximum m;
        const Maximum blurred = blurred_argmax(src, plan, 1.f, scratch, &m);
        maximum_location(m, W, locs + 2 * c, locs + 2 * c + 1);
        vals[c] = m.value;
        scale[c] = blur_rescale(m.value, blurred.value);
        kps[2 * c] = locs[2 * c];
        kps[2 * c + 1] = locs[2 * c + 1];
        // A location on the map reads only its own map: step now.
        if (locs[2 * c] >= 0)
          dark_udp_step_one(&kps[2 * c], c / K, c % K, K, heat, H, W, plan, kern.r,
                            scale.data(), true, scratch);
        return blurred.value;
      });
    }
  });
  // -1 locations wrap into neighbouring maps, whose scales are known now.
  BlurScratch& scratch = thread_scratch();
  for (int64_t c = 0; c < B * K; ++c)
    if (locs[2 * c] < 0)
      dark_udp_step_one(&kps[2 * c], c / K, c % K, K, heat, H, W, plan, kern.r, scale.data(),
                        true, scratch);
  for (int64_t i = 0; i < 2 * B * K; ++i) locs[i] = (float)kps[i];
}

}  // namespace fastcodec
