// pybind11 binding of Hand3DHeatmap's kernel (see hand3d_kernels.h). Shapes are checked
// in Python (fastcodec.codecs.hand_3d_heatmap); this layer re-checks what would
// otherwise index out of bounds. The outputs come from the front: written in place,
// never converted (a converted copy would lose the writes).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <utility>

#include "bindings.h"
#include "hand3d_kernels.h"
#include "fastcodec/heatmap_targets.h"

namespace py = pybind11;
using namespace fastcodec;

namespace {

void hand3d_encode_py(const F64& kps, const F64& sigma, bool f32,
                      std::pair<double, double> image_size, double depth_bound,
                      float max_bound, const py::array& heatmaps, const py::array& inside) {
  require(max_bound > 0, "max_bound must be positive");
  require(kps.ndim() == 4 && kps.shape(3) == 3, "keypoints must be (B, N, K, 3)");
  const int64_t B = kps.shape(0), N = kps.shape(1), K = kps.shape(2);
  require(sigma.ndim() == 2 && sigma.shape(0) == B && sigma.shape(1) == N,
          "sigma must be (B, N)");
  for (int64_t i = 0; i < B * N; ++i)
    require(sigma.data()[i] > 0 && sigma.data()[i] <= kMaxSigma, "sigma out of range");
  require(heatmaps.ndim() == 5 && heatmaps.shape(0) == B && heatmaps.shape(1) == K &&
              heatmaps.shape(2) > 0 && heatmaps.shape(3) > 0 && heatmaps.shape(4) > 0,
          "heatmaps must be (B, K, D, H, W)");
  require(inside.ndim() == 3 && inside.shape(0) == B && inside.shape(1) == N &&
              inside.shape(2) == K,
          "inside must be (B, N, K)");
  Hand3dEncodeArgs a;
  a.keypoints = kps.data();
  a.sigma = sigma.data();
  a.B = B;
  a.N = N;
  a.K = K;
  a.D = heatmaps.shape(2);
  a.H = heatmaps.shape(3);
  a.W = heatmaps.shape(4);
  a.image_w = image_size.first;
  a.image_h = image_size.second;
  a.depth_bound = depth_bound;
  a.f32 = f32;
  a.max_bound = max_bound;
  float* out = writable_data<float>(heatmaps, "heatmaps");
  uint8_t* ins = writable_data<uint8_t>(inside, "inside");
  py::gil_scoped_release release;
  hand3d_encode(a, out, ins);
}

}  // namespace

void bind_hand3d(py::module_& m) {
  m.def("hand3d_encode", &hand3d_encode_py, py::arg("keypoints"), py::arg("sigma"),
        py::arg("f32"), py::arg("image_size"), py::arg("depth_bound"), py::arg("max_bound"), py::arg("heatmaps"),
        py::arg("inside"));
}
