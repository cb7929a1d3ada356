// pybind11 bindings of the SPR kernels. Shapes are checked in Python first
// (fastcodec.codecs.spr); this layer re-checks what would otherwise index out of bounds.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <utility>

#include "bindings.h"
#include "spr_kernels.h"

namespace py = pybind11;
using namespace fastcodec;

namespace {

// keypoints f64 (B, N, K, 2) in heatmap pixels, visible f64 (B, N, K), roots f32
// (B, N, 2), roots_visible f32 (B, N), diagonals f32 (B, N) | displacements, weights
// f32 (B, 2K, H, W), zeroed by the front: only the windows around the roots are written
// (a calloc'ed numpy.zeros buffer is never touched outside them).
void spr_encode_displacements_py(const F64& kps, const F64& vis, const F32& roots,
                                 const F32& roots_visible, const F32& diagonals, double radius,
                                 bool radius_f32, const py::array& displacements,
                                 const py::array& weights) {
  require_keypoints(kps, vis);
  require(displacements.ndim() == 4, "displacements: output buffer must be (B, 2K, H, W)");
  const int64_t H = displacements.shape(2), W = displacements.shape(3);
  require(W > 0 && H > 0, "heatmap size must be positive");
  const int64_t B = kps.shape(0), N = kps.shape(1), K = kps.shape(2);
  require(roots.ndim() == 3 && roots.shape(0) == B && roots.shape(1) == N && roots.shape(2) == 2,
          "roots must be (B, N, 2)");
  require(roots_visible.ndim() == 2 && roots_visible.shape(0) == B && roots_visible.shape(1) == N,
          "roots_visible must be (B, N)");
  require(diagonals.ndim() == 2 && diagonals.shape(0) == B && diagonals.shape(1) == N,
          "diagonals must be (B, N)");
  float* d = out_buffer<float>(displacements, {B, 2 * K, H, W}, "displacements");
  float* w = out_buffer<float>(weights, {B, 2 * K, H, W}, "weights");
  SprEncodeArgs a{kps.data(), vis.data(), roots.data(), roots_visible.data(), diagonals.data(),
                  B, N, K, W, H, radius, radius_f32};
  py::gil_scoped_release release;
  spr_displacements(a, d, w);
}

// heatmaps f32 (B, C, H, W), displacements f32 (B, 2K, H, W) | keypoints (B, M, K, 2),
// root_scores (B, M), keypoint_scores (B, M, K) or (B, M, 0) (K: rescore with the
// keypoint heatmaps, C = K + 1), counts int64 (B,); M <= H * W.
void spr_decode_py(const F32& heat, const F32& disp, int64_t nms_kernel, float threshold,
                   std::pair<float, float> scale, const py::array& keypoints,
                   const py::array& root_scores, const py::array& keypoint_scores,
                   const py::array& counts) {
  require(heat.ndim() == 4 && disp.ndim() == 4, "heatmaps and displacements must be 4-D");
  const int64_t B = heat.shape(0), C = heat.shape(1), H = heat.shape(2), W = heat.shape(3);
  require(C >= 1 && H > 0 && W > 0, "heatmaps must be (B, C, H, W) with C, H, W > 0");
  require(disp.shape(0) == B && disp.shape(1) % 2 == 0 && disp.shape(2) == H &&
              disp.shape(3) == W,
          "displacements must be (B, 2K, H, W) matching heatmaps");
  require(nms_kernel >= 1 && nms_kernel % 2 == 1, "nms kernel must be odd and positive");
  const int64_t K = disp.shape(1) / 2;
  require(keypoints.ndim() == 4 && keypoint_scores.ndim() == 3,
          "keypoints and keypoint_scores: output buffers must be (B, M, K, 2) and (B, M, K|0)");
  const int64_t M = keypoints.shape(1);
  require(M <= H * W, "keypoints: at most H * W instances per sample");
  const bool rescore = K > 0 && keypoint_scores.shape(2) == K;
  require(!rescore || C == K + 1, "keypoint scores need K + 1 heatmaps");
  float* k = out_buffer<float>(keypoints, {B, M, K, 2}, "keypoints");
  float* r = out_buffer<float>(root_scores, {B, M}, "root_scores");
  float* ks = out_buffer<float>(keypoint_scores, {B, M, rescore ? K : 0}, "keypoint_scores");
  int64_t* n = out_buffer<int64_t>(counts, {B}, "counts");
  SprDecodeArgs a{heat.data(), disp.data(), B, C, K, H, W, nms_kernel, M,
                  threshold, rescore, {scale.first, scale.second}};
  py::gil_scoped_release release;
  spr_decode(a, k, r, ks, n);
}

}  // namespace

void bind_spr(py::module_& m) {
  m.def("spr_encode_displacements", &spr_encode_displacements_py, py::arg("keypoints"),
        py::arg("visible"), py::arg("roots"), py::arg("roots_visible"), py::arg("diagonals"),
        py::arg("radius"), py::arg("radius_f32"), py::arg("displacements"), py::arg("weights"));
  m.def("spr_decode", &spr_decode_py, py::arg("heatmaps"), py::arg("displacements"),
        py::arg("nms_kernel"), py::arg("threshold"), py::arg("scale"), py::arg("keypoints"),
        py::arg("root_scores"), py::arg("keypoint_scores"), py::arg("counts"));
}
