// fastcodec._C._headers: every FC_HD function of csrc/include/fastcodec, callable from
// Python, for tests only (tests/test_header_functions.py compares each with its Numba
// mirror of the same name). Not part of the public API: no argument checks beyond
// memory safety, and the conventions below are the tests' only.
//
// - Scalars in, scalars out; a pointer output of the C++ becomes a returned value, after
//   the function's own result: (result, out1, out2, ...). A struct comes back as a tuple
//   of its fields in declaration order, and goes in as its fields.
// - A template is wrapped once per type: name__f32 (float) and name__f64 (double).
// - A function taking a functor (the log map of dark_step, the taps of the blur sums)
//   takes the values the functor would return as an array, in the layout its Numba
//   mirror reads them.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <stdexcept>
#include <tuple>
#include <vector>

#include "ae_kernels.h"  // AeVectorStore
#include "bindings.h"  // the array types and their argument casters
#include "fastcodec/argmax.h"
#include "fastcodec/associative_embedding.h"
#include "fastcodec/blur.h"
#include "fastcodec/common.h"
#include "fastcodec/hand3d.h"
#include "fastcodec/heatmap_targets.h"
#include "fastcodec/instances.h"
#include "fastcodec/lifting.h"
#include "fastcodec/refine.h"
#include "fastcodec/regression.h"
#include "fastcodec/simcc.h"
#include "fastcodec/spr.h"

namespace py = pybind11;

