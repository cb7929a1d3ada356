// What the pybind11 binding files share: array types that convert to C-contiguous
// float32/float64 on the way in, and the argument check that raises ValueError.
#pragma once

#include <pybind11/numpy.h>

#include <stdexcept>
#include <string>

namespace fastcodec {

using F32 = pybind11::array_t<float, pybind11::array::c_style | pybind11::array::forcecast>;
using F64 = pybind11::array_t<double, pybind11::array::c_style | pybind11::array::forcecast>;

inline void require(bool ok, const std::string& msg) {
  if (!ok) throw std::invalid_argument(msg);
}

}  // namespace fastcodec
