// pybind11 bindings of the heatmap codecs' kernels (heatmap_kernels.h, instances.h).
// Shapes and dtypes are validated in Python before any call reaches here; this layer
// only re-checks what would otherwise index out of bounds.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <stdexcept>
#include <string>

#include "bindings.h"
#include "fastcodec/blur.h"
#include "fastcodec/heatmap_targets.h"
#include "fastcodec/instances.h"
#include "heatmap_kernels.h"

namespace py = pybind11;
using namespace fastcodec;


namespace {

EncodeArgs encode_args(const F64& kps, const F64& vis, std::pair<float, float> scale, bool f32,
                       int64_t W, int64_t H) {
  require_keypoints(kps, vis);
  require(W > 0 && H > 0, "heatmap size must be positive");
  EncodeArgs a;
  a.keypoints = kps.data();
  a.visible = vis.data();
  a.B = kps.shape(0);
  a.N = kps.shape(1);
  a.K = kps.shape(2);
  a.W = W;
  a.H = H;
  a.scale[0] = scale.first;
  a.scale[1] = scale.second;
  a.f32 = f32;
  return a;
}

// sigma: (N,) or (B, N); a float32 array asks for MMPose's float32 patch geometry
// (radius and size of a float32 sigma), any other dtype for float64.
py::tuple encode_gaussian_py(const std::string& kind, const F64& kps, const F64& vis,
                             const py::object& sigma_in, std::pair<float, float> scale, bool f32,
                             int64_t W, int64_t H) {
  const EncodeArgs a = encode_args(kps, vis, scale, f32, W, H);
  const py::array sigma_arr = py::array::ensure(sigma_in);
  require(static_cast<bool>(sigma_arr), "sigma must be an array of numbers");
  const bool sigma_f32 = sigma_arr.dtype().is(py::dtype::of<float>());
  const F64 sigma = F64::ensure(sigma_arr);
  require(static_cast<bool>(sigma), "sigma must be an array of numbers");
  const bool per_instance = sigma.ndim() == 1 && sigma.shape(0) == a.N;
  const bool per_sample = sigma.ndim() == 2 && sigma.shape(0) == a.B && sigma.shape(1) == a.N;
  require(per_instance || per_sample,
          "sigma must hold one value per instance, (N,), or per sample and instance, (B, N)");
  const double* sd = sigma.data();
  for (py::ssize_t i = 0; i < sigma.size(); ++i)
    require(sd[i] >= 0 && sd[i] <= kMaxSigma,
            "sigma must be finite and in [0, " + std::to_string((long long)kMaxSigma) + "]");
  GaussianKind k;
  if (kind == "msra") k = GaussianKind::Msra;
  else if (kind == "unbiased") k = GaussianKind::Unbiased;
  else if (kind == "udp") k = GaussianKind::Udp;
  else throw std::invalid_argument("unknown gaussian kind " + kind);
  py::array_t<float> heat({a.B, a.K, H, W});
  py::array_t<uint8_t> inside({a.B, a.N, a.K});
  {
    py::gil_scoped_release release;
    encode_gaussian(a, k, sd, per_sample ? a.B : 1, sigma_f32, heat.mutable_data(),
                    inside.mutable_data());
  }
  return py::make_tuple(heat, inside);
}

// DecoupledHeatmap's roots, root visibility and box diagonals of R instances:
// keypoints (R, K, 2) float32 or float64 (the precision MMPose computes in), visibility
// (R, K) -> roots f32 (R, 2), visibility f32 (R,), diagonals f32 (R,).
template <typename T>
py::tuple instance_geometry_t(const py::array_t<T, py::array::c_style | py::array::forcecast>& kps,
                              const F64& vis, bool kpt_center) {
  require(kps.ndim() == 3 && kps.shape(2) == 2, "keypoints must be (R, K, 2)");
  require(vis.ndim() == 2 && vis.shape(0) == kps.shape(0) && vis.shape(1) == kps.shape(1),
          "keypoints_visible must be (R, K)");
  const int64_t R = kps.shape(0), K = kps.shape(1);
  py::array_t<float> roots({R, (int64_t)2});
  py::array_t<float> visible({R});
  py::array_t<float> diag({R});
  const T* p = kps.data();
  const double* v = vis.data();
  float *r = roots.mutable_data(), *rv = visible.mutable_data(), *d = diag.mutable_data();
  for (int64_t i = 0; i < R; ++i) {
    const InstanceGeometry g = one_instance_geometry<T>(p + i * K * 2, v + i * K, K, kpt_center);
    r[2 * i] = g.root_x;
    r[2 * i + 1] = g.root_y;
    rv[i] = g.root_visible;
    d[i] = g.diagonal;
  }
  return py::make_tuple(roots, visible, diag);
}

py::tuple instance_geometry_py(const py::array& kps, const F64& vis, bool kpt_center) {
  if (kps.dtype().is(py::dtype::of<float>()))
    return instance_geometry_t<float>(kps, vis, kpt_center);
  return instance_geometry_t<double>(kps, vis, kpt_center);
}

// DecoupledHeatmap's instance sigmas: heights and widths (R,) float32 or float64 (the
// boxes' dtype) -> sigmas f32 (R,).
template <typename T>
py::array_t<float> instance_sigmas_t(const py::array_t<T, py::array::c_style | py::array::forcecast>& h,
                                     const py::array_t<T, py::array::c_style | py::array::forcecast>& w,
                                     double overlap) {
  require(h.ndim() == 1 && w.ndim() == 1 && h.shape(0) == w.shape(0),
          "heights and widths must be (R,) each");
  const int64_t R = h.shape(0);
  py::array_t<float> out({R});
  volatile T two_at_run_time = 2;
  const T two = two_at_run_time;
  const T *ph = h.data(), *pw = w.data();
  float* po = out.mutable_data();
  for (int64_t i = 0; i < R; ++i) po[i] = instance_sigma<T>(ph[i], pw[i], overlap, two);
  return out;
}

py::array_t<float> instance_sigmas_py(const py::array& h, const py::array& w, double overlap) {
  if (h.dtype().is(py::dtype::of<float>())) return instance_sigmas_t<float>(h, w, overlap);
  return instance_sigmas_t<double>(h, w, overlap);
}

py::tuple encode_offset_py(const F64& kps, const F64& vis, std::pair<float, float> scale,
                           bool f32, int64_t W, int64_t H, double radius) {
  const EncodeArgs a = encode_args(kps, vis, scale, f32, W, H);
  py::array_t<float> heat({a.B, 3 * a.K, H, W});
  py::array_t<uint8_t> inside({a.B, a.N, a.K});
  {
    py::gil_scoped_release release;
    encode_offset(a, radius, heat.mutable_data(), inside.mutable_data());
  }
  return py::make_tuple(heat, inside);
}

py::tuple encode_megvii_py(const F64& kps, const F64& vis, std::pair<float, float> scale,
                           bool f32, int64_t W, int64_t H, int ksize) {
  const EncodeArgs a = encode_args(kps, vis, scale, f32, W, H);
  require(a.N <= 1, "MegviiHeatmap encodes one instance");
  require_kernel(ksize);
  py::array_t<float> heat({a.B, a.K, H, W});
  py::array_t<uint8_t> inside({a.B, a.N, a.K});
  {
    py::gil_scoped_release release;
    encode_megvii(a, ksize, heat.mutable_data(), inside.mutable_data());
  }
  return py::make_tuple(heat, inside);
}

// Leading dimensions of a (..., H, W) array as one count.
int64_t leading(const py::array& a, int trailing) {
  int64_t n = 1;
  for (int d = 0; d < a.ndim() - trailing; ++d) n *= a.shape(d);
  return n;
}

std::vector<py::ssize_t> lead_shape(const py::array& a, int trailing) {
  return std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim() - trailing);
}

