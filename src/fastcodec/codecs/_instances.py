"""Per-instance helpers of the bottom-up codecs (SPR, DecoupledHeatmap).

The roots and box diagonals themselves come from the ``instance_geometry`` kernel
(``csrc/include/fastcodec/instances.h``); this module holds the root-type check and the
pseudo boxes DecoupledHeatmap draws around the visible keypoints (MMPose's
``get_instance_bbox``, vectorised over instances). Shapes: keypoints (N, K, 2),
visibility (N, K).
"""
from __future__ import annotations

import numpy as np

ROOT_TYPES = ('kpt_center', 'bbox_center')


def check_root_type(root_type: str) -> str:
    if root_type not in ROOT_TYPES:
        raise ValueError(f"root_type must be 'kpt_center' or 'bbox_center', got {root_type!r}")
    return root_type


def instance_bboxes(keypoints: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """(N, 4) float32 boxes x1, y1, x2, y2 around each instance's keypoints with
    visibility > 0; zeros for an instance without any (min and max are exact, and
    propagate NaN as numpy's reductions do)."""
    seen = visible > 0
    bbox = np.zeros((keypoints.shape[0], 4), dtype=np.float32)
    if keypoints.shape[1]:
        mask = seen[..., None]
        bbox[:, :2] = np.where(mask, keypoints, np.inf).min(axis=1)
        bbox[:, 2:] = np.where(mask, keypoints, -np.inf).max(axis=1)
        bbox[~seen.any(axis=1)] = 0
    return bbox
