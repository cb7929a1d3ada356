"""3-D lifting data: 2-D keypoint sequences -> 3-D root-relative poses, from the motion
sequences of ``fastcodec synth OUT --mode 3d``, encoded by a fastcodec
lifting codec exactly as a user would: ``fastcodec.build(codec)`` and one
``codec.batch_encode`` call over every frame of the file.

The codec config (``codec=dict(...)`` in the model config, shared with the head, which
decodes through ``codec.batch_decode``) is one of

* ``VideoPoseLifting`` (the TCN): 2-D keypoints ``(x - w / 2, y - h / 2) / (w / 2)``
  with the per-sequence image size from ``camera_param``;
* ``ImagePoseLifting`` (the single-frame MLP): raw pixel keypoints unless the codec has
  ``keypoints_mean`` / ``keypoints_std`` (MMPose's H36M configs embed dataset
  statistics); :func:`lifting_stats` computes them from a training file.

Both with ``root_index=[11, 12]`` (COCO-17 has no pelvis: the root is the hip midpoint)
and ``reshape_keypoints=False`` (inputs stay (T, K, 2)). The 3-D poses are passed to
the codec in metres, so the targets, the loss and the decoded predictions are metres
(MPJPE in mm = metres * 1000).

Mirroring (flip augmentation, flip test): the dataset mirrors in pixels, about the
image centre ``x -> w - x`` with left/right swapped, and encodes the mirrored frames
too; the 3-D target is mirrored by negating camera x (the camera's principal point is
within a few pixels of the image centre). With VideoPoseLifting that equals negating
the normalised x of the swapped joints; with ImagePoseLifting it does when the
statistics are mirror-symmetric, which :func:`lifting_stats` guarantees (they are the
statistics of the training set together with its mirror image), and which the
lifter's flip test relies on (``PoseLifter`` checks it).
"""
from __future__ import annotations

from typing import Dict, Optional, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

import fastcodec

HIPS = [11, 12]


def _flip_indices(flip_indices=None):
    from fastcodec.models.data.meta_coco17 import COCO17
    return list(flip_indices if flip_indices is not None else COCO17['flip_indices'])


def mirror_pixels(keypoints_2d: np.ndarray, image_size: np.ndarray, flip_indices) -> np.ndarray:
    """keypoints_2d (S, T, K, 2) px mirrored about each sequence's image centre
    (x -> w - x), left and right swapped; image_size (S, 2)."""
    out = keypoints_2d[:, :, flip_indices].astype(np.float64)
    out[..., 0] = np.asarray(image_size, np.float64)[:, 0, None, None] - out[..., 0]
    return out.astype(keypoints_2d.dtype)


def mirror_3d(keypoints_3d: np.ndarray, flip_indices) -> np.ndarray:
    """(..., K, 3) camera-frame poses mirrored (x -> -x), left and right swapped."""
    out = keypoints_3d[..., flip_indices, :].copy()
    out[..., 0] = -out[..., 0]
    return out


def encode_motion(codec, keypoints_2d, keypoints_3d_m, image_size) -> Dict:
    """One ``codec.batch_encode`` call for S samples of T frames: keypoints_2d
    (S, T, K, 2) px, keypoints_3d_m (S, T', K, 3) metres (T' = T, or the frames whose
    targets are wanted), image_size (S, 2) (VideoPoseLifting's ``camera_param``), as
    numpy arrays (the dataset) or torch tensors on the training device (the step,
    ``--device-targets``) -> the codec's arrays, as it returns them:
    dict(keypoints (S, T, K, 2) normalised 2-D inputs, lifting_target (S, T', K, 3)
    root-relative (metres, or normalised by the codec's target_mean / target_std),
    lifting_target_weight (S, T', K), target_root (S, T', 3) metres).
    Both codecs encode frame by frame (elementwise), so grouping frames into samples
    does not change a value."""
    name = type(codec).__name__
    if getattr(codec, 'reshape_keypoints', False) or getattr(codec, 'concat_vis', False):
        raise ValueError('the lifting codec must have reshape_keypoints=False and '
                         'concat_vis=False (inputs are (T, K, 2))')
    if getattr(codec, 'remove_root', False) and len(codec.root_index) == 1:
        raise ValueError('remove_root is not supported: the head predicts all K joints')
    if name == 'VideoPoseLifting':
        if not codec.zero_center:
            raise ValueError('VideoPoseLifting needs zero_center=True (root-relative targets)')
        enc = codec.batch_encode(keypoints_2d, None, keypoints_3d_m, None,
                                 camera_param=dict(w=image_size[:, 0], h=image_size[:, 1]))
    elif name == 'ImagePoseLifting':
        # MMPose's ImagePoseLifting takes one target frame per sample (its root
        # subtraction broadcasts as root[None]): T' = T encodes frame by frame
        S, T, K = keypoints_2d.shape[:3]
        if keypoints_3d_m.shape[1] == T:
            enc = codec.batch_encode(keypoints_2d.reshape(S * T, 1, K, 2), None,
                                     keypoints_3d_m.reshape(S * T, 1, K, 3))
            enc = {k: enc[k].reshape((S, T) + tuple(enc[k].shape[2:])) for k in
                   ('keypoint_labels', 'lifting_target_label', 'lifting_target_weight',
                    'target_root')}
        elif keypoints_3d_m.shape[1] == 1:
            enc = codec.batch_encode(keypoints_2d, None, keypoints_3d_m)
        else:
            raise ValueError(f'keypoints_3d_m must have T = {T} or 1 frames, got shape '
                             f'{tuple(keypoints_3d_m.shape)}')
    else:
        raise ValueError(f'MotionLiftingDataset needs a VideoPoseLifting or ImagePoseLifting '
                         f'codec, got {name}')
    return dict(keypoints=enc['keypoint_labels'], lifting_target=enc['lifting_target_label'],
                lifting_target_weight=enc['lifting_target_weight'],
                target_root=enc['target_root'])


