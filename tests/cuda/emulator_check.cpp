// A standalone run of the emulated CUDA kernels, built by tests/cuda/test_cuda_emulator.py
// with AddressSanitizer: `emulator_check clean` runs the product kernels on small
// inputs and checks their results; the other modes run a deliberately broken kernel,
// which must make the run fail (ASan for out-of-bounds memory, the emulator for a
// divergent barrier), so the test shows the checks can fail.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "emulator.h"
#include "heatmap.cu"
#include "regression.cu"
#include "simcc.cu"
// DecoupledHeatmap (issue 15)
#include "instances.cu"
#include "spr.cu"  // SPR (issue 15)
// lifting (issue 15)
#include "lifting.cu"
// Hand3DHeatmap (issue 16)
#include "hand3d.cu"
// AssociativeEmbedding (issue 16)
#include "associative_embedding.cu"

// Writes one float past the end of the dynamic shared memory it was given.
extern "C" __global__ void overflow_dynamic_shared(float* out) {
  FC_DYNAMIC_SHARED(float, buffer);
  buffer[threadIdx.x + 1] = 1.f;  // thread blockDim.x - 1 writes past the end
  __syncthreads();
  out[threadIdx.x] = buffer[threadIdx.x];
}

// Writes past a static __shared__ array.
extern "C" __global__ void overflow_static_shared(float* out) {
  __shared__ float buffer[32];
  buffer[threadIdx.x + 1] = 1.f;
  __syncthreads();
  out[threadIdx.x] = buffer[threadIdx.x];
}

// Reads one float past the end of a global (heap) array.
extern "C" __global__ void overflow_global(const float* in, float* out) {
  out[threadIdx.x] = in[threadIdx.x + 1];
}

// Lane 0 skips a __syncthreads the others wait at.
extern "C" __global__ void divergent_barrier(float* out) {
  if (threadIdx.x != 0) __syncthreads();
  out[threadIdx.x] = 1.f;
}

// lifting (issue 15): motionbert_encode's two kernels per dtype, every mode, with a
// grid smaller than the work (the grid-stride loops) and the outputs' exact sizes.
template <typename V>
static void check_lifting(void (*labels)(const V*, const V*, int, int64_t, int64_t, int64_t,
                                         const double*, V*),
                          void (*target)(const V*, int64_t, int64_t, int64_t, int64_t, int64_t,
                                         int, int, const double*, const double*, int64_t,
                                         const unsigned char*, const double*, int, V*, V*,
                                         float*)) {
  const int64_t B = 2, N = 3, K = 5, D = 2, T = 3, C = 3;
  std::vector<V> kp(B * N * K * D), vis(B * N * K, (V)1), lab(B * N * K * (D + 1));
  std::vector<V> tgt(B * T * K * C), out(B * T * K * C), computed(B * T);
  for (size_t i = 0; i < kp.size(); ++i) kp[i] = (V)(i % 17) * (V)40;
  for (size_t i = 0; i < tgt.size(); ++i) tgt[i] = (V)((i * 7) % 23) + (i % 3 == 2 ? (V)4000 : (V)0);
  std::vector<double> params(8 * B, 0.5), factor(B * T, 2.0), tvis(B * T * K, 1.0);
  std::vector<unsigned char> take(B, 1);
  std::vector<float> weights(B * T * K);
  launch(labels, dim3(1), dim3(7), 0, kp.data(), vis.data(), 1, B, N * K, D, params.data(),
         lab.data());
  for (int mode = 0; mode < 4; ++mode)
    launch(target, dim3(2), dim3(5), 0, tgt.data(), B, T, K, C, (int64_t)1, mode & 1, mode >> 1,
           params.data(), factor.data(), T, take.data(), tvis.data(), 1, out.data(),
           computed.data(), weights.data());
}

