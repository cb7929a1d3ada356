// Hand3DHeatmap's target volumes; see hand3d_kernels.h. The arithmetic is
// fastcodec/hand3d.h. What is CPU-specific: each window visits its distinct voxels
// only (clipping maps several window steps to one edge voxel, all with the same value),
// and the first instance stores instead of taking the maximum with the zero volume.
// Storing first matters: the front allocates the volume as lazily zeroed pages (most
// of a 64^3 volume stays zero), and a read before the first write would fault a page
// twice (zero page, then copy on write).
#include "hand3d_kernels.h"

#include <algorithm>
#include <vector>

#include "fastcodec/hand3d.h"
#include "parallel.h"

namespace fastcodec {

namespace {

// One axis of a window: its distinct voxels and their factors (hand3d_axis_voxels), in
// buffers of the axis's size, reused from window to window.
struct Axis {
  std::vector<int64_t> voxel;
  std::vector<double> factor;
  int64_t n = 0;
  void list(int64_t L, double radius, double mu, int64_t size, double sigma) {
    voxel.resize(size);
    factor.resize(size);
    n = hand3d_axis_voxels(voxel.data(), factor.data(), L, radius, mu, size, sigma);
  }
};

struct Window {
  Axis x, y, z;
  std::vector<float> row;  // one row's values
};

void draw_window(float* vol, const Hand3dEncodeArgs& a, double mu_x, double mu_y, double mu_z,
                 double sigma, bool store, Window& w) {
  const double radius = sigma * 3.0;
  const int64_t L = hand3d_window_length(radius);
  w.x.list(L, radius, mu_x, a.W, sigma);
  w.y.list(L, radius, mu_y, a.H, sigma);
  w.z.list(L, radius, mu_z, a.D, sigma);
  // A row of the window: its values in one loop that vectorises (the product of the
  // axis factors and the rounding test), the rare values too close to a float32
  // rounding boundary recomputed exactly, then stored (or their maximum taken) in
  // another. The distinct x voxels are a contiguous run unless window steps fall on
  // .5 (rounding half to even then skips every other voxel).
  const int64_t nx = w.x.n, x0 = w.x.voxel[0];
  const bool run = w.x.voxel[nx - 1] - x0 == nx - 1;
  w.row.resize(nx);
  float* vals = w.row.data();
  const double* fx = w.x.factor.data();
  const int64_t* xs = w.x.voxel.data();
  for (int64_t k = 0; k < w.z.n; ++k) {
    const int64_t z = w.z.voxel[k];
    for (int64_t j = 0; j < w.y.n; ++j) {
      const int64_t y = w.y.voxel[j];
      const double fyz = w.y.factor[j] * w.z.factor[k];
      int64_t unclear = 0;
      for (int64_t i = 0; i < nx; ++i) {
        const double p = fx[i] * fyz;
        unclear += !hand3d_rounds_clear(p);
        vals[i] = hand3d_scaled((float)p, a.max_bound);
      }
      for (int64_t i = 0; unclear && i < nx; ++i)
        if (!hand3d_rounds_clear(fx[i] * fyz))
          vals[i] = hand3d_scaled(hand3d_gaussian(xs[i], y, z, mu_x, mu_y, mu_z, sigma),
                                  a.max_bound);
      float* row = vol + (z * a.H + y) * a.W;
      if (run) {
        float* dst = row + x0;
        if (store) {
          for (int64_t i = 0; i < nx; ++i) dst[i] = vals[i];
        } else {
          for (int64_t i = 0; i < nx; ++i) dst[i] = vals[i] > dst[i] ? vals[i] : dst[i];
        }
      } else {
        for (int64_t i = 0; i < nx; ++i) {
          float& v = row[xs[i]];
          v = store || vals[i] > v ? vals[i] : v;
        }
      }
    }
  }
}

}  // namespace

void hand3d_encode(const Hand3dEncodeArgs& a, float* heatmaps, uint8_t* inside) {
  const int64_t volume = a.D * a.H * a.W;
  // A volume's single-thread time: ~1 ns per window voxel, and ~1 us per 4 KB page a
  // window writes first (the front's volumes are fresh zero pages: each first write
  // faults; 2-core Zen 2 VM). A window of L voxels a side, clipped to the volume,
  // spans up to L planes of L rows of W floats, and no more pages than its volume.
  double window_ns = 0;
  for (int64_t i = 0; i < a.B * a.N; ++i) {
    const double L = (double)hand3d_window_length(a.sigma[i] * 3.0);
    const double lz = std::min(L, (double)a.D), ly = std::min(L, (double)a.H);
    const double lx = std::min(L, (double)a.W);
    const double pages = std::min(lz * (ly * a.W * 4.0 / 4096.0 + 1.0),
                                  (double)volume * 4.0 / 4096.0 + 1.0);
    window_ns += (lz * ly * lx + 1e3 * pages) / (double)(a.B ? a.B : 1);
  }
  parallel_for(a.B * a.K, window_ns + 1e3, [&](int64_t begin, int64_t end) {
    Window window;  // scratch, reused: allocating it per volume cost ~0.5 us each
    for (int64_t item = begin; item < end; ++item) {
      const int64_t b = item / a.K, k = item % a.K;
      float* vol = heatmaps + item * volume;
      bool first = true;
      for (int64_t n = 0; n < a.N; ++n) {
        const int64_t r = (b * a.N + n) * a.K + k;
        const double* p = a.keypoints + 3 * r;
        const double mu_x = hand3d_centre_xy(p[0], a.W, a.image_w);
        const double mu_y = hand3d_centre_xy(p[1], a.H, a.image_h);
        const double mu_z = hand3d_centre_z(p[2], a.depth_bound, a.D, a.f32);
        // NaN / Inf keypoints are invisible and drawn nowhere (MMPose indexes with
        // INT64_MIN and raises); a finite centre beyond 2^40 voxels keeps MMPose's
        // weight and is not drawn either: its values would all be exp(-huge) = 0.
        inside[r] = hand3d_depth_inside(mu_z, a.D) && hand3d_finite(mu_x) && hand3d_finite(mu_y);
        if (!coord_is_usable(mu_x) || !coord_is_usable(mu_y) || !coord_is_usable(mu_z)) continue;
        draw_window(vol, a, mu_x, mu_y, mu_z, a.sigma[b * a.N + n], first, window);
        first = false;
      }
    }
  });
}

}  // namespace fastcodec
