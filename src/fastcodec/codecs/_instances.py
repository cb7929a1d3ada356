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


def instance_bboxes(keypoints, visible, xp=np):
    """(N, 4) float32 boxes x1, y1, x2, y2 around each instance's keypoints with
    visibility > 0; zeros for an instance without any (min and max are exact, and
    propagate NaN as numpy's reductions do). ``xp``: the arrays' module (numpy, or
    CuPy for device arrays)."""
    if not keypoints.shape[1]:
        return xp.zeros((keypoints.shape[0], 4), dtype=np.float32)
    seen = xp.greater(visible, 0)
    mask = seen[..., None]
    low = xp.min(xp.where(mask, keypoints, xp.inf), axis=1)
    high = xp.max(xp.where(mask, keypoints, -xp.inf), axis=1)
    box = xp.concatenate((low, high), axis=1)
    # float32 after the reductions: rounding is monotone, so min and max commute with it
    return xp.asarray(xp.where(xp.any(seen, axis=1)[:, None], box, 0), dtype=np.float32)