// Hand3DHeatmap's volumes (dynamic shared memory of exactly 16 * (W + H + D) bytes; windows
// clipped at every face, one wider than the volume) and SimCC3DLabel's labels.
static int check_3d() {
  const int64_t B = 1, N = 3, K = 2, W = 9, H = 7, D = 5;
  const std::vector<double> kps = {0, 0, -40, 30, 20, 40, 15, 10, 0,  // instance 0, keypoints 0, 1
                                   29, 1, 39, 2, 19, 5, -3, 25, 7,    // instance 1
                                   14, 11, 1, 16, 9, -2};             // instance 2
  const std::vector<double> sigma = {0.8, 1.5, 6.0};                 // (B, N): 6 spans the volume
  std::vector<float> heat(B * K * D * H * W, 0.f);
  std::vector<unsigned char> inside(B * N * K);
  launch(fc_hand3d_encode, dim3(B * K), dim3(64), 16 * (W + H + D), kps.data(), sigma.data(), B,
         N, K, W, H, D, 30.0, 22.0, 100.0, 1, 255.f, heat.data(), inside.data());
  float peak = 0.f;
  for (float v : heat) peak = v > peak ? v : peak;
  if (!(peak > 200.f && peak <= 255.f)) {
    std::fprintf(stderr, "Hand3D volumes peak at %g\n", peak);
    return 1;
  }
  const int64_t R = N * K, L = 12;
  std::vector<double> k3 = {3, 4, 5, -1, 2, 2, 11, 0, 6, 5.5, 5.5, 5.5, 0, 0, 0, 2, 9, 1};
  std::vector<double> vis = {1, 1, 1, 1, 0, 1};
  std::vector<float> x(R * L), y(R * L), z(R * L);
  launch(fc_simcc3d_encode, dim3(2), dim3(32), 0, k3.data(), vis.data(), R, L, L, L, 1.5, 2.0,
         2.5, 1.0, 0, 1, x.data(), y.data(), z.data(), inside.data());
  if (!(x[3] > x[2] && z[5] > z[4] && inside[4] == 1)) {
    std::fprintf(stderr, "SimCC3D labels wrong\n");
    return 1;
  }
  return 0;
}

// AssociativeEmbedding's decode on one image: candidates, the DARK-UDP maps' log, the
// grouping in a scratch of exactly the size the kernel lays out (ASan: every array of
// it in bounds), refinement and filling.
static int check_ae() {
  const int64_t K = 3, L = 2, H = 9, W = 11, M = 4, HW = H * W, G = K * M;
  std::vector<float> heat(K * HW), tags(L * K * HW), modulated(K * HW);
  unsigned s = 777;
  for (auto& v : heat) {
    s = s * 1103515245u + 12345u;
    v = (float)((s >> 16) % 97) / 97.f;
  }
  for (size_t i = 0; i < tags.size(); ++i) tags[i] = (float)((i * 7) % 5);
  for (size_t i = 0; i < heat.size(); ++i) modulated[i] = heat[i] * 0.9f;  // stands in for the blur
  const std::vector<int64_t> order = {2, 0, 1};
  std::vector<float> peaks(K * HW), vals(K * M);
  std::vector<int64_t> cand(K * HW * 2), idx(K * M), counts(1);
  launch(fc_ae_candidates, dim3(K), dim3(256), 0, heat.data(), K, H, W, (int64_t)1, M,
         peaks.data(), cand.data(), vals.data(), idx.data());
  AeScratch layout;
  const int64_t bytes = ae_scratch_layout(nullptr, K, L, M, &layout);
  std::vector<unsigned char> scratch(bytes);
  std::vector<float> kps(G * K * 2), scores(G * K), inst(G);
  launch(fc_ae_group, dim3(1), dim3(128), 0, heat.data(), tags.data(), order.data(),
         modulated.data(), vals.data(), idx.data(), (int64_t)1, K, L, H, W, M, 0.1, 1.0,
         (int64_t)INT64_MAX, 1, 0.5f, 2.f, 2.f, G, scratch.data(), bytes, kps.data(),
         scores.data(), inst.data(), counts.data());
  if (!(counts[0] >= 1 && counts[0] <= G)) {
    std::fprintf(stderr, "AE decode found %lld groups\n", (long long)counts[0]);
    return 1;
  }
  return 0;
}

