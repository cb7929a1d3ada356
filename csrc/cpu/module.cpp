// The Python module fastcodec._C: the thread settings and each codec family's bindings
// (*_module.cpp).
#include <pybind11/pybind11.h>

#include "fastcodec/blur.h"
#include "fastcodec/heatmap_targets.h"
#include "parallel.h"

namespace py = pybind11;

void bind_heatmap(py::module_& m);     // heatmap_module.cpp
void bind_regression(py::module_& m);  // regression_module.cpp
void bind_simcc(py::module_& m);       // simcc_module.cpp
void bind_spr(py::module_& m);         // spr_module.cpp
void bind_lifting(py::module_& m);     // lifting_module.cpp
void bind_hand3d(py::module_& m);      // hand3d_module.cpp
void bind_simcc3d(py::module_& m);     // simcc3d_module.cpp
void bind_ae(py::module_& m);          // ae_module.cpp
void bind_header_functions(py::module_& m);  // header_functions_module.cpp (tests)

PYBIND11_MODULE(_C, m) {
  using namespace fastcodec;
  m.doc() = "fastcodec CPU kernels (C++17, threads per call)";
  m.def("num_threads", &num_threads);
  m.def("set_num_threads", &set_num_threads, py::arg("n"));
  m.def("pool_calls", &pool_calls, "calls that ran on more than one thread (tests)");
  m.attr("MAX_BLUR_KERNEL") = kMaxBlurKernel;  // fastcodec/limits.py
  m.attr("MAX_SIGMA") = kMaxSigma;
  bind_heatmap(m);
  bind_simcc(m);
  bind_regression(m);
  bind_spr(m);
  bind_lifting(m);
  bind_hand3d(m);
  bind_simcc3d(m);
  bind_ae(m);
  bind_header_functions(m);
}