py::tuple heatmap_maximum_py(const F32& heat) {
  require(heat.ndim() >= 2, "heatmaps must be (..., H, W)");
  const int64_t H = heat.shape(heat.ndim() - 2), W = heat.shape(heat.ndim() - 1);
  require(H > 0 && W > 0, "heatmaps must not be empty");
  auto shape = lead_shape(heat, 2);
  py::array_t<float> vals(shape);
  shape.push_back(2);
  py::array_t<float> locs(shape);
  {
    py::gil_scoped_release release;
    heatmap_maximum(heat.data(), leading(heat, 2), H, W, locs.mutable_data(),
                    vals.mutable_data());
  }
  return py::make_tuple(locs, vals);
}

py::array_t<float> gaussian_blur_py(const F32& heat, int ksize) {
  require(heat.ndim() >= 2, "heatmaps must be (..., H, W)");
  require_kernel(ksize);
  const int64_t H = heat.shape(heat.ndim() - 2), W = heat.shape(heat.ndim() - 1);
  py::array_t<float> out(std::vector<py::ssize_t>(heat.shape(), heat.shape() + heat.ndim()));
  {
    py::gil_scoped_release release;
    gaussian_blur(heat.data(), leading(heat, 2), H, W, ksize, out.mutable_data());
  }
  return out;
}

