"""COCO-format keypoint dataset (top-down and bottom-up), read with pycocotools."""
from __future__ import annotations

import copy
import os
from typing import Callable, Optional

import numpy as np
from torch.utils.data import Dataset

from fastcodec.models.data.meta_coco17 import COCO17


class CocoKeypointDataset(Dataset):
    """COCO keypoint annotations as MMPose's CocoDataset reads them.

    Args:
        ann_file: COCO keypoint JSON.
        img_dir: folder of the images (``file_name`` relative to it).
        pipeline: callable on the sample dict (see ``fastcodec.models.data.transforms``).
        mode: 'topdown' (one sample per person, its box) or 'bottomup' (one per image).
        meta: dataset meta (COCO17 by default).
        min_keypoints: drop people with fewer labelled keypoints (top-down).
        skip_empty: bottom-up: leave out images without labelled people (training);
            False keeps them (evaluation, as MMPose's bottom-up test mode: detections
            there are false positives).

    A raw sample (before the pipeline): img_path, img_id, id, bbox (N, 4) xyxy,
    bbox_score (N,), keypoints (N, K, 2) float32, keypoints_visible (N, K) in {0, 1}
    (COCO's v > 0), flip_indices; N = 1 in top-down mode.
    """

    def __init__(self, ann_file: str, img_dir: str, pipeline: Optional[Callable] = None,
                 mode: str = 'topdown', meta: Optional[dict] = None, min_keypoints: int = 1,
                 skip_empty: bool = True):
        from pycocotools.coco import COCO
        if mode not in ('topdown', 'bottomup'):
            raise ValueError(f"mode must be 'topdown' or 'bottomup', got {mode!r}")
        self.ann_file, self.img_dir, self.pipeline, self.mode = ann_file, img_dir, pipeline, mode
        self.meta = meta or COCO17
        self.coco = COCO(ann_file)
        K = self.meta['num_keypoints']
        self.samples = []
        for img_id in sorted(self.coco.getImgIds()):
            info = self.coco.loadImgs(img_id)[0]
            path = os.path.join(img_dir, info['file_name'])
            people = []
            for ann in self.coco.loadAnns(self.coco.getAnnIds(imgIds=img_id, iscrowd=False)):
                if 'keypoints' not in ann or ann.get('num_keypoints', 0) < min_keypoints:
                    continue
                x, y, w, h = ann['bbox']
                x1, y1 = max(0, x), max(0, y)
                x2, y2 = min(info['width'] - 1, x + max(0, w)), min(info['height'] - 1, y + max(0, h))
                if x2 <= x1 or y2 <= y1:
                    continue
                kp = np.asarray(ann['keypoints'], np.float32).reshape(K, 3)
                people.append(dict(bbox=np.array([x1, y1, x2, y2], np.float32),
                                   keypoints=kp[:, :2], visible=np.minimum(1, kp[:, 2]),
                                   id=ann['id']))
            if mode == 'topdown':
                for p in people:
                    self.samples.append(self._sample(path, img_id, [p]))
            elif people or not skip_empty:
                self.samples.append(self._sample(path, img_id, people))

    def _sample(self, path, img_id, people):
        if not people:  # a bottom-up image without labelled people (skip_empty=False)
            K = self.meta['num_keypoints']
            return dict(img_path=path, img_id=np.int64(img_id), id=np.int64(-1),
                        bbox=np.zeros((0, 4), np.float32), bbox_score=np.zeros(0, np.float32),
                        keypoints=np.zeros((0, K, 2), np.float32),
                        keypoints_visible=np.zeros((0, K), np.float32),
                        flip_indices=list(self.meta['flip_indices']))
        return dict(
            img_path=path, img_id=np.int64(img_id),
            id=np.int64(people[0]['id']) if self.mode == 'topdown' else np.int64(-1),
            bbox=np.stack([p['bbox'] for p in people]),
            bbox_score=np.ones(len(people), np.float32) if self.mode == 'bottomup'
            else np.float32(1.0),
            keypoints=np.stack([p['keypoints'] for p in people]),
            keypoints_visible=np.stack([p['visible'] for p in people]).astype(np.float32),
            flip_indices=list(self.meta['flip_indices']))

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, idx):
        sample = copy.deepcopy(self.samples[idx])
        return self.pipeline(sample) if self.pipeline is not None else sample
