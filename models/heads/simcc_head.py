"""RTMPose's RTMCC head: a large-kernel conv, an MLP and a gated attention unit over
keypoint tokens, then two linear classifiers over SimCC bins (MMPose's RTMCCHead)."""
from __future__ import annotations

import math
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from fastcodec.models.heads.base import BaseHead, to_codec
from fastcodec.models.losses import KLDiscretLoss


class ScaleNorm(nn.Module):
    def __init__(self, dim: int, eps: float = 1e-5):
        super().__init__()
        self.scale = dim ** -0.5
        self.eps = eps
        self.g = nn.Parameter(torch.ones(1))

    def forward(self, x):
        norm = torch.linalg.vector_norm(x, dim=-1, keepdim=True) * self.scale
        return x / norm.clamp(min=self.eps) * self.g


class Scale(nn.Module):
    def __init__(self, dim: int, init_value: float = 1.0):
        super().__init__()
        self.scale = nn.Parameter(init_value * torch.ones(dim))

    def forward(self, x):
        return x * self.scale


class RTMCCBlock(nn.Module):
    """Gated attention unit (self-attention over the K keypoint tokens)."""

    def __init__(self, in_dims: int, out_dims: int, expansion_factor: int = 2, s: int = 128,
                 eps: float = 1e-5, dropout_rate: float = 0.0):
        super().__init__()
        self.s = s
        self.e = int(in_dims * expansion_factor)
        self.uv = nn.Linear(in_dims, 2 * self.e + s, bias=False)
        self.gamma = nn.Parameter(torch.rand((2, s)))
        self.beta = nn.Parameter(torch.rand((2, s)))
        self.o = nn.Linear(self.e, out_dims, bias=False)
        self.ln = ScaleNorm(in_dims, eps=eps)
        self.act = nn.SiLU(True)
        self.dropout = nn.Dropout(dropout_rate)
        self.shortcut = in_dims == out_dims
        if self.shortcut:
            self.res_scale = Scale(in_dims)
        self.sqrt_s = math.sqrt(s)
        nn.init.xavier_uniform_(self.uv.weight)

    def _forward(self, x):
        x = self.ln(x)
        uv = self.act(self.uv(x))
        u, v, base = torch.split(uv, [self.e, self.e, self.s], dim=2)
        base = base.unsqueeze(2) * self.gamma[None, None] + self.beta
        q, k = torch.unbind(base, dim=2)
        kernel = torch.square(F.relu(torch.bmm(q, k.transpose(1, 2)) / self.sqrt_s))
        x = u * torch.bmm(self.dropout(kernel), v)
        return self.o(x)

    def forward(self, x):
        out = self._forward(x)
        return self.res_scale(x) + out if self.shortcut else out


class RTMCCHead(BaseHead):
    """RTMCC head.

    Args:
        in_channels: backbone channels. out_channels: keypoints K.
        input_size: model input (w, h). in_featuremap_size: backbone output (w, h).
        codec: a fastcodec SimCCLabel config (its simcc_split_ratio sets the bins).
        final_layer_kernel_size, hidden_dims, s, expansion_factor: as RTMPose.

    forward(feats) -> (pred_x (B, K, w * r), pred_y (B, K, h * r)).
    """

    def __init__(self, in_channels: int, out_channels: int, input_size: Tuple[int, int],
                 in_featuremap_size: Tuple[int, int], codec: dict,
                 final_layer_kernel_size: int = 7, hidden_dims: int = 256, s: int = 128,
                 expansion_factor: int = 2, dropout_rate: float = 0.0, beta: float = 10.0,
                 label_softmax: bool = True):
        super().__init__(codec)
        ratio = float(self.codec_cfg.get('simcc_split_ratio', 2.0))
        self.num_keypoints = out_channels
        self.final_layer = nn.Conv2d(in_channels, out_channels, final_layer_kernel_size,
                                     padding=final_layer_kernel_size // 2)
        flat = int(in_featuremap_size[0] * in_featuremap_size[1])
        self.mlp = nn.Sequential(ScaleNorm(flat), nn.Linear(flat, hidden_dims, bias=False))
        self.gau = RTMCCBlock(hidden_dims, hidden_dims, expansion_factor, s,
                              dropout_rate=dropout_rate)
        self.cls_x = nn.Linear(hidden_dims, int(round(input_size[0] * ratio)), bias=False)
        self.cls_y = nn.Linear(hidden_dims, int(round(input_size[1] * ratio)), bias=False)
        self.loss_module = KLDiscretLoss(beta=beta, label_softmax=label_softmax)

    def forward(self, feats):
        x = self.final_layer(feats[-1]).flatten(2)
        x = self.gau(self.mlp(x))
        return self.cls_x(x), self.cls_y(x)

    def loss(self, feats, batch) -> dict:
        pred_x, pred_y = self.forward(feats)
        t = batch['targets']
        B, K = pred_x.shape[:2]
        gt_x = t['keypoint_x_labels'].reshape(B, K, -1).to(pred_x.dtype)
        gt_y = t['keypoint_y_labels'].reshape(B, K, -1).to(pred_y.dtype)
        loss = self.loss_module((pred_x, pred_y), (gt_x, gt_y),
                                self.weights(t).to(pred_x.dtype))
        return dict(loss_kpt=loss)

    def flip_back(self, outputs, flip_indices: Sequence[int]):
        """MMPose's flip_vectors: swap left/right rows, mirror the x vectors."""
        pred_x, pred_y = outputs
        idx = torch.as_tensor(list(flip_indices), device=pred_x.device)
        return pred_x.index_select(1, idx).flip(-1), pred_y.index_select(1, idx)

    def decode(self, outputs):
        pred_x, pred_y = outputs
        kps, scores = self.codec.batch_decode(to_codec(pred_x), to_codec(pred_y))
        return torch.as_tensor(kps), torch.as_tensor(scores)
