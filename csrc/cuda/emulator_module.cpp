// fastcodec._cuda_emulator: the CUDA kernels of csrc/cuda, compiled for the host with
// the emulation header and launched on numpy arrays.
//
// One entry point, launch(name, grid, block, shared_bytes, args), mirrors a CUDA launch:
// src/fastcodec/backends/cuda/launch.py computes the same grid, block, shared memory and
// argument tuple for a GPU launch through CuPy and for this one. Each argument is
// converted to the kernel's parameter type: a pointer parameter takes a C-contiguous
// numpy array of exactly its element type (writeable unless the pointer is const), a
// scalar parameter a Python or numpy number; anything else is a TypeError, so a
// marshalling mistake in the launch code shows up here rather than as a wrong read.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "emulator.h"

// The kernel sources, compiled for the host.
#include "heatmap.cu"
#include "regression.cu"
#include "simcc.cu"
// DecoupledHeatmap (issue 15)
#include "instances.cu"
// SPR (issue 15)
#include "spr.cu"
// lifting (issue 15)
#include "lifting.cu"
// Hand3DHeatmap (issue 16)
#include "hand3d.cu"
#include "associative_embedding.cu"

namespace py = pybind11;

namespace {

template <typename T>
T convert_arg(const py::handle& h, const std::string& kernel, size_t index) {
  const std::string where = kernel + " argument " + std::to_string(index);
  if constexpr (std::is_pointer_v<T>) {
    using Elem = std::remove_cv_t<std::remove_pointer_t<T>>;
    if (!py::isinstance<py::array>(h)) throw py::type_error(where + ": expected a numpy array");
    py::array a = py::reinterpret_borrow<py::array>(h);
    if (!a.dtype().is(py::dtype::of<Elem>()))
      throw py::type_error(where + ": expected dtype " + std::string(py::str(py::dtype::of<Elem>())) +
                           ", got " + std::string(py::str(a.dtype())));
    if (!(a.flags() & py::array::c_style))
      throw py::type_error(where + ": expected a C-contiguous array");
    if constexpr (std::is_const_v<std::remove_pointer_t<T>>) {
      return static_cast<T>(a.data());
    } else {
      if (!a.writeable()) throw py::type_error(where + ": expected a writeable array");
      return static_cast<T>(a.mutable_data());
    }
  } else {
    static_assert(std::is_arithmetic_v<T>);
    if (py::isinstance<py::array>(h) || !(PyNumber_Check(h.ptr())))
      throw py::type_error(where + ": expected a number");
    return h.cast<T>();
  }
}

dim3 to_dim3(const py::tuple& t, const char* what) {
  if (t.size() < 1 || t.size() > 3) throw py::value_error(std::string(what) + " must have 1 to 3 entries");
  unsigned v[3] = {1, 1, 1};
  for (size_t i = 0; i < t.size(); ++i) {
    const long long x = t[i].cast<long long>();
    if (x < 1 || x > 0x7fffffffLL) throw py::value_error(std::string(what) + " entries must be in [1, 2^31)");
    v[i] = (unsigned)x;
  }
  return dim3(v[0], v[1], v[2]);
}

using Launcher = std::function<void(dim3, dim3, size_t, const py::tuple&)>;

template <typename... P, size_t... I>
void launch_converted(void (*kernel)(P...), const std::string& name, dim3 grid, dim3 block,
                      size_t shared, const py::tuple& args, std::index_sequence<I...>) {
  const std::tuple<P...> converted(convert_arg<P>(args[I], name, I)...);
  py::gil_scoped_release release;
  launch(kernel, grid, block, shared, std::get<I>(converted)...);
}

template <typename... P>
Launcher launcher(const std::string& name, void (*kernel)(P...)) {
  return [name, kernel](dim3 grid, dim3 block, size_t shared, const py::tuple& args) {
    if (args.size() != sizeof...(P))
      throw py::type_error(name + " takes " + std::to_string(sizeof...(P)) + " arguments, got " +
                           std::to_string(args.size()));
    launch_converted(kernel, name, grid, block, shared, args, std::index_sequence_for<P...>{});
  };
}

const std::map<std::string, Launcher>& kernels() {
#define FC_KERNEL(k) {#k, launcher(#k, &k)}
  static const std::map<std::string, Launcher> table = {
      FC_KERNEL(fc_heatmap_maximum),
      FC_KERNEL(fc_decode_msra),
      FC_KERNEL(fc_decode_dark),
      FC_KERNEL(fc_dark_maxima),
      FC_KERNEL(fc_decode_dark_udp_step),
      FC_KERNEL(fc_refine_dark_udp),
      FC_KERNEL(fc_refine_dark),
      FC_KERNEL(fc_refine_sign),
      FC_KERNEL(fc_decode_megvii),
      FC_KERNEL(fc_decode_udp_combined),
      FC_KERNEL(fc_encode_gaussian),
      FC_KERNEL(fc_encode_offset),
      FC_KERNEL(fc_encode_megvii),
      FC_KERNEL(fc_gaussian_blur),
      FC_KERNEL(fc_simcc_encode),
      FC_KERNEL(fc_simcc_maximum),
      FC_KERNEL(fc_simcc_decode),
      FC_KERNEL(fc_simcc_refine_dark),
      FC_KERNEL(fc_encode_regression),
      FC_KERNEL(fc_decode_regression),
      FC_KERNEL(fc_normalize_heatmaps),
      // DecoupledHeatmap (issue 15)
      FC_KERNEL(fc_instance_geometry),
      FC_KERNEL(fc_instance_sigmas),
      // SPR (issue 15)
      FC_KERNEL(fc_spr_encode_displacements),
      FC_KERNEL(fc_spr_decode),
      // lifting (issue 15)
      FC_KERNEL(fc_motionbert_labels_f),
      FC_KERNEL(fc_motionbert_labels_d),
      FC_KERNEL(fc_motionbert_target_f),
      FC_KERNEL(fc_motionbert_target_d),
      // Hand3DHeatmap and SimCC3DLabel (issue 16)
      FC_KERNEL(fc_hand3d_encode),
      FC_KERNEL(fc_simcc3d_encode),
      FC_KERNEL(fc_ae_candidates),
      FC_KERNEL(fc_ae_group),
  };
#undef FC_KERNEL
  return table;
}

}  // namespace

