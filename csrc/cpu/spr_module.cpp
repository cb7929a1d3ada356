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
// (B, N, 2), roots_visible f32 (B, N), diagonals f32 (B, N)
// -> displacements, displacement_weights f32 (B, 2K, H, W).
py::tuple spr_encode_displacements_py(const F64& kps, const F64& vis, const F32& roots,
                                      const F32& roots_visible, const F32& diagonals,
                                      double radius, bool radius_f32, int64_t W, int64_t H) {
  require_keypoints(kps, vis);
  require(W > 0 && H > 0, "heatmap size must be positive");
  const int64_t B = kps.shape(0), N = kps.shape(1), K = kps.shape(2);
  require(roots.ndim() == 3 && roots.shape(0) == B && roots.shape(1) == N && roots.shape(2) == 2,
          "roots must be (B, N, 2)");
  require(roots_visible.ndim() == 2 && roots_visible.shape(0) == B && roots_visible.shape(1) == N,
          "roots_visible must be (B, N)");
  require(diagonals.ndim() == 2 && diagonals.shape(0) == B && diagonals.shape(1) == N,
          "diagonals must be (B, N)");
  SprEncodeArgs a{kps.data(), vis.data(), roots.data(), roots_visible.data(), diagonals.data(),
                  B, N, K, W, H, radius, radius_f32};
  // One numpy.zeros buffer for both outputs, returned as its two halves: calloc'ed
  // (pages the windows never touch are never written), and from 4 MB on numpy asks
  // for transparent huge pages (128 x 128 x 34 maps: 4.4 MB together, 5x fewer
  // page-fault costs than two 2.2 MB arrays).
  const py::object zeros = py::module_::import("numpy").attr("zeros");
  const py::object both = zeros(py::make_tuple(2, B, 2 * K, H, W), "float32");
  auto disp = py::object(both[py::int_(0)]).cast<py::array_t<float, py::array::c_style>>();
  auto wts = py::object(both[py::int_(1)]).cast<py::array_t<float, py::array::c_style>>();
  {
    py::gil_scoped_release release;
    spr_displacements(a, disp.mutable_data(), wts.mutable_data());
  }
  return py::make_tuple(disp, wts);
}

// heatmaps f32 (B, C, H, W), displacements f32 (B, 2K, H, W) -> keypoints (B, M, K, 2),
// root_scores (B, M), keypoint_scores (B, M, K) (zero-sized K axis unless asked),
// counts int64 (B,); M = min(max_instances, H * W).
py::tuple spr_decode_py(const F32& heat, const F32& disp, int64_t nms_kernel,
                        int64_t max_instances, float threshold, bool keypoint_scores,
                        std::pair<float, float> scale) {
  require(heat.ndim() == 4 && disp.ndim() == 4, "heatmaps and displacements must be 4-D");
  const int64_t B = heat.shape(0), C = heat.shape(1), H = heat.shape(2), W = heat.shape(3);
  require(C >= 1 && H > 0 && W > 0, "heatmaps must be (B, C, H, W) with C, H, W > 0");
  require(disp.shape(0) == B && disp.shape(1) % 2 == 0 && disp.shape(2) == H &&
              disp.shape(3) == W,
          "displacements must be (B, 2K, H, W) matching heatmaps");
  require(nms_kernel >= 1 && nms_kernel % 2 == 1, "nms kernel must be odd and positive");
  require(max_instances >= 0, "max_instances must be >= 0");
  const int64_t K = disp.shape(1) / 2;
  require(!keypoint_scores || C == K + 1, "keypoint scores need K + 1 heatmaps");
  const int64_t M = max_instances < H * W ? max_instances : H * W;
  SprDecodeArgs a{heat.data(), disp.data(), B, C, K, H, W, nms_kernel, max_instances,
                  threshold, keypoint_scores, {scale.first, scale.second}};
  py::array_t<float> kps({B, M, K, (int64_t)2});
  py::array_t<float> roots({B, M});
  py::array_t<float> kscores({B, M, keypoint_scores ? K : (int64_t)0});
  py::array_t<int64_t> counts(B);
  {
    py::gil_scoped_release release;
    spr_decode(a, kps.mutable_data(), roots.mutable_data(), kscores.mutable_data(),
               counts.mutable_data());
  }
  return py::make_tuple(kps, roots, kscores, counts);
}

}  // namespace

void bind_spr(py::module_& m) {
  m.def("spr_encode_displacements", &spr_encode_displacements_py, py::arg("keypoints"),
        py::arg("visible"), py::arg("roots"), py::arg("roots_visible"), py::arg("diagonals"),
        py::arg("radius"), py::arg("radius_f32"), py::arg("W"), py::arg("H"));
  m.def("spr_decode", &spr_decode_py, py::arg("heatmaps"), py::arg("displacements"),
        py::arg("nms_kernel"), py::arg("max_instances"), py::arg("threshold"),
        py::arg("keypoint_scores"), py::arg("scale"));
}