namespace {

using namespace fastcodec;

void need(bool ok, const char* what) {
  if (!ok) throw std::invalid_argument(what);
}

std::vector<float> floats(const F32& a) { return std::vector<float>(a.data(), a.data() + a.size()); }

py::array_t<float> to_array(const std::vector<float>& v) {
  py::array_t<float> out((py::ssize_t)v.size());
  for (size_t i = 0; i < v.size(); ++i) out.mutable_data()[i] = v[i];
  return out;
}

// SprCandidate arrays travel as (values float32, indices int64).
std::vector<SprCandidate> candidates(const F32& v, const I64& ix) {
  need(v.size() == ix.size(), "values and indices differ in length");
  std::vector<SprCandidate> c((size_t)v.size());
  for (size_t i = 0; i < c.size(); ++i) c[i] = SprCandidate{v.data()[i], ix.data()[i]};
  return c;
}

py::tuple from_candidates(const std::vector<SprCandidate>& c) {
  py::array_t<float> v((py::ssize_t)c.size());
  py::array_t<int64_t> ix((py::ssize_t)c.size());
  for (size_t i = 0; i < c.size(); ++i) {
    v.mutable_data()[i] = c[i].value;
    ix.mutable_data()[i] = c[i].index;
  }
  return py::make_tuple(v, ix);
}

template <typename T>
void bind_templates(py::module_& m, const char* sfx) {
  auto name = [&](const char* base) { return std::string(base) + sfx; };
  m.def(name("unbiased_misses").c_str(), [](T mx, T my, T r, int64_t W, int64_t H) {
    return unbiased_misses<T>(mx, my, r, W, H);
  });
  m.def(name("unbiased_factor").c_str(), [](int64_t x, T mu, T s2) { return unbiased_factor<T>(x, mu, s2); });
  m.def(name("fc_exp").c_str(), [](T v) { return fc_exp(v); });
  m.def(name("nan_min").c_str(), [](T a, T v) { return nan_min<T>(a, v); });
  m.def(name("nan_max").c_str(), [](T a, T v) { return nan_max<T>(a, v); });
  m.def(name("fc_pow_t").c_str(), [](T a, T b) { return fc_pow_t(a, b); });
  m.def(name("fc_sqrt_t").c_str(), [](T a) { return fc_sqrt_t(a); });
  m.def(name("instance_sigma").c_str(), [](T h, T w, double o, T two) { return instance_sigma<T>(h, w, o, two); });
  m.def(name("one_instance_geometry").c_str(), [](py::array_t<T, py::array::c_style | py::array::forcecast> kps,
                                              F64 vis, bool kpt_center) {
    need(kps.size() == 2 * vis.size(), "keypoints must be (K, 2) for visibility (K,)");
    const InstanceGeometry g = one_instance_geometry<T>(kps.data(), vis.data(), vis.size(), kpt_center);
    return py::make_tuple(g.root_x, g.root_y, g.root_visible, g.diagonal);
  });
  m.def(name("sigma_score").c_str(), [](T a, T b) { return sigma_score(a, b); });
  m.def(name("motionbert_label_x").c_str(), [](T v, double hw) { return motionbert_label_x<T>(v, hw); });
  m.def(name("motionbert_label_y").c_str(), [](T v, double hw, double r) { return motionbert_label_y<T>(v, hw, r); });
  m.def(name("lifting_to_pixel").c_str(), [](T u, T z, double f, double c) { return lifting_to_pixel<T>(u, z, f, c); });
  m.def(name("motionbert_root_scale").c_str(), [](T rx, T rz, double fx, double cx) {
    T ratio, factor;
    motionbert_root_scale<T>(rx, rz, fx, cx, &ratio, &factor);
    return py::make_tuple(ratio, factor);
  });
  // MotionBertSample as its 8 fields (half_w, hw_ratio, half_w1, hw_ratio1, fx, fy, cx, cy).
  m.def(name("motionbert_project").c_str(), [](T x, T y, T z, T zr, T ratio, F64 s) {
    need(s.size() == 8, "sample must hold 8 values");
    const double* p = s.data();
    const MotionBertSample smp{p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]};
    T out[3];
    motionbert_project<T>(x, y, z, zr, ratio, smp, out);
    return py::make_tuple(out[0], out[1], out[2]);
  });
  m.def(name("motionbert_train_scale").c_str(), [](T x, T y, T z, F64 s) {
    need(s.size() == 8, "sample must hold 8 values");
    const double* p = s.data();
    const MotionBertSample smp{p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]};
    T v[3] = {x, y, z};
    motionbert_train_scale<T>(v, smp);
    return py::make_tuple(v[0], v[1], v[2]);
  });
  m.def(name("lifting_weight").c_str(), [](T v) { return lifting_weight<T>(v); });
  m.def(name("motionbert_train_value").c_str(), [](T p, T r) { return motionbert_train_value<T>(p, r); });
  m.def(name("motionbert_test_value").c_str(), [](T p, T r, double f) { return motionbert_test_value<T>(p, r, f); });
  m.def(name("motionbert_test_value_exact").c_str(), [](T p, T r, T f) { return motionbert_test_value_exact<T>(p, r, f); });
  m.def(name("motionbert_factor_is_exact").c_str(), [](double f) { return motionbert_factor_is_exact<T>(f); });
  m.def(name("numpy_pairwise_sum").c_str(), [](py::array_t<T, py::array::c_style | py::array::forcecast> a,
                                             int64_t n, int64_t stride) {
    need(n >= 0 && stride >= 1 && (n == 0 || (n - 1) * stride < a.size()), "n elements of stride");
    return numpy_pairwise_sum<T>(a.data(), n, stride);
  });
}

}  // namespace

