// Per-pixel math of SPR (mmpose.codecs.SPR, MMPose 1.3.2): the displacement targets of
// generate_displacement_heatmap, the root NMS of batch_heatmap_nms, torch.topk's
// selection order (libstdc++'s partial_sort / nth_element + sort, as torch's CPU topk
// runs them), and grid_sample's bilinear 'border' sampling of the keypoint scores.
#pragma once

#include "fastcodec/common.h"

namespace fastcodec {

// ---- encode: generate_displacement_heatmap ------------------------------------------

// MMPose skips a root that is not visible (< 1) or outside [0, W) x [0, H). A NaN or
// infinite root (MMPose: int(NaN) raises) is skipped too.
FC_HD bool spr_root_usable(float rx, float ry, float visible, int64_t W, int64_t H) {
  if (!(visible >= 1.f)) return false;
  if (!coord_is_usable(rx) || !coord_is_usable(ry)) return false;
  return rx >= 0.f && ry >= 0.f && rx < (float)W && ry < (float)H;
}

// ...and a keypoint with visibility < 1 or outside [0, W) x [0, H).
FC_HD bool spr_keypoint_usable(double kx, double ky, double visible, int64_t W, int64_t H) {
  if (visible < 1.0 || !coord_is_usable(kx) || !coord_is_usable(ky)) return false;
  return kx >= 0.0 && ky >= 0.0 && kx < (double)W && ky < (double)H;
}

// One axis of the window: max(int(root - radius), 0) .. min(int(root + radius), size).
// The root is float32; numpy subtracts a Python radius in float32 (radius_f32) and a
// float64 one in float64. int() truncates toward zero.
struct SprSpan {
  int64_t begin, end;
};

FC_HD int64_t spr_clamped_int(double v, int64_t size) {
  // int(v) clipped to [0, size]: values beyond either end give the same window.
  if (!(v > 0.0)) return 0;
  if (v >= (double)size) return size;
  return trunc_i64(v);
}

FC_HD SprSpan spr_span(float root, double radius, bool radius_f32, int64_t size) {
  SprSpan s;
  if (radius_f32) {
    const float r = (float)radius;
    s.begin = spr_clamped_int((double)(root - r), size);
    s.end = spr_clamped_int((double)(root + r), size);
  } else {
    s.begin = spr_clamped_int((double)root - radius, size);
    s.end = spr_clamped_int((double)root + radius, size);
  }
  return s;
}

// One pixel (x, y) of keypoint k of the current instance. A pixel that already holds a
// displacement (exactly zero counts as none) keeps it when this instance's diagonal is
// larger than the last writer's (instance_size, shared by all keypoints); otherwise
// both channels get keypoint - (x, y) (float64, rounded to float32) and weight
// 1 / diagonal (float32), and the pixel's instance size becomes this diagonal.
FC_HD void spr_displacement_update(float* dx, float* dy, float* wx, float* wy, float* size,
                                   double kx, double ky, int64_t x, int64_t y, float diagonal,
                                   float weight) {
  if ((*dx != 0.f || *dy != 0.f) && diagonal > *size) return;
  *wx = weight;
  *wy = weight;
  *dx = (float)(kx - (double)x);
  *dy = (float)(ky - (double)y);
  *size = diagonal;
}

FC_HD float spr_displacement_weight(float diagonal) { return 1.f / diagonal; }

// ---- decode: batch_heatmap_nms ------------------------------------------------------

// torch's max_pool2d: NaN wins.
FC_HD float spr_max(float a, float b) { return ((b > a) | (b != b)) ? b : a; }

// heatmap * (heatmap == pooled maximum).float(), as torch computes it (so -0 for
// suppressed negative values, NaN for suppressed infinities).
FC_HD float spr_nms_value(float v, float pooled) {
  const float suppressed = v * 0.f;  // v * 1 is v itself
  return v == pooled ? v : suppressed;
}

// ---- decode: torch.topk (CPU) --------------------------------------------------------
// torch sorts (value, index) pairs with "x before y when x is NaN and y is not, or
// x > y": std::partial_sort when k * 64 <= n, else std::nth_element then std::sort of
// the first k - 1. The functions below are libstdc++'s algorithms step for step, so the
// order of equal values comes out as torch's.
struct SprCandidate {
  float value;
  int64_t index;
};

FC_HD bool spr_value_before(float x, float y) {
  return ((x != x) & (y == y)) | (x > y);
}

FC_HD bool spr_before(const SprCandidate& x, const SprCandidate& y) {
  return spr_value_before(x.value, y.value);
}

FC_HD bool spr_partial_sort_path(int64_t k, int64_t n) { return k * 64 <= n; }

FC_HD void spr_swap(SprCandidate* a, SprCandidate* b) {
  const SprCandidate t = *a;
  *a = *b;
  *b = t;
}

// std::__push_heap
FC_HD void spr_push_heap(SprCandidate* first, int64_t hole, int64_t top, SprCandidate value) {
  int64_t parent = (hole - 1) / 2;
  while (hole > top && spr_before(first[parent], value)) {
    first[hole] = first[parent];
    hole = parent;
    parent = (hole - 1) / 2;
  }
  first[hole] = value;
}

// std::__adjust_heap
FC_HD void spr_adjust_heap(SprCandidate* first, int64_t hole, int64_t len, SprCandidate value) {
  const int64_t top = hole;
  int64_t child = hole;
  while (child < (len - 1) / 2) {
    child = 2 * (child + 1);
    if (spr_before(first[child], first[child - 1])) child--;
    first[hole] = first[child];
    hole = child;
  }
  if ((len & 1) == 0 && child == (len - 2) / 2) {
    child = 2 * (child + 1);
    first[hole] = first[child - 1];
    hole = child - 1;
  }
  spr_push_heap(first, hole, top, value);
}

// std::__make_heap
FC_HD void spr_make_heap(SprCandidate* first, int64_t len) {
  if (len < 2) return;
  int64_t parent = (len - 2) / 2;
  while (true) {
    spr_adjust_heap(first, parent, len, first[parent]);
    if (parent == 0) return;
    parent--;
  }
}

// One step of std::__heap_select: candidate c (at a position past the heap) replaces
// the heap's top when it comes before it; the old top goes where c was (*displaced).
FC_HD void spr_heap_offer(SprCandidate* heap, int64_t len, SprCandidate c,
                          SprCandidate* displaced) {
  if (spr_before(c, heap[0])) {
    *displaced = heap[0];
    spr_adjust_heap(heap, 0, len, c);
  }
}

// std::__sort_heap
FC_HD void spr_sort_heap(SprCandidate* first, int64_t len) {
  while (len > 1) {
    --len;
    const SprCandidate value = first[len];
    first[len] = first[0];
    spr_adjust_heap(first, 0, len, value);
  }
}

// std::__heap_select + std::__sort_heap over an array: std::partial_sort.
FC_HD void spr_partial_sort(SprCandidate* first, int64_t middle, int64_t last) {
  spr_make_heap(first, middle);
  for (int64_t i = middle; i < last; ++i) spr_heap_offer(first, middle, first[i], first + i);
  spr_sort_heap(first, middle);
}

// std::__move_median_to_first
FC_HD void spr_move_median_to_first(SprCandidate* result, SprCandidate* a, SprCandidate* b,
                                    SprCandidate* c) {
  if (spr_before(*a, *b)) {
    if (spr_before(*b, *c)) spr_swap(result, b);
    else if (spr_before(*a, *c)) spr_swap(result, c);
    else spr_swap(result, a);
  } else if (spr_before(*a, *c)) {
    spr_swap(result, a);
  } else if (spr_before(*b, *c)) {
    spr_swap(result, c);
  } else {
    spr_swap(result, b);
  }
}

// std::__unguarded_partition_pivot; returns the cut's offset from first.
FC_HD int64_t spr_partition_pivot(SprCandidate* first, int64_t len) {
  spr_move_median_to_first(first, first + 1, first + len / 2, first + len - 1);
  int64_t lo = 1, hi = len;
  while (true) {
    while (spr_before(first[lo], first[0])) ++lo;
    --hi;
    while (spr_before(first[0], first[hi])) --hi;
    if (!(lo < hi)) return lo;
    spr_swap(first + lo, first + hi);
    ++lo;
  }
}

// std::__unguarded_linear_insert
FC_HD void spr_linear_insert(SprCandidate* first, int64_t last) {
  const SprCandidate value = first[last];
  int64_t next = last - 1;
  while (spr_before(value, first[next])) {
    first[last] = first[next];
    last = next;
    --next;
  }
  first[last] = value;
}

// std::__insertion_sort
FC_HD void spr_insertion_sort(SprCandidate* first, int64_t len) {
  if (len == 0) return;
  for (int64_t i = 1; i < len; ++i) {
    if (spr_before(first[i], first[0])) {
      const SprCandidate value = first[i];
      for (int64_t j = i; j > 0; --j) first[j] = first[j - 1];
      first[0] = value;
    } else {
      spr_linear_insert(first, i);
    }
  }
}

// std::__lg(n) * 2, the depth limit of introsort and introselect.
FC_HD int64_t spr_depth_limit(int64_t n) {
  int64_t lg = 0;
  while (n > 1) {
    n >>= 1;
    ++lg;
  }
  return 2 * lg;
}

// std::nth_element (std::__introselect).
FC_HD void spr_nth_element(SprCandidate* first, int64_t nth, int64_t last) {
  if (first == first + last || nth == last) return;
  int64_t lo = 0, hi = last;
  int64_t depth = spr_depth_limit(last);
  while (hi - lo > 3) {
    if (depth == 0) {
      // std::__heap_select(first, nth + 1, last), then iter_swap(first, nth)
      SprCandidate* base = first + lo;
      const int64_t middle = nth + 1 - lo;
      spr_make_heap(base, middle);
      for (int64_t i = middle; i < hi - lo; ++i) spr_heap_offer(base, middle, base[i], base + i);
      spr_swap(base, first + nth);
      return;
    }
    --depth;
    const int64_t cut = lo + spr_partition_pivot(first + lo, hi - lo);
    if (cut <= nth) lo = cut;
    else hi = cut;
  }
  spr_insertion_sort(first + lo, hi - lo);
}

// std::__introsort_loop, iterative over its right-hand recursion as libstdc++'s is.
// The recursion on [cut, last) is bounded by the depth limit (2 lg n levels); the
// stack here holds the pending (begin, end, depth) ranges.
FC_HD void spr_introsort_loop(SprCandidate* first, int64_t len, int64_t depth) {
  int64_t stack_lo[128], stack_hi[128], stack_depth[128];
  int64_t top = 0;
  stack_lo[0] = 0;
  stack_hi[0] = len;
  stack_depth[0] = depth;
  top = 1;
  while (top > 0) {
    --top;
    const int64_t lo = stack_lo[top];
    int64_t hi = stack_hi[top];
    int64_t d = stack_depth[top];
    // __introsort_loop(first + lo, first + hi, d): recursion into [cut, hi) first, then
    // the loop continues on [lo, cut). Ranges are disjoint, so running the loop's
    // iterations after the recursive calls' work gives the same array.
    while (hi - lo > 16) {
      if (d == 0) {
        spr_partial_sort(first + lo, hi - lo, hi - lo);
        break;
      }
      --d;
      const int64_t cut = lo + spr_partition_pivot(first + lo, hi - lo);
      stack_lo[top] = cut;
      stack_hi[top] = hi;
      stack_depth[top] = d;
      ++top;
      hi = cut;
    }
  }
}

// std::sort = introsort loop + std::__final_insertion_sort.
FC_HD void spr_sort(SprCandidate* first, int64_t len) {
  if (len < 2) return;
  spr_introsort_loop(first, len, spr_depth_limit(len));
  if (len > 16) {
    spr_insertion_sort(first, 16);
    for (int64_t i = 16; i < len; ++i) spr_linear_insert(first, i);
  } else {
    spr_insertion_sort(first, len);
  }
}

// ---- decode: the instances ----------------------------------------------------------

// A root (a top-k candidate) is kept when its NMS score is above the threshold (NaN
// is not).
FC_HD bool spr_root_kept(float score, float threshold) { return score > threshold; }

// One keypoint coordinate of a kept root: the root's pixel plus the displacement there
// (float32); the caller then multiplies by the scale factor.
FC_HD float spr_keypoint_coordinate(int64_t root_pixel, float displacement) {
  return (float)root_pixel + displacement;
}

// ---- decode: keypoint scores (get_keypoint_scores) -----------------------------------

// MMPose normalises x by (w - 1) (float32), and grid_sample (align_corners=False,
// padding 'border') maps it back with size / 2 and clips to [0, size - 1].
FC_HD float spr_sample_coordinate(float v, int64_t size) {
  const float g = v / (float)(size - 1) * 2.f - 1.f;
  const float u = (g + 1.f) * ((float)size / 2.f) - 0.5f;
  // torch's clip: max(u, 0) then min(size - 1, .), NaN propagating
  const float lo = (u != u) ? u : (u > 0.f ? u : 0.f);
  const float hi = (float)(size - 1);
  return (lo != lo) ? lo : (lo < hi ? lo : hi);
}

// Bilinear value of map m (H x W) at clipped coordinates (x, y): torch's weights and
// sum order, out-of-map corners read as 0. NaN coordinates give NaN.
FC_HD float spr_bilinear(const float* m, int64_t H, int64_t W, float x, float y) {
  if (x != x || y != y) return x + y;
  const float xw = floorf(x), yn = floorf(y);
  const float w = x - xw, e = 1.f - w, n = y - yn, s = 1.f - n;
  const float nw = s * e, ne = s * w, sw = n * e, se = n * w;
  const int64_t ix = (int64_t)xw, iy = (int64_t)yn;
  const bool east = ix + 1 < W, south = iy + 1 < H;
  const float v_nw = m[iy * W + ix];
  const float v_ne = east ? m[iy * W + ix + 1] : 0.f;
  const float v_sw = south ? m[(iy + 1) * W + ix] : 0.f;
  const float v_se = east && south ? m[(iy + 1) * W + ix + 1] : 0.f;
  return v_nw * nw + v_ne * ne + v_sw * sw + v_se * se;
}

}  // namespace fastcodec
