"""EDPoseLabel: ED-Pose's normalised keypoints, areas and boxes, and its top-k decoding.

The work is a few elementwise operations and one sort per image: vectorised numpy over
the batch is as fast as a kernel would be, so this codec has none.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from fastcodec._arrays import check_ndim, host_array, open_call
from fastcodec.codecs.base import BaseKeypointCodec
from fastcodec.registry import register


def _count(v: Any, name: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f'{name} must be an integer, got {v!r}')
    if v < 0:
        raise ValueError(f'{name} must be >= 0, got {v}')
    return int(v)


@register
class EDPoseLabel(BaseKeypointCodec):
    """Keypoints, areas and boxes normalised by the image size (ED-Pose, Yang et al. 2023).

    Args (as MMPose 1.3.2): num_select, the instances decode keeps (by score);
    num_keypoints.

    encode(img_shape (w, h), keypoints (N, K, D), keypoints_visible (N, K), area (N,),
    bboxes (N, 4) x1y1x2y2) -> keypoints / (w, h), area / (w h), bbox as (cx, cy, bw, bh)
    / (w, h, w, h), keypoints_visible (ones when None); None stays None.
    decode(input_shapes (h, w), pred_logits (Q, C), pred_boxes (Q, 4) cxcywh,
    pred_keypoints (Q, 3K)) -> boxes (S, 4) x1y1x2y2, keypoints (S, K, 2), scores (S, K)
    in input pixels, S = min(num_select, Q C), the best scores first (numpy's argsort
    order among ties, as MMPose).
    batch_encode / batch_decode: a leading batch axis on every array (img_shape and
    input_shapes (B, 2), or one pair for all).
    """

    auxiliary_encode_keys = {'area', 'bboxes', 'img_shape'}
    instance_mapping_table = dict(bbox='bboxes', keypoints='keypoints',
                                  keypoints_visible='keypoints_visible', area='areas')
    single_instance = False

    def __init__(self, num_select: int = 100, num_keypoints: int = 17) -> None:
        self.num_select = _count(num_select, 'num_select')
        self.num_keypoints = _count(num_keypoints, 'num_keypoints')

    # ---- encode -------------------------------------------------------------------
    def encode(self, img_shape, keypoints: Any, keypoints_visible: Optional[Any] = None,
               area: Optional[Any] = None, bboxes: Optional[Any] = None) -> dict:
        """Encode one image; see the class docstring."""
        w, h = img_shape
        back = None
        if keypoints is not None:
            call = open_call((keypoints,), ('keypoints',), self)
            keypoints, back = call.array(keypoints, 'keypoints'), call.result
        if keypoints_visible is None:
            keypoints_visible = np.ones(np.shape(keypoints)[:2], dtype=np.float32)
        out = self._normalise(w, h, keypoints, keypoints_visible, area, bboxes)
        return {key: value if back is None or value is None or key == 'keypoints_visible'
                else back(value) for key, value in out.items()}

    def batch_encode(self, img_shape, keypoints: Any, keypoints_visible: Optional[Any] = None,
                     area: Optional[Any] = None, bboxes: Optional[Any] = None) -> dict:
        """Encode B images: img_shape (w, h) or (B, 2), keypoints (B, N, K, D),
        keypoints_visible (B, N, K), area (B, N), bboxes (B, N, 4)."""
        shape = np.asarray(img_shape)
        if shape.ndim == 1:
            shape = np.broadcast_to(shape, (np.shape(keypoints)[0],) + shape.shape)
        if shape.ndim != 2 or shape.shape[1] != 2 or shape.shape[0] != np.shape(keypoints)[0]:
            raise ValueError(f'img_shape must be (w, h) or (B, 2), got shape {shape.shape}')
        if keypoints_visible is None:
            keypoints_visible = np.ones(np.shape(keypoints)[:3], dtype=np.float32)
        return self._normalise(shape[:, 0], shape[:, 1], keypoints, keypoints_visible, area,
                               bboxes, batch=True)

    @staticmethod
    def _normalise(w, h, keypoints, keypoints_visible, area, bboxes, batch=False) -> dict:
        """MMPose's divisions (boxes through bbox_xyxy2cs, padding 1); w and h are
        numbers, or (B,) arrays for a batch."""
        if batch:
            scale2 = np.stack([w, h], axis=-1).astype(np.float32)[:, None, None, :]
            scale4 = np.stack([w, h, w, h], axis=-1).astype(np.float32)[:, None, :]
            pixels = (w * h).astype(np.float64)[:, None]
        else:
            scale2 = np.array([w, h], dtype=np.float32)
            scale4 = np.array([w, h, w, h], dtype=np.float32)
            pixels = float(w * h)
        if bboxes is not None:
            box = host_array(bboxes, 'bboxes')
            if box.shape[-1:] != (4,):
                raise ValueError(f'bboxes must be (..., 4) x1y1x2y2, got {tuple(box.shape)}')
            centre = (box[..., 2:] + box[..., :2]) * 0.5
            size = (box[..., 2:] - box[..., :2]) * 1.0
            bboxes = np.concatenate([centre, size], axis=-1) / scale4
        if area is not None:
            area = host_array(area, 'area')
            if batch:  # per image a weak Python float: the division keeps area's precision
                pixels = pixels.astype(np.result_type(area.dtype, 1.0))
            area = area / pixels
        if keypoints is not None:
            keypoints = keypoints / scale2
        return dict(keypoints=keypoints, area=area, bbox=bboxes,
                    keypoints_visible=keypoints_visible)

    # ---- decode -------------------------------------------------------------------
    def decode(self, input_shapes: Any, pred_logits: Any, pred_boxes: Any,
               pred_keypoints: Any):
        """Decode one image; see the class docstring."""
        shapes = np.asarray(input_shapes)
        logits = host_array(pred_logits, 'pred_logits')
        boxes = host_array(pred_boxes, 'pred_boxes')
        kpts = host_array(pred_keypoints, 'pred_keypoints')
        check_ndim(logits, 'pred_logits', (2,), '(Q, C)')
        out = self._decode(shapes[None], logits[None], boxes[None], kpts[None])
        return tuple(v[0] for v in out)

    def batch_decode(self, input_shapes: Any, pred_logits: Any, pred_boxes: Any,
                     pred_keypoints: Any):
        """Decode B images: input_shapes (B, 2) (h, w), pred_logits (B, Q, C), pred_boxes
        (B, Q, 4), pred_keypoints (B, Q, 3K) -> boxes (B, S, 4), keypoints (B, S, K, 2),
        scores (B, S, K)."""
        logits = host_array(pred_logits, 'pred_logits')
        check_ndim(logits, 'pred_logits', (3,), '(B, Q, C)')
        shapes = np.asarray(input_shapes)
        if shapes.shape == (2,):
            shapes = np.broadcast_to(shapes, (logits.shape[0], 2))
        boxes = host_array(pred_boxes, 'pred_boxes')
        kpts = host_array(pred_keypoints, 'pred_keypoints')
        return self._decode(shapes, logits, boxes, kpts)

    def _decode(self, shapes, logits, boxes, kpts):
        """shapes (B, 2), logits (B, Q, C), boxes (B, Q, 4), kpts (B, Q, 3K)."""
        B, Q, C = logits.shape
        K = self.num_keypoints
        if shapes.shape != (B, 2):
            raise ValueError(f'input_shapes must be (h, w) per image, got shape {shapes.shape}')
        if boxes.shape != (B, Q, 4):
            raise ValueError(f'pred_boxes must have shape {(Q, 4)} per image to match '
                             f'pred_logits, got {tuple(boxes.shape[1:])}')
        if kpts.ndim != 3 or kpts.shape[:2] != (B, Q) or kpts.shape[2] < 2 * K:
            raise ValueError(f'pred_keypoints must have shape ({Q}, 3 * {K}) per image, '
                             f'got {tuple(kpts.shape[1:])}')
        prob = logits.reshape(B, -1)
        order = np.argsort(-prob, axis=1)[:, :self.num_select]
        top = np.take_along_axis(prob, order, axis=1)
        scores = np.repeat(top[:, :, None], K, axis=2)
        query = order // C
        # bbox_cs2xyxy: corners from centre and size
        centre, size = boxes[..., :2], boxes[..., 2:] / 1.0
        corner = centre - 0.5 * size
        xyxy = np.concatenate([corner, corner + size], axis=-1)
        xyxy = np.take_along_axis(xyxy, query[:, :, None], axis=1)
        img_h, img_w = shapes[:, 0:1], shapes[:, 1:2]
        xyxy = xyxy * np.concatenate([img_w, img_h, img_w, img_h], axis=1)[:, None, :]
        points = np.take_along_axis(kpts, query[:, :, None], axis=1)[..., :2 * K]
        points = points * np.tile(np.concatenate([img_w, img_h], axis=1), [1, K])[:, None, :]
        return xyxy, points.reshape(B, -1, K, 2), scores

    @property
    def support_batch_decoding(self) -> bool:
        return False

    def _config(self):
        return dict(num_select=self.num_select, num_keypoints=self.num_keypoints)
