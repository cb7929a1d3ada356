"""UDPHeatmap: Unbiased Data Processing targets, Gaussian or combined offsets."""
from __future__ import annotations

from typing import Tuple

import numpy as np

from fastcodec._arrays import check_kernel_size, check_positive, check_size, weights_from
from fastcodec import _calls
from fastcodec.codecs.base import BaseKeypointCodec
from fastcodec.registry import register


@register
class UDPHeatmap(BaseKeypointCodec):
    """UDP heatmaps (Huang et al. 2020): the pixel grid is aligned by (size - 1).

    Args:
        input_size: image size (w, h). heatmap_size: heatmap size (W, H).
        heatmap_type: 'gaussian' (DARK-UDP decoding) or 'combined' (a disc label
            map plus x/y offset maps per keypoint, 3K channels).
        sigma: Gaussian sigma for 'gaussian'.
        radius_factor: disc radius for 'combined', as a fraction of max(W, H).
        blur_kernel_size: decoding blur (odd); 'combined' blurs with 2k + 1.

    encode -> heatmaps (K or 3K, H, W) float32, keypoint_weights (N, K).
    decode -> keypoints (1, K, 2) float64, scores (1, K) float32.
    """

    device_ready = True  # the cuda backend runs it on device arrays
    label_mapping_table = dict(keypoint_weights='keypoint_weights')
    field_mapping_table = dict(heatmaps='heatmaps')

    def __init__(self, input_size: Tuple[int, int], heatmap_size: Tuple[int, int],
                 heatmap_type: str = 'gaussian', sigma: float = 2., radius_factor: float = 0.0546875,
                 blur_kernel_size: int = 11) -> None:
        check_size(input_size, 'input_size')
        W, H = check_size(heatmap_size, 'heatmap_size')
        if W < 2 or H < 2:
            raise ValueError(f'UDPHeatmap needs heatmap_size of at least (2, 2): it '
                             f'divides by (size - 1), got {heatmap_size!r}')
        if heatmap_type not in ('gaussian', 'combined'):
            raise ValueError(f"UDPHeatmap got invalid `heatmap_type` value {heatmap_type!r}; "
                             "expected 'gaussian' or 'combined'")
        check_positive(sigma, 'sigma')
        check_positive(radius_factor, 'radius_factor')
        self.input_size = input_size
        self.heatmap_size = heatmap_size
        self.sigma = sigma
        self.radius_factor = radius_factor
        self.heatmap_type = heatmap_type
        self.blur_kernel_size = check_kernel_size(blur_kernel_size, 'blur_kernel_size')
        self.scale_factor = ((np.array(input_size) - 1) /
                             (np.array(heatmap_size) - 1)).astype(np.float32)
        # decode maps back with keypoints / (W - 1, H - 1) * input_size in float64, as
        # MMPose does; the arrays are built once here instead of on every call (on a
        # device, xp.asarray copies them there asynchronously, on the call's stream).
        self._decode_denominator = np.array([W - 1, H - 1], dtype=np.float64)
        self._decode_size = np.array(input_size, dtype=np.float64)

    def _encode_batch(self, call, keypoints, visible):
        xy, vis, f32 = self._kernel_inputs(call, keypoints, visible)
        W, H = self.heatmap_size
        if self.heatmap_type == 'gaussian':
            sigmas = call.full(xy.shape[1], float(self.sigma))
            heatmaps, inside = _calls.encode_gaussian(call, 'udp', xy, vis, sigmas,
                                                      self._scale, f32, W, H)
        else:
            radius = self.radius_factor * max(W, H)
            heatmaps, inside = _calls.encode_offset(call, xy, vis, self._scale, f32, W, H,
                                                    radius)
        return dict(heatmaps=heatmaps, keypoint_weights=weights_from(call, visible, inside))

    def _decode_batch(self, call, heatmaps):
        if self.heatmap_type == 'gaussian':
            locs, scores = _calls.decode_dark(call, heatmaps, self.blur_kernel_size, True,
                                              (1.0, 1.0))
            keypoints = locs[:, None]
        else:
            if heatmaps.shape[1] % 3:
                raise ValueError(f"UDPHeatmap('combined') decodes 3 maps per keypoint; got "
                                 f'{heatmaps.shape[1]} channels (shape {heatmaps.shape})')
            H, W = heatmaps.shape[-2:]
            locs, scores = _calls.decode_udp_combined(
                call, heatmaps, 2 * self.blur_kernel_size + 1, self.radius_factor * max(W, H))
            keypoints = locs[:, None]
        xp = call.xp
        return (xp.multiply(xp.divide(keypoints, xp.asarray(self._decode_denominator)),
                            xp.asarray(self._decode_size)), scores[:, None])

    def _config(self):
        return dict(input_size=self.input_size, heatmap_size=self.heatmap_size,
                    heatmap_type=self.heatmap_type, sigma=self.sigma,
                    radius_factor=self.radius_factor, blur_kernel_size=self.blur_kernel_size)
