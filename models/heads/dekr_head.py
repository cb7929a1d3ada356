"""A DEKR-style bottom-up head (Geng et al. 2021, MMPose's DEKRHead) on the SPR codec.

Differences from MMPose's DEKRHead, on purpose:

* it takes one ResNet feature map (stride 32) and upsamples it to the heatmap resolution
  with SimpleBaseline-style deconvolutions (MMPose's DEKR uses HRNet's stride-4 maps,
  concatenated);
* the displacement branch uses plain grouped 3x3 residual blocks (one group per
  keypoint, like DEKR's per-keypoint branches) instead of DEKR's adaptive-activation
  blocks, which need mmcv's deformable convolution;
* no rescore net (its weights are pretrained on real COCO) and no multi-scale test;
* no ``heatmap_mask`` (MMPose's BottomupGetHeatmapMask, which masks crowd and
  unlabelled people out of the heatmap loss): the synthetic set has neither.

Outputs: heatmaps (B, K + 1, H, W) (the K keypoint maps, then the root map, as SPR's
``generate_keypoint_heatmaps=True`` encodes them) and displacements (B, 2K, H, W) (x, y
per keypoint, in heatmap pixels). Losses as MMPose's DEKR config: MSE on the heatmaps
weighted by the codec's ``heatmap_weights``, and a smooth-L1 (``beta=1/9``) on the
displacements weighted by ``displacement_weights`` and averaged over the non-zero
weights (SoftWeightSmoothL1Loss with ``supervise_empty=False``), times 0.002.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from fastcodec.models.backbones.resnet import BasicBlock
from fastcodec.models.heads.base import BaseHead, deconv_layers, to_codec
from fastcodec.models.losses import SoftWeightSmoothL1Loss


class GroupedResBlock(nn.Module):
    """3x3 grouped conv + BN + residual ReLU: each keypoint's channels stay separate
    (stands in for DEKR's adaptive-activation block)."""

    def __init__(self, channels: int, groups: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, 1, 1, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)) + x)


def nearby_joints_nms(keypoints: np.ndarray, scores: np.ndarray, dist_thr: float = 0.05,
                      num_nearby_joints_thr: Optional[int] = None,
                      max_dets: int = 30) -> List[int]:
    """DEKR's pose NMS (as MMPose's ``nearby_joints_nms`` with per-joint scores):
    two poses are duplicates when more than ``num_nearby_joints_thr`` (K // 2) of their
    joints lie closer than ``dist_thr`` times the pose's box diagonal; of each group of
    duplicates the best-scored (mean keypoint score) is kept, highest scores first.
    MMPose's DEKRHead ranks by the keypoint heatmap scores (before the root score
    multiplies them); ``decode`` does the same.

    keypoints (N, K, 2), scores (N, K) -> kept indices."""
    n, k = keypoints.shape[:2]
    if n == 0:
        return []
    thr_n = k // 2 if num_nearby_joints_thr is None else num_nearby_joints_thr
    score = scores.mean(1)
    diag = np.linalg.norm(keypoints.max(1) - keypoints.min(1), axis=-1)  # (N,)
    dist = np.linalg.norm(keypoints[:, None] - keypoints[None], axis=-1)  # (N, N, K)
    close = (dist < diag[:, None, None] * dist_thr).sum(-1) > thr_n        # (N, N)
    ignored, keep = set(), []
    for i in np.argsort(score, kind='stable')[::-1]:
        if i in ignored:
            continue
        group = np.nonzero(close[i])[0]
        best = int(group[np.argmax(score[group])])
        if best not in ignored:
            keep.append(best)
            ignored.update(int(g) for g in group)
    if max_dets > 0 and len(keep) > max_dets:
        order = np.argsort(score[keep], kind='stable')[::-1][:max_dets]
        keep = [keep[i] for i in order]
    return keep


