// pybind11 bindings of the SimCC kernels (see simcc_kernels.h). Shapes are checked in
// Python (fastcodec.codecs.simcc_label, fastcodec.ops.simcc); this layer re-checks
// what would otherwise index out of bounds.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <stdexcept>
#include <string>

#include "bindings.h"
#include "fastcodec/blur.h"
#include "simcc_kernels.h"

namespace py = pybind11;
using namespace fastcodec;

namespace {

void simcc_encode_py(const F64& kps, const F64& vis, bool gaussian,
                     std::pair<double, double> sigma, double ratio, bool f32,
                     double label_smooth_weight, bool normalize, const py::array& x_labels,
                     const py::array& y_labels, const py::array& inside) {
  require_keypoints(kps, vis);
  require(x_labels.ndim() == 4 && y_labels.ndim() == 4,
          "x_labels and y_labels: output buffers must be (B, N, K, W) and (B, N, K, H)");
  const int64_t W = x_labels.shape(3), H = y_labels.shape(3);
  require(W > 0 && H > 0, "label sizes must be positive");
  SimccEncodeArgs a;
  a.keypoints = kps.data();
  a.visible = vis.data();
  a.R = kps.shape(0) * kps.shape(1) * kps.shape(2);
  a.W = W;
  a.H = H;
  a.gaussian = gaussian;
  a.sigma[0] = sigma.first;
  a.sigma[1] = sigma.second;
  a.ratio = ratio;
  a.f32 = f32;
  a.label_smooth_weight = label_smooth_weight;
  a.normalize = normalize;
  const int64_t B = kps.shape(0), N = kps.shape(1), K = kps.shape(2);
  float* tx = out_buffer<float>(x_labels, {B, N, K, W}, "x_labels");
  float* ty = out_buffer<float>(y_labels, {B, N, K, H}, "y_labels");
  uint8_t* in = out_buffer<uint8_t>(inside, {B, N, K}, "inside");
  py::gil_scoped_release release;
  simcc_encode(a, tx, ty, in);
}

void check_rows(const F32& sx, const F32& sy) {
  require(sx.ndim() == 2 && sy.ndim() == 2 && sx.shape(0) == sy.shape(0),
          "simcc_x and simcc_y must be (R, Wx) and (R, Wy)");
  require(sx.shape(1) > 0 && sy.shape(1) > 0, "simcc lengths must be positive");
}

void simcc_maximum_py(const F32& sx, const F32& sy, const py::array& locs,
                      const py::array& vals) {
  check_rows(sx, sy);
  const int64_t R = sx.shape(0);
  float* l = out_buffer<float>(locs, {R, 2}, "locs");
  float* v = out_buffer<float>(vals, {R}, "vals");
  py::gil_scoped_release release;
  simcc_maximum(sx.data(), sy.data(), R, sx.shape(1), sy.shape(1), l, v);
}

void simcc_decode_py(const F32& sx, const F32& sy, int kx, int ky, float ratio, float beta,
                     std::pair<double, double> sigma, const py::array& locs,
                     const py::array& vals, const py::array& visible) {
  check_rows(sx, sy);
  const int64_t R = sx.shape(0);
  const bool visibility = visible.ndim() == 1 && visible.shape(0) == R && R > 0;
  if (kx) require_kernel(kx, "x blur kernel size");
  if (ky) require_kernel(ky, "y blur kernel size");
  SimccDecodeArgs a;
  a.sx = sx.data();
  a.sy = sy.data();
  a.R = sx.shape(0);
  a.Wx = sx.shape(1);
  a.Wy = sy.shape(1);
  a.kx = kx;
  a.ky = ky;
  a.ratio = ratio;
  a.visibility = visibility;
  a.beta = beta;
  a.sigma[0] = sigma.first;
  a.sigma[1] = sigma.second;
  float* l = out_buffer<float>(locs, {R, 2}, "locs");
  float* v = out_buffer<float>(vals, {R}, "vals");
  double* vis = out_buffer<double>(visible, {visibility ? R : 0}, "visible");
  py::gil_scoped_release release;
  simcc_decode(a, l, v, vis);
}

void simcc_refine_dark_py(const F32& x, const F32& simcc, int k, const py::array& refined) {
  require(simcc.ndim() == 2 && x.ndim() == 1 && x.shape(0) == simcc.shape(0),
          "keypoints must be (R,) and simcc (R, W)");
  require(simcc.shape(1) > 0, "simcc length must be positive");
  require_kernel(k, "blur_kernel_size");
  float* out = out_buffer<float>(refined, {x.shape(0)}, "refined");
  std::copy(x.data(), x.data() + x.shape(0), out);
  py::gil_scoped_release release;
  simcc_refine_dark(out, simcc.data(), simcc.shape(0), simcc.shape(1), k);
}

}  // namespace

void bind_simcc(py::module_& m) {
  m.def("simcc_encode", &simcc_encode_py, py::arg("keypoints"), py::arg("visible"),
        py::arg("gaussian"), py::arg("sigma"), py::arg("ratio"), py::arg("f32"),
        py::arg("label_smooth_weight"), py::arg("normalize"), py::arg("x_labels"),
        py::arg("y_labels"), py::arg("inside"));
  m.def("simcc_maximum", &simcc_maximum_py, py::arg("simcc_x"), py::arg("simcc_y"),
        py::arg("locs"), py::arg("vals"));
  m.def("simcc_decode", &simcc_decode_py, py::arg("simcc_x"), py::arg("simcc_y"), py::arg("kx"),
        py::arg("ky"), py::arg("ratio"), py::arg("beta"), py::arg("sigma"), py::arg("locs"),
        py::arg("vals"), py::arg("visible"));
  m.def("simcc_refine_dark", &simcc_refine_dark_py, py::arg("keypoints"), py::arg("simcc"),
        py::arg("blur_kernel_size"), py::arg("refined"));
}