void bind_header_functions(py::module_& parent) {
  py::module_ m = parent.def_submodule(
      "_headers", "Every FC_HD function of csrc/include/fastcodec, for tests only "
                  "(tests/test_header_functions.py); not a public API.");
  bind_templates<float>(m, "__f32");
  bind_templates<double>(m, "__f64");

  // ---- common.h
  m.def("trunc_i64", &trunc_i64);
  m.def("coord_is_usable", &coord_is_usable);
  m.def("scale_coord", &scale_coord);
  m.def("round_half_up", &round_half_up);
  m.def("min_i64", &min_i64);
  m.def("max_i64", &max_i64);
  m.def("sign_f32", &sign_f32);
  m.def("sign_of_difference", &sign_of_difference);

  // ---- argmax.h
  m.def("first_argmax", [](F32 v) {
    need(v.size() > 0, "empty array");
    const Maximum mx = first_argmax(v.data(), v.size());
    return py::make_tuple(mx.index, mx.value);
  });
  m.def("maximum_location", [](int64_t index, float value, int64_t W) {
    float x, y;
    maximum_location(Maximum{index, value}, W, &x, &y);
    return py::make_tuple(x, y);
  });

  // ---- heatmap_targets.h
  m.def("scaled_point", [](double rx, double ry, float sx, float sy, bool f32) {
    double px = 0, py = 0;
    const bool ok = scaled_point(rx, ry, sx, sy, f32, &px, &py);
    return py::make_tuple(ok, px, py);
  });
  m.def("point_to_draw", [](double rx, double ry, double vis, float sx, float sy, bool f32) {
    double px = 0, py = 0;
    bool inside;
    const bool draw = point_to_draw(rx, ry, vis, sx, sy, f32, &px, &py, &inside);
    return py::make_tuple(draw, px, py, inside);
  });
  m.def("patch_geometry", [](double s) {
    const PatchGeometry g = patch_geometry(s);
    return py::make_tuple(g.radius, g.length, g.centre);
  });
  m.def("patch_geometry_f32", [](float s) {
    const PatchGeometry g = patch_geometry_f32(s);
    return py::make_tuple(g.radius, g.length, g.centre);
  });
  m.def("patch_window", [](double px, double py, bool f32, double radius) {
    const PatchWindow w = patch_window(px, py, f32, radius);
    return py::make_tuple(w.mu_x, w.mu_y, w.left, w.top, w.right, w.bottom);
  });
  m.def("patch_misses", [](int64_t mx, int64_t my, int64_t l, int64_t t, int64_t r, int64_t b,
                           int64_t W, int64_t H) {
    return patch_misses(PatchWindow{mx, my, l, t, r, b}, W, H);
  });
  m.def("msra_patch_value", &msra_patch_value);
  m.def("udp_patch_factor", &udp_patch_factor);
  m.def("offset_along", &offset_along);
  m.def("offset_label", &offset_label);
  m.def("reflect101", &reflect101);
  m.def("megvii_impulse_pixel", [](double px, double py, int64_t W, int64_t H) {
    int64_t kx, ky;
    const bool ok = megvii_impulse_pixel(px, py, W, H, &kx, &ky);
    return py::make_tuple(ok, kx, ky);
  });
  m.def("megvii_impulse_tap", &megvii_impulse_tap);
  m.def("megvii_normalize", &megvii_normalize);

  // ---- refine.h
  m.def("keypoint_pixel", [](double kx, double ky) {
    int64_t x = 0, y = 0;
    const bool ok = keypoint_pixel(kx, ky, &x, &y);
    return py::make_tuple(ok, x, y);
  });
  m.def("sign_step", [](F32 h, int64_t o, int64_t W, int64_t H, int64_t x, int64_t y) {
    need(o >= 0 && o + H * W <= h.size() && x >= 0 && x < W && y >= 0 && y < H, "out of the map");
    const Offset d = sign_step(h.data() + o, W, H, x, y);
    return py::make_tuple(d.dx, d.dy);
  });
  m.def("megvii_applies", &megvii_applies);
  m.def("megvii_score", &megvii_score);
  m.def("megvii_shift", [](float l, float r, float u, float d) {
    const Offset o = megvii_shift(l, r, u, d);
    return py::make_tuple(o.dx, o.dy);
  });
  m.def("dark_log", &dark_log);
  m.def("dark_udp_log", &dark_udp_log);
  m.def("dark_applies", &dark_applies);
  // L(dx, dy) = dark_log(m[o + dy * stride + dx] * s), as the Numba mirror reads it.
  m.def("dark_step", [](F32 mm, int64_t o, int64_t stride, float s, int64_t W, int64_t H,
                        int64_t x, int64_t y) {
    const float* p = mm.data();
    const int64_t n = mm.size();
    auto L = [&](int dx, int dy) {
      const int64_t q = o + dy * stride + dx;
      need(q >= 0 && q < n, "log map read out of range");
      return dark_log(p[q] * s);
    };
    Offset d{0.0, 0.0};
    const bool ok = dark_step(L, W, H, x, y, &d);
    return py::make_tuple(ok, d.dx, d.dy);
  });
  m.def("dark_udp_centre", &dark_udp_centre);
  m.def("dark_udp_neighbour", [](int64_t centre, int j, int64_t K, int64_t W, int64_t H) {
    int64_t ch = 0, px = 0, py = 0;
    const bool ok = dark_udp_neighbour(centre, j, K, W, H, &ch, &px, &py);
    return py::make_tuple(ok, ch, px, py);
  });
  m.def("udp_combined_index", &udp_combined_index);
  m.def("dark_udp_step", [](F32 v) {
    need(v.size() == 7, "seven values");
    const Offset o = dark_udp_step(v.data());
    return py::make_tuple(o.dx, o.dy);
  });

  // ---- blur.h: the tap functor at(i) reads taps[i + r] (2r + 1 values)
  m.def("opencv_gaussian_kernel", [](int k) {
    need(k >= 1 && k % 2 == 1 && k <= kMaxBlurKernel, "odd kernel size in [1, 255]");
    std::vector<float> w((size_t)k);
    opencv_gaussian_kernel(k, w.data());
    return to_array(w);
  });
#define FC_TAP_SUM(fn)                                                        \
  m.def(#fn, [](F32 w, int r, F32 taps) {                                     \
    need(r >= 0 && w.size() == 2 * r + 1 && taps.size() == 2 * r + 1, "2r + 1 taps"); \
    const float* t = taps.data();                                             \
    return fn(w.data(), r, [&](int i) { return t[i + r]; });                  \
  });
  FC_TAP_SUM(opencv_row_sum)
  FC_TAP_SUM(opencv_row_sum_tail)
  FC_TAP_SUM(opencv_column_sum)
  FC_TAP_SUM(opencv_column_sum_tail)
