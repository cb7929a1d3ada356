// Per-element math of MotionBERTLabel's encode (MMPose 1.3.2,
// mmpose/codecs/motionbert_label.py and camera_to_image_coord in
// mmpose/codecs/utils/camera_image_projection.py), as numpy computes it under NEP 50.
//
// T is the array's float dtype (float or double): every step stores its result in T,
// as MMPose's in-place numpy arithmetic does. A step with a float64 operand (the
// camera f / c, h / w, a float64 factor) is computed in double and rounded to T once.
// Where numpy would compute in float32 (f / c held as float32, a float32 factor), the
// double computation rounded to float equals it: both operands are floats, and for
// + - * / double rounding through a 53-bit result is innocuous for 24-bit targets.
// The per-sample constants arrive as doubles holding the exact values numpy computes
// in their own dtypes (see fastcodec/codecs/motionbert_label.py).
#pragma once

#include "fastcodec/common.h"

namespace fastcodec {

// Per-sample constants (the layout of the binding's (B, 8) float64 params array).
struct MotionBertSample {
  double half_w;     // keypoint labels: `T(w) / 2` in the keypoints' dtype
  double hw_ratio;   // `h / w` in float64
  double half_w1;    // train scale: `T(w / 1000) / 2` in the target's dtype
  double hw_ratio1;  // `(h / 1000) / (w / 1000)` in float64
  double fx, fy;     // `f / 1000.` (in f's float dtype)
  double cx, cy;     // `c / 1000.`
};

// keypoint_labels x: `kp / w * 2 - 1` == `(kp / (w / 2)) - 1`, both steps in T.
template <typename T>
FC_HD T motionbert_label_x(T v, double half_w) {
  return v / (T)half_w - (T)1;
}

// keypoint_labels y: `kp / (w / 2)` in T, then `- h / w` in float64, stored in T.
template <typename T>
FC_HD T motionbert_label_y(T v, double half_w, double hw_ratio) {
  return (T)((double)(v / (T)half_w) - hw_ratio);
}

// One coordinate of camera_to_pixel: `u / z` in T, `*= f`, `+= c` (each stored in T).
template <typename T>
FC_HD T lifting_to_pixel(T u, T z, double f, double c) {
  const T q = u / z;
  const T m = (T)((double)q * f);
  return (T)((double)m + c);
}

// The root's projected width: tl / br are the root x -+ 1 projected; span =
// `br - tl + 0.001` (0.001 rounded to T, as numpy does with a Python scalar); the
// depth ratio `span / 2` and the computed factor `2 / span`.
template <typename T>
FC_HD void motionbert_root_scale(T rx, T rz, double fx, double cx, T* ratio, T* factor) {
  const T tl = lifting_to_pixel<T>(rx - (T)1, rz, fx, cx);
  const T br = lifting_to_pixel<T>(rx + (T)1, rz, fx, cx);
  const T span = (br - tl) + (T)0.001;
  *ratio = span / (T)2;
  *factor = (T)2 / span;
}

// camera_to_image_coord of one keypoint (x, y, z) -> (px, py, (z - z_root) * ratio).
template <typename T>
FC_HD void motionbert_project(T x, T y, T z, T z_root, T ratio, const MotionBertSample& s,
                              T* out) {
  out[0] = lifting_to_pixel<T>(x, z, s.fx, s.cx);
  out[1] = lifting_to_pixel<T>(y, z, s.fy, s.cy);
  out[2] = (z - z_root) * ratio;
}

// mode='train': `p / w1 * 2` (== p / (w1 / 2)) on x, y, z, then x `- 1` (in T) and
// y `- h1 / w1` (float64, stored in T).
template <typename T>
FC_HD void motionbert_train_scale(T* p, const MotionBertSample& s) {
  const T hw = (T)s.half_w1;
  p[0] = p[0] / hw - (T)1;
  p[1] = (T)((double)(p[1] / hw) - s.hw_ratio1);
  p[2] = p[2] / hw;
}

// lifting_target_weight: `np.where(visible > 0.5, 1., 0.).astype(np.float32)` (NaN: 0).
template <typename V>
FC_HD float lifting_weight(V visible) {
  return visible > (V)0.5 ? 1.f : 0.f;
}

// The final label: `p - p_root` (in T), then in test mode `* factor` (the factor's
// value, computed in double, stored in T).
template <typename T>
FC_HD T motionbert_train_value(T p, T p_root) {
  return p - p_root;
}

template <typename T>
FC_HD T motionbert_test_value(T p, T p_root, double factor) {
  return (T)((double)(p - p_root) * factor);
}

// The same where the factor's value is a T (the computed factor, a float32 factor):
// the double product of two floats is exact, so its rounding to float is the float
// product. motionbert_factor_is_exact tells when this form applies.
template <typename T>
FC_HD T motionbert_test_value_exact(T p, T p_root, T factor) {
  return (p - p_root) * factor;
}

template <typename T>
FC_HD bool motionbert_factor_is_exact(double factor) {
  return (double)(T)factor == factor;
}

}  // namespace fastcodec
