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

py::tuple simcc_encode_py(const F64& kps, const F64& vis, bool gaussian,
                          std::pair<double, double> sigma, double ratio, bool f32, int64_t W,
                          int64_t H, double label_smooth_weight, bool normalize) {
  require_keypoints(kps, vis);
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
  const py::ssize_t B = kps.shape(0), N = kps.shape(1), K = kps.shape(2);
  py::array_t<float> tx({B, N, K, (py::ssize_t)W});
  py::array_t<float> ty({B, N, K, (py::ssize_t)H});
  py::array_t<uint8_t> inside({B, N, K});
  {
    py::gil_scoped_release release;
    simcc_encode(a, tx.mutable_data(), ty.mutable_data(), inside.mutable_data());
  }
  return py::make_tuple(tx, ty, inside);
}

void check_rows(const F32& sx, const F32& sy) {
  require(sx.ndim() == 2 && sy.ndim() == 2 && sx.shape(0) == sy.shape(0),
          "simcc_x and simcc_y must be (R, Wx) and (R, Wy)");
  require(sx.shape(1) > 0 && sy.shape(1) > 0, "simcc lengths must be positive");
}

py::tuple simcc_maximum_py(const F32& sx, const F32& sy) {
  check_rows(sx, sy);
  const int64_t R = sx.shape(0);
  py::array_t<float> locs({(py::ssize_t)R, (py::ssize_t)2});
  py::array_t<float> vals({(py::ssize_t)R});
  {
    py::gil_scoped_release release;
    simcc_maximum(sx.data(), sy.data(), R, sx.shape(1), sy.shape(1), locs.mutable_data(),
                  vals.mutable_data());
  }
  return py::make_tuple(locs, vals);
}

py::tuple simcc_decode_py(const F32& sx, const F32& sy, int kx, int ky, float ratio,
                          bool visibility, float beta, std::pair<double, double> sigma) {
  check_rows(sx, sy);
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
  py::array_t<float> locs({(py::ssize_t)a.R, (py::ssize_t)2});
  py::array_t<float> vals({(py::ssize_t)a.R});
  py::array_t<double> vis({(py::ssize_t)(visibility ? a.R : 0)});
  {
    py::gil_scoped_release release;
    simcc_decode(a, locs.mutable_data(), vals.mutable_data(), vis.mutable_data());
  }
  return py::make_tuple(locs, vals, vis);
}

py::array_t<float> simcc_refine_dark_py(const F32& x, const F32& simcc, int k) {
  require(simcc.ndim() == 2 && x.ndim() == 1 && x.shape(0) == simcc.shape(0),
          "keypoints must be (R,) and simcc (R, W)");
  require(simcc.shape(1) > 0, "simcc length must be positive");
  require_kernel(k, "blur_kernel_size");
  py::array_t<float> out({x.shape(0)});
  std::copy(x.data(), x.data() + x.shape(0), out.mutable_data());
  {
    py::gil_scoped_release release;
    simcc_refine_dark(out.mutable_data(), simcc.data(), simcc.shape(0), simcc.shape(1), k);
  }
  return out;
}

}  // namespace

void bind_simcc(py::module_& m) {
  m.def("simcc_encode", &simcc_encode_py, py::arg("keypoints"), py::arg("visible"),
        py::arg("gaussian"), py::arg("sigma"), py::arg("ratio"), py::arg("f32"), py::arg("W"),
        py::arg("H"), py::arg("label_smooth_weight"), py::arg("normalize"));
  m.def("simcc_maximum", &simcc_maximum_py, py::arg("simcc_x"), py::arg("simcc_y"));
  m.def("simcc_decode", &simcc_decode_py, py::arg("simcc_x"), py::arg("simcc_y"), py::arg("kx"),
        py::arg("ky"), py::arg("ratio"), py::arg("visibility"), py::arg("beta"),
        py::arg("sigma"));
  m.def("simcc_refine_dark", &simcc_refine_dark_py, py::arg("keypoints"), py::arg("simcc"),
        py::arg("blur_kernel_size"));
}
