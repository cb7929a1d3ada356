// What the pybind11 binding files share: array types that convert to C-contiguous
// float32/float64 on the way in, and the argument check that raises ValueError.
#pragma once

#include <pybind11/numpy.h>

#include <initializer_list>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "fastcodec/blur.h"

namespace fastcodec {

using F32 = pybind11::array_t<float, pybind11::array::c_style | pybind11::array::forcecast>;
using F64 = pybind11::array_t<double, pybind11::array::c_style | pybind11::array::forcecast>;

inline void require(bool ok, const std::string& msg) {
  if (!ok) throw std::invalid_argument(msg);
}

inline void require_kernel(int k, const char* name = "blur kernel size") {
  require(k >= 1 && k % 2 == 1 && k <= kMaxBlurKernel,
          std::string(name) + " must be odd and in [1, " + std::to_string(kMaxBlurKernel) +
              "], got " + std::to_string(k));
}

// keypoints (B, N, K, 2) and keypoints_visible (B, N, K), as every encoder takes them.
inline void require_keypoints(const F64& kps, const F64& vis) {
  require(kps.ndim() == 4 && kps.shape(3) == 2, "keypoints must be (B, N, K, 2)");
  require(vis.ndim() == 3 && vis.shape(0) == kps.shape(0) && vis.shape(1) == kps.shape(1) &&
              vis.shape(2) == kps.shape(2),
          "keypoints_visible must be (B, N, K)");
}

// Whether a's dtype is T in native byte order: the descriptor's fields first (this
// runs for every array of every call); for integers an equivalent dtype object second
// (long and long long are both 64-bit: two type numbers).
template <typename T>
bool has_dtype(const pybind11::array& a) {
  namespace d = pybind11::detail;
  const auto* descr = d::array_descriptor_proxy(d::array_proxy(a.ptr())->descr);
  if (descr->type_num == d::npy_format_descriptor<T>::value)
    return descr->byteorder == '=' || descr->byteorder == '|';
  if constexpr (std::is_integral<T>::value) return a.dtype().is(pybind11::dtype::of<T>());
  return false;
}

// An output buffer the front allocated (backends/contract.py): exactly dtype T,
// C-contiguous, writeable and of the given shape, else ValueError / TypeError (a
// converted copy would silently drop what the kernel writes). Returns its data.
template <typename T>
T* out_buffer(const pybind11::array& a, const int64_t* shape, size_t ndim, const char* name) {
  if (!has_dtype<T>(a))
    throw pybind11::type_error(std::string(name) + ": output buffer of dtype " +
                               std::string(pybind11::str(pybind11::dtype::of<T>())) +
                               " expected, got " + std::string(pybind11::str(a.dtype())));
  bool same = a.ndim() == static_cast<pybind11::ssize_t>(ndim);
  for (size_t d = 0; same && d < ndim; ++d) same = a.shape(d) == shape[d];
  if (!same) {  // messages are built on failure only: this runs on every call
    std::string want = "(";
    for (size_t d = 0; d < ndim; ++d) want += (d ? ", " : "") + std::to_string(shape[d]);
    throw std::invalid_argument(std::string(name) + ": output buffer of shape " + want +
                                ") expected");
  }
  if (!(a.flags() & pybind11::array::c_style) || !a.writeable())
    throw std::invalid_argument(std::string(name) +
                                ": output buffer must be C-contiguous and writeable");
  return static_cast<T*>(const_cast<void*>(a.data()));
}

template <typename T>
T* out_buffer(const pybind11::array& a, std::initializer_list<int64_t> shape, const char* name) {
  return out_buffer<T>(a, shape.begin(), shape.size(), name);
}

template <typename T>
T* out_buffer(const pybind11::array& a, const std::vector<int64_t>& shape, const char* name) {
  return out_buffer<T>(a, shape.data(), shape.size(), name);
}

// The shape of an (..., H, W) array's leading axes, and their product.
inline std::vector<int64_t> lead_shape(const pybind11::array& a, int trailing) {
  return std::vector<int64_t>(a.shape(), a.shape() + a.ndim() - trailing);
}

inline int64_t leading(const pybind11::array& a, int trailing) {
  int64_t n = 1;
  for (int d = 0; d < a.ndim() - trailing; ++d) n *= a.shape(d);
  return n;
}

}  // namespace fastcodec
