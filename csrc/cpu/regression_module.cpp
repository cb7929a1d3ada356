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

#include "bindings.h"
#include "regression_kernels.h"

namespace py = pybind11;
using namespace fastcodec;

namespace {

std::pair<double, double> check_size(std::pair<double, double> size) {
  require(size.first > 0 && size.second > 0, "input_size must be positive");
  return size;
}

// float32 and float64 arrays, C-contiguous, go to the kernels as they are; anything
// else is converted to float64 first (no per-call copy for the common dtypes).
py::array as_float_array(const py::handle& h) {
  if (py::isinstance<py::array>(h)) {
    auto a = py::reinterpret_borrow<py::array>(h);
    if ((a.flags() & py::array::c_style) &&
        (has_dtype<float>(a) || has_dtype<double>(a)))
      return a;
  }
  return F64::ensure(h);
}

bool is_f32(const py::array& a) { return has_dtype<float>(a); }

template <typename K, typename V>
void run_encode(const py::array& k, const py::array& v, int64_t M, std::pair<double, double> s,
                float* labels, float* weights) {
  const K* kp = static_cast<const K*>(k.data());
  const V* vp = static_cast<const V*>(v.data());
  ReleaseGilFor release(2 * M);
  encode_regression(kp, vp, M, s.first, s.second, labels, weights);
}

// keypoints (..., 2), visible (...) | labels (..., 2) float32, weights (...) float32.
void encode_regression_py(const py::object& kps_in, const py::object& vis_in,
                          std::pair<double, double> size, const py::array& labels,
                          const py::array& weights) {
  check_size(size);
  const py::array kps = as_float_array(kps_in), vis = as_float_array(vis_in);
  require(kps && vis, "keypoints and keypoints_visible must be real arrays");
  require(kps.ndim() >= 1 && kps.shape(kps.ndim() - 1) == 2, "keypoints must be (..., 2)");
  const auto lead = lead_shape(kps, 1);
  require(vis.ndim() == (py::ssize_t)lead.size() &&
              std::equal(lead.begin(), lead.end(), vis.shape()),
          "keypoints_visible must match keypoints (..., 2) without the last axis");
  float* l = out_buffer<float>(labels, lead_shape(kps, 0), "labels");
  float* w = out_buffer<float>(weights, lead, "weights");
  const int64_t M = vis.size();
  if (is_f32(kps)) {
    if (is_f32(vis)) run_encode<float, float>(kps, vis, M, size, l, w);
    else run_encode<float, double>(kps, vis, M, size, l, w);
  } else {
    if (is_f32(vis)) run_encode<double, float>(kps, vis, M, size, l, w);
    else run_encode<double, double>(kps, vis, M, size, l, w);
  }
}

// encoded (..., D), D = 2 or 4 | keypoints (..., 2) float64, scores (...) float32 for
// D = 2 or f32, float64 otherwise (MMPose's dtypes).
void decode_regression_py(const py::object& enc_in, std::pair<double, double> size, bool f32,
                          const py::array& keypoints, const py::array& scores) {
  check_size(size);
  const py::array enc = as_float_array(enc_in);
  require(enc && enc.ndim() >= 1, "encoded must be (..., D)");
  const int64_t D = enc.shape(enc.ndim() - 1);
  require(D == 2 || D == 4,
          [&] { return "the last axis of encoded must be 2 or 4, got " + std::to_string(D); });
  auto shape = lead_shape(enc, 1);
  const int64_t M = enc.size() / D;
  const bool single = D == 2 || f32;
  void* s = single ? static_cast<void*>(out_buffer<float>(scores, shape, "scores"))
                   : static_cast<void*>(out_buffer<double>(scores, shape, "scores"));
  shape.push_back(2);
  double* k = out_buffer<double>(keypoints, shape, "keypoints");
  const double w = size.first, h = size.second;
  const bool in32 = is_f32(enc);
  const void* e = enc.data();
  {
    ReleaseGilFor release(2 * M);  // as the encode: two coordinates a keypoint
    if (in32 && single)
      decode_regression(static_cast<const float*>(e), M, D, w, h, k, static_cast<float*>(s));
    else if (single)
      decode_regression(static_cast<const double*>(e), M, D, w, h, k, static_cast<float*>(s));
    else if (in32)  // float32 outputs with f32 = false: scores in float64 of exact values
      decode_regression(static_cast<const float*>(e), M, D, w, h, k, static_cast<double*>(s));
    else
      decode_regression(static_cast<const double*>(e), M, D, w, h, k, static_cast<double*>(s));
  }
}

// heatmaps (..., H, W) float32, C-contiguous and writeable: normalised in place.
void normalize_heatmaps_py(const py::array& heat) {
  float* h = writable_data<float>(heat, "heatmaps");
  require(heat.ndim() >= 2, "heatmaps must be (..., H, W)");
  const int64_t H = heat.shape(heat.ndim() - 2), W = heat.shape(heat.ndim() - 1);
  const int64_t C = H * W > 0 ? heat.size() / (H * W) : 0;
  py::gil_scoped_release release;
  normalize_heatmaps(h, C, H, W);
}

}  // namespace

void bind_regression(py::module_& m) {
  m.def("encode_regression", &encode_regression_py, py::arg("keypoints"), py::arg("visible"),
        py::arg("input_size"), py::arg("labels"), py::arg("weights"));
  m.def("decode_regression", &decode_regression_py, py::arg("encoded"), py::arg("input_size"),
        py::arg("f32"), py::arg("keypoints"), py::arg("scores"));
  m.def("normalize_heatmaps", &normalize_heatmaps_py, py::arg("heatmaps"));
}
