// CUDA kernels of AssociativeEmbedding's decode (fastcodec/associative_embedding.h, the
// same functions csrc/cpu/ae_kernels.cpp runs), in two launches:
//   fc_ae_candidates: one block per map, its NMS and torch.topk (nms_topk.cuh);
//   fc_ae_group: one block per image, the grouping on one thread (munkres is a
//     sequence of dependent steps, as in MMPose), then the refinement, the filling of
//     missing keypoints (a block-wide argmin per keypoint) and the scale on all.
// With UDP the launch code blurs the maps into `modulated` first (fc_gaussian_blur);
// fc_ae_group takes their clipped log in place. Launch parameters: backends/cuda/launch.py.
#include "block_reduce.cuh"
#include "cuda_compat.cuh"
#include "fastcodec/associative_embedding.h"
#include "nms_topk.cuh"

using namespace fastcodec;
using namespace fastcodec::cuda;

// ---- fc_ae_candidates: one block per map ---------------------------------------------------
// heatmaps (C, H, W), r = (nms_kernel - 1) / 2, 0 < M <= H * W | peaks (C, H*W) and
// scratch (C, topk_scratch_length, 2) int64: scratch; vals f32, idx int64 (C, M): the
// candidates of each map in torch's order. block 256.
extern "C" __global__ void fc_ae_candidates(const float* heat, int64_t C, int64_t H, int64_t W,
                                            int64_t r, int64_t M, float* peaks, int64_t* scratch,
                                            float* vals, int64_t* idx) {
  const int64_t c = blockIdx.x;
  if (c >= C) return;
  const int64_t HW = H * W;
  SprCandidate* cand = reinterpret_cast<SprCandidate*>(scratch) + c * topk_scratch_length(M, HW);
  block_nms_topk(heat + c * HW, H, W, r, M, peaks + c * HW, cand);
  for (int64_t j = threadIdx.x; j < M; j += blockDim.x) {
    vals[c * M + j] = cand[j].value;
    idx[c * M + j] = cand[j].index;
  }
}

// ---- fc_ae_group: one block per image ---------------------------------------------------
// One image's grouping scratch, laid out for the worst case: every candidate its own
// group (K * M groups) and munkres on n = M * max(K - 1, 1) (the groups of all earlier
// keypoints). launch.py's ae_scratch_bytes computes the same size; the kernel refuses
// a smaller one.
struct AeScratch {
  int64_t groups, n;
  AeGroups g;
  float* tag;         // L: a group's filling tag
  float* found_tags;  // K * L

  FC_HD bool reserve(int64_t need_groups, int64_t need_n) const {
    return need_groups <= groups && need_n <= n;
  }
};

// The layout of AeScratch from `base` (nullptr: only the size), in bytes, a multiple of 16.
__device__ int64_t ae_scratch_layout(unsigned char* base, int64_t K, int64_t L, int64_t M,
                                     AeScratch* s) {
  const int64_t Gc = K * M, n = M * (K > 2 ? K - 1 : 1);
  int64_t at = 0;
  auto take = [&](int64_t count, int64_t size) {
    unsigned char* p = base ? base + at : nullptr;
    at += count * size;
    return p;
  };
  // widest first: every array stays aligned
  s->groups = Gc;
  s->n = n;
  s->g.cost = (double*)take(M * n, 8);
  s->g.dist = (double*)take(M * Gc, 8);
  s->g.d2 = (double*)take(L, 8);
  s->g.munkres.C = (double*)take(n * n, 8);
  s->g.counts = (int64_t*)take(Gc, 8);
  s->g.rows = (int64_t*)take(M, 8);
  s->g.munkres.path = (int64_t*)take(2 * (2 * n + 1), 8);
  s->g.keys = (float*)take(Gc, 4);
  s->g.joints = (float*)take(Gc * 3 * K, 4);
  s->g.tags = (float*)take(Gc * K * L, 4);
  s->g.means = (float*)take(Gc * L, 4);
  s->tag = (float*)take(L, 4);
  s->found_tags = (float*)take(K * L, 4);
  s->g.munkres.marked = take(n * n, 1);
  s->g.munkres.row_cov = take(n, 1);
  s->g.munkres.col_cov = take(n, 1);
  return (at + 15) / 16 * 16;
}

