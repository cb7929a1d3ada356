"""What every head shares: a fastcodec codec built from its MMPose config dict, target
generation on the device (``batch_encode``) and decoding (``batch_decode``)."""
from __future__ import annotations

from typing import Dict

import torch
from torch import nn

import fastcodec


def to_codec(t: torch.Tensor) -> torch.Tensor:
    """fastcodec takes numpy or torch CPU tensors: detach and move to the CPU."""
    return t.detach().to('cpu', torch.float32)


class BaseHead(nn.Module):
    """A head owns ``self.codec`` (a fastcodec codec) and implements ``forward``
    (features -> raw outputs), ``loss`` (features, batch -> dict of losses),
    ``flip_back`` (outputs of the flipped image -> outputs in the original frame) and
    ``decode`` (outputs -> keypoints (B, 1, K, 2) in input pixels, scores (B, 1, K))."""

    def __init__(self, codec: dict):
        super().__init__()
        self.codec_cfg = dict(codec)
        self.codec = fastcodec.build(dict(codec))

    def encode_targets(self, keypoints: torch.Tensor, keypoints_visible: torch.Tensor
                       ) -> Dict[str, torch.Tensor]:
        """Training targets for a batch, in one ``codec.batch_encode`` call:
        keypoints (B, 1, K, 2), visibility (B, 1, K) on any device -> the codec's
        arrays as float32 tensors on that device."""
        device = keypoints.device
        enc = self.codec.batch_encode(to_codec(keypoints), to_codec(keypoints_visible))
        return {k: torch.as_tensor(v).to(device, torch.float32, non_blocking=True)
                for k, v in enc.items()}

    @staticmethod
    def weights(targets: Dict[str, torch.Tensor]) -> torch.Tensor:
        w = targets['keypoint_weights']
        return w.reshape(w.shape[0], -1)
