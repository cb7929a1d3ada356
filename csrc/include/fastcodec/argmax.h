// Heatmap maximum as mmpose.codecs.utils.get_heatmap_maximum computes it:
// np.argmax (first occurrence; the first NaN wins, as numpy's argmax does) and
// np.amax over the flattened map, then location -1 where the maximum is <= 0.
#pragma once

#include "fastcodec/common.h"

namespace fastcodec {

struct Maximum { int64_t index; float value; };

FC_HD Maximum first_argmax(const float* v, int64_t n) {
  Maximum m;
  m.index = 0;
  m.value = v[0];
  if (m.value != m.value) return m;
  for (int64_t i = 1; i < n; ++i) {
    const float x = v[i];
    if (x > m.value) {
      m.value = x;
      m.index = i;
    } else if (x != x) {
      m.value = x;
      m.index = i;
      return m;
    }
  }
  return m;
}

// Location (x, y) of the maximum in a W-wide map; (-1, -1) when the value is <= 0.
FC_HD void maximum_location(const Maximum& m, int64_t W, float* x, float* y) {
  if (m.value <= 0.f) {
    *x = -1.f;
    *y = -1.f;
  } else {
    *x = (float)(m.index % W);
    *y = (float)(m.index / W);
  }
}

}  // namespace fastcodec
