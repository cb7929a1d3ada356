"""Top-down and bottom-up pose estimators with MMPose's three forward modes and flip
test."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence

import torch
from torch import nn

from fastcodec.models.data.meta_coco17 import COCO17


def _merge(a, b):
    if isinstance(a, (tuple, list)):
        return type(a)(_merge(x, y) for x, y in zip(a, b))
    return (a + b) * 0.5


class TopdownPoseEstimator(nn.Module):
    """backbone -> head, images normalised inside (MMPose's data_preprocessor);
    ``channels_last`` runs the convolutions in NHWC layout.

    forward(inputs (B, 3, h, w) uint8 or float RGB, batch=None, mode='tensor'):
      * 'tensor': the head's raw outputs;
      * 'loss': dict of losses (batch['targets'] from GenerateTarget or
        ``head.encode_targets``);
      * 'predict': dict(keypoints (B, K, 2) in original-image pixels (input pixels when
        batch has no input_center/input_scale), keypoint_scores (B, K)); with flip test
        the outputs of the mirrored image are flipped back and averaged first.
    """

    def __init__(self, backbone: nn.Module, head: nn.Module,
                 mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375),
                 flip_test: bool = True, flip_indices: Optional[Sequence[int]] = None,
                 channels_last: bool = False):
        super().__init__()
        self.backbone, self.head = backbone, head
        self.channels_last = channels_last
        if channels_last:  # NHWC convolutions (faster with oneDNN on CPU)
            self.to(memory_format=torch.channels_last)
        self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1),
                             persistent=False)
        self.register_buffer('std', torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1),
                             persistent=False)
        self.flip_test = flip_test
        self.flip_indices = list(flip_indices if flip_indices is not None
                                 else COCO17['flip_indices'])

    def preprocess(self, inputs: torch.Tensor) -> torch.Tensor:
        x = (inputs.float() - self.mean) / self.std
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def forward(self, inputs: torch.Tensor, batch: Optional[Dict] = None, mode: str = 'tensor'):
        x = self.preprocess(inputs)
        if mode == 'tensor':
            return self.head(self.backbone(x))
        if mode == 'loss':
            if batch is None or 'targets' not in batch:
                raise ValueError("mode='loss' needs batch['targets']")
            return self.head.loss(self.backbone(x), batch)
        if mode == 'predict':
            return self.predict(x, batch)
        raise ValueError(f"mode must be 'tensor', 'loss' or 'predict', got {mode!r}")

    @torch.no_grad()
    def predict(self, x: torch.Tensor, batch: Optional[Dict] = None) -> Dict[str, torch.Tensor]:
        out = self.head(self.backbone(x))
        if self.flip_test:
            out_f = self.head.flip_back(self.head(self.backbone(x.flip(-1))), self.flip_indices)
            out = _merge(out, out_f)
        kps, scores = self.head.decode(out)  # (B, 1, K, 2), (B, 1, K) in input pixels
        kps, scores = kps[:, 0].float(), scores[:, 0].float()
        if batch is not None and 'input_center' in batch:
            h, w = x.shape[-2:]
            size = torch.tensor([w, h], dtype=torch.float32)
            center = torch.as_tensor(batch['input_center']).float().cpu().reshape(-1, 1, 2)
            scale = torch.as_tensor(batch['input_scale']).float().cpu().reshape(-1, 1, 2)
            kps = kps / size * scale + center - 0.5 * scale
        return dict(keypoints=kps, keypoint_scores=scores)


class BottomupPoseEstimator(TopdownPoseEstimator):
    """Bottom-up estimator (MMPose's BottomupPoseEstimator): backbone -> a bottom-up
    head (``DEKRHead``) on the whole image; same constructor and modes as
    ``TopdownPoseEstimator``:

      * 'tensor': the head's raw outputs (heatmaps, displacements);
      * 'loss': dict of losses (batch['targets'] from GenerateTarget with
        ``multi_instance=True``, or ``head.encode_targets``);
      * 'predict': a list with one dict per image: keypoints (N, K, 2) in
        original-image pixels (input pixels when batch has no input_center /
        input_scale), keypoint_scores (N, K), root_scores (N,); N varies per image.
        With flip test the outputs of the mirrored input are flipped back
        (``head.flip_back``) and averaged before decoding, as MMPose's DEKRHead.

    The inverse transform is MMPose's ``add_pred_to_datasample``: keypoints / input_size
    * input_scale + input_center - input_scale / 2, with the centre and scale that
    BottomupResize / BottomupRandomAffine stored.
    """

    @torch.no_grad()
    def predict(self, x: torch.Tensor, batch: Optional[Dict] = None) -> List[Dict]:
        out = self.head(self.backbone(x))
        if self.flip_test:
            out_f = self.head.flip_back(self.head(self.backbone(x.flip(-1))), self.flip_indices)
            out = _merge(out, out_f)
        preds = self.head.decode(out)
        if batch is not None and 'input_center' in batch:
            h, w = x.shape[-2:]
            size = torch.tensor([w, h], dtype=torch.float32)
            center = torch.as_tensor(batch['input_center']).float().cpu().reshape(-1, 1, 1, 2)
            scale = torch.as_tensor(batch['input_scale']).float().cpu().reshape(-1, 1, 1, 2)
            for p, c, s in zip(preds, center, scale):
                p['keypoints'] = p['keypoints'] / size * s + c - 0.5 * s
        return preds
