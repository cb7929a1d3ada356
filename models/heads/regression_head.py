"""Coordinate heads: DeepPose-style regression (optionally RLE) on RegressionLabel, and
integral regression / DSNT on IntegralRegressionLabel (MMPose's RegressionHead,
RLEHead, IntegralRegressionHead / DSNTHead)."""
from __future__ import annotations

from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from fastcodec.models.heads.base import BaseHead, to_codec
from fastcodec.models.losses import JSDiscretLoss, RLELoss, SmoothL1Loss


def flip_coordinates(coords: torch.Tensor, flip_indices: Sequence[int], input_width: int,
                     shift_coords: bool = True) -> torch.Tensor:
    """MMPose's flip_coordinates for normalised (x, y[, sx, sy]) outputs (B, K, D)."""
    idx = torch.as_tensor(list(flip_indices), device=coords.device)
    coords = coords.index_select(1, idx).clone()
    coords[..., 0] = 1.0 - coords[..., 0]
    if shift_coords:
        coords[..., 0] -= 1.0 / input_width
    return coords


class RegressionHead(BaseHead):
    """Global average pooling + a linear layer to K normalised (x, y); with
    ``loss='rle'`` also K (sigma_x, sigma_y) and RLE's flow-based loss.

    forward(feats) -> (B, K, 2), or (B, K, 4) with raw sigmas for RLE.
    """

    def __init__(self, in_channels: int, out_channels: int, codec: dict, loss: str = 'rle',
                 shift_coords: bool = True):
        super().__init__(codec)
        if loss not in ('rle', 'smooth_l1'):
            raise ValueError(f"loss must be 'rle' or 'smooth_l1', got {loss!r}")
        self.num_keypoints, self.rle = out_channels, loss == 'rle'
        self.fc = nn.Linear(in_channels, out_channels * (4 if self.rle else 2))
        self.loss_module = RLELoss() if self.rle else SmoothL1Loss()
        self.shift_coords = shift_coords
        self.input_width = int(self.codec_cfg['input_size'][0])

    def forward(self, feats):
        x = F.adaptive_avg_pool2d(feats[-1], 1).flatten(1)
        return self.fc(x).reshape(x.shape[0], self.num_keypoints, -1)

    def loss(self, feats, batch) -> dict:
        pred = self.forward(feats)
        t = batch['targets']
        gt = t['keypoint_labels'].reshape(pred.shape[0], self.num_keypoints, 2).to(pred.dtype)
        w = self.weights(t).to(pred.dtype)
        if self.rle:
            return dict(loss_kpt=self.loss_module(pred[..., :2], pred[..., 2:], gt, w))
        return dict(loss_kpt=self.loss_module(pred, gt, w))

    def flip_back(self, coords, flip_indices):
        return flip_coordinates(coords, flip_indices, self.input_width, self.shift_coords)

    def decode(self, coords):
        if self.rle:  # scores are 1 - sigma, with sigma through its sigmoid
            coords = torch.cat([coords[..., :2], coords[..., 2:].sigmoid()], -1)
        kps, scores = self.codec.batch_decode(to_codec(coords))
        return torch.as_tensor(kps).float(), torch.as_tensor(scores).float()


class IntegralRegressionHead(BaseHead):
    """Deconvolutions to K heatmaps at the codec's heatmap size, a flat softmax
    (temperature ``beta``) and the soft-argmax expectation as normalised coordinates.
    With ``loss='dsnt'`` (default) the loss is SmoothL1 on the coordinates plus the
    Jensen-Shannon divergence of the heatmaps to the codec's normalised Gaussians.

    forward(feats) -> (coords (B, K, 2) normalised, heatmaps (B, K, H, W) summing to 1).
    """

    def __init__(self, in_channels: int, out_channels: int, codec: dict,
                 deconv_out_channels: Sequence[int] = (256, 256, 256), beta: float = 1.0,
                 loss: str = 'dsnt', shift_coords: bool = True):
        super().__init__(codec)
        if loss not in ('dsnt', 'smooth_l1'):
            raise ValueError(f"loss must be 'dsnt' or 'smooth_l1', got {loss!r}")
        self.num_keypoints, self.beta, self.dsnt = out_channels, beta, loss == 'dsnt'
        layers, cin = [], in_channels
        for cout in deconv_out_channels:
            layers += [nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout),
                       nn.ReLU(inplace=True)]
            cin = cout
        self.deconv_layers = nn.Sequential(*layers)
        self.final_layer = nn.Conv2d(cin, out_channels, 1)
        W, H = self.codec_cfg['heatmap_size']
        self.heatmap_size = (int(W), int(H))
        self.register_buffer('linspace_x', torch.arange(W, dtype=torch.float32) / W,
                             persistent=False)
        self.register_buffer('linspace_y', torch.arange(H, dtype=torch.float32) / H,
                             persistent=False)
        self.coord_loss = SmoothL1Loss()
        self.hm_loss = JSDiscretLoss() if self.dsnt else None
        self.shift_coords = shift_coords
        self.input_width = int(self.codec_cfg['input_size'][0])

    def forward(self, feats) -> Tuple[torch.Tensor, torch.Tensor]:
        hm = self.final_layer(self.deconv_layers(feats[-1]))
        W, H = self.heatmap_size
        if hm.shape[-2:] != (H, W):
            hm = F.interpolate(hm, size=(H, W), mode='bilinear', align_corners=False)
        B, K = hm.shape[:2]
        hm = F.softmax((hm * self.beta).reshape(B, K, -1), dim=-1).reshape(B, K, H, W)
        x = (hm.sum(2) * self.linspace_x).sum(-1)
        y = (hm.sum(3) * self.linspace_y).sum(-1)
        return torch.stack([x, y], -1), hm

    def loss(self, feats, batch) -> dict:
        coords, hm = self.forward(feats)
        t = batch['targets']
        gt = t['keypoint_labels'].reshape(coords.shape).to(coords.dtype)
        w = self.weights(t).to(coords.dtype)
        out = dict(loss_kpt=self.coord_loss(coords, gt, w))
        if self.dsnt:
            out['loss_hm'] = self.hm_loss(hm, t['heatmaps'].to(hm.dtype), w)
        return out

    def flip_back(self, outputs, flip_indices):
        coords, hm = outputs
        idx = torch.as_tensor(list(flip_indices), device=hm.device)
        return (flip_coordinates(coords, flip_indices, self.input_width, self.shift_coords),
                hm.index_select(1, idx).flip(-1))

    def decode(self, outputs):
        coords = outputs[0] if isinstance(outputs, (tuple, list)) else outputs
        kps, scores = self.codec.batch_decode(to_codec(coords))
        return torch.as_tensor(kps).float(), torch.as_tensor(scores).float()
