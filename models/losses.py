"""Losses of MMPose 1.x used by the zoo's heads (same reductions as MMPose)."""
from __future__ import annotations

import math

import torch
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


class SmoothL1Loss(nn.Module):
    """Smooth L1 between coordinates (B, K, D), weighted per keypoint (B, K)."""

    def __init__(self, use_target_weight: bool = True, loss_weight: float = 1.0):
        super().__init__()
        self.use_target_weight, self.loss_weight = use_target_weight, loss_weight

    def forward(self, output, target, target_weights):
        if self.use_target_weight:
            w = target_weights.unsqueeze(-1)
            return F.smooth_l1_loss(output * w, target * w) * self.loss_weight
        return F.smooth_l1_loss(output, target) * self.loss_weight


class SoftWeightSmoothL1Loss(nn.Module):
    """DEKR's displacement loss (MMPose's SoftWeightSmoothL1Loss): smooth L1 with
    threshold ``beta``, multiplied by per-element (soft) weights broadcast from the
    right; ``supervise_empty=False`` divides the sum by the number of non-zero weights
    instead of taking the mean over every element."""

    def __init__(self, use_target_weight: bool = True, supervise_empty: bool = True,
                 beta: float = 1.0, loss_weight: float = 1.0):
        super().__init__()
        self.use_target_weight, self.supervise_empty = use_target_weight, supervise_empty
        self.beta, self.loss_weight = beta, loss_weight

    def forward(self, output, target, target_weights=None):
        loss = F.smooth_l1_loss(output, target, reduction='none', beta=self.beta)
        if not self.use_target_weight:
            return loss.mean() * self.loss_weight
        w = target_weights
        while w.ndim < output.ndim:
            w = w.unsqueeze(-1)
        loss = loss * w
        if self.supervise_empty:
            loss = loss.mean()
        else:
            loss = loss.sum() / max(int((w > 0).sum()), 1)  # as MMPose: w's own count
        return loss * self.loss_weight


class JSDiscretLoss(nn.Module):
    """Jensen-Shannon divergence between normalised heatmaps (B, K, H, W) (DSNT)."""

    def __init__(self, use_target_weight: bool = True, size_average: bool = True,
                 loss_weight: float = 1.0):
        super().__init__()
        self.use_target_weight, self.size_average = use_target_weight, size_average
        self.loss_weight = loss_weight

    @staticmethod
    def _kl(p, q):
        eps = 1e-24
        return (p * (torch.log(p + eps) - torch.log(q + eps))).sum(-1)

    def forward(self, pred_hm, gt_hm, target_weights):
        p = pred_hm.flatten(2)
        q = gt_hm.flatten(2)
        m = 0.5 * (p + q)
        js = 0.5 * self._kl(p, m) + 0.5 * self._kl(q, m)
        if self.use_target_weight:
            js = js * target_weights
        loss = js.sum() / (len(js) if self.size_average else 1)
        return loss * self.loss_weight


class RealNVP(nn.Module):
    """The 2-D normalising flow of RLE (3 pairs of affine couplings)."""

    def __init__(self, hidden: int = 64, couplings: int = 6):
        super().__init__()
        mask = torch.tensor([[0.0, 1.0], [1.0, 0.0]] * (couplings // 2))
        self.register_buffer('mask', mask)
        self.s = nn.ModuleList([nn.Sequential(
            nn.Linear(2, hidden), nn.LeakyReLU(), nn.Linear(hidden, hidden), nn.LeakyReLU(),
            nn.Linear(hidden, 2), nn.Tanh()) for _ in range(couplings)])
        self.t = nn.ModuleList([nn.Sequential(
            nn.Linear(2, hidden), nn.LeakyReLU(), nn.Linear(hidden, hidden), nn.LeakyReLU(),
            nn.Linear(hidden, 2)) for _ in range(couplings)])
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight, gain=0.01)
                nn.init.zeros_(m.bias)

    def log_prob(self, x):
        z, log_det = x, x.new_zeros(x.shape[0])
        for i in reversed(range(len(self.t))):
            z_ = self.mask[i] * z
            s = self.s[i](z_) * (1 - self.mask[i])
            t = self.t[i](z_) * (1 - self.mask[i])
            z = (1 - self.mask[i]) * (z - t) * torch.exp(-s) + z_
            log_det = log_det - s.sum(dim=1)
        prior = -0.5 * (z ** 2).sum(1) - math.log(2 * math.pi)
        return prior + log_det


class RLELoss(nn.Module):
    """Residual log-likelihood estimation (Li et al. 2021), as MMPose's RLELoss:
    pred, sigma (raw, sigmoid applied here), target (B, K, 2); weights (B, K)."""

    def __init__(self, use_target_weight: bool = True, size_average: bool = True,
                 residual: bool = True, q_distribution: str = 'laplace',
                 loss_weight: float = 1.0):
        super().__init__()
        if q_distribution not in ('laplace', 'gaussian'):
            raise ValueError(f"q_distribution must be 'laplace' or 'gaussian', got "
                             f'{q_distribution!r}')
        self.use_target_weight, self.size_average = use_target_weight, size_average
        self.residual, self.q = residual, q_distribution
        self.loss_weight = loss_weight
        self.flow_model = RealNVP()

    def forward(self, pred, sigma, target, target_weights):
        sigma = sigma.sigmoid()
        error = (pred - target) / (sigma + 1e-9)
        log_phi = self.flow_model.log_prob(error.reshape(-1, 2)).reshape(*target.shape[:2], 1)
        loss = torch.log(sigma) - log_phi
        if self.residual:
            if self.q == 'laplace':
                loss = loss + torch.log(sigma * 2) + torch.abs(error)
            else:
                loss = loss + torch.log(sigma * math.sqrt(2 * math.pi)) + 0.5 * error ** 2
        if self.use_target_weight:
            loss = loss * target_weights.unsqueeze(-1)
        if self.size_average:
            loss = loss / len(loss)
        return loss.sum() * self.loss_weight


class MPJPELoss(nn.Module):
    """Mean per-joint position error between (B, K, 3) poses, weighted by (B, K)."""

    def __init__(self, use_target_weight: bool = True, loss_weight: float = 1.0):
        super().__init__()
        self.use_target_weight, self.loss_weight = use_target_weight, loss_weight

    def forward(self, output, target, target_weights):
        err = torch.linalg.vector_norm(output - target, dim=-1)
        if self.use_target_weight:
            err = err * target_weights
        return err.mean() * self.loss_weight
