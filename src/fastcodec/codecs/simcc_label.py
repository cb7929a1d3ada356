"""SimCCLabel: keypoints as two 1-D classification vectors (Li et al. 2022, SimCC)."""
from __future__ import annotations

from typing import Any, Tuple, Union

import numpy as np

from fastcodec._arrays import (F32, F64, Call, check_ndim, check_size, open_call, positive_numbers,
                               promoted_dtype, weights_from)
from fastcodec import _calls
from fastcodec.codecs.base import BaseKeypointCodec
from fastcodec.limits import MAX_BLUR_KERNEL
from fastcodec.registry import register



def simcc_dark_kernel_size(sigma: float) -> int:
    """MMPose's DARK blur size for a SimCC sigma: int((20 sigma - 7) // 3), made odd
    downwards. Sizes below 1 (sigma < 0.8), which crash MMPose, become 1 (no blur)."""
    k = int((sigma * 20 - 7) // 3)
    k -= int((k % 2) == 0)
    return max(k, 1)


def axis_sigmas(sigma: Any, axes: int, layout: str) -> np.ndarray:
    """One positive finite sigma per label axis: a number repeated, or ``axes`` numbers
    (``layout`` names them in the error)."""
    one = isinstance(sigma, (float, int, np.floating, np.integer)) and not isinstance(sigma, bool)
    return positive_numbers([sigma] * axes if one else sigma, axes, 'sigma',
                            f'a number or {layout}')


def _number(v: Any, name: str) -> float:
    if isinstance(v, (bool, str, bytes)):
        raise TypeError(f'{name} must be a number, got {v!r}')
    try:
        f = float(v)
    except (TypeError, ValueError) as err:
        raise TypeError(f'{name} must be a number, got {v!r}') from err
    if not np.isfinite(f):
        raise ValueError(f'{name} must be finite, got {v!r}')
    return f


def bin_inputs(call: Call, points: Any, dtype: np.dtype, ratio: Any):
    """MMPose's bins are ``np.around(points * ratio)`` in numpy's result type: the
    kernels' (float64 points, ratio, f32) for float64 ``points`` that came as ``dtype``.
    float32 and float64 products are the kernels' own (f32 says which); a float16
    product (SimCCLabel and SimCC3DLabel with float16 keypoints), exact in float64, is
    formed here and binned with ratio 1."""
    work = promoted_dtype(dtype, ratio)
    if work.char != 'e':
        return points, float(ratio), work.char == 'f'
    xp = call.xp
    with np.errstate(over='ignore'):
        product = xp.multiply(xp.asarray(points, dtype=np.float16), ratio)
    return xp.ascontiguousarray(product, dtype=F64), 1.0, False


@register
class SimCCLabel(BaseKeypointCodec):
    """Keypoints as SimCC labels: one vector of ``w * simcc_split_ratio`` bins for x and
    one of ``h * simcc_split_ratio`` bins for y per keypoint.

    Args (as MMPose 1.3.2):
        input_size: image size (w, h).
        smoothing_type: 'gaussian' or 'standard' (one-hot with label smoothing).
        sigma: Gaussian sigma in label bins, a number or an (x, y) pair.
        simcc_split_ratio: bins per input pixel (may be non-integer).
        label_smooth_weight: 'standard' only, in [0, 1].
        normalize: divide Gaussian labels by sigma * sqrt(2 pi).
        use_dark: 1-D DARK refinement when decoding (blur size from sigma).
        decode_visibility: decode also returns the softmax visibility.
        decode_beta: softmax temperature of that visibility.

    encode(keypoints (N, K, 2), visible (N, K)) -> keypoint_x_labels (N, K, Wx) float32,
    keypoint_y_labels (N, K, Wy) float32, keypoint_weights (N, K).
    decode(simcc_x (N, K, Wx) or (K, Wx), simcc_y likewise) -> keypoints (N, K, 2)
    float32 in input pixels (N = 1 for 2-D input) and scores (N, K), or with
    ``decode_visibility`` scores replaced by the pair (scores, visibility (N, K) float64;
    (K,) for 2-D input, as in MMPose).
    batch_encode: (B, N, K, 2), (B, N, K) -> every array with a leading B.
    batch_decode(simcc_x (B, K, Wx) or (B, N, K, Wx), simcc_y likewise) -> keypoints
    (B, N, K, 2) and scores (B, N, K) (N = 1 for the 3-D form, as MMPose's heads decode
    each sample's (K, W) output).
    """

    device_ready = True  # the cuda backend runs it on device arrays
    label_mapping_table = dict(keypoint_x_labels='keypoint_x_labels',
                               keypoint_y_labels='keypoint_y_labels',
                               keypoint_weights='keypoint_weights')
    single_instance = False

    def __init__(self, input_size: Tuple[int, int], smoothing_type: str = 'gaussian',
                 sigma: Union[float, int, Tuple[float]] = 6.0, simcc_split_ratio: float = 2.0,
                 label_smooth_weight: float = 0.0, normalize: bool = True,
                 use_dark: bool = False, decode_visibility: bool = False,
                 decode_beta: float = 150.0) -> None:
        check_size(input_size, 'input_size')
        if not isinstance(smoothing_type, str) or smoothing_type not in ('gaussian', 'standard'):
            raise ValueError(f'SimCCLabel got invalid `smoothing_type` value {smoothing_type!r}. '
                             "Should be one of {'gaussian', 'standard'}")
        sig = axis_sigmas(sigma, 2, 'an (x, y) pair')
        ratio = _number(simcc_split_ratio, 'simcc_split_ratio')
        if ratio <= 0:
            raise ValueError(f'simcc_split_ratio must be positive, got {simcc_split_ratio!r}')
        lsw = _number(label_smooth_weight, 'label_smooth_weight')
        if smoothing_type == 'gaussian' and lsw > 0:
            raise ValueError('Attribute `label_smooth_weight` is only used for `standard` mode.')
        if lsw < 0.0 or lsw > 1.0:
            raise ValueError('`label_smooth_weight` should be in range [0, 1], '
                             f'got {label_smooth_weight!r}')
        beta = _number(decode_beta, 'decode_beta')
        self.input_size = input_size
        self.smoothing_type = smoothing_type
        self.simcc_split_ratio = simcc_split_ratio
        self.label_smooth_weight = label_smooth_weight
        self.normalize = normalize
        self.use_dark = use_dark
        self.decode_visibility = decode_visibility
        self.decode_beta = decode_beta
        self.sigma = sig
        w, h = input_size
        self._W = int(np.around(w * ratio))
        self._H = int(np.around(h * ratio))
        if self._W <= 0 or self._H <= 0:
            raise ValueError(f'input_size * simcc_split_ratio must round to at least one bin, '
                             f'got {(self._W, self._H)}')
        self._sigma = (float(sig[0]), float(sig[1]))
        self._ratio = ratio
        self._beta = beta
        self._blur = (simcc_dark_kernel_size(self._sigma[0]), simcc_dark_kernel_size(self._sigma[1]))
        if use_dark and max(self._blur) > MAX_BLUR_KERNEL:
            raise ValueError(f'use_dark supports sigma up to 38 (blur kernel <= 255), '
                             f'got sigma {sigma!r}')

    # ---- encode -------------------------------------------------------------------
    def _encode_batch(self, call, keypoints, visible):
        xy, vis, _ = self._kernel_inputs(call, keypoints, visible)
        xy, ratio, f32 = bin_inputs(call, xy, keypoints.dtype, self.simcc_split_ratio)
        tx, ty, inside = _calls.simcc_encode(
            call, xy, vis, self.smoothing_type == 'gaussian', self._sigma, ratio, f32,
            self._W, self._H, float(self.label_smooth_weight), bool(self.normalize))
        return dict(keypoint_x_labels=tx, keypoint_y_labels=ty,
                    keypoint_weights=weights_from(call, visible, inside))

    # ---- decode -------------------------------------------------------------------
    def decode(self, simcc_x: Any, simcc_y: Any):
        """Decode one sample: simcc_x (N, K, Wx) or (K, Wx), simcc_y likewise ->
        keypoints (N, K, 2), scores (N, K) (N = 1 for 2-D input); with
        decode_visibility the scores are (scores, visibility)."""
        call = open_call((simcc_x, simcc_y), ('simcc_x', 'simcc_y'), self)
        sx, sy = call.array(simcc_x, 'simcc_x'), call.array(simcc_y, 'simcc_y')
        check_ndim(sx, 'simcc_x', (2, 3), '(K, Wx) or (N, K, Wx)')
        check_ndim(sy, 'simcc_y', (2, 3), '(K, Wy) or (N, K, Wy)')
        keypoints, scores, vis = self._decode_rows(call, sx, sy, 'simcc')
        if vis is not None and sx.ndim == 2:
            vis = vis[0]  # MMPose unsqueezes keypoints and scores, not the visibility
        return self._back((keypoints, scores, vis), call.result)

    def batch_decode(self, simcc_x: Any, simcc_y: Any):
        """Decode B samples: simcc_x (B, K, Wx) or (B, N, K, Wx), simcc_y likewise ->
        keypoints (B, N, K, 2), scores (B, N, K) (N = 1 for the 3-D form)."""
        call = open_call((simcc_x, simcc_y), ('simcc_x', 'simcc_y'), self)
        sx, sy = call.array(simcc_x, 'simcc_x'), call.array(simcc_y, 'simcc_y')
        check_ndim(sx, 'simcc_x', (3, 4), '(B, K, Wx) or (B, N, K, Wx)')
        check_ndim(sy, 'simcc_y', (3, 4), '(B, K, Wy) or (B, N, K, Wy)')
        if sx.ndim != sy.ndim:
            raise ValueError(f'simcc_x and simcc_y must have the same ndim, '
                             f'got {tuple(sx.shape)} and {tuple(sy.shape)}')
        if sx.ndim == 3:
            sx, sy = sx[:, None], sy[:, None]
        out = self._decode_rows(call, sx, sy, 'batch')
        return self._back(out, call.result)

    @staticmethod
    def _back(out, back):
        keypoints, scores, vis = out
        if vis is None:
            return back(keypoints), back(scores)
        return back(keypoints), (back(scores), back(vis))

    def _decode_rows(self, call: Call, sx: np.ndarray, sy: np.ndarray, kind: str):
        if sx.ndim != sy.ndim or sx.shape[:-1] != sy.shape[:-1]:
            raise ValueError(f'simcc_x and simcc_y must agree in all but the last axis, '
                             f'got {tuple(sx.shape)} and {tuple(sy.shape)}')
        if sx.shape[-1] == 0 or sy.shape[-1] == 0:
            raise ValueError(f'simcc vectors must be non-empty, got {tuple(sx.shape)} '
                             f'and {tuple(sy.shape)}')
        lead = sx.shape[:-1]
        if kind == 'simcc' and sx.ndim == 2:
            lead = (1,) + lead
        rows_x = call.xp.ascontiguousarray(sx, dtype=F32).reshape(-1, sx.shape[-1])
        rows_y = call.xp.ascontiguousarray(sy, dtype=F32).reshape(-1, sy.shape[-1])
        kx, ky = self._blur if self.use_dark else (0, 0)
        locs, vals, vis = _calls.simcc_decode(
            call, rows_x, rows_y, kx, ky, np.float32(self._ratio), bool(self.decode_visibility),
            np.float32(self._beta), self._sigma)
        return (locs.reshape(lead + (2,)), vals.reshape(lead),
                vis.reshape(lead) if self.decode_visibility else None)

    def _config(self):
        return dict(input_size=self.input_size, smoothing_type=self.smoothing_type,
                    sigma=tuple(self._sigma), simcc_split_ratio=self.simcc_split_ratio,
                    label_smooth_weight=self.label_smooth_weight, normalize=self.normalize,
                    use_dark=self.use_dark, decode_visibility=self.decode_visibility,
                    decode_beta=self.decode_beta)
