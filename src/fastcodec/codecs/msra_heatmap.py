"""MSRAHeatmap: Gaussian heatmaps of SimpleBaseline, optionally DARK (unbiased)."""
from __future__ import annotations

from typing import Tuple

import numpy as np

from fastcodec._arrays import check_kernel_size, check_positive, check_size, weights_from
from fastcodec import _calls
from fastcodec.codecs.base import BaseKeypointCodec
from fastcodec.registry import register


@register
class MSRAHeatmap(BaseKeypointCodec):
    """Keypoints as Gaussian heatmaps (Xiao et al. 2018); ``unbiased=True`` is DARK
    (Zhang et al. 2020): sub-pixel Gaussians and Taylor-refined decoding.

    Args:
        input_size: image size (w, h). heatmap_size: heatmap size (W, H).
        sigma: Gaussian sigma in heatmap pixels.
        unbiased: DARK encoding and decoding.
        blur_kernel_size: DARK's modulation kernel (odd); 11 for sigma 2, 17 for 3.

    encode -> heatmaps (K, H, W) float32, keypoint_weights (N, K).
    decode(heatmaps (K, H, W)) -> keypoints (1, K, 2) float32, scores (1, K).
    """

    device_ready = True  # the cuda backend runs it on device arrays
    label_mapping_table = dict(keypoint_weights='keypoint_weights')
    field_mapping_table = dict(heatmaps='heatmaps')

    def __init__(self, input_size: Tuple[int, int], heatmap_size: Tuple[int, int],
                 sigma: float, unbiased: bool = False, blur_kernel_size: int = 11) -> None:
        check_size(input_size, 'input_size')
        check_size(heatmap_size, 'heatmap_size')
        check_positive(sigma, 'sigma')
        self.input_size = input_size
        self.heatmap_size = heatmap_size
        self.sigma = sigma
        self.unbiased = bool(unbiased)
        self.blur_kernel_size = check_kernel_size(blur_kernel_size, 'blur_kernel_size')
        self.scale_factor = (np.array(input_size) / heatmap_size).astype(np.float32)

    def _encode_batch(self, call, keypoints, visible):
        xy, vis, f32 = self._kernel_inputs(call, keypoints, visible)
        W, H = self.heatmap_size
        sigmas = call.full(xy.shape[1], float(self.sigma))
        heatmaps, inside = _calls.encode_gaussian(
            call, 'unbiased' if self.unbiased else 'msra', xy, vis, sigmas,
            self._scale, f32, W, H)
        return dict(heatmaps=heatmaps, keypoint_weights=weights_from(call, visible, inside))

    def _decode_batch(self, call, heatmaps):
        if self.unbiased:
            locs, scores = _calls.decode_dark(call, heatmaps, self.blur_kernel_size, False,
                                              self._scale)
        else:
            locs, scores = _calls.decode_msra(call, heatmaps, self._scale)
        return locs[:, None], scores[:, None]

    def _config(self):
        return dict(input_size=self.input_size, heatmap_size=self.heatmap_size,
                    sigma=self.sigma, unbiased=self.unbiased,
                    blur_kernel_size=self.blur_kernel_size)
