"""Dataset meta of COCO-17 keypoints (as MMPose's configs/_base_/datasets/coco.py)."""
import numpy as np

KEYPOINT_NAMES = [
    'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder',
    'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist',
    'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle']

FLIP_PAIRS = [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)]

# COCO's skeleton (0-based), as drawn by MMPose.
SKELETON = [(15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6),
            (5, 7), (6, 8), (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4),
            (3, 5), (4, 6)]

JOINT_WEIGHTS = [1., 1., 1., 1., 1., 1., 1., 1.2, 1.2, 1.5, 1.5, 1., 1., 1.2, 1.2, 1.5, 1.5]

SIGMAS = [.026, .025, .025, .035, .035, .079, .079, .072, .072, .062, .062, .107, .107,
          .087, .087, .089, .089]

UPPER_BODY_IDS = list(range(11))
LOWER_BODY_IDS = list(range(11, 17))


def flip_indices(num_keypoints=17, flip_pairs=FLIP_PAIRS):
    """Index permutation that swaps left and right keypoints."""
    idx = list(range(num_keypoints))
    for a, b in flip_pairs:
        idx[a], idx[b] = b, a
    return idx


COCO17 = dict(
    dataset_name='coco17',
    num_keypoints=17,
    keypoint_names=KEYPOINT_NAMES,
    flip_pairs=FLIP_PAIRS,
    flip_indices=flip_indices(),
    skeleton=SKELETON,
    joint_weights=np.array(JOINT_WEIGHTS, np.float32),
    sigmas=np.array(SIGMAS, np.float32),
    upper_body_ids=UPPER_BODY_IDS,
    lower_body_ids=LOWER_BODY_IDS,
)
