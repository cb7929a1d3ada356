// CPU loops of the SimCC codec over (sample, instance, keypoint) rows; the per-bin
// and per-keypoint arithmetic lives in fastcodec/simcc.h.
#pragma once

#include <cstdint>

namespace fastcodec {

struct SimccEncodeArgs {
  const double* keypoints;  // (R, 2), R = B * N * K
  const double* visible;    // (R,)
  int64_t R, W, H;          // label lengths along x and y
  bool gaussian;            // else 'standard'
  double sigma[2];
  double ratio;
  bool f32;                 // keypoints were float32: bin them in float32
  double label_smooth_weight;
  bool normalize;
};

// x labels (R, W), y labels (R, H), inside (R,): 0 where MMPose zeroes the weight.
void simcc_encode(const SimccEncodeArgs& a, float* x_labels, float* y_labels, uint8_t* inside);

// get_simcc_maximum on R rows: locs (R, 2), vals (R,).
void simcc_maximum(const float* sx, const float* sy, int64_t R, int64_t Wx, int64_t Wy,
                   float* locs, float* vals);

struct SimccDecodeArgs {
  const float* sx;  // (R, Wx)
  const float* sy;  // (R, Wy)
  int64_t R, Wx, Wy;
  int kx, ky;       // DARK blur sizes, 0 = no DARK
  float ratio;      // locations are divided by it (float32, as numpy does)
  bool visibility;
  float beta;
  double sigma[2];
};

// SimCCLabel.decode on R rows: locs (R, 2), vals (R,), vis (R,) when asked.
void simcc_decode(const SimccDecodeArgs& a, float* locs, float* vals, double* vis);

// refine_simcc_dark on R rows: x (R,) in place, from simcc (R, W) and blur size k.
void simcc_refine_dark(float* x, const float* simcc, int64_t R, int64_t W, int k);

}  // namespace fastcodec

namespace fastcodec {

struct Simcc3dEncodeArgs {
  const double* keypoints;  // (R, 3): x, y and the depth already in input units
  const double* visible;    // (R,)
  int64_t R, W, H, D;       // label lengths along x, y and z
  double sigma[3];
  double ratio;
  bool f32;                 // keypoints were float32: bin them in float32
  bool normalize;
};

// SimCC3DLabel's Gaussian labels (projects/rtmpose3d): x (R, W), y (R, H), z (R, D),
// every element written; inside (R,): 0 where MMPose zeroes the weight.
void simcc3d_encode(const Simcc3dEncodeArgs& a, float* x_labels, float* y_labels,
                    float* z_labels, uint8_t* inside);

}  // namespace fastcodec
