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

// H and W are those of the (B, C, H, W) output buffer heatmaps.
EncodeArgs encode_args(const F64& kps, const F64& vis, std::pair<float, float> scale, bool f32,
                       const py::array& heatmaps) {
  require_keypoints(kps, vis);
  require(heatmaps.ndim() == 4, "heatmaps: output buffer must be (B, C, H, W)");
  const int64_t H = heatmaps.shape(2), W = heatmaps.shape(3);
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
void encode_gaussian_py(const std::string& kind, const F64& kps, const F64& vis,
                        const py::object& sigma_in, std::pair<float, float> scale, bool f32,
                        const py::array& heat, const py::array& inside) {
  const EncodeArgs a = encode_args(kps, vis, scale, f32, heat);
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
    require(sd[i] >= 0 && sd[i] <= kMaxSigma, [] {
      return "sigma must be finite and in [0, " + std::to_string((long long)kMaxSigma) + "]";
    });
  GaussianKind k;
  if (kind == "msra") k = GaussianKind::Msra;
  else if (kind == "unbiased") k = GaussianKind::Unbiased;
  else if (kind == "udp") k = GaussianKind::Udp;
  else throw std::invalid_argument("unknown gaussian kind " + kind);
  float* h = out_buffer<float>(heat, {a.B, a.K, a.H, a.W}, "heatmaps");
  uint8_t* in = out_buffer<uint8_t>(inside, {a.B, a.N, a.K}, "inside");
  py::gil_scoped_release release;
  encode_gaussian(a, k, sd, per_sample ? a.B : 1, sigma_f32, h, in);
}

// DecoupledHeatmap's roots, root visibility and box diagonals of R instances:
// keypoints (R, K, 2) float32 or float64 (the precision MMPose computes in), visibility
// (R, K) -> roots f32 (R, 2), visibility f32 (R,), diagonals f32 (R,).
template <typename T>
void instance_geometry_t(const py::array_t<T, py::array::c_style | py::array::forcecast>& kps,
                         const F64& vis, bool kpt_center, const py::array& roots,
                         const py::array& roots_visible, const py::array& diagonals) {
  require(kps.ndim() == 3 && kps.shape(2) == 2, "keypoints must be (R, K, 2)");
  require(vis.ndim() == 2 && vis.shape(0) == kps.shape(0) && vis.shape(1) == kps.shape(1),
          "keypoints_visible must be (R, K)");
  const int64_t R = kps.shape(0), K = kps.shape(1);
  float* r = out_buffer<float>(roots, {R, 2}, "roots");
  float* rv = out_buffer<float>(roots_visible, {R}, "roots_visible");
  float* d = out_buffer<float>(diagonals, {R}, "diagonals");
  const T* p = kps.data();
  const double* v = vis.data();
  for (int64_t i = 0; i < R; ++i) {
    const InstanceGeometry g = one_instance_geometry<T>(p + i * K * 2, v + i * K, K, kpt_center);
    r[2 * i] = g.root_x;
    r[2 * i + 1] = g.root_y;
    rv[i] = g.root_visible;
    d[i] = g.diagonal;
  }
}

void instance_geometry_py(const py::array& kps, const F64& vis, bool kpt_center,
                          const py::array& roots, const py::array& roots_visible,
                          const py::array& diagonals) {
  if (kps.dtype().is(py::dtype::of<float>()))
    return instance_geometry_t<float>(kps, vis, kpt_center, roots, roots_visible, diagonals);
  instance_geometry_t<double>(kps, vis, kpt_center, roots, roots_visible, diagonals);
}

// DecoupledHeatmap's instance sigmas: heights and widths (R,) float32 or float64 (the
// boxes' dtype) -> sigmas f32 (R,).
template <typename T>
void instance_sigmas_t(const py::array_t<T, py::array::c_style | py::array::forcecast>& h,
                       const py::array_t<T, py::array::c_style | py::array::forcecast>& w,
                       double overlap, const py::array& sigmas) {
  require(h.ndim() == 1 && w.ndim() == 1 && h.shape(0) == w.shape(0),
          "heights and widths must be (R,) each");
  const int64_t R = h.shape(0);
  float* po = out_buffer<float>(sigmas, {R}, "sigmas");
  volatile T two_at_run_time = 2;
  const T two = two_at_run_time;
  const T *ph = h.data(), *pw = w.data();
  for (int64_t i = 0; i < R; ++i) po[i] = instance_sigma<T>(ph[i], pw[i], overlap, two);
}

void instance_sigmas_py(const py::array& h, const py::array& w, double overlap,
                        const py::array& sigmas) {
  if (h.dtype().is(py::dtype::of<float>())) return instance_sigmas_t<float>(h, w, overlap, sigmas);
  instance_sigmas_t<double>(h, w, overlap, sigmas);
}

void encode_offset_py(const F64& kps, const F64& vis, std::pair<float, float> scale, bool f32,
                      double radius, const py::array& heat, const py::array& inside) {
  const EncodeArgs a = encode_args(kps, vis, scale, f32, heat);
  float* h = out_buffer<float>(heat, {a.B, 3 * a.K, a.H, a.W}, "heatmaps");
  uint8_t* in = out_buffer<uint8_t>(inside, {a.B, a.N, a.K}, "inside");
  py::gil_scoped_release release;
  encode_offset(a, radius, h, in);
}

void encode_megvii_py(const F64& kps, const F64& vis, std::pair<float, float> scale, bool f32,
                      int ksize, const py::array& heat, const py::array& inside) {
  const EncodeArgs a = encode_args(kps, vis, scale, f32, heat);
  require(a.N <= 1, "MegviiHeatmap encodes one instance");
  require_kernel(ksize);
  float* h = out_buffer<float>(heat, {a.B, a.K, a.H, a.W}, "heatmaps");
  uint8_t* in = out_buffer<uint8_t>(inside, {a.B, a.N, a.K}, "inside");
  py::gil_scoped_release release;
  encode_megvii(a, ksize, h, in);
}

void heatmap_maximum_py(const F32& heat, const py::array& locs, const py::array& vals) {
  require(heat.ndim() >= 2, "heatmaps must be (..., H, W)");
  const int64_t H = heat.shape(heat.ndim() - 2), W = heat.shape(heat.ndim() - 1);
  require(H > 0 && W > 0, "heatmaps must not be empty");
  auto shape = lead_shape(heat, 2);
  float* v = out_buffer<float>(vals, shape, "vals");
  shape.push_back(2);
  float* l = out_buffer<float>(locs, shape, "locs");
  py::gil_scoped_release release;
  heatmap_maximum(heat.data(), leading(heat, 2), H, W, l, v);
}

void gaussian_blur_py(const F32& heat, int ksize, const py::array& blurred) {
  require(heat.ndim() >= 2, "heatmaps must be (..., H, W)");
  require_kernel(ksize);
  const int64_t H = heat.shape(heat.ndim() - 2), W = heat.shape(heat.ndim() - 1);
  float* out = out_buffer<float>(
      blurred, lead_shape(heat, 0), "blurred");
  require(out != heat.data(), "blurred: output buffer must not be the input");
  py::gil_scoped_release release;
  gaussian_blur(heat.data(), leading(heat, 2), H, W, ksize, out);
}

struct RefineShape { int64_t B, N, K, H, W; };

RefineShape refine_shape(const py::array& kps, const F32& heat) {
  require(kps.ndim() == 4 && kps.shape(3) == 2, "keypoints must be (B, N, K, 2)");
  require(heat.ndim() == 4 && heat.shape(0) == kps.shape(0) && heat.shape(1) == kps.shape(2),
          "heatmaps must be (B, K, H, W) matching keypoints (B, N, K, 2)");
  return {kps.shape(0), kps.shape(1), kps.shape(2), heat.shape(2), heat.shape(3)};
}

void refine_sign_py(const py::array& kps, const F32& heat) {
  double* k = writable_data<double>(kps, "keypoints");
  const RefineShape s = refine_shape(kps, heat);
  py::gil_scoped_release release;
  refine_sign(k, s.B, s.N, s.K, heat.data(), s.H, s.W);
}

void refine_dark_py(const py::array& kps, const F32& heat, int ksize) {
  double* k = writable_data<double>(kps, "keypoints");
  const RefineShape s = refine_shape(kps, heat);
  require_kernel(ksize);
  py::gil_scoped_release release;
  refine_dark(k, s.B, s.N, s.K, heat.data(), s.H, s.W, ksize);
}

void refine_dark_udp_py(const py::array& kps, const F32& heat, int ksize, bool f32) {
  double* k = writable_data<double>(kps, "keypoints");
  const RefineShape s = refine_shape(kps, heat);
  require_kernel(ksize);
  py::gil_scoped_release release;
  refine_dark_udp(k, s.B, s.N, s.K, heat.data(), s.H, s.W, ksize, f32);
}

// A decoder's outputs: locations (B, K, 2) and scores (B, K) for K keypoints.
struct DecodeOut { float* locs; float* scores; };

DecodeOut decode_out(const py::array& locs, const py::array& scores, int64_t B, int64_t K) {
  return {out_buffer<float>(locs, {B, K, 2}, "locs"), out_buffer<float>(scores, {B, K}, "scores")};
}

void decode_megvii_py(const F32& heat, int ksize, const py::array& locs,
                      const py::array& scores) {
  require(heat.ndim() == 4, "heatmaps must be (B, K, H, W)");
  require_kernel(ksize);
  const int64_t B = heat.shape(0), K = heat.shape(1), H = heat.shape(2), W = heat.shape(3);
  const DecodeOut o = decode_out(locs, scores, B, K);
  py::gil_scoped_release release;
  decode_megvii(heat.data(), B, K, H, W, ksize, o.locs, o.scores);
}

// Keypoints come back multiplied by `scale` in float32 (MMPose's `* scale_factor`).
void apply_scale(float* l, int64_t n, std::pair<float, float> scale) {
  if (scale.first == 1.f && scale.second == 1.f) return;
  for (int64_t i = 0; i < n; i += 2) {
    l[i] *= scale.first;
    l[i + 1] *= scale.second;
  }
}

void decode_msra_py(const F32& heat, std::pair<float, float> scale, const py::array& locs,
                    const py::array& vals) {
  require(heat.ndim() == 4, "heatmaps must be (B, K, H, W)");
  const int64_t B = heat.shape(0), K = heat.shape(1), H = heat.shape(2), W = heat.shape(3);
  require(H > 0 && W > 0, "heatmaps must not be empty");
  const DecodeOut o = decode_out(locs, vals, B, K);
  py::gil_scoped_release release;
  decode_msra(heat.data(), B, K, H, W, o.locs, o.scores);
  apply_scale(o.locs, 2 * B * K, scale);
}

void decode_dark_py(const F32& heat, int ksize, bool udp, std::pair<float, float> scale,
                    const py::array& locs, const py::array& vals) {
  require(heat.ndim() == 4, "heatmaps must be (B, K, H, W)");
  require_kernel(ksize);
  const int64_t B = heat.shape(0), K = heat.shape(1), H = heat.shape(2), W = heat.shape(3);
  require(H > 0 && W > 0, "heatmaps must not be empty");
  const DecodeOut o = decode_out(locs, vals, B, K);
  py::gil_scoped_release release;
  decode_dark(heat.data(), B, K, H, W, ksize, udp, o.locs, o.scores);
  apply_scale(o.locs, 2 * B * K, scale);
}

void decode_udp_combined_py(const F32& heat, int ksize, double radius, const py::array& locs,
                            const py::array& scores) {
  require(heat.ndim() == 4 && heat.shape(1) % 3 == 0, "heatmaps must be (B, 3K, H, W)");
  require_kernel(ksize);
  const int64_t B = heat.shape(0), K = heat.shape(1) / 3, H = heat.shape(2), W = heat.shape(3);
  const DecodeOut o = decode_out(locs, scores, B, K);
  py::gil_scoped_release release;
  decode_udp_combined(heat.data(), B, K, H, W, ksize, radius, o.locs, o.scores);
}

}  // namespace

