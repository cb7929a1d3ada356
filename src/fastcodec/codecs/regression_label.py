"""RegressionLabel: keypoint coordinates normalised by the input size (DeepPose-style
regression heads, RLE)."""
from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np

from fastcodec import _calls
from fastcodec._arrays import (F32, F64, Call, check_ndim, check_size, open_array, open_keypoints)
from fastcodec.codecs.base import BaseKeypointCodec
from fastcodec.registry import register


def float_array(call: Call, x):
    """x as the regression kernels read it: float32 and float64 C-contiguous arrays as
    they are (no copy), anything else as float64."""
    dtype = x.dtype
    if dtype is F64 or dtype is F32:  # numpy's own instances (identity: cheapest test)
        return x if x.flags.c_contiguous else call.xp.ascontiguousarray(x)
    return call.xp.ascontiguousarray(x, dtype=dtype if dtype in (F32, F64) else F64)


class _CoordinateDecoding:
    """decode / batch_decode of codecs whose model outputs are coordinates (..., D),
    D = 2 (x, y) or 4 (x, y, sigma_x, sigma_y), normalised by ``input_size``."""

    _size: Tuple[float, float]

    def decode(self, encoded: Any) -> Tuple[Any, Any]:
        """Decode one sample's outputs (N, K, D) into keypoints (N, K, 2) float64 in
        input-image pixels and scores (N, K): ones (float32) for D = 2, the mean of
        ``1 - sigma`` for D = 4 (float32, or float64 for float64 outputs)."""
        call, enc = open_array(encoded, 'encoded', self)
        check_ndim(enc, 'encoded', (3,), '(N, K, D) with D = 2 or 4')
        return self._decode_coords(call, enc, 'encoded')

    def batch_decode(self, batch_encoded: Any) -> Tuple[Any, Any]:
        """Decode B samples at once: outputs (B, N, K, D), or (B, K, D) for one instance
        per sample -> keypoints (B, N, K, 2) and scores (B, N, K)."""
        call, enc = open_array(batch_encoded, 'batch_encoded', self)
        check_ndim(enc, 'batch_encoded', (3, 4), '(B, N, K, D) or (B, K, D)')
        if enc.ndim == 3:
            enc = enc[:, None]
        return self._decode_coords(call, enc, 'batch_encoded')

    def _decode_coords(self, call: Call, enc: np.ndarray, name: str):
        shape = enc.shape
        D = shape[-1]
        if D != 2 and D != 4:
            raise ValueError(f'{name}: keypoint dimension should be 2 or 4 (with sigma), '
                             f'got shape {tuple(shape)}')
        # MMPose's scores: float32 for D = 2 and for any outputs but float64 ones
        dtype = enc.dtype
        f32 = D == 2 or dtype is F32 or dtype != F64  # identity first: cheapest
        return call.results(_calls.decode_regression(call, float_array(call, enc), self._size,
                                                     f32, shape[:-1]))


@register
class RegressionLabel(_CoordinateDecoding, BaseKeypointCodec):
    """Keypoints as coordinates normalised by the input size.

    Args:
        input_size: image size (w, h).

    encode(keypoints (N, K, 2), keypoints_visible (N, K)) ->
        keypoint_labels (N, K, 2) float32: keypoints / (w, h);
        keypoint_weights (N, K) float32: 1 where 0 <= x <= w - 1, 0 <= y <= h - 1 and
        visibility > 0.5, else 0 (NaN keypoints get 0, as in MMPose).
    decode(outputs (N, K, 2) or (N, K, 4)) -> keypoints (N, K, 2) float64, scores (N, K).
    """

    device_ready = True  # the cuda backend runs it on device arrays
    label_mapping_table = dict(keypoint_labels='keypoint_labels',
                               keypoint_weights='keypoint_weights')
    # MMPose's RegressionLabel has no single-instance check: N instances per sample.
    single_instance = False

    def __init__(self, input_size: Tuple[int, int]) -> None:
        w, h = check_size(input_size, 'input_size')
        self.input_size = input_size
        self._size = (float(w), float(h))

    # encode/batch_encode call the kernel directly: the base class's float64 copies
    # would cost as much as the whole RegressionLabel kernel.
    def encode(self, keypoints: Any, keypoints_visible: Optional[Any] = None) -> dict:
        return self._encode(keypoints, keypoints_visible, 3, '(N, K, 2)')

    def batch_encode(self, keypoints: Any, keypoints_visible: Optional[Any] = None) -> dict:
        """Encode B samples at once: keypoints (B, N, K, 2), visibility (B, N, K)."""
        return self._encode(keypoints, keypoints_visible, 4, '(B, N, K, 2)')

    def _encode(self, keypoints, keypoints_visible, ndim: int, layout: str) -> dict:
        call, kps, vis = open_keypoints(keypoints, keypoints_visible, ndim, layout, self)
        shape = kps.shape
        if shape[-1] != 2:
            raise ValueError(f'keypoints must hold (x, y) pairs in its last axis, '
                             f'got shape {tuple(shape)}')
        labels, weights = call.results(_calls.encode_regression(
            call, float_array(call, kps), float_array(call, vis), self._size, shape[:-1]))
        return dict(keypoint_labels=labels, keypoint_weights=weights)

    def _config(self):
        return dict(input_size=self.input_size)
