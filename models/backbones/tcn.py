"""VideoPose3D's temporal convolution network (Pavllo et al. 2019; MMPose's TCN)."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


class TCNBlock(nn.Module):
    def __init__(self, channels: int, kernel_size: int, dilation: int, dropout: float,
                 use_stride_conv: bool):
        super().__init__()
        self.pad = (kernel_size - 1) * dilation // 2
        self.stride = kernel_size if use_stride_conv else 1
        self.use_stride_conv = use_stride_conv
        self.conv1 = nn.Sequential(
            nn.Conv1d(channels, channels, kernel_size, self.stride,
                      dilation=1 if use_stride_conv else dilation, bias=False),
            nn.BatchNorm1d(channels), nn.ReLU(inplace=True), nn.Dropout(dropout))
        self.conv2 = nn.Sequential(nn.Conv1d(channels, channels, 1, bias=False),
                                   nn.BatchNorm1d(channels), nn.ReLU(inplace=True),
                                   nn.Dropout(dropout))
        self.kernel_size = kernel_size

    def forward(self, x):
        out = self.conv2(self.conv1(x))
        if self.use_stride_conv:
            res = x[:, :, self.kernel_size // 2::self.kernel_size][:, :, :out.shape[-1]]
        else:
            res = x[:, :, self.pad:x.shape[-1] - self.pad]
        return out + res


class TCN(nn.Module):
    """Input (B, T, K, 2) or (B, K*2, T) -> features (B, C, T') with
    T' = T - receptive_field + 1 (T' = T / receptive_field with strided convs).

    kernel_sizes (3, 3, 3) give a 27-frame receptive field; (3, 3, 3, 3) 81."""

    def __init__(self, in_channels: int = 34, stem_channels: int = 1024,
                 kernel_sizes: Sequence[int] = (3, 3, 3), dropout: float = 0.25,
                 use_stride_conv: bool = False):
        super().__init__()
        k0 = kernel_sizes[0]
        self.expand_conv = nn.Sequential(
            nn.Conv1d(in_channels, stem_channels, k0, k0 if use_stride_conv else 1, bias=False),
            nn.BatchNorm1d(stem_channels), nn.ReLU(inplace=True), nn.Dropout(dropout))
        blocks, dilation = [], k0
        for k in kernel_sizes[1:]:
            blocks.append(TCNBlock(stem_channels, k, dilation, dropout, use_stride_conv))
            dilation *= k
        self.blocks = nn.Sequential(*blocks)
        self.receptive_field = int(torch.tensor(list(kernel_sizes)).prod())
        self.channels = stem_channels

    def forward(self, x: torch.Tensor):
        if x.ndim == 4:
            B, T = x.shape[:2]
            x = x.reshape(B, T, -1).transpose(1, 2)
        return (self.blocks(self.expand_conv(x)),)


class LiftingMLP(nn.Module):
    """Martinez et al. 2017's simple baseline: linear layers with residual blocks.
    Input (B, 1, K, 2) or (B, K*2) -> features (B, C, 1)."""

    def __init__(self, in_channels: int = 34, channels: int = 1024, num_blocks: int = 2,
                 dropout: float = 0.5):
        super().__init__()
        self.stem = nn.Sequential(nn.Linear(in_channels, channels), nn.BatchNorm1d(channels),
                                  nn.ReLU(inplace=True), nn.Dropout(dropout))
        self.blocks = nn.ModuleList([nn.Sequential(
            nn.Linear(channels, channels), nn.BatchNorm1d(channels), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(channels, channels), nn.BatchNorm1d(channels),
            nn.ReLU(inplace=True), nn.Dropout(dropout)) for _ in range(num_blocks)])
        self.channels = channels
        self.receptive_field = 1

    def forward(self, x: torch.Tensor):
        x = self.stem(x.reshape(x.shape[0], -1))
        for b in self.blocks:
            x = x + b(x)
        return (x[:, :, None],)
