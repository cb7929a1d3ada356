"""2-D -> 3-D pose lifting: a temporal regression head and the PoseLifter estimator
(VideoPose3D's TCN or the single-frame MLP lifter as backbone). The head owns a fastcodec
lifting codec (VideoPoseLifting or ImagePoseLifting, the config's ``codec``, the one the
dataset encodes with) and decodes its outputs with ``codec.batch_decode``."""
from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple

import torch
from torch import nn

from fastcodec.models.data.meta_coco17 import COCO17
from fastcodec.models.heads.base import BaseHead
from fastcodec.models.losses import MPJPELoss


class TemporalRegressionHead(BaseHead):
    """1x1 convolution to K x 3 coordinates of the centre frame; MPJPE loss against the
    codec's lifting_target_label. forward(feats) -> (B, K, 3) in the codec's target
    units (root-relative metres; normalised by ImagePoseLifting's target_mean /
    target_std if it has them); decode(pred) -> (B, K, 3) root-relative metres through
    ``codec.batch_decode`` (no target root: the poses stay root-relative)."""

    def __init__(self, in_channels: int, codec: dict, num_joints: int = 17):
        super().__init__(codec)
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

    def encode_targets(self, keypoints: torch.Tensor, lifting_target: torch.Tensor,
                       image_size: torch.Tensor
                       ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """The network's inputs and the training targets of a batch, in one
        ``codec.batch_encode`` call on the tensors' device (what MotionLiftingDataset
        encodes at construction without ``--device-targets``): keypoints (B, T, K, 2)
        px, lifting_target (B, 1, K, 3) metres of the centre frame, image_size (B, 2)
        -> (keypoint labels (B, T, K, 2), dict(lifting_target (B, K, 3),
        lifting_target_weight (B, K))), float32."""
        from fastcodec.models.data.motion import encode_motion
        enc = encode_motion(self.codec, keypoints.detach(), lifting_target.detach(),
                            image_size.detach())
        f32 = {k: torch.as_tensor(v, device=keypoints.device).to(torch.float32)
               for k, v in enc.items()}
        return f32['keypoints'], dict(lifting_target=f32['lifting_target'][:, 0],
                                      lifting_target_weight=f32['lifting_target_weight'][:, 0])

    def encode_batch(self, batch: Dict, device: torch.device
                     ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """The training step's (inputs, targets) from a batch of
        ``MotionLiftingDataset(encode=False)``: its ``codec_inputs`` moved to
        ``device`` and encoded there by :meth:`encode_targets`."""
        raw = batch['codec_inputs']
        return self.encode_targets(*(raw[k].to(device, non_blocking=True)
                                     for k in ('keypoints', 'lifting_target', 'image_size')))

    def decode(self, pred: torch.Tensor) -> torch.Tensor:
        """(B, K, 3) head outputs -> (B, K, 3) root-relative metres, on pred's device:
        ``codec.batch_decode`` of (B, 1, K, 3) (a torch tensor in, a tensor out)."""
        kps, _ = self.codec.batch_decode(pred.detach().float()[:, None])
        return kps[:, 0].to(pred.dtype)

    @staticmethod
    def flip_back(pred, flip_indices):
        idx = torch.as_tensor(list(flip_indices), device=pred.device)
        pred = pred.index_select(1, idx).clone()
        pred[..., 0] = -pred[..., 0]
        return pred


class PoseLifter(nn.Module):
    """forward(inputs (B, T, K, 2) codec keypoint labels, batch, mode):
    'tensor' -> (B, K, 3) head outputs; 'loss' -> dict; 'predict' -> dict(keypoints_3d
    (B, K, 3) root-relative metres, decoded by the head's codec), with flip test
    averaging the decoded prediction for the mirrored input, mirrored back in metres.
    The input is mirrored by negating x of the swapped joints: the image mirror for
    VideoPoseLifting labels, and for ImagePoseLifting ones with mirror-symmetric
    keypoint statistics (checked here; see fastcodec.models.data.motion)."""

    def __init__(self, backbone: nn.Module, head: nn.Module, flip_test: bool = True,
                 flip_indices: Optional[Sequence[int]] = None):
        super().__init__()
        self.backbone, self.head = backbone, head
        self.flip_test = flip_test
        self.flip_indices = list(flip_indices if flip_indices is not None
                                 else COCO17['flip_indices'])
        if flip_test:
            from fastcodec.models.data.motion import check_mirror_symmetric
            check_mirror_symmetric(head.codec, self.flip_indices)

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

    @staticmethod
    def flip_inputs(x, flip_indices):
        """(B, T, K, 2) codec keypoint labels of the mirrored image."""
        xf = x[:, :, list(flip_indices)].clone()
        xf[..., 0] = -xf[..., 0]
        return xf

    @torch.no_grad()
    def predict(self, x):
        pred = self.head.decode(self.head(self.backbone(x)))
        if self.flip_test:
            xf = self.flip_inputs(x, self.flip_indices)
            pred_f = self.head.flip_back(self.head.decode(self.head(self.backbone(xf))),
                                         self.flip_indices)
            pred = (pred + pred_f) * 0.5
        return dict(keypoints_3d=pred)
