// What the pybind11 binding files share: array types that convert to C-contiguous
// float32/float64 on the way in, and the argument check that raises ValueError.
#pragma once

#include <pybind11/numpy.h>

#include <stdexcept>
#include <string>

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

}  // namespace fastcodec
