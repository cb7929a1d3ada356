"""Per-instance properties of the bottom-up codecs (SPR, DecoupledHeatmap).

Drop-ins for ``get_instance_root``, ``get_instance_bbox`` and ``get_diagonal_lengths``
of ``mmpose.codecs.utils.instance_property`` (MMPose 1.3.2), vectorised over instances.
Bit-exact: MMPose averages each instance's visible keypoints with ``mean(axis=0)``,
which accumulates the rows one after another in the keypoints' dtype; a cumulative sum
along K over the keypoints with invisible ones zeroed is the same sequence of
additions (adding 0 changes no sum). Shapes: keypoints (N, K, 2), visibility (N, K).
"""
from __future__ import annotations

from typing import Tuple

import numpy as np

ROOT_TYPES = ('kpt_center', 'bbox_center')


def check_root_type(root_type: str) -> str:
    if root_type not in ROOT_TYPES:
        raise ValueError(f"root_type must be 'kpt_center' or 'bbox_center', got {root_type!r}")
    return root_type


def _visible_extent(keypoints: np.ndarray, seen: np.ndarray):
    """Per-instance (min, max) of the visible keypoints, (N, 2) each; 0 where none."""
    mask = seen[..., None]
    low = np.where(mask, keypoints, np.inf).min(axis=1)
    high = np.where(mask, keypoints, -np.inf).max(axis=1)
    none = ~seen.any(axis=1)
    low[none] = 0
    high[none] = 0
    return low, high


def instance_roots(keypoints: np.ndarray, visible: np.ndarray,
                   root_type: str = 'kpt_center') -> Tuple[np.ndarray, np.ndarray]:
    """Roots (N, 2) float32 and their visibility (N,) float32: the mean ('kpt_center')
    or the box centre ('bbox_center') of each instance's keypoints with visibility > 0;
    (0, 0) and visibility 0 for an instance without any."""
    check_root_type(root_type)
    seen = visible > 0
    count = seen.sum(axis=1)
    roots = np.zeros((keypoints.shape[0], 2), dtype=np.float32)
    some = count > 0
    if keypoints.shape[1] and some.any():
        if root_type == 'kpt_center':
            total = np.where(seen[..., None], keypoints, 0).cumsum(axis=1)[:, -1]
            # numpy's mean divides the dtype's sum by the count in the same dtype
            roots[some] = total[some] / count[some, None].astype(keypoints.dtype)
        else:
            low, high = _visible_extent(keypoints, seen)
            roots[some] = ((high + low) / 2.0)[some]
    return roots, some.astype(np.float32)


def instance_bboxes(keypoints: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """(N, 4) float32 boxes x1, y1, x2, y2 around each instance's keypoints with
    visibility > 0; zeros for an instance without any."""
    seen = visible > 0
    bbox = np.zeros((keypoints.shape[0], 4), dtype=np.float32)
    if keypoints.shape[1]:
        low, high = _visible_extent(keypoints, seen)
        bbox[:, :2] = low
        bbox[:, 2:] = high
    return bbox


def diagonal_lengths(keypoints: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """(N,) float32 diagonal of each instance's visible-keypoint box."""
    bbox = instance_bboxes(keypoints, visible)
    extent = bbox[:, 2:] - bbox[:, :2]
    return np.sqrt(np.power(extent, 2).sum(axis=1))
