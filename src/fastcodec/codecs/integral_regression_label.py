"""IntegralRegressionLabel: normalised Gaussian heatmaps plus regression labels, the
targets of DSNT / integral regression heads (Nibali et al. 2018)."""
from __future__ import annotations

from typing import Tuple

from fastcodec import _calls
from fastcodec.codecs.base import BaseKeypointCodec
from fastcodec.codecs.msra_heatmap import MSRAHeatmap
from fastcodec.codecs.regression_label import RegressionLabel, _CoordinateDecoding
from fastcodec.registry import register


@register
class IntegralRegressionLabel(_CoordinateDecoding, BaseKeypointCodec):
    """MSRAHeatmap targets (optionally DARK), each map divided by its sum, plus
    RegressionLabel's coordinates and weights.

    Args:
        input_size: image size (w, h). heatmap_size: heatmap size (W, H).
        sigma: Gaussian sigma in heatmap pixels. unbiased: DARK encoding.
        blur_kernel_size: kept for MMPose compatibility (decoding does not use maps).
        normalize: divide each heatmap by its sum (+ 1e-24).

    encode(keypoints (1, K, 2), keypoints_visible (1, K)) -> keypoint_labels (1, K, 2),
        heatmaps (K, H, W), keypoint_weights (1, K), all float32; the weights follow
        RegressionLabel (inside the input image and visibility > 0.5).
    decode(outputs (N, K, 2) or (N, K, 4)) -> keypoints (N, K, 2) float64, scores (N, K).
    """

    device_ready = True  # the cuda backend runs it on device arrays
    label_mapping_table = dict(keypoint_labels='keypoint_labels',
                               keypoint_weights='keypoint_weights')
    field_mapping_table = dict(heatmaps='heatmaps')
    # The heatmaps come from MSRAHeatmap, which encodes one instance (as in MMPose).
    single_instance = True

    def __init__(self, input_size: Tuple[int, int], heatmap_size: Tuple[int, int],
                 sigma: float, unbiased: bool = False, blur_kernel_size: int = 11,
                 normalize: bool = True) -> None:
        self.heatmap_codec = MSRAHeatmap(input_size, heatmap_size, sigma, unbiased,
                                         blur_kernel_size)
        self.keypoint_codec = RegressionLabel(input_size)
        self.normalize = normalize
        self._size = self.keypoint_codec._size
        hm = self.heatmap_codec
        self._gaussian = ('unbiased' if hm.unbiased else 'msra', float(sigma), hm._scale,
                          hm.heatmap_size[0], hm.heatmap_size[1])

    def _encode_batch(self, call, keypoints, visible):
        xy, vis, f32 = self._kernel_inputs(call, keypoints, visible)
        kind, sigma, scale, W, H = self._gaussian
        heatmaps, _ = _calls.encode_gaussian(call, kind, xy, vis, call.full(1, sigma),
                                             scale, f32, W, H)
        if self.normalize:
            call.kernels.normalize_heatmaps(heatmaps)
        labels, weights = _calls.encode_regression(call, xy, vis, self._size, vis.shape)
        return dict(keypoint_labels=labels, heatmaps=heatmaps, keypoint_weights=weights)

    def _config(self):
        hm = self.heatmap_codec
        return dict(input_size=hm.input_size, heatmap_size=hm.heatmap_size, sigma=hm.sigma,
                    unbiased=hm.unbiased, blur_kernel_size=hm.blur_kernel_size,
                    normalize=self.normalize)