// heatmaps (B, K, H, W), tags (B, L*K, H, W), order (K,), modulated (B, K, H, W) blurred
// maps (udp; logged here in place), vals / idx (B, K, M) from fc_ae_candidates,
// thresholds, max_instances, center_shift, scale (sx, sy), G output rows, scratch
// (B, scratch_bytes) | keypoints (B, G, K, 2), scores (B, G, K), instance_scores (B, G),
// counts (B,). Refused (counts -1): a scratch_bytes too small (nothing else written), an
// order entry outside [0, K) (every row zeros; the launch code cannot read device
// values without synchronising, so the kernel checks them). block 128.
extern "C" __global__ void fc_ae_group(
    const float* heat, const float* tags, const int64_t* order, float* modulated,
    const float* vals, const int64_t* idx, int64_t B, int64_t K, int64_t L, int64_t H,
    int64_t W, int64_t M, double val_thr, double tag_thr, int64_t max_instances, int udp,
    float center_shift, float sx, float sy, int64_t G, unsigned char* scratch,
    int64_t scratch_bytes, float* keypoints, float* scores, float* instance_scores,
    int64_t* counts) {
  __shared__ int64_t keep;
  __shared__ ArgMax reduce[33];
  const int64_t b = blockIdx.x;
  if (b >= B) return;
  AeScratch s;
  if (ae_scratch_layout(nullptr, K, L, M, &s) > scratch_bytes) {
    if (threadIdx.x == 0) counts[b] = -1;
    return;
  }
  ae_scratch_layout(scratch + b * scratch_bytes, K, L, M, &s);
  const int64_t HW = H * W;
  const float* image_heat = heat + b * K * HW;
  const float* image_tags = tags + b * L * K * HW;
  float* mod = udp ? modulated + b * K * HW : nullptr;
  float* kps = keypoints + b * G * K * 2;
  float* sc = scores + b * G * K;

  // refine_keypoints_dark_udp modulates the maps in place (blur, clip, log); the
  // filling reads those modulated maps, as in MMPose
  if (udp)
    for (int64_t p = threadIdx.x; p < K * HW; p += blockDim.x) mod[p] = dark_udp_log(mod[p]);
  if (threadIdx.x == 0) {
    bool ordered = true;
    for (int64_t i = 0; i < K; ++i) ordered = ordered && order[i] >= 0 && order[i] < K;
    const AeCandidates c{vals + b * K * M, idx + b * K * M, image_tags, order, K, L, W, HW, M,
                         val_thr, tag_thr};
    // the scratch holds the worst case: ae_group_keypoints never returns -1 here
    keep = ordered ? ae_kept_groups(ae_group_keypoints(c, s), max_instances, G) : 0;
    counts[b] = ordered ? keep : -1;
  }
  __syncthreads();

  for (int64_t g = threadIdx.x; g < G; g += blockDim.x) {
    if (g < keep) {
      instance_scores[b * G + g] = ae_instance(s.g.joints + g * K * 3, K, kps + g * K * 2,
                                               sc + g * K);
    } else {
      for (int64_t j = 0; j < K; ++j) kps[(g * K + j) * 2] = kps[(g * K + j) * 2 + 1] = sc[g * K + j] = 0.f;
      instance_scores[b * G + g] = 0.f;
    }
  }
  __syncthreads();
  for (int64_t i = threadIdx.x; i < keep * K; i += blockDim.x)
    ae_refine_keypoint(kps + 2 * i, sc[i], i % K, image_heat, mod, udp != 0, K, H, W,
                       center_shift);
  __syncthreads();

  // _fill_missing_keypoints: group by group, keypoint by keypoint, each a block argmin
  const float* maps = udp ? mod : image_heat;
  for (int64_t g = 0; g < keep; ++g) {
    float* group_kps = kps + g * K * 2;
    float* group_sc = sc + g * K;
    if (threadIdx.x == 0)
      ae_group_tag(group_kps, group_sc, image_tags, K, L, H, W, s.found_tags, s.tag);
    __syncthreads();
    for (int64_t k = 0; k < K; ++k) {
      if (group_sc[k] > 0.f) continue;  // found: the same on every thread
      const float* map = maps + k * HW;
      ArgMax best = no_argmax();
      for (int64_t p = threadIdx.x; p < HW; p += blockDim.x) {
        ArgMax c;
        c.value = ae_fill_gain(image_tags + k * HW, K * HW, L, s.tag, map[p], p);
        c.index = p;
        if (argmax_prefers(best, c)) best = c;
      }
      best = block_argmax(best, reduce);  // ends with a barrier: group_sc[k] read by all
      if (threadIdx.x == 0) {
        group_kps[2 * k] = (float)(best.index % W);
        group_kps[2 * k + 1] = (float)(best.index / W);
        group_sc[k] = map[best.index];
      }
    }
    __syncthreads();
  }
  for (int64_t i = threadIdx.x; i < keep * K; i += blockDim.x) {
    kps[2 * i] *= sx;
    kps[2 * i + 1] *= sy;
  }
}