static int check_clean() {
  const int64_t C = 6, H = 13, W = 11;
  std::vector<float> heat(C * H * W);
  unsigned s = 12345;
  for (auto& v : heat) {
    s = s * 1103515245u + 12345u;
    v = (float)((s >> 16) % 5);  // many ties
  }
  std::fill(heat.begin(), heat.begin() + H * W, 0.f);  // an all-zero map: -1
  std::vector<float> locs(2 * C), vals(C);
  launch(fc_heatmap_maximum, dim3(C), dim3(128), 0, heat.data(), C, H, W, locs.data(), vals.data());
  for (int64_t c = 0; c < C; ++c) {
    int64_t best = 0;
    for (int64_t i = 1; i < H * W; ++i)
      if (heat[c * H * W + i] > heat[c * H * W + best]) best = i;
    const float v = heat[c * H * W + best];
    const float ex = v > 0 ? (float)(best % W) : -1.f, ey = v > 0 ? (float)(best / W) : -1.f;
    if (vals[c] != v || locs[2 * c] != ex || locs[2 * c + 1] != ey) {
      std::fprintf(stderr, "argmax mismatch at map %lld\n", (long long)c);
      return 1;
    }
  }
  // DARK through both blur paths: banded in dynamic shared memory and per pixel.
  const int ksize = 5, r = ksize / 2;
  std::vector<float> band_locs(2 * C), band_vals(C);
  launch(fc_decode_dark, dim3(C), dim3(256), sizeof(float) * (4 + 2 * r) * W, heat.data(), C, H, W,
         ksize, (int64_t)4, 1.f, 1.f, band_locs.data(), band_vals.data());
  launch(fc_decode_dark, dim3(C), dim3(256), 0, heat.data(), C, H, W, ksize, (int64_t)0, 1.f, 1.f,
         locs.data(), vals.data());
  if (std::memcmp(band_locs.data(), locs.data(), sizeof(float) * 2 * C) != 0) {
    std::fprintf(stderr, "DARK: banded and per-pixel blur disagree\n");
    return 1;
  }
  // Gaussian targets, one thread per pixel, three instances.
  const int64_t B = 2, N = 3, K = 4;
  std::vector<double> kps(B * N * K * 2), vis(B * N * K, 1.0), sigma(N, 2.0);
  for (size_t i = 0; i < kps.size(); ++i) kps[i] = (double)((i * 37) % 60) - 5.0;
  std::vector<float> targets(B * K * H * W);
  std::vector<unsigned char> inside(B * N * K);
  for (int kind = 0; kind < 3; ++kind)
    launch(fc_encode_gaussian, dim3(B * K), dim3(256), 0, kind, kps.data(), vis.data(), sigma.data(),
           (int64_t)1, 0, 2.f, 2.f, 0, B, N, K, H, W, targets.data(), inside.data());
  // DARK-UDP's second stage, Megvii, UDP combined, the SimCC decoder, the normaliser.
  std::vector<float> scales(C);
  launch(fc_dark_maxima, dim3(C), dim3(256), 0, heat.data(), C, H, W, ksize, (int64_t)0,
         locs.data(), vals.data(), scales.data());
  launch(fc_decode_dark_udp_step, dim3(1), dim3(128), 0, heat.data(), (int64_t)2, (int64_t)3, H, W,
         ksize, scales.data(), 1.f, 1.f, locs.data());
  launch(fc_decode_megvii, dim3(C), dim3(256), sizeof(float) * (3 + 2 * r) * W, heat.data(), C, H,
         W, ksize, (int64_t)3, locs.data(), vals.data());
  launch(fc_decode_udp_combined, dim3(2), dim3(256), 0, heat.data(), (int64_t)2, (int64_t)1, H, W,
         ksize, (int64_t)0, 2.5f, locs.data(), vals.data());
  launch(fc_encode_megvii, dim3(B * K), dim3(256), 0, kps.data(), vis.data(), 2.f, 2.f, 0, 7,
         B, (int64_t)1, K, H, W, targets.data(), inside.data());
  std::vector<double> visibility(C);
  launch(fc_simcc_decode, dim3(2), dim3(128), 0, heat.data(), heat.data() + 4 * 20, C, (int64_t)20,
         (int64_t)20, 5, 5, 2.f, 1, 150.f, 2.0, 2.0, locs.data(), vals.data(), visibility.data());
  launch(fc_normalize_heatmaps, dim3(C), dim3(128), 0, heat.data(), C, H, W);
  // DecoupledHeatmap (issue 15): instance roots, diagonals and sigmas, both precisions;
  // more instances (R = 12) than a block of 8 threads covers (grid-stride).
  {
    const int64_t R = B * N * K / 2, RK = 2;  // kps holds R * RK * 2 values
    std::vector<float> kps32(kps.begin(), kps.begin() + R * RK * 2), roots(2 * R), roots_vis(R),
        diag(R), sig(R);
    std::vector<double> kvis(R * RK, 1.0), h64(R), w64(R);
    kvis[3] = 0.0;
    for (int64_t i = 0; i < R; ++i) h64[i] = 1.0 + (double)((i * 7) % 40), w64[i] = 2.0 + (double)i;
    std::vector<float> h32(h64.begin(), h64.end()), w32(w64.begin(), w64.end());
    for (int f32 = 0; f32 < 2; ++f32) {
      launch(fc_instance_geometry, dim3(1), dim3(8), 0, kps32.data(), kps.data(), f32, kvis.data(),
             R, RK, f32, roots.data(), roots_vis.data(), diag.data());
      launch(fc_instance_sigmas, dim3(1), dim3(8), 0, h32.data(), w32.data(), h64.data(), w64.data(),
             f32, R, 0.7, 2.0, sig.data());
    }
    for (int64_t i = 0; i < R; ++i)
      if (!(sig[i] > 0.f) || !(roots_vis[i] == 1.f)) {
        std::fprintf(stderr, "instances: bad sigma or root visibility at %lld\n", (long long)i);
        return 1;
      }
  }
  // SPR (issue 15): displacement targets, and the decode on both top-k paths (M = 2:
  // the heap, M = 30: nth_element) with keypoint rescoring (C = K + 1 maps).
  {
    std::vector<float> roots(B * N * 2), roots_visible(B * N, 1.f), diagonals(B * N);
    for (int64_t i = 0; i < B * N; ++i) {
      roots[2 * i] = (float)((i * 5) % W), roots[2 * i + 1] = (float)((i * 3) % H);
      diagonals[i] = 4.f + (float)(i % 3);
    }
    std::vector<float> disp(B * 2 * K * H * W, 0.f), weights(B * 2 * K * H * W, 0.f);
    launch(fc_spr_encode_displacements, dim3((B * H * W + 255) / 256), dim3(256), 0, kps.data(),
           vis.data(), roots.data(), roots_visible.data(), diagonals.data(), B, N, K, H, W, 2.0, 1,
           disp.data(), weights.data());
    const int64_t SK = C - 1;
    std::vector<float> fields(2 * SK * H * W, 0.5f), peaks(H * W);
    for (int64_t M : {(int64_t)2, (int64_t)30}) {
      const int64_t L = M * 64 <= H * W ? M : H * W;
      std::vector<int64_t> scratch(2 * L), counts(1);
      std::vector<float> points(M * SK * 2), root_scores(M), kpt_scores(M * SK);
      launch(fc_spr_decode, dim3(1), dim3(256), 0, heat.data(), fields.data(), (int64_t)1, C, SK,
             H, W, (int64_t)1, M, -1.f, 4.f, 4.f, 1, peaks.data(), scratch.data(), points.data(),
             root_scores.data(), kpt_scores.data(), counts.data());
      if (counts[0] != M) {  // a negative threshold keeps every candidate
        std::fprintf(stderr, "SPR decode kept %lld of %lld\n", (long long)counts[0], (long long)M);
        return 1;
      }
    }
  }
  check_lifting<float>(fc_motionbert_labels_f, fc_motionbert_target_f);
  check_lifting<double>(fc_motionbert_labels_d, fc_motionbert_target_d);
  if (check_3d()) return 1;
  if (check_ae()) return 1;
  std::printf("clean\n");
  return 0;
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "clean";
  std::vector<float> out(64), in(32, 1.f);
  if (!std::strcmp(mode, "clean")) return check_clean();
  if (!std::strcmp(mode, "dynamic")) launch(overflow_dynamic_shared, dim3(2), dim3(32), 32 * sizeof(float), out.data());
  else if (!std::strcmp(mode, "static")) launch(overflow_static_shared, dim3(2), dim3(32), 0, out.data());
  else if (!std::strcmp(mode, "global")) launch(overflow_global, dim3(1), dim3(32), 0, in.data(), out.data());
  else if (!std::strcmp(mode, "divergent")) launch(divergent_barrier, dim3(1), dim3(64), 0, out.data());
  else return 2;
  std::printf("no error detected\n");
  return 0;
}
