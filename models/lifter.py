"""2-D -> 3-D pose lifting: a temporal regression head and the PoseLifter estimator
(VideoPose3D's TCN or the single-frame MLP lifter as backbone)."""
from __future__ import annotations

from typing import Dict, Optional, Sequence

import torch
from torch import nn

from models.data.meta_coco17 import COCO17
from models.losses import MPJPELoss


class TemporalRegressionHead(nn.Module):
    """1x1 convolution to K x 3 coordinates of the centre frame; MPJPE loss.
    forward(feats) -> (B, K, 3) metres, root-relative."""

    def __init__(self, in_channels: int, num_joints: int = 17):
        super().__init__()
        self.num_joints = num_joints
        self.conv = nn.Conv1d(in_channels, num_joints * 3, 1)
        self.loss_module = MPJPELoss()

    def forward(self, feats):
        x = self.conv(feats[-1])  # (B, K*3, T')
        return x[:, :, x.shape[-1] // 2].reshape(x.shape[0], self.num_joints, 3)

    def loss(self, feats, batch) -> dict:
        pred = self.forward(feats)
        t = batch['targets']
        return dict(loss_pose3d=self.loss_module(pred, t['lifting_target'].to(pred.dtype),
                                                 t['lifting_target_weight'].to(pred.dtype)))

    @staticmethod
    def flip_back(pred, flip_indices):
        idx = torch.as_tensor(list(flip_indices), device=pred.device)
        pred = pred.index_select(1, idx).clone()
        pred[..., 0] = -pred[..., 0]
        return pred


class PoseLifter(nn.Module):
    """forward(inputs (B, T, K, 2) normalised 2-D keypoints, batch, mode):
    'tensor' -> (B, K, 3); 'loss' -> dict; 'predict' -> dict(keypoints_3d (B, K, 3) in
    metres, root-relative), with flip test averaging the mirrored input's prediction."""

    def __init__(self, backbone: nn.Module, head: nn.Module, flip_test: bool = True,
                 flip_indices: Optional[Sequence[int]] = None):
        super().__init__()
        self.backbone, self.head = backbone, head
        self.flip_test = flip_test
        self.flip_indices = list(flip_indices if flip_indices is not None
                                 else COCO17['flip_indices'])

    def forward(self, inputs: torch.Tensor, batch: Optional[Dict] = None, mode: str = 'tensor'):
        x = inputs.float()
        if mode == 'tensor':
            return self.head(self.backbone(x))
        if mode == 'loss':
            if batch is None or 'targets' not in batch:
                raise ValueError("mode='loss' needs batch['targets']")
            return self.head.loss(self.backbone(x), batch)
        if mode == 'predict':
            return self.predict(x)
        raise ValueError(f"mode must be 'tensor', 'loss' or 'predict', got {mode!r}")

    @torch.no_grad()
    def predict(self, x):
        pred = self.head(self.backbone(x))
        if self.flip_test:
            xf = x[:, :, self.flip_indices].clone()
            xf[..., 0] = -xf[..., 0]
            pred_f = self.head.flip_back(self.head(self.backbone(xf)), self.flip_indices)
            pred = (pred + pred_f) * 0.5
        return dict(keypoints_3d=pred)
