"""ResNet-18/34/50 in plain PyTorch (He et al. 2016), as MMPose's ResNet backbone.

``base_channels`` scales the widths (64 is the standard network; 32 or 16 give small
variants for quick CPU training). ``forward`` returns the feature maps of
``out_indices`` stages as a tuple, the last one (stride 32) by default; stages after
the last requested one are not built (``out_indices=(2,)`` is a stride-16 network).
"""
from __future__ import annotations

from typing import Sequence, Tuple

import torch
from torch import nn


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + idt)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + idt)


ARCH = {18: (BasicBlock, (2, 2, 2, 2)), 34: (BasicBlock, (3, 4, 6, 3)),
        50: (Bottleneck, (3, 4, 6, 3))}


class ResNet(nn.Module):
    """ResNet backbone. Input (B, 3, H, W) -> tuple of (B, C_i, H / s_i, W / s_i) for
    stage i in out_indices (strides 4, 8, 16, 32; C_3 = 8 * base_channels * expansion)."""

    def __init__(self, depth: int = 18, base_channels: int = 64, in_channels: int = 3,
                 out_indices: Sequence[int] = (3,)):
        super().__init__()
        if depth not in ARCH:
            raise ValueError(f'ResNet depth must be one of {sorted(ARCH)}, got {depth}')
        block, layers = ARCH[depth]
        self.depth, self.out_indices = depth, tuple(out_indices)
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, base_channels, 7, 2, 3, bias=False),
            nn.BatchNorm2d(base_channels), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
        cin = base_channels
        self.stages = nn.ModuleList()
        self.out_channels = []
        # stages past the last requested output would be dead weight (and unused
        # parameters, which DDP rejects): build only those needed
        for i, n in enumerate(layers[:max(self.out_indices) + 1]):
            planes = base_channels * 2 ** i
            stride = 1 if i == 0 else 2
            down = None
            if stride != 1 or cin != planes * block.expansion:
                down = nn.Sequential(nn.Conv2d(cin, planes * block.expansion, 1, stride,
                                               bias=False),
                                     nn.BatchNorm2d(planes * block.expansion))
            blocks = [block(cin, planes, stride, down)]
            cin = planes * block.expansion
            blocks += [block(cin, planes) for _ in range(1, n)]
            self.stages.append(nn.Sequential(*blocks))
            self.out_channels.append(cin)
        self._init_weights()

    def _init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        for m in self.modules():  # zero-init the last BN of each residual branch
            if isinstance(m, Bottleneck):
                nn.init.zeros_(m.bn3.weight)
            elif isinstance(m, BasicBlock):
                nn.init.zeros_(m.bn2.weight)

    @property
    def channels(self) -> int:
        """Channels of the last requested output."""
        return self.out_channels[self.out_indices[-1]]

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        x = self.stem(x)
        outs = []
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
