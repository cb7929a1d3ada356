// pybind11 binding of MotionBERTLabel's encode kernel. Python (fastcodec.codecs.
// motionbert_label) checks the arguments and decides dtypes; this layer re-checks
// everything that would otherwise index out of bounds.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <utility>

#include "bindings.h"
#include "lifting_kernels.h"

namespace py = pybind11;
using namespace fastcodec;

namespace {


bool is_f32(const py::array& a) { return has_dtype<float>(a); }
bool is_f64(const py::array& a) { return has_dtype<double>(a); }

void require_float_c(const py::array& a, const char* name) {
  require((is_f32(a) || is_f64(a)) && (a.flags() & py::array::c_style),
          [&] { return std::string(name) + " must be a C-contiguous float32 or float64 array"; });
}

// The outputs of one call, checked against the inputs' shapes and dtypes.
template <typename KT, typename LT>
bool run(const py::array& kp, const py::object& vis_in, const py::array& lt,
         const F64& params, const F64& factor, const U8& take_given, int64_t root,
         bool project, bool train, const py::object& tvis_in, const py::array& labels,
         const py::array& target_label, const py::array& computed_factor,
         const py::object& weights) {
  const int64_t B = kp.shape(0), N = kp.shape(1), K = kp.shape(2), D = kp.shape(3);
  const int64_t T = lt.shape(1), C = lt.shape(3), L = factor.shape(1);
  const KT* vis = nullptr;
  if (!vis_in.is_none()) vis = static_cast<const KT*>(py::reinterpret_borrow<py::array>(vis_in).data());
  KT* l = out_buffer<KT>(labels, {B, N, K, D + (vis != nullptr)}, "labels");
  LT* o = out_buffer<LT>(target_label, {B, T, lt.shape(2), C}, "target_label");
  LT* c = out_buffer<LT>(computed_factor, {B, project ? T : 0}, "computed_factor");
  const void* tvis = nullptr;
  bool tvis_f32 = false;
  float* w = nullptr;
  if (!tvis_in.is_none()) {
    const auto tv = py::reinterpret_borrow<py::array>(tvis_in);
    tvis = tv.data();
    tvis_f32 = is_f32(tv);
    require(!weights.is_none(), "weights: an output buffer is needed with target_visible");
    w = out_buffer<float>(py::reinterpret_borrow<py::array>(weights), {B, T, lt.shape(2)},
                          "weights");
  }
  const KT* k = static_cast<const KT*>(kp.data());
  const LT* t = static_cast<const LT*>(lt.data());
  py::gil_scoped_release release;
  return motionbert_encode<KT, LT>(k, vis, B, N, K, D, l, t, T, C, root, project, train,
                            params.data(), factor.data(), L, take_given.data(), o, c, tvis,
                            tvis_f32, w);
}

// keypoints (B, N, K, D >= 2), visible (B, N, K) of the keypoints' dtype or None,
// target (B, T, K, C) float32/float64 (C = 3 with project or train), params (B, 8)
// float64, factor (B, L) float64 with L = 1 or T, take_given (B,) uint8, target_visible
// (B, T, K) float32/float64 or None | labels (B, N, K, D [+ 1]) keypoints' dtype, target
// label (B, T, K, C) target's dtype, computed factor (B, T) target's dtype ((B, 0)
// without project), weights (B, T, K) float32 (None without target_visible). Returns
// whether keypoints and target are all finite.
bool motionbert_encode_py(const py::array& kp, const py::object& vis, const py::array& lt,
                          const F64& params, const F64& factor, const U8& take_given,
                          int64_t root, bool project, bool train,
                          const py::object& target_visible, const py::array& labels,
                          const py::array& target_label, const py::array& computed_factor,
                          const py::object& weights) {
  require_float_c(kp, "keypoints");
  require_float_c(lt, "lifting_target");
  require(kp.ndim() == 4 && kp.shape(3) >= 2, "keypoints must be (B, N, K, D >= 2)");
  require(lt.ndim() == 4 && lt.shape(0) == kp.shape(0), "lifting_target must be (B, T, K, C)");
  const int64_t B = kp.shape(0), T = lt.shape(1), K = lt.shape(2), C = lt.shape(3);
  require(K > root && root >= 0, "root_index out of range of lifting_target's keypoints");
  require(!(project || train) || C == 3, "lifting_target must have C = 3 to project or train");
  if (!vis.is_none()) {
    require(py::isinstance<py::array>(vis), "visible must be an array or None");
    const auto v = py::reinterpret_borrow<py::array>(vis);
    require((is_f32(kp) ? is_f32(v) : is_f64(v)) && (v.flags() & py::array::c_style),
            "visible must be C-contiguous with the keypoints' dtype");
    require(v.size() == kp.shape(0) * kp.shape(1) * kp.shape(2),
            "visible must have B * N * K entries");
  }
  require(params.ndim() == 2 && params.shape(0) == B && params.shape(1) == 8,
          "params must be (B, 8)");
  require(factor.ndim() == 2 && factor.shape(0) == B &&
              (factor.shape(1) == 1 || factor.shape(1) == T),
          "factor must be (B, 1) or (B, T)");
  require(take_given.ndim() == 1 && take_given.shape(0) == B, "take_given must be (B,)");
  if (!target_visible.is_none()) {
    require(py::isinstance<py::array>(target_visible), "target_visible must be an array or None");
    const auto tv = py::reinterpret_borrow<py::array>(target_visible);
    require_float_c(tv, "target_visible");
    require(tv.size() == B * T * K, "target_visible must have B * T * K entries");
  }
  const auto go = is_f32(kp) ? (is_f32(lt) ? run<float, float> : run<float, double>)
                             : (is_f32(lt) ? run<double, float> : run<double, double>);
  return go(kp, vis, lt, params, factor, take_given, root, project, train, target_visible,
            labels, target_label, computed_factor, weights);
}

// a, b float32/float64 arrays of any layout: whether every value of both is finite.
// One sample's keypoints and target keep the GIL; a batch releases it.
bool all_finite_py(const py::array& a, const py::array& b) {
  const auto span = [](const py::array& x, const char* name) {
    require(is_f32(x) || is_f64(x),
            [&] { return std::string(name) + " must be a float32 or float64 array"; });
    const py::array c = (x.flags() & py::array::c_style) ? x
                        : py::array::ensure(x, py::array::c_style);
    return std::make_pair(c, FloatSpan{c.data(), c.size(), is_f32(c)});
  };
  const auto [ca, sa] = span(a, "a");
  const auto [cb, sb] = span(b, "b");
  if (sa.n + sb.n < kFinitePairSmall) return all_finite_pair(sa, sb);
  py::gil_scoped_release release;
  return all_finite_pair(sa, sb);
}

}  // namespace

void bind_lifting(py::module_& m) {
  m.def("all_finite", &all_finite_py, py::arg("a"), py::arg("b"));
  m.def("motionbert_encode", &motionbert_encode_py, py::arg("keypoints"), py::arg("visible"),
        py::arg("target"), py::arg("params"), py::arg("factor"), py::arg("take_given"),
        py::arg("root_index"), py::arg("project"), py::arg("train"), py::arg("target_visible"),
        py::arg("labels"), py::arg("target_label"), py::arg("computed_factor"),
        py::arg("weights"));
}
