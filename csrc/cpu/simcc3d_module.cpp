// pybind11 binding of SimCC3DLabel's encoder (see simcc_kernels.h). Shapes are checked in
// Python (fastcodec.codecs.simcc_3d_label); this layer re-checks what would otherwise
// index out of bounds. The outputs come from the front and are written in place.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <tuple>

#include "bindings.h"
#include "simcc_kernels.h"

namespace py = pybind11;
using namespace fastcodec;

namespace {

// A (B, N, K, L) float32 label buffer for keypoints (B, N, K, 3).
float* float_output(const py::array& out, const char* name, const F64& kps) {
  float* data = writable_data<float>(out, name);
  require(out.ndim() == 4 && out.shape(0) == kps.shape(0) && out.shape(1) == kps.shape(1) &&
              out.shape(2) == kps.shape(2) && out.shape(3) > 0,
          [&] { return std::string(name) + " must be a float32 (B, N, K, L) array"; });
  return data;
}

void simcc3d_encode_py(const F64& kps, const F64& vis, std::tuple<double, double, double> sigma,
                       double ratio, bool f32, bool normalize, const py::array& x_labels,
                       const py::array& y_labels, const py::array& z_labels,
                       const py::array& inside) {
  require(kps.ndim() == 4 && kps.shape(3) == 3, "keypoints must be (B, N, K, 3)");
  require(vis.ndim() == 3 && vis.shape(0) == kps.shape(0) && vis.shape(1) == kps.shape(1) &&
              vis.shape(2) == kps.shape(2),
          "keypoints_visible must be (B, N, K)");
  uint8_t* in = writable_data<uint8_t>(inside, "inside");
  require(inside.ndim() == 3 && inside.shape(0) == kps.shape(0) &&
              inside.shape(1) == kps.shape(1) && inside.shape(2) == kps.shape(2),
          "inside must be a uint8 (B, N, K) array");
  Simcc3dEncodeArgs a;
  a.keypoints = kps.data();
  a.visible = vis.data();
  a.R = kps.shape(0) * kps.shape(1) * kps.shape(2);
  float* tx = float_output(x_labels, "x_labels", kps);
  float* ty = float_output(y_labels, "y_labels", kps);
  float* tz = float_output(z_labels, "z_labels", kps);
  a.W = x_labels.shape(3);
  a.H = y_labels.shape(3);
  a.D = z_labels.shape(3);
  a.sigma[0] = std::get<0>(sigma);
  a.sigma[1] = std::get<1>(sigma);
  a.sigma[2] = std::get<2>(sigma);
  require(a.sigma[0] > 0 && a.sigma[1] > 0 && a.sigma[2] > 0, "sigma must be positive");
  a.ratio = ratio;
  a.f32 = f32;
  a.normalize = normalize;
  py::gil_scoped_release release;
  simcc3d_encode(a, tx, ty, tz, in);
}

}  // namespace

void bind_simcc3d(py::module_& m) {
  m.def("simcc3d_encode", &simcc3d_encode_py, py::arg("keypoints"), py::arg("visible"),
        py::arg("sigma"), py::arg("ratio"), py::arg("f32"), py::arg("normalize"),
        py::arg("x_labels"), py::arg("y_labels"), py::arg("z_labels"), py::arg("inside"));
}
