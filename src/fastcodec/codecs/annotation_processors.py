"""YOLOXPoseAnnotationProcessor: RTMO / YOLOX-Pose's box expansion and labels.

A min/max over each instance's keypoints and a cast: vectorised numpy is as fast as a
kernel would be, so this codec has none.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from fastcodec._arrays import host_array
from fastcodec.codecs.base import BaseKeypointCodec
from fastcodec.registry import register

# MMPose's stand-ins for a missing keypoint in the min and max
INF = 1e6
NEG_INF = -1e6


@register
class YOLOXPoseAnnotationProcessor(BaseKeypointCodec):
    """Expands boxes to hold their visible keypoints and turns category ids into labels.

    Args (as MMPose 1.3.2): expand_bbox; input_size (h, w), accepted and unused.

    encode(keypoints (N, K, 2), keypoints_visible (N, K) or (N, K, D), bbox (N, 4)
    x1y1x2y2, category_id (N,)) -> bbox (a new array, in bbox's dtype; only with
    expand_bbox and a bbox) and bbox_labels (category_id - 1 as int8; only with
    category_id). Every argument may also carry a leading batch axis
    (batch_encode: the same arrays, the same rule). decode returns None.
    """

    auxiliary_encode_keys = {'category_id', 'bbox'}
    label_mapping_table = dict(bbox='bboxes', bbox_labels='labels', keypoints='keypoints',
                               keypoints_visible='keypoints_visible', area='areas')
    instance_mapping_table = dict(bbox='bboxes', bbox_score='bbox_scores',
                                  keypoints='keypoints', keypoints_visible='keypoints_visible')
    single_instance = False

    def __init__(self, expand_bbox: bool = False, input_size: Optional[Tuple] = None) -> None:
        self.expand_bbox = expand_bbox

    def encode(self, keypoints: Optional[Any] = None, keypoints_visible: Optional[Any] = None,
               bbox: Optional[Any] = None,
               category_id: Optional[List[int]] = None) -> Dict[str, np.ndarray]:
        """Encode one image's annotations; see the class docstring."""
        results = {}
        if self.expand_bbox and bbox is not None:
            results['bbox'] = self._expand(keypoints, keypoints_visible, bbox)
        if category_id is not None:
            results['bbox_labels'] = np.array(category_id).astype(np.int8) - 1
        return results

    batch_encode = encode

    @staticmethod
    def _expand(keypoints, keypoints_visible, bbox) -> np.ndarray:
        kps = host_array(keypoints, 'keypoints')
        vis = host_array(keypoints_visible, 'keypoints_visible')
        box = host_array(bbox, 'bbox')
        if vis.ndim == kps.ndim:  # (N, K, D) visibility: its first column, as MMPose
            vis = vis[..., 0]
        if kps.ndim < 3 or kps.shape[-1] < 2 or vis.shape != kps.shape[:-1]:
            raise ValueError(f'keypoints must be (N, K, 2) with keypoints_visible (N, K), got '
                             f'{tuple(kps.shape)} and {tuple(vis.shape)}')
        if box.shape != kps.shape[:-2] + (4,):
            raise ValueError(f'bbox must have shape {kps.shape[:-2] + (4,)} to match '
                             f'keypoints, got {tuple(box.shape)}')
        hidden = (vis == 0)[..., None]
        # unlike MMPose, the caller's bbox is not modified in place (docs/deviations.md)
        out = box.copy()
        out[..., :2] = np.minimum(box[..., :2], np.where(hidden, INF, kps).min(axis=-2))
        out[..., 2:] = np.maximum(box[..., 2:], np.where(hidden, NEG_INF, kps).max(axis=-2))
        return out

    def decode(self, *args, **kwargs):
        """Nothing to decode: returns None, as MMPose."""
        return None

    @property
    def support_batch_decoding(self) -> bool:
        return False

    def _config(self):
        return dict(expand_bbox=self.expand_bbox)