def lifting_stats(npz_file: str, flip_indices: Optional[Sequence[int]] = None,
                  root_index=HIPS, decimals: int = 4) -> Dict[str, list]:
    """ImagePoseLifting's ``keypoints_mean`` / ``keypoints_std`` (K, 2) px and
    ``target_mean`` / ``target_std`` (K, 3) metres (root-relative) of a motion file
    together with its mirror image (so they are mirror-symmetric: mirroring commutes
    with the normalisation; see the module docstring). Rounded to ``decimals`` and
    symmetrised after rounding; a std of 0 (the root joint) becomes 1."""
    fi = _flip_indices(flip_indices)
    d = np.load(npz_file)
    kp2d, size = d['keypoints_2d'].astype(np.float64), d['image_size'].astype(np.float64)
    kp3d = d['keypoints_3d'].astype(np.float64) / 1000.0
    rel = kp3d - kp3d[..., root_index, :].mean(-2, keepdims=True)
    both2 = np.concatenate([kp2d, mirror_pixels(kp2d, size, fi)]).reshape(-1, len(fi), 2)
    both3 = np.concatenate([rel, mirror_3d(rel, fi)]).reshape(-1, len(fi), 3)
    out = {}
    for name, x in (('keypoints', both2), ('target', both3)):
        mean, std = x.mean(0), x.std(0)
        std = np.where(std < 1e-6, 1.0, std)
        mean, std = np.round(mean, decimals), np.round(std, decimals)
        # exact mirror symmetry after rounding: the right side from the left
        centre = np.round(size[:, 0].mean() / 2, decimals) if name == 'keypoints' else 0.0
        for j, f in enumerate(fi):
            if f > j:
                mean[f] = mean[j]
                mean[f, 0] = np.round(2 * centre - mean[j, 0], decimals)
                std[f] = std[j]
            elif f == j:
                mean[j, 0] = centre
        out[f'{name}_mean'], out[f'{name}_std'] = mean.tolist(), std.tolist()
    return out


def check_mirror_symmetric(codec, flip_indices) -> None:
    """Raise unless negating normalised x (swapped joints) mirrors the codec's inputs:
    true for VideoPoseLifting, and for ImagePoseLifting without keypoints statistics
    only when the image centre is x = 0 (it is not: raw pixels), so those need
    mirror-symmetric ``keypoints_mean`` / ``keypoints_std``."""
    if type(codec).__name__ != 'ImagePoseLifting':
        return
    fi = list(flip_indices)
    if codec.keypoints_mean is None:
        raise ValueError('flip with an ImagePoseLifting codec needs keypoints_mean / '
                         'keypoints_std (raw pixels cannot be mirrored by negating x)')
    m, s = codec.keypoints_mean[0].astype(np.float64), codec.keypoints_std[0].astype(np.float64)
    centre = (m[:, 0] + m[fi, 0]) / 2
    ok = (np.allclose(centre, centre[0], rtol=0, atol=1e-3)
          and np.allclose(m[:, 1], m[fi, 1], rtol=0, atol=1e-3)
          and np.allclose(s, s[fi], rtol=1e-5, atol=1e-6))
    if not ok:
        raise ValueError('flip with an ImagePoseLifting codec needs mirror-symmetric '
                         'keypoints_mean / keypoints_std (fastcodec.models.data.motion.lifting_stats '
                         'computes such statistics)')


