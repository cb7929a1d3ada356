"""MegviiHeatmap: blurred-impulse heatmaps of CPN and MSPN."""
from __future__ import annotations

from typing import Tuple

import numpy as np

from fastcodec._arrays import check_kernel_size, check_size, weights_from
from fastcodec import _calls
from fastcodec.codecs.base import BaseKeypointCodec
from fastcodec.registry import register


@register
class MegviiHeatmap(BaseKeypointCodec):
    """Keypoints as an impulse blurred by cv2.GaussianBlur and scaled to peak 255
    (CPN, Chen et al. 2018; MSPN, Li et al. 2019).

    Args:
        input_size: image size (w, h). heatmap_size: heatmap size (W, H).
        kernel_size: odd Gaussian kernel size, used to encode and to decode.

    encode -> heatmaps (K, H, W) float32, keypoint_weights (N, K).
    decode -> keypoints (1, K, 2) float32, scores (1, K) float32.
    """

    device_ready = True  # the cuda backend runs it on device arrays
    label_mapping_table = dict(keypoint_weights='keypoint_weights')
    field_mapping_table = dict(heatmaps='heatmaps')

    def __init__(self, input_size: Tuple[int, int], heatmap_size: Tuple[int, int],
                 kernel_size: int) -> None:
        check_size(input_size, 'input_size')
        check_size(heatmap_size, 'heatmap_size')
        self.input_size = input_size
        self.heatmap_size = heatmap_size
        self.kernel_size = check_kernel_size(kernel_size, 'kernel_size')
        self.scale_factor = (np.array(input_size) / heatmap_size).astype(np.float32)

    def _encode_batch(self, call, keypoints, visible):
        xy, vis, f32 = self._kernel_inputs(call, keypoints, visible)
        W, H = self.heatmap_size
        heatmaps, inside = _calls.encode_megvii(
            call, xy, vis, self._scale, f32, W, H, self.kernel_size)
        return dict(heatmaps=heatmaps, keypoint_weights=weights_from(call, visible, inside))

    def _decode_batch(self, call, heatmaps):
        locs, scores = _calls.decode_megvii(call, heatmaps, self.kernel_size)
        xp = call.xp
        return xp.multiply(locs[:, None], xp.asarray(self.scale_factor)), scores[:, None]

    def _config(self):
        return dict(input_size=self.input_size, heatmap_size=self.heatmap_size,
                    kernel_size=self.kernel_size)
