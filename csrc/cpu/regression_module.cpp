// pybind11 bindings of the regression kernels (RegressionLabel and
// IntegralRegressionLabel). Shapes are checked in Python first; this layer re-checks
// what would otherwise index out of bounds.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "regression_kernels.h"

namespace py = pybind11;
using namespace fastcodec;

namespace {

using F64 = py::array_t<double, py::array::c_style | py::array::forcecast>;

void require(bool ok, const std::string& msg) {
  if (!ok) throw std::invalid_argument(msg);
}

std::vector<py::ssize_t> shape_of(const py::array& a, int drop_last) {
  return std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim() - drop_last);
}

std::pair<double, double> check_size(std::pair<double, double> size) {
  require(size.first > 0 && size.second > 0, "input_size must be positive");
  return size;
}

// keypoints (..., 2), visible (...) -> labels (..., 2) float32, weights (...) float32.
py::tuple encode_regression_py(const F64& kps, const F64& vis, std::pair<double, double> size) {
  check_size(size);
  require(kps.ndim() >= 1 && kps.shape(kps.ndim() - 1) == 2, "keypoints must be (..., 2)");
  const auto lead = shape_of(kps, 1);
  require(vis.ndim() == (py::ssize_t)lead.size() &&
              std::equal(lead.begin(), lead.end(), vis.shape()),
          "keypoints_visible must match keypoints (..., 2) without the last axis");
  py::array_t<float> labels(shape_of(kps, 0));
  py::array_t<float> weights(lead);
  const int64_t M = vis.size();
  {
    py::gil_scoped_release release;
    encode_regression(kps.data(), vis.data(), M, size.first, size.second,
                      labels.mutable_data(), weights.mutable_data());
  }
  return py::make_tuple(labels, weights);
}

// encoded (..., D), D = 2 or 4 -> keypoints (..., 2) float64, scores (...) float32 for
// D = 2 or f32, float64 otherwise (MMPose's dtypes).
py::tuple decode_regression_py(const F64& enc, std::pair<double, double> size, bool f32) {
  check_size(size);
  require(enc.ndim() >= 1, "encoded must be (..., D)");
  const int64_t D = enc.shape(enc.ndim() - 1);
  require(D == 2 || D == 4, "the last axis of encoded must be 2 or 4, got " + std::to_string(D));
  auto shape = shape_of(enc, 1);
  const int64_t M = D > 0 ? enc.size() / D : 0;
  py::array_t<float> s32;
  py::array_t<double> s64;
  const bool single = D == 2 || f32;
  if (single) s32 = py::array_t<float>(shape);
  else s64 = py::array_t<double>(shape);
  shape.push_back(2);
  py::array_t<double> kps(shape);
  {
    py::gil_scoped_release release;
    if (single)
      decode_regression(enc.data(), M, D, size.first, size.second, kps.mutable_data(),
                        s32.mutable_data());
    else
      decode_regression(enc.data(), M, D, size.first, size.second, kps.mutable_data(),
                        s64.mutable_data());
  }
  return py::make_tuple(kps, single ? py::array(s32) : py::array(s64));
}

// heatmaps (..., H, W) float32, C-contiguous and writeable: normalised in place.
void normalize_heatmaps_py(py::array_t<float> heat) {
  require(heat.ndim() >= 2, "heatmaps must be (..., H, W)");
  require((heat.flags() & py::array::c_style) && heat.writeable(),
          "heatmaps must be a C-contiguous writeable float32 array");
  const int64_t H = heat.shape(heat.ndim() - 2), W = heat.shape(heat.ndim() - 1);
  const int64_t C = H * W > 0 ? heat.size() / (H * W) : 0;
  float* h = heat.mutable_data();
  py::gil_scoped_release release;
  normalize_heatmaps(h, C, H, W);
}

}  // namespace

void bind_regression(py::module_& m) {
  m.def("encode_regression", &encode_regression_py, py::arg("keypoints"), py::arg("visible"),
        py::arg("input_size"));
  m.def("decode_regression", &decode_regression_py, py::arg("encoded"), py::arg("input_size"),
        py::arg("f32"));
  m.def("normalize_heatmaps", &normalize_heatmaps_py, py::arg("heatmaps"));
}
