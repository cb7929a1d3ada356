"""3-D lifting data: 2-D keypoint sequences -> 3-D root-relative poses, from the motion
sequences of ``python -m models.data.synth OUT --mode 3d``.

The normalisation is MMPose's VideoPoseLifting / ImagePoseLifting codec convention:
2-D keypoints ``x / w * 2 - [1, h / w]``; 3-D targets in metres relative to a root
joint (here the hip midpoint, COCO-17 having no pelvis). fastcodec.VideoPoseLifting
(root_index=[11, 12]) computes the same labels but not the metre units: moving this
dataset onto it is open work; the dataset only calls LiftingNormalizer's encode/decode.
"""
from __future__ import annotations

from typing import Dict

import numpy as np
import torch
from torch.utils.data import Dataset

HIPS = (11, 12)


class LiftingNormalizer:
    """encode(keypoints_2d (..., T, K, 2) px, keypoints_3d (..., K, 3) mm, image_size)
    -> dict(keypoints (..., T, K, 2) normalised, lifting_target (..., K, 3) metres
    root-relative, target_root (..., 3) mm). decode(pred (..., K, 3), root) -> mm."""

    def encode(self, keypoints_2d: np.ndarray, keypoints_3d: np.ndarray,
               image_size) -> Dict[str, np.ndarray]:
        """image_size: (w, h), or (..., 2) with the leading axes of the keypoints
        before T (one size per sequence); the arithmetic is float64."""
        size = np.asarray(image_size, np.float64)
        size = size.reshape(size.shape[:-1] + (1,) * (keypoints_2d.ndim - size.ndim) + (2,))
        w, h = size[..., :1], size[..., 1:]
        kp = keypoints_2d / w * 2 - np.concatenate([np.ones_like(w), h / w], -1)
        root = keypoints_3d[..., HIPS, :].mean(-2)
        target = (keypoints_3d - root[..., None, :]) / 1000.0
        return dict(keypoints=kp.astype(np.float32), lifting_target=target.astype(np.float32),
                    target_root=root.astype(np.float32))

    @staticmethod
    def decode(pred, root=None):
        out = pred * 1000.0
        if root is not None:
            out = out + root[..., None, :]
        return out


class MotionLiftingDataset(Dataset):
    """Samples of ``seq_len`` consecutive frames (odd; 1 for single-frame lifters) and
    the 3-D pose of the centre frame; sequence edges are padded by repeating the first
    or last frame (VideoPose3D's convention).

    Item: inputs (T, K, 2) float32 normalised 2-D keypoints, targets dict(
    lifting_target (K, 3) metres root-relative, lifting_target_weight (K,)),
    target_root (3,) mm, keypoints_3d (K, 3) mm (camera frame).
    """

    def __init__(self, npz_file: str, seq_len: int = 27, frame_stride: int = 1,
                 flip_indices=None, augment_flip: bool = False, seed: int = 0):
        if seq_len < 1 or seq_len % 2 == 0:
            raise ValueError(f'seq_len must be odd and positive, got {seq_len}')
        d = np.load(npz_file)
        self.kp2d, self.kp3d, self.image_size = d['keypoints_2d'], d['keypoints_3d'], d['image_size']
        self.seq_len, self.pad = seq_len, seq_len // 2
        S, T = self.kp2d.shape[:2]
        self.index = [(s, t) for s in range(S) for t in range(0, T, frame_stride)]
        # encode every frame once; items only slice
        enc = LiftingNormalizer().encode(self.kp2d, self.kp3d, self.image_size)
        self.norm2d, self.target, self.root = (enc['keypoints'], enc['lifting_target'],
                                               enc['target_root'])
        from models.data.meta_coco17 import COCO17
        self.flip_indices = list(flip_indices or COCO17['flip_indices'])
        self.augment_flip = augment_flip
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        return len(self.index)

    def __getitem__(self, i):
        s, t = self.index[i]
        T = self.kp2d.shape[1]
        frames = np.clip(np.arange(t - self.pad, t + self.pad + 1), 0, T - 1)
        kp, target = self.norm2d[s, frames], self.target[s, t]
        if self.augment_flip and self.rng.random() < 0.5:
            kp = kp[:, self.flip_indices].copy()
            kp[..., 0] *= -1
            target = target[self.flip_indices].copy()
            target[..., 0] *= -1
        K = target.shape[0]
        return dict(inputs=torch.from_numpy(np.ascontiguousarray(kp)),
                    targets=dict(lifting_target=target,
                                 lifting_target_weight=np.ones(K, np.float32)),
                    target_root=self.root[s, t],
                    keypoints_3d=self.kp3d[s, t].astype(np.float32))