#undef FC_TAP_SUM
  m.def("opencv_row_simd_end", &opencv_row_simd_end);
  m.def("opencv_column_simd_end", &opencv_column_simd_end);
  m.def("opencv_blur_filters_axis", &opencv_blur_filters_axis);
  m.def("blur_rescale", &blur_rescale);

  // ---- simcc.h
  m.def("simcc_bin", &simcc_bin);
  m.def("simcc_keypoint_drawn", &simcc_keypoint_drawn);
  m.def("simcc_smoothing", &simcc_smoothing);
  m.def("simcc_onehot_peak", &simcc_onehot_peak);
  m.def("simcc_onehot_inside", &simcc_onehot_inside);
  m.def("simcc_location", &simcc_location);
  m.def("simcc_visibility", &simcc_visibility);
  m.def("simcc_gaussian_label", &simcc_gaussian_label);
  m.def("simcc_gaussian_inside", &simcc_gaussian_inside);
  m.def("simcc_pair_maximum", [](int64_t ix, float vx, int64_t iy, float vy) {
    float lx, ly;
    const float v = simcc_pair_maximum(Maximum{ix, vx}, Maximum{iy, vy}, &lx, &ly);
    return py::make_tuple(v, lx, ly);
  });
  m.def("simcc_softmax_max", [](F32 v, float beta, double scale) {
    need(v.size() > 0, "empty array");
    return simcc_softmax_max(v.data(), v.size(), beta, scale);
  });
  m.def("simcc_dark_kernel_size", &simcc_dark_kernel_size);
  m.def("simcc3d_bins", [](F64 p, float ratio_f32, double ratio, bool f32, F64 sigma, I64 size) {
    need(p.size() == 3 && sigma.size() == 3 && size.size() == 3, "three axes");
    py::array_t<int64_t> mu(3);
    std::fill(mu.mutable_data(), mu.mutable_data() + 3, (int64_t)0);
    const bool ok = simcc3d_bins(p.data(), ratio_f32, ratio, f32, sigma.data(), size.data(),
                                 mu.mutable_data());
    return py::make_tuple(ok, mu);
  });
  m.def("simcc_blur_at", [](F32 v, F32 w, int r, int64_t i) {
    need(r >= 0 && w.size() == 2 * r + 1, "2r + 1 weights");
    return simcc_blur_at(v.data(), v.size(), w.data(), r, i);
  });
  m.def("simcc_dark_log", &simcc_dark_log);
  // L(o) = logv[o] for o in [0, n).
  m.def("simcc_dark_step", [](F32 logv, float x) {
    need(logv.size() > 0, "empty array");
    const float* l = logv.data();
    const bool ok = simcc_dark_step([&](int64_t o) { return l[o]; }, logv.size(), &x);
    return py::make_tuple(ok, x);
  });

  // ---- spr.h: a SprCandidate array is (values, indices); `first` is offset lo into it
  // (the Numba mirrors' layout). Functions return the arrays, then their own result.
  m.def("spr_root_usable", &spr_root_usable);
  m.def("spr_keypoint_usable", &spr_keypoint_usable);
  m.def("spr_clamped_int", &spr_clamped_int);
  m.def("spr_span", [](float root, double radius, bool f32, int64_t size) {
    const SprSpan s = spr_span(root, radius, f32, size);
    return py::make_tuple(s.begin, s.end);
  });
  m.def("spr_displacement_update", [](float dx, float dy, float wx, float wy, float size,
                                      double kx, double ky, int64_t x, int64_t y,
                                      float diagonal, float weight) {
    spr_displacement_update(&dx, &dy, &wx, &wy, &size, kx, ky, x, y, diagonal, weight);
    return py::make_tuple(dx, dy, wx, wy, size);
  });
  m.def("spr_displacement_weight", &spr_displacement_weight);
  m.def("spr_max", &spr_max);
  m.def("spr_nms_value", &spr_nms_value);
  m.def("spr_value_before", &spr_value_before);
  m.def("spr_before", [](float xv, int64_t xi, float yv, int64_t yi) {
    return spr_before(SprCandidate{xv, xi}, SprCandidate{yv, yi});
  });
  m.def("spr_partial_sort_path", &spr_partial_sort_path);
  auto in_range = [](const std::vector<SprCandidate>& c, int64_t lo, int64_t len) {
    need(lo >= 0 && len >= 0 && lo + len <= (int64_t)c.size(), "range outside the array");
  };
  m.def("spr_swap", [=](F32 v, I64 ix, int64_t a, int64_t b) {
    auto c = candidates(v, ix);
    in_range(c, a, 1);
    in_range(c, b, 1);
    spr_swap(&c[a], &c[b]);
    return from_candidates(c);
  });
  m.def("spr_push_heap", [=](F32 v, I64 ix, int64_t lo, int64_t hole, int64_t top, float val,
                             int64_t vi) {
    auto c = candidates(v, ix);
    in_range(c, lo, hole + 1);
    spr_push_heap(c.data() + lo, hole, top, SprCandidate{val, vi});
    return from_candidates(c);
  });
  m.def("spr_adjust_heap", [=](F32 v, I64 ix, int64_t lo, int64_t hole, int64_t len, float val,
                               int64_t vi) {
    auto c = candidates(v, ix);
    in_range(c, lo, len);
    spr_adjust_heap(c.data() + lo, hole, len, SprCandidate{val, vi});
    return from_candidates(c);
  });
  m.def("spr_make_heap", [=](F32 v, I64 ix, int64_t lo, int64_t len) {
    auto c = candidates(v, ix);
    in_range(c, lo, len);
    spr_make_heap(c.data() + lo, len);
    return from_candidates(c);
  });
  // The displaced candidate comes back after the arrays (c itself when not offered).
  m.def("spr_heap_offer", [=](F32 v, I64 ix, int64_t lo, int64_t len, float cv, int64_t ci) {
    auto c = candidates(v, ix);
    in_range(c, lo, len);
    need(len > 0, "empty heap");
    SprCandidate displaced{cv, ci};
    spr_heap_offer(c.data() + lo, len, SprCandidate{cv, ci}, &displaced);
    py::tuple arrays = from_candidates(c);
    return py::make_tuple(arrays[0], arrays[1], displaced.value, displaced.index);
  });
  m.def("spr_sort_heap", [=](F32 v, I64 ix, int64_t lo, int64_t len) {
    auto c = candidates(v, ix);
    in_range(c, lo, len);
    spr_sort_heap(c.data() + lo, len);
    return from_candidates(c);
  });
  m.def("spr_partial_sort", [=](F32 v, I64 ix, int64_t lo, int64_t middle, int64_t last) {
    auto c = candidates(v, ix);
    in_range(c, lo, last);
    need(middle > 0 && middle <= last, "0 < middle <= last");
    spr_partial_sort(c.data() + lo, middle, last);
    return from_candidates(c);
  });
  m.def("spr_move_median_to_first", [=](F32 v, I64 ix, int64_t r, int64_t a, int64_t b,
                                        int64_t d) {
    auto c = candidates(v, ix);
    for (int64_t q : {r, a, b, d}) in_range(c, q, 1);
    spr_move_median_to_first(&c[r], &c[a], &c[b], &c[d]);
    return from_candidates(c);
  });
  m.def("spr_partition_pivot", [=](F32 v, I64 ix, int64_t lo, int64_t len) {
    auto c = candidates(v, ix);
    in_range(c, lo, len);
    need(len >= 4, "at least 4 candidates");
    // unguarded: the median of three distinct positions bounds both scans inside
    // [lo, lo + len); on 3 candidates two of them coincide and the scans run off the end
    const int64_t cut = spr_partition_pivot(c.data() + lo, len);
    py::tuple arrays = from_candidates(c);
    return py::make_tuple(arrays[0], arrays[1], cut);
  });
  m.def("spr_linear_insert", [=](F32 v, I64 ix, int64_t lo, int64_t last) {
    auto c = candidates(v, ix);
    in_range(c, lo, last + 1);
    need(last >= 1 && !spr_before(c[lo + last], c[lo]), "unguarded: needs first <= value");
    spr_linear_insert(c.data() + lo, last);
    return from_candidates(c);
  });
  m.def("spr_insertion_sort", [=](F32 v, I64 ix, int64_t lo, int64_t len) {
    auto c = candidates(v, ix);
    in_range(c, lo, len);
    spr_insertion_sort(c.data() + lo, len);
    return from_candidates(c);
  });
  m.def("spr_depth_limit", &spr_depth_limit);
  m.def("spr_nth_element", [=](F32 v, I64 ix, int64_t nth, int64_t last) {
    auto c = candidates(v, ix);
    in_range(c, 0, last);
    need(nth >= 0 && nth <= last, "0 <= nth <= last");
    spr_nth_element(c.data(), nth, last);
    return from_candidates(c);
  });
  m.def("spr_introsort_loop", [=](F32 v, I64 ix, int64_t len, int64_t depth) {
    auto c = candidates(v, ix);
    in_range(c, 0, len);
    spr_introsort_loop(c.data(), len, depth);
    return from_candidates(c);
  });
  m.def("spr_sort", [=](F32 v, I64 ix, int64_t len) {
    auto c = candidates(v, ix);
    in_range(c, 0, len);
    spr_sort(c.data(), len);
    return from_candidates(c);
  });
  m.def("spr_root_kept", &spr_root_kept);
  m.def("spr_keypoint_coordinate", &spr_keypoint_coordinate);
  m.def("spr_sample_coordinate", &spr_sample_coordinate);
  m.def("spr_bilinear", [](F32 mm, int64_t Hh, int64_t W, float x, float y) {
    need(mm.size() == Hh * W && Hh > 0 && W > 0, "map must be H x W");
    need(x != x || y != y || (x >= 0 && y >= 0 && x <= W - 1 && y <= Hh - 1),
         "coordinates must be clipped (spr_sample_coordinate)");
    return spr_bilinear(mm.data(), Hh, W, x, y);
  });

  // ---- regression.h
  m.def("regression_label", &regression_label);
  m.def("regression_inside", &regression_inside);
  m.def("regression_weight", &regression_weight);
  m.def("regression_coord", &regression_coord);
  m.def("heatmap_normalizer", &heatmap_normalizer);
  m.def("normalized_value", &normalized_value);
  m.def("regression_labels_finite", &regression_labels_finite);

  // ---- hand3d.h
  m.def("hand3d_centre_xy", &hand3d_centre_xy);
  m.def("hand3d_centre_z", &hand3d_centre_z);
  m.def("hand3d_depth_inside", &hand3d_depth_inside);
  m.def("hand3d_finite", &hand3d_finite);
  m.def("hand3d_window_length", &hand3d_window_length);
  m.def("hand3d_voxel", &hand3d_voxel);
  m.def("hand3d_gaussian", &hand3d_gaussian);
  m.def("hand3d_axis_factor", &hand3d_axis_factor);
  m.def("hand3d_rounds_clear", &hand3d_rounds_clear);
  m.def("hand3d_scaled", &hand3d_scaled);
  m.def("hand3d_axis_voxels", [](int64_t L, double radius, double mu, int64_t size, double sigma) {
    need(size >= 1, "size must be positive");
    py::array_t<int64_t> voxel(size);
    py::array_t<double> factor(size);
    const int64_t n = hand3d_axis_voxels(voxel.mutable_data(), factor.mutable_data(), L, radius,
                                         mu, size, sigma);
    return py::make_tuple(n, voxel[py::slice(0, n, 1)], factor[py::slice(0, n, 1)]);
  });

  // ---- associative_embedding.h: MunkresWork goes in as the fields the function reads
  // and comes back as (result, C, marked, row_cov, col_cov, path), zero-initialised.
  m.def("numpy_mean_of_tags", [](F32 tags, int64_t count, int64_t L, int64_t l) {
    need(count >= 1 && L >= 1 && l >= 0 && l < L && count * L <= tags.size(), "count rows of L tags");
    return numpy_mean_of_tags(tags.data(), count, L, l);
  });
  m.def("x86_to_i64", &x86_to_i64);
  m.def("clip_i64", &clip_i64);
  m.def("ae_group_cost", &ae_group_cost);
  m.def("ae_fill_cost", &ae_fill_cost);
  m.def("munkres_solve", [](F64 cost, int64_t rows, int64_t cols) {
    need(rows >= 1 && cols >= 1 && rows * cols == cost.size(), "cost must be rows x cols");
    const int64_t n = rows > cols ? rows : cols;
    py::array_t<double> C(n * n);
    py::array_t<uint8_t> marked(n * n), row_cov(n), col_cov(n);
    py::array_t<int64_t> path(2 * (2 * n + 1));
    for (py::array* a : {(py::array*)&C, (py::array*)&marked, (py::array*)&row_cov,
                         (py::array*)&col_cov, (py::array*)&path})
      std::memset(a->mutable_data(), 0, (size_t)a->nbytes());
    MunkresWork w{C.mutable_data(), marked.mutable_data(), row_cov.mutable_data(),
                  col_cov.mutable_data(), path.mutable_data()};
    const bool ok = munkres_solve(cost.data(), rows, cols, w);
    return py::make_tuple(ok, C, marked, row_cov, col_cov, path);
  });
  m.def("munkres_clear_covers", [](py::array_t<uint8_t> row_cov, py::array_t<uint8_t> col_cov, int64_t n) {
    need(n >= 0 && n <= row_cov.size() && n <= col_cov.size(), "n covers");
    py::array_t<uint8_t> r(row_cov.size()), c(col_cov.size());
    std::memcpy(r.mutable_data(), row_cov.data(), (size_t)row_cov.size());
    std::memcpy(c.mutable_data(), col_cov.data(), (size_t)col_cov.size());
    MunkresWork w{nullptr, nullptr, r.mutable_data(), c.mutable_data(), nullptr};
    munkres_clear_covers(w, n);
    return py::make_tuple(r, c);
  });
  m.def("munkres_star_in_row", [](py::array_t<uint8_t> marked, int64_t n, int64_t r) {
    need(n >= 1 && r >= 0 && r < n && n * n <= marked.size(), "an n x n marking");
    MunkresWork w{nullptr, marked.mutable_data(), nullptr, nullptr, nullptr};
    return munkres_star_in_row(w, n, r);
  });
  // AeGroups go in as (keys, joints) and come back as copies after the call.
  m.def("ae_group_for_key", [](F32 keys, int64_t n, float key, F32 joints, int64_t K) {
    need(n >= 0 && n < keys.size() && (n + 1) * 3 * K <= joints.size(), "room for a group");
    std::vector<float> k = floats(keys), j = floats(joints);
    AeGroups g{};
    g.keys = k.data();
    g.joints = j.data();
    const int64_t group = ae_group_for_key(g, &n, key, K);
    return py::make_tuple(group, n, to_array(k), to_array(j));
  });
  // -> (groups, keys, counts, joints, tags) of the groups, flat, as the Numba mirror
  // leaves them in its arrays.
  m.def("ae_group_keypoints", [](F32 vals, I64 idx, F32 tags, I64 order, int64_t K, int64_t L,
                                 int64_t W, int64_t HW, int64_t M, double val_thr, double tag_thr) {
    need(K >= 1 && L >= 1 && M >= 1 && vals.size() == K * M && idx.size() == K * M &&
         tags.size() == L * K * HW && order.size() == K, "candidates and maps");
    for (int64_t i = 0; i < K * M; ++i) need(idx.data()[i] >= 0 && idx.data()[i] < HW, "idx");
    for (int64_t i = 0; i < K; ++i) need(order.data()[i] >= 0 && order.data()[i] < K, "order");
    AeVectorStore store;
    store.prepare(K, L, M);
    const AeCandidates c{vals.data(), idx.data(), tags.data(), order.data(), K, L, W, HW, M,
                         val_thr, tag_thr};
    const int64_t n = ae_group_keypoints(c, store);
    py::array_t<int64_t> counts(n);
    std::copy(store.counts.begin(), store.counts.begin() + n, counts.mutable_data());
    return py::make_tuple(n, to_array({store.keys.begin(), store.keys.begin() + n}), counts,
                          to_array({store.joints.begin(), store.joints.begin() + n * K * 3}),
                          to_array({store.tags.begin(), store.tags.begin() + n * K * L}));
  });
  m.def("ae_kept_groups", &ae_kept_groups);
  m.def("ae_instance", [](F32 joints, int64_t K) {
    need(K >= 1 && joints.size() >= 3 * K, "3K joints");
    std::vector<float> kps(2 * K), scores(K);
    const float inst = ae_instance(joints.data(), K, kps.data(), scores.data());
    return py::make_tuple(inst, to_array(kps), to_array(scores));
  });
  m.def("ae_refine_keypoint", [](F32 kp, float score, int64_t k, F32 heat, F32 modulated,
                                 bool udp, int64_t K, int64_t H, int64_t W, float shift) {
    need(kp.size() == 2 && heat.size() == K * H * W && modulated.size() == K * H * W &&
         k >= 0 && k < K, "one keypoint of K maps");
    std::vector<float> p = floats(kp);
    ae_refine_keypoint(p.data(), score, k, heat.data(), modulated.data(), udp, K, H, W, shift);
    return to_array(p);
  });
  m.def("ae_group_tag", [](F32 kps, F32 scores, F32 tags, int64_t K, int64_t L, int64_t H,
                           int64_t W) {
    need(kps.size() == 2 * K && scores.size() == K && tags.size() == L * K * H * W, "a group");
    std::vector<float> found(K * L), tag(L);
    ae_group_tag(kps.data(), scores.data(), tags.data(), K, L, H, W, found.data(), tag.data());
    return to_array(tag);
  });
  m.def("ae_fill_gain", [](F32 tags, int64_t o, int64_t KHW, int64_t L, F32 tag, float map,
                           int64_t p) {
    need(L >= 1 && tag.size() == L && o >= 0 && o + (L - 1) * KHW + p < tags.size() && p >= 0,
         "a pixel of the tag maps");
    return ae_fill_gain(tags.data() + o, KHW, L, tag.data(), map, p);
  });
  m.def("padded_pixel", [](int64_t q, int64_t K, int64_t H, int64_t W) {
    int64_t ch = 0, y = 0, x = 0;
    const bool ok = padded_pixel(q, K, H, W, &ch, &y, &x);
    return py::make_tuple(ok, ch, y, x);
  });
  m.def("dark_udp_centre_f32", &dark_udp_centre_f32);
}