PYBIND11_MODULE(_cuda_emulator, m) {
  m.doc() = "fastcodec's CUDA kernels compiled for the host with an emulation of the CUDA "
            "execution model (csrc/cuda/emulator.h); launched like a GPU kernel.";
  m.def(
      "launch",
      [](const std::string& name, const py::tuple& grid, const py::tuple& block, size_t shared_bytes,
         const py::tuple& args) {
        const auto it = kernels().find(name);
        if (it == kernels().end()) throw py::value_error("no CUDA kernel named " + name);
        const dim3 g = to_dim3(grid, "grid"), b = to_dim3(block, "block");
        if ((long long)b.x * b.y * b.z > 1024) throw py::value_error("a block holds at most 1024 threads");
        if (shared_bytes > 227 * 1024) throw py::value_error("dynamic shared memory above 227 KiB");
        it->second(g, b, shared_bytes, args);
      },
      py::arg("name"), py::arg("grid"), py::arg("block"), py::arg("shared_bytes"), py::arg("args"),
      "Runs kernel `name` over `grid` blocks of `block` threads with `shared_bytes` of "
      "dynamic shared memory on the host; returns when it is done.");
  m.def("ae_scratch_bytes", [](int64_t K, int64_t L, int64_t M) {
    AeScratch s;
    return ae_scratch_layout(nullptr, K, L, M, &s);
  }, "fc_ae_group's scratch bytes per image (launch.ae_scratch_bytes must agree).");
  m.def("kernel_names", [] {
    py::list names;
    for (const auto& kv : kernels()) names.append(kv.first);
    return names;
  });
}