struct RefineShape { int64_t B, N, K, H, W; };

RefineShape refine_shape(const py::array_t<double>& kps, const F32& heat) {
  require(kps.ndim() == 4 && kps.shape(3) == 2, "keypoints must be (B, N, K, 2)");
  require(heat.ndim() == 4 && heat.shape(0) == kps.shape(0) && heat.shape(1) == kps.shape(2),
          "heatmaps must be (B, K, H, W) matching keypoints (B, N, K, 2)");
  require(kps.flags() & py::array::c_style, "keypoints must be C-contiguous");
  return {kps.shape(0), kps.shape(1), kps.shape(2), heat.shape(2), heat.shape(3)};
}

void refine_sign_py(py::array_t<double> kps, const F32& heat) {
  const RefineShape s = refine_shape(kps, heat);
  double* k = kps.mutable_data();
  py::gil_scoped_release release;
  refine_sign(k, s.B, s.N, s.K, heat.data(), s.H, s.W);
}

void refine_dark_py(py::array_t<double> kps, const F32& heat, int ksize) {
  const RefineShape s = refine_shape(kps, heat);
  require_kernel(ksize);
  double* k = kps.mutable_data();
  py::gil_scoped_release release;
  refine_dark(k, s.B, s.N, s.K, heat.data(), s.H, s.W, ksize);
}

void refine_dark_udp_py(py::array_t<double> kps, const F32& heat, int ksize, bool f32) {
  const RefineShape s = refine_shape(kps, heat);
  require_kernel(ksize);
  double* k = kps.mutable_data();
  py::gil_scoped_release release;
  refine_dark_udp(k, s.B, s.N, s.K, heat.data(), s.H, s.W, ksize, f32);
}

py::tuple decode_megvii_py(const F32& heat, int ksize) {
  require(heat.ndim() == 4, "heatmaps must be (B, K, H, W)");
  require_kernel(ksize);
  const int64_t B = heat.shape(0), K = heat.shape(1), H = heat.shape(2), W = heat.shape(3);
  py::array_t<float> locs({B, K, (int64_t)2});
  py::array_t<float> scores({B, K});
  {
    py::gil_scoped_release release;
    decode_megvii(heat.data(), B, K, H, W, ksize, locs.mutable_data(), scores.mutable_data());
  }
  return py::make_tuple(locs, scores);
}

// Keypoints come back multiplied by `scale` in float32 (MMPose's `* scale_factor`).
void apply_scale(py::array_t<float>& locs, std::pair<float, float> scale) {
  if (scale.first == 1.f && scale.second == 1.f) return;
  float* l = locs.mutable_data();
  for (py::ssize_t i = 0; i < locs.size(); i += 2) {
    l[i] *= scale.first;
    l[i + 1] *= scale.second;
  }
}

