"""What every head shares: a fastcodec codec built from its MMPose config dict, target
generation on the device (``batch_encode``) and decoding (``batch_decode``)."""
from __future__ import annotations

from typing import Dict, Sequence, Tuple

import torch
from torch import nn

import fastcodec


def to_codec(t: torch.Tensor) -> torch.Tensor:
    """Network outputs for a host decode: detached float32 on the CPU (the heads'
    decoders post-process on the host)."""
    return t.detach().to('cpu', torch.float32)


def deconv_layers(in_channels: int, out_channels: Sequence[int],
                  kernel_sizes: Sequence[int]) -> nn.Sequential:
    """SimpleBaseline's upsampling: per entry a stride-2 transposed convolution
    (kernel 2, 3 or 4; doubles H and W), BatchNorm and ReLU. The head initialises the
    deconvolution weights (~ N(0, 0.001)) after building its final layer."""
    if len(out_channels) != len(kernel_sizes):
        raise ValueError(f'{len(out_channels)} deconv channels but {len(kernel_sizes)} '
                         'kernel sizes')
    layers = []
    cin = in_channels
    for cout, k in zip(out_channels, kernel_sizes):
        if k not in (2, 3, 4):
            raise ValueError(f'deconv kernel size must be 2, 3 or 4, got {k}')
        pad, out_pad = {4: (1, 0), 3: (1, 1), 2: (0, 0)}[k]
        layers += [nn.ConvTranspose2d(cin, cout, k, 2, pad, out_pad, bias=False),
                   nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
        cin = cout
    return nn.Sequential(*layers)


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
        """Training targets for a batch, in one ``codec.batch_encode`` call on the
        tensors' own device (a CUDA tensor stays on the GPU: the front hands it to the
        codec's CUDA kernels): keypoints (B, N, K, 2), visibility (B, N, K) -> the
        codec's arrays as float32 tensors on that device."""
        enc = self.codec.batch_encode(keypoints.detach(), keypoints_visible.detach())
        return {k: torch.as_tensor(v, device=keypoints.device).to(torch.float32)
                for k, v in enc.items()}

    def encode_batch(self, batch: Dict, device: torch.device
                     ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """The training step's (inputs, targets) for a batch shipped without targets
        (``--device-targets``): the images moved to ``device``, the targets encoded
        there from the batch's ``keypoints`` / ``keypoints_visible``."""
        inputs = batch['inputs'].to(device, non_blocking=True)
        return inputs, self.encode_targets(batch['keypoints'].to(device, non_blocking=True),
                                           batch['keypoints_visible'].to(device,
                                                                         non_blocking=True))

    @staticmethod
    def weights(targets: Dict[str, torch.Tensor]) -> torch.Tensor:
        w = targets['keypoint_weights']
        return w.reshape(w.shape[0], -1)
