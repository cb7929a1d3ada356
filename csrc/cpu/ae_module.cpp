// pybind11 binding of the AssociativeEmbedding decoder. Arguments are checked in Python
// first (fastcodec.codecs.associative_embedding); this layer re-checks what would
// otherwise index out of bounds. The outputs are allocated by the caller.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <limits>
#include <utility>

#include "ae_kernels.h"
#include "bindings.h"

namespace py = pybind11;
using namespace fastcodec;

namespace {

void ae_decode_py(const F32& heat, const F32& tags, const I64& order, int64_t nms_kernel,
                  int64_t topk, double val_thr, double tag_thr, int64_t max_instances, bool udp,
                  int blur_kernel, float center_shift, std::pair<float, float> scale,
                  const py::array& keypoints, const py::array& scores,
                  const py::array& instance_scores, const py::array& counts) {
  require(heat.ndim() == 4 && tags.ndim() == 4, "heatmaps and tags must be 4-D");
  const int64_t B = heat.shape(0), K = heat.shape(1), H = heat.shape(2), W = heat.shape(3);
  require(H > 0 && W > 0, "heatmaps must have positive height and width");
  require(tags.shape(0) == B && tags.shape(2) == H && tags.shape(3) == W,
          "tags must be (B, L * K, H, W) matching heatmaps");
  require(K == 0 ? tags.shape(1) == 0 : (tags.shape(1) % K == 0 && tags.shape(1) >= K),
          "tags must have L * K channels, L >= 1");
  const int64_t L = K ? tags.shape(1) / K : 0;
  require(order.ndim() == 1 && order.shape(0) == K, "order must be (K,)");
  for (int64_t i = 0; i < K; ++i)
    require(order.data()[i] >= 0 && order.data()[i] < K, "order entries must be in [0, K)");
  require(nms_kernel >= 1 && nms_kernel % 2 == 1, "nms kernel must be odd and positive");
  require(topk >= 0 && topk <= H * W, "topk must be in [0, H * W]");
  if (udp) require_kernel(blur_kernel);
  require(keypoints.ndim() == 4 && keypoints.shape(0) == B && keypoints.shape(2) == K &&
              keypoints.shape(3) == 2,
          "keypoints must be (B, G, K, 2) float32");
  const int64_t G = keypoints.shape(1);
  require(scores.ndim() == 3 && scores.shape(0) == B && scores.shape(1) == G &&
              scores.shape(2) == K,
          "scores must be (B, G, K) float32");
  require(instance_scores.ndim() == 2 && instance_scores.shape(0) == B &&
              instance_scores.shape(1) == G,
          "instance_scores must be (B, G) float32");
  require(counts.ndim() == 1 && counts.shape(0) == B, "counts must be (B,) int64");
  AeDecodeArgs a{heat.data(), tags.data(), order.data(), B, K, L, H, W, nms_kernel, topk,
                 val_thr, tag_thr, max_instances, udp, blur_kernel, center_shift,
                 {scale.first, scale.second}, G};
  float* kp = writable_data<float>(keypoints, "keypoints");
  float* sc = writable_data<float>(scores, "scores");
  float* inst = writable_data<float>(instance_scores, "instance_scores");
  int64_t* cnt = writable_data<int64_t>(counts, "counts");
  py::gil_scoped_release release;
  ae_decode(a, kp, sc, inst, cnt);
}

}  // namespace

void bind_ae(py::module_& m) {
  m.def("ae_decode", &ae_decode_py, py::arg("heatmaps"), py::arg("tags"), py::arg("order"),
        py::arg("nms_kernel"), py::arg("topk"), py::arg("val_thr"), py::arg("tag_thr"),
        py::arg("max_instances"), py::arg("udp"), py::arg("blur_kernel"),
        py::arg("center_shift"), py::arg("scale"), py::arg("keypoints"), py::arg("scores"),
        py::arg("instance_scores"), py::arg("counts"));
}