void bind_heatmap(py::module_& m) {
  using py::arg;
  m.def("encode_gaussian", &encode_gaussian_py, arg("kind"), arg("keypoints"), arg("visible"),
        arg("sigma"), arg("scale"), arg("f32"), arg("heatmaps"), arg("inside"));
  m.def("encode_offset", &encode_offset_py, arg("keypoints"), arg("visible"), arg("scale"),
        arg("f32"), arg("radius"), arg("heatmaps"), arg("inside"));
  m.def("encode_megvii", &encode_megvii_py, arg("keypoints"), arg("visible"), arg("scale"),
        arg("f32"), arg("ksize"), arg("heatmaps"), arg("inside"));
  m.def("instance_geometry", &instance_geometry_py, arg("keypoints"), arg("visible"),
        arg("kpt_center"), arg("roots"), arg("roots_visible"), arg("diagonals"));
  m.def("instance_sigmas", &instance_sigmas_py, arg("heights"), arg("widths"), arg("overlap"),
        arg("sigmas"));
  m.def("heatmap_maximum", &heatmap_maximum_py, arg("heatmaps"), arg("locs"), arg("vals"));
  m.def("gaussian_blur", &gaussian_blur_py, arg("heatmaps"), arg("ksize"), arg("blurred"));
  m.def("refine_sign", &refine_sign_py, arg("keypoints"), arg("heatmaps"));
  m.def("refine_dark", &refine_dark_py, arg("keypoints"), arg("heatmaps"), arg("ksize"));
  m.def("refine_dark_udp", &refine_dark_udp_py, arg("keypoints"), arg("heatmaps"), arg("ksize"),
        arg("f32"));
  m.def("decode_msra", &decode_msra_py, arg("heatmaps"), arg("scale"), arg("locs"), arg("vals"));
  m.def("decode_dark", &decode_dark_py, arg("heatmaps"), arg("ksize"), arg("udp"), arg("scale"),
        arg("locs"), arg("vals"));
  m.def("decode_megvii", &decode_megvii_py, arg("heatmaps"), arg("ksize"), arg("locs"),
        arg("scores"));
  m.def("decode_udp_combined", &decode_udp_combined_py, arg("heatmaps"), arg("ksize"),
        arg("radius"), arg("locs"), arg("scores"));
}
