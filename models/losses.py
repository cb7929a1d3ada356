"""Losses of MMPose 1.x used by the zoo's heads (same reductions as MMPose)."""
from __future__ import annotations

import torch.nn.functional as F
from torch import nn


class KeypointMSELoss(nn.Module):
    """MSE between heatmaps (B, K, H, W), weighted per keypoint by (B, K)."""

    def __init__(self, use_target_weight: bool = True, loss_weight: float = 1.0):
        super().__init__()
        self.use_target_weight, self.loss_weight = use_target_weight, loss_weight

    def forward(self, output, target, target_weights):
        loss = F.mse_loss(output, target, reduction='none')
        if self.use_target_weight:
            loss = loss * target_weights.reshape(*target_weights.shape[:2], 1, 1)
        return loss.mean() * self.loss_weight

class CombinedTargetMSELoss(nn.Module):
    """UDP's combined target (B, 3K, H, W): a heatmap and x/y offset maps per keypoint;
    the offsets are compared only where the ground-truth heatmap is on."""

    def __init__(self, use_target_weight: bool = True, loss_weight: float = 1.0):
        super().__init__()
        self.use_target_weight, self.loss_weight = use_target_weight, loss_weight

    def forward(self, output, target, target_weights):
        B, C = output.shape[:2]
        J = C // 3
        pred = output.reshape(B, J, 3, -1)
        gt = target.reshape(B, J, 3, -1)
        hp, hg = pred[:, :, 0], gt[:, :, 0]
        if self.use_target_weight:
            w = target_weights.reshape(B, J, 1)
            hp, hg = hp * w, hg * w
        # MMPose averages per joint over (B, H*W) and then over joints: the same as a
        # global mean here.
        loss = 0.5 * F.mse_loss(hp, hg)
        loss = loss + 0.5 * F.mse_loss(hg * pred[:, :, 1], hg * gt[:, :, 1])
        loss = loss + 0.5 * F.mse_loss(hg * pred[:, :, 2], hg * gt[:, :, 2])
        return loss * self.loss_weight

class KLDiscretLoss(nn.Module):
    """RTMPose's KL divergence between SimCC logits and (softmaxed) labels.

    pred/gt: (B, K, W) for x and for y; weights (B, K). Sum over samples and keypoints
    divided by K, as MMPose."""

    def __init__(self, beta: float = 10.0, label_softmax: bool = True,
                 use_target_weight: bool = True, loss_weight: float = 1.0):
        super().__init__()
        self.beta, self.label_softmax = beta, label_softmax
        self.use_target_weight, self.loss_weight = use_target_weight, loss_weight

    def _criterion(self, pred, labels):
        log_pt = F.log_softmax(pred * self.beta, dim=1)
        if self.label_softmax:
            labels = F.softmax(labels * self.beta, dim=1)
        return F.kl_div(log_pt, labels, reduction='none').mean(dim=1)

    def forward(self, pred_simcc, gt_simcc, target_weights):
        K = pred_simcc[0].shape[1]
        weight = target_weights.reshape(-1) if self.use_target_weight else 1.0
        loss = 0.0
        for pred, gt in zip(pred_simcc, gt_simcc):
            loss = loss + (self._criterion(pred.reshape(-1, pred.shape[-1]),
                                           gt.reshape(-1, gt.shape[-1])) * weight).sum()
        return loss / K * self.loss_weight
