"""SimpleBaseline's deconvolution heatmap head (MMPose's HeatmapHead)."""
from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import nn

from fastcodec.models.heads.base import BaseHead, deconv_layers, to_codec
from fastcodec.models.losses import CombinedTargetMSELoss, KeypointMSELoss


class HeatmapHead(BaseHead):
    """Deconvolutions (stride 2 each) + a 1x1 conv to K heatmaps (3K for UDP's
    'combined' targets).

    Args:
        in_channels: backbone channels. out_channels: keypoints K.
        codec: fastcodec codec config: MSRAHeatmap (incl. unbiased=True, DARK),
            UDPHeatmap ('gaussian' or 'combined'), MegviiHeatmap.
        deconv_out_channels / deconv_kernel_sizes: one deconv layer per entry.
        shift_heatmap: shift flipped heatmaps by one pixel in flip test (MMPose's
            test_cfg; True for MSRA/Megvii, False for UDP).
        target_scale: the network learns targets * target_scale and its outputs are
            divided by it before decoding; default 1/255 for MegviiHeatmap (whose
            targets peak at 255), else 1.

    forward(feats) -> heatmaps (B, K or 3K, H, W).
    """

    def __init__(self, in_channels: int, out_channels: int, codec: dict,
                 deconv_out_channels: Sequence[int] = (256, 256, 256),
                 deconv_kernel_sizes: Sequence[int] = (4, 4, 4),
                 shift_heatmap: Optional[bool] = None,
                 target_scale: Optional[float] = None):
        super().__init__(codec)
        self.num_keypoints = out_channels
        self.combined = (self.codec_cfg['type'] == 'UDPHeatmap'
                         and self.codec_cfg.get('heatmap_type', 'gaussian') == 'combined')
        self.deconv_layers = deconv_layers(in_channels, deconv_out_channels,
                                           deconv_kernel_sizes)
        cin = deconv_out_channels[-1] if len(deconv_out_channels) else in_channels
        self.final_layer = nn.Conv2d(cin, out_channels * (3 if self.combined else 1), 1)
        self.loss_module = CombinedTargetMSELoss() if self.combined else KeypointMSELoss()
        if shift_heatmap is None:
            shift_heatmap = self.codec_cfg['type'] != 'UDPHeatmap'
        self.shift_heatmap = shift_heatmap
        if target_scale is None:
            target_scale = 1 / 255 if self.codec_cfg['type'] == 'MegviiHeatmap' else 1.0
        self.target_scale = float(target_scale)
        for m in self.deconv_layers.modules():
            if isinstance(m, nn.ConvTranspose2d):
                nn.init.normal_(m.weight, std=0.001)
        nn.init.normal_(self.final_layer.weight, std=0.001)
        nn.init.zeros_(self.final_layer.bias)

    def forward(self, feats):
        return self.final_layer(self.deconv_layers(feats[-1]))

    def loss(self, feats, batch) -> dict:
        pred = self.forward(feats)
        targets = batch['targets']
        gt = targets['heatmaps'].to(pred.dtype)
        if self.target_scale != 1.0:
            gt = gt * self.target_scale
        return dict(loss_kpt=self.loss_module(pred, gt, self.weights(targets).to(pred.dtype)))

    def flip_back(self, heatmaps: torch.Tensor, flip_indices: Sequence[int]) -> torch.Tensor:
        """MMPose's flip_heatmaps: mirror, swap left/right channels (and negate the x
        offsets of combined targets), optionally shift one pixel."""
        idx = torch.as_tensor(list(flip_indices), device=heatmaps.device)
        if self.combined:
            B, C, H, W = heatmaps.shape
            hm = heatmaps.reshape(B, C // 3, 3, H, W).index_select(1, idx).clone()
            hm[:, :, 1] = -hm[:, :, 1]
            heatmaps = hm.reshape(B, C, H, W)
        else:
            heatmaps = heatmaps.index_select(1, idx)
        heatmaps = heatmaps.flip(-1)
        if self.shift_heatmap:
            heatmaps = heatmaps.clone()
            heatmaps[..., 1:] = heatmaps[..., :-1].clone()
        return heatmaps

    def decode(self, heatmaps: torch.Tensor):
        if self.target_scale != 1.0:
            heatmaps = heatmaps / self.target_scale
        kps, scores = self.codec.batch_decode(to_codec(heatmaps))
        return torch.as_tensor(kps), torch.as_tensor(scores)