py::tuple decode_msra_py(const F32& heat, std::pair<float, float> scale) {
  require(heat.ndim() == 4, "heatmaps must be (B, K, H, W)");
  const int64_t B = heat.shape(0), K = heat.shape(1), H = heat.shape(2), W = heat.shape(3);
  require(H > 0 && W > 0, "heatmaps must not be empty");
  py::array_t<float> locs({B, K, (int64_t)2});
  py::array_t<float> vals({B, K});
  {
    py::gil_scoped_release release;
    decode_msra(heat.data(), B, K, H, W, locs.mutable_data(), vals.mutable_data());
  }
  apply_scale(locs, scale);
  return py::make_tuple(locs, vals);
}

py::tuple decode_dark_py(const F32& heat, int ksize, bool udp, std::pair<float, float> scale) {
  require(heat.ndim() == 4, "heatmaps must be (B, K, H, W)");
  require_kernel(ksize);
  const int64_t B = heat.shape(0), K = heat.shape(1), H = heat.shape(2), W = heat.shape(3);
  require(H > 0 && W > 0, "heatmaps must not be empty");
  py::array_t<float> locs({B, K, (int64_t)2});
  py::array_t<float> vals({B, K});
  {
    py::gil_scoped_release release;
    decode_dark(heat.data(), B, K, H, W, ksize, udp, locs.mutable_data(), vals.mutable_data());
  }
  apply_scale(locs, scale);
  return py::make_tuple(locs, vals);
}

py::tuple decode_udp_combined_py(const F32& heat, int ksize, double radius) {
  require(heat.ndim() == 4 && heat.shape(1) % 3 == 0, "heatmaps must be (B, 3K, H, W)");
  require_kernel(ksize);
  const int64_t B = heat.shape(0), K = heat.shape(1) / 3, H = heat.shape(2), W = heat.shape(3);
  py::array_t<float> locs({B, K, (int64_t)2});
  py::array_t<float> scores({B, K});
  {
    py::gil_scoped_release release;
    decode_udp_combined(heat.data(), B, K, H, W, ksize, radius, locs.mutable_data(),
                        scores.mutable_data());
  }
  return py::make_tuple(locs, scores);
}

}  // namespace

void bind_heatmap(py::module_& m) {
  using py::arg;
  const auto unit_scale = std::make_pair(1.f, 1.f);
  m.def("encode_gaussian", &encode_gaussian_py, arg("kind"), arg("keypoints"), arg("visible"),
        arg("sigma"), arg("scale"), arg("f32"), arg("W"), arg("H"));
  m.def("encode_offset", &encode_offset_py, arg("keypoints"), arg("visible"), arg("scale"),
        arg("f32"), arg("W"), arg("H"), arg("radius"));
  m.def("encode_megvii", &encode_megvii_py, arg("keypoints"), arg("visible"), arg("scale"),
        arg("f32"), arg("W"), arg("H"), arg("ksize"));
  m.def("instance_geometry", &instance_geometry_py, arg("keypoints"), arg("visible"),
        arg("kpt_center"));
  m.def("instance_sigmas", &instance_sigmas_py, arg("heights"), arg("widths"), arg("overlap"));
  m.def("heatmap_maximum", &heatmap_maximum_py, arg("heatmaps"));
  m.def("gaussian_blur", &gaussian_blur_py, arg("heatmaps"), arg("ksize"));
  m.def("refine_sign", &refine_sign_py, arg("keypoints"), arg("heatmaps"));
  m.def("refine_dark", &refine_dark_py, arg("keypoints"), arg("heatmaps"), arg("ksize"));
  m.def("refine_dark_udp", &refine_dark_udp_py, arg("keypoints"), arg("heatmaps"), arg("ksize"),
        arg("f32"));
  m.def("decode_msra", &decode_msra_py, arg("heatmaps"), arg("scale") = unit_scale);
  m.def("decode_dark", &decode_dark_py, arg("heatmaps"), arg("ksize"), arg("udp"),
        arg("scale") = unit_scale);
  m.def("decode_megvii", &decode_megvii_py, arg("heatmaps"), arg("ksize"));
  m.def("decode_udp_combined", &decode_udp_combined_py, arg("heatmaps"), arg("ksize"),
        arg("radius"));
}