class MotionLiftingDataset(Dataset):
    """Samples of ``seq_len`` consecutive frames (odd; 1 for single-frame lifters) and
    the 3-D pose of the centre frame; sequence edges are padded by repeating the first
    or last frame (VideoPose3D's convention). Every frame (and, with
    ``augment_flip``, its mirror image) is encoded once, at construction, by
    ``codec.batch_encode``; items only slice.

    Item: inputs (T, K, 2) float32 codec keypoint labels, targets dict(
    lifting_target (K, 3) the codec's lifting_target_label (root-relative metres, or
    normalised by the codec's target_mean / target_std), lifting_target_weight (K,)),
    target_root (3,) metres, keypoints_3d (K, 3) mm (camera frame), pose_3d (K, 3)
    root-relative metres (what a prediction decodes to; mirrored with the sample).

    ``encode=False`` (``--device-targets``: the training step encodes, with
    ``TemporalRegressionHead.encode_batch``) encodes nothing: items hold, in place of
    inputs, targets and target_root, what the codec takes, ``codec_inputs`` dict(
    keypoints (T, K, 2) px, lifting_target (1, K, 3) float64 metres of the centre
    frame, image_size (2,)), mirrored like the encoded items.
    """

    def __init__(self, npz_file: str, codec: dict, seq_len: int = 27, frame_stride: int = 1,
                 flip_indices=None, augment_flip: bool = False, seed: int = 0,
                 encode: bool = True):
        if seq_len < 1 or seq_len % 2 == 0:
            raise ValueError(f'seq_len must be odd and positive, got {seq_len}')
        self.codec = fastcodec.build(dict(codec))
        d = np.load(npz_file)
        self.kp2d, self.kp3d, self.image_size = d['keypoints_2d'], d['keypoints_3d'], d['image_size']
        self.seq_len, self.pad = seq_len, seq_len // 2
        S, T = self.kp2d.shape[:2]
        self.index = [(s, t) for s in range(S) for t in range(0, T, frame_stride)]
        self.flip_indices = _flip_indices(flip_indices)
        self.augment_flip = augment_flip
        kp3d_m = self.kp3d.astype(np.float64) / 1000.0
        # the codec's inputs per view: 2-D px, 3-D metres (the original, and mirrored)
        self.views = [(self.kp2d, kp3d_m)]
        if augment_flip:
            self.views.append((mirror_pixels(self.kp2d, self.image_size, self.flip_indices),
                               mirror_3d(kp3d_m, self.flip_indices)))
        self.encoded = None
        if encode:
            self.encoded = [{k: np.asarray(v, np.float32) for k, v in
                             encode_motion(self.codec, k2, k3, self.image_size).items()}
                            for k2, k3 in self.views]
        self.pose_3d = [(k3 - k3[..., HIPS, :].mean(-2, keepdims=True)).astype(np.float32)
                        for _, k3 in self.views]
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        return len(self.index)

    def __getitem__(self, i):
        s, t = self.index[i]
        T = self.kp2d.shape[1]
        frames = np.clip(np.arange(t - self.pad, t + self.pad + 1), 0, T - 1)
        v = int(self.augment_flip and self.rng.random() < 0.5)
        item = dict(keypoints_3d=self.kp3d[s, t].astype(np.float32),
                    pose_3d=self.pose_3d[v][s, t])
        if self.encoded is None:
            kp2d, kp3d_m = self.views[v]
            item['codec_inputs'] = dict(keypoints=np.ascontiguousarray(kp2d[s, frames]),
                                        lifting_target=kp3d_m[s, t:t + 1],
                                        image_size=self.image_size[s])
            return item
        enc = self.encoded[v]
        item.update(inputs=torch.from_numpy(np.ascontiguousarray(enc['keypoints'][s, frames])),
                    targets=dict(lifting_target=enc['lifting_target'][s, t],
                                 lifting_target_weight=enc['lifting_target_weight'][s, t]),
                    target_root=enc['target_root'][s, t])
        return item


if __name__ == '__main__':
    import argparse
    import json
    ap = argparse.ArgumentParser(description='ImagePoseLifting statistics of a motion file '
                                 '(JSON: keypoints_mean/std, target_mean/std).')
    ap.add_argument('npz_file')
    print(json.dumps(lifting_stats(ap.parse_args().npz_file)))