class DEKRHead(BaseHead):
    """Upsampling deconvolutions, then a heatmap branch (1x1 conv, BasicBlock, 1x1 conv
    to K + 1 maps) and a displacement branch (1x1 conv to K * F channels, two grouped
    residual blocks, grouped 1x1 conv to 2K channels).

    Args:
        in_channels: backbone channels. num_keypoints: K.
        codec: SPR config with ``generate_keypoint_heatmaps=True``.
        deconv_out_channels / deconv_kernel_sizes: one stride-2 deconv per entry (three
            take a stride-32 map to the stride-4 heatmap size).
        num_heatmap_filters: width of the heatmap branch (MMPose: 32).
        num_displacement_filters_per_keypoint: F (MMPose: 15).
        displacement_loss_weight / displacement_beta: SoftWeightSmoothL1Loss's
            loss_weight (0.002) and beta (1/9) in MMPose's DEKR configs.
        shift_heatmap: shift the flipped heatmaps one pixel in flip test (MMPose's DEKR
            test_cfg: True).
        nms_dist_thr: DEKR's nearby-joints NMS on the decoded poses (0.05; 0 turns it
            off). max_num_people: the most poses kept after it.

    forward(feats) -> (heatmaps (B, K + 1, H, W), displacements (B, 2K, H, W)).
    """

    def __init__(self, in_channels: int, num_keypoints: int, codec: dict,
                 deconv_out_channels: Sequence[int] = (256, 256, 256),
                 deconv_kernel_sizes: Sequence[int] = (4, 4, 4),
                 num_heatmap_filters: int = 32,
                 num_displacement_filters_per_keypoint: int = 15,
                 displacement_loss_weight: float = 0.002, displacement_beta: float = 1 / 9,
                 shift_heatmap: bool = True, nms_dist_thr: float = 0.05,
                 max_num_people: int = 30):
        super().__init__(codec)
        if self.codec_cfg['type'] != 'SPR' or not self.codec_cfg.get(
                'generate_keypoint_heatmaps', False):
            raise ValueError('DEKRHead needs an SPR codec with generate_keypoint_heatmaps=True')
        K = self.num_keypoints = int(num_keypoints)
        self.deconv_layers = deconv_layers(in_channels, deconv_out_channels,
                                           deconv_kernel_sizes)
        cin = deconv_out_channels[-1] if len(deconv_out_channels) else in_channels
        f = int(num_heatmap_filters)
        self.heatmap_layers = nn.Sequential(
            nn.Conv2d(cin, f, 1, bias=False), nn.BatchNorm2d(f), nn.ReLU(inplace=True),
            BasicBlock(f, f), nn.Conv2d(f, K + 1, 1))
        d = K * int(num_displacement_filters_per_keypoint)
        self.displacement_layers = nn.Sequential(
            nn.Conv2d(cin, d, 1, bias=False), nn.BatchNorm2d(d), nn.ReLU(inplace=True),
            GroupedResBlock(d, K), GroupedResBlock(d, K), nn.Conv2d(d, 2 * K, 1, groups=K))
        self.displacement_loss = SoftWeightSmoothL1Loss(
            supervise_empty=False, beta=displacement_beta,
            loss_weight=displacement_loss_weight)
        self.shift_heatmap = shift_heatmap
        self.nms_dist_thr, self.max_num_people = float(nms_dist_thr), int(max_num_people)
        for m in self.modules():  # MMPose's default_init_cfg of DEKRHead
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.normal_(m.weight, std=0.001)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, feats) -> Tuple[torch.Tensor, torch.Tensor]:
        x = self.deconv_layers(feats[-1])
        return self.heatmap_layers(x), self.displacement_layers(x)

    def loss(self, feats, batch) -> Dict[str, torch.Tensor]:
        heatmaps, displacements = self.forward(feats)
        # float32 losses (under AMP a float16 sum over 2K x H x W elements can overflow)
        heatmaps, displacements = heatmaps.float(), displacements.float()
        t = {k: v.float() for k, v in batch['targets'].items()}
        # KeypointMSELoss with per-pixel weights: mean over every element
        loss_hm = ((heatmaps - t['heatmaps']) ** 2 * t['heatmap_weights']).mean()
        loss_disp = self.displacement_loss(displacements, t['displacements'],
                                           t['displacement_weights'])
        return dict(loss_heatmap=loss_hm, loss_displacement=loss_disp)

    def flip_back(self, outputs: Tuple[torch.Tensor, torch.Tensor], flip_indices: Sequence[int]
                  ) -> Tuple[torch.Tensor, torch.Tensor]:
        """MMPose's DEKR flip test: mirror both maps; swap left/right keypoint heatmaps
        (the root map stays last) and shift them one pixel when ``shift_heatmap``;
        swap the displacement pairs, negate their x and add MMPose's coordinate
        amendment (s - 1) / s with s = input width / heatmap width."""
        heatmaps, disp = outputs
        K = self.num_keypoints
        idx = torch.as_tensor(list(flip_indices) + [K], device=heatmaps.device)
        hm = heatmaps.flip(-1).index_select(1, idx)
        if self.shift_heatmap:
            hm = hm.clone()
            hm[..., 1:] = hm[..., :-1].clone()
        B, C, H, W = disp.shape
        d = disp.reshape(B, K, 2, H, W).flip(-1).index_select(1, idx[:K]).clone()
        s = self.codec_cfg['input_size'][0] / W
        d[:, :, 0] = -d[:, :, 0] + (s - 1) / s
        return hm, d.reshape(B, C, H, W)

    def decode(self, outputs: Tuple[torch.Tensor, torch.Tensor]) -> List[Dict[str, torch.Tensor]]:
        """Per sample: keypoints (N, K, 2) in input pixels, keypoint_scores (N, K) =
        root score x keypoint heatmap score (as MMPose's DEKRHead), root_scores (N,),
        after the nearby-joints NMS."""
        heatmaps, disp = outputs
        out = []
        for kps, (root_scores, kpt_scores) in self.codec.batch_decode(to_codec(heatmaps),
                                                                        to_codec(disp)):
            kps = np.asarray(kps, np.float32).reshape(-1, self.num_keypoints, 2)
            root_scores = np.asarray(root_scores, np.float32).reshape(-1)
            kpt_scores = np.asarray(kpt_scores, np.float32).reshape(len(kps),
                                                                     self.num_keypoints)
            scores = root_scores[:, None] * kpt_scores
            if len(kps) and self.nms_dist_thr > 0:
                keep = nearby_joints_nms(kps, kpt_scores, self.nms_dist_thr,
                                         max_dets=self.max_num_people)
                kps, scores, root_scores = kps[keep], scores[keep], root_scores[keep]
            out.append(dict(keypoints=torch.from_numpy(np.ascontiguousarray(kps)),
                            keypoint_scores=torch.from_numpy(np.ascontiguousarray(scores)),
                            root_scores=torch.from_numpy(np.ascontiguousarray(root_scores))))
        return out
