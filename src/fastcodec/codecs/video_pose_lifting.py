"""VideoPoseLifting: 2D keypoint sequences normalised by the image size, and a
root-relative 3D target, for temporal pose lifters (VideoPose3D).

Vectorised numpy / torch over the batch, CuPy-style ``xp`` glue on device arrays: the
work is a few flops per keypoint, so a compiled kernel would not pay off (see
``fastcodec.codecs._lifting``).
"""
from __future__ import annotations

from typing import Any, List, Optional, Union

import numpy as np

from fastcodec.codecs import _lifting
from fastcodec.codecs._lifting import (F32, F64, FLAG_KEYS, NUMPY, Inputs, RootedLiftingCodec,
                                       arith,
                                       as_float, batch_camera, check_num_keypoints,
                                       check_root_index, concat_visibility, deepcopy_camera,
                                       delete_keypoint,
                                       fast_float, fast_visible, finite_keypoint_labels,
                                       finite_batch, finite_rooted_targets, finite_sample,
                                       first, np_camera_pairs,
                                       np_concat_visibility, np_delete_keypoint, np_ones,
                                       np_root_mean, np_scalar, np_target_weights, per_sample,
                                       promote, reshape_keypoints, root_mean, sample_camera,
                                       shape_str, target_weights)
from fastcodec.registry import register

_COMPLEX_OF = {F32: np.dtype(np.complex64), F64: np.dtype(np.complex128)}


@register
class VideoPoseLifting(RootedLiftingCodec):
    """Keypoint labels in image-normalised coordinates and a root-centred 3D target.

    Args (MMPose 1.3.2's):
        num_keypoints: K.
        zero_center: subtract the root from the target.
        root_index: root keypoint index, or a list of indices whose mean is the root.
        remove_root: with ``zero_center``, drop the root keypoint from the target.
        save_index: with ``remove_root``, also return ``target_root_index``.
        reshape_keypoints: return keypoint labels as (K * D, T).
        concat_vis: append the visibility to the keypoint labels.
        normalize_camera: also return ``camera_param`` with f and c normalised.

    encode(keypoints (T, K, D), keypoints_visible (T, K) or None,
           lifting_target (T', K, C), lifting_target_visible (T', K) or None,
           camera_param dict with w, h (and f, c: (2,) or (2, 1))) -> dict:
        target_root (T', C) [zero_center], target_root_removed, target_root_index,
        camera_param (a deep copy with f / (w / 2) and (c - (w / 2, h / 2)) / (w / 2))
        [normalize_camera];
        keypoint_labels (T, K, D') or (K * D', T): (keypoints - (w / 2, h / 2)) / (w / 2);
        keypoints_visible (T, K); lifting_target_label (T', K or K - 1, C);
        lifting_target_weight (T', K or K - 1) float32; trajectory_weights as
        ImagePoseLifting's.
    decode(encoded (T, K', C), target_root (T', C) or None) ->
        keypoints (T, K, C), scores (T, K) float32 ones.

    batch_encode / batch_decode take the same arrays with a leading batch axis B.
    Batched ``camera_param``: a dict {"w": (B,) or scalar, "h": (B,) or scalar,
    "f": (B, 2) or (B, 2, 1), "c": (B, 2) or (B, 2, 1), other keys passed through},
    or a sequence of B per-sample dicts (stacked; other keys become lists); the
    returned ``camera_param`` is such a dict with f and c (B, ...) normalised.
    """

    auxiliary_encode_keys = {'lifting_target', 'lifting_target_visible', 'camera_param'}

    def __init__(self,
                 num_keypoints: int,
                 zero_center: bool = True,
                 root_index: Union[int, List] = 0,
                 remove_root: bool = False,
                 save_index: bool = False,
                 reshape_keypoints: bool = True,
                 concat_vis: bool = False,
                 normalize_camera: bool = False) -> None:
        self.num_keypoints = check_num_keypoints(num_keypoints)
        self.zero_center = zero_center
        self.root_index = check_root_index(root_index, allow_list=True)
        self.remove_root = remove_root
        self.save_index = save_index
        self.reshape_keypoints = reshape_keypoints
        self.concat_vis = concat_vis
        self.normalize_camera = normalize_camera

    # ---- encode ------------------------------------------------------------------------
    def encode(self,
               keypoints: np.ndarray,
               keypoints_visible: Optional[np.ndarray] = None,
               lifting_target: Optional[np.ndarray] = None,
               lifting_target_visible: Optional[np.ndarray] = None,
               camera_param: Optional[dict] = None) -> dict:
        """One sample; shapes in the class docstring."""
        if _lifting.SAMPLE_FAST_PATH and fast_float(keypoints) and fast_float(lifting_target) \
                and type(camera_param) is dict:
            encoded = self._encode_sample(keypoints, keypoints_visible, lifting_target,
                                          lifting_target_visible, camera_param)
            if encoded is not None:
                return encoded
        inputs = Inputs(keypoints, keypoints_visible, lifting_target, lifting_target_visible,
                        False, max(self.root_index) + 1 if self.zero_center else 1, self)
        encoded = first(self._encode(inputs, sample_camera(camera_param)), FLAG_KEYS)
        if 'camera_param' in encoded:
            normalised = encoded['camera_param']
            encoded['camera_param'] = deepcopy_camera(camera_param)
            encoded['camera_param']['f'] = normalised['f'][0]
            encoded['camera_param']['c'] = normalised['c'][0]
        return encoded

    def _encode_sample(self, kp, vis, lt, ltv, camera_param: dict) -> Optional[dict]:
        """encode's numpy fast path (``_lifting.SAMPLE_FAST_PATH``): MMPose's expressions
        for keypoints (T, K, 2) and a target (T', K', C) of float32 / float64 and a
        camera dict with real scalars w, h; None where ``_encode`` must decide (other
        shapes, bad input)."""
        if kp.ndim != 3 or lt.ndim != 3 or kp.size == 0 or lt.size == 0:
            return None
        N, K, D = kp.shape
        T, KT, C = lt.shape
        if D != 2 or (self.zero_center and KT <= max(self.root_index)) or \
                (ltv is None and KT < 3) or \
                not fast_visible(vis, (N, K)) or not fast_visible(ltv, (T, KT)):
            return None
        w, h = np_scalar(camera_param.get('w')), np_scalar(camera_param.get('h'))
        if w is None or h is None or not np_camera_pairs(camera_param) or \
                (self.normalize_camera and ('f' not in camera_param or 'c' not in camera_param)):
            return None
        if vis is None:
            vis = np_ones((N, K))
        weight, trajectory = np_target_weights(lt, ltv)

        encoded = {}
        if self.zero_center:
            root = np_root_mean(lt, self.root_index, lt.dtype)
            label = lt - root[:, None]
            encoded['target_root'] = root
            if self.remove_root and len(self.root_index) == 1:
                r = self.root_index[0]
                label = np_delete_keypoint(label, r)
                weight = np_delete_keypoint(weight, r)
                encoded['target_root_removed'] = True
                if self.save_index:
                    encoded['target_root_index'] = r
        else:
            label = lt.copy()

        # MMPose: center = np.array([0.5 * w, 0.5 * h], float32), scale likewise.
        center = np.array((0.5 * w, 0.5 * h), F32)
        scale = center[0]
        labels = (kp - center) / scale
        if self.normalize_camera:
            camera = deepcopy_camera(camera_param, ('f', 'c'))
            camera['f'] = camera_param['f'] / scale
            camera['c'] = (camera_param['c'] - center[:, None]) / scale
            encoded['camera_param'] = camera
        if self.concat_vis:
            labels = np_concat_visibility(labels, vis)
        if self.reshape_keypoints:
            labels = labels.transpose(1, 2, 0).reshape(-1, N)

        encoded['keypoint_labels'] = labels
        encoded['keypoints_visible'] = vis
        encoded['lifting_target_label'] = label
        encoded['lifting_target_weight'] = weight
        encoded['trajectory_weights'] = trajectory
        return finite_sample(encoded, kp, lt, self._finite, ltv is not None)

    def batch_encode(self,
                     keypoints: Any,
                     keypoints_visible: Optional[Any] = None,
                     lifting_target: Optional[Any] = None,
                     lifting_target_visible: Optional[Any] = None,
                     camera_param: Optional[Any] = None) -> dict:
        """B samples: keypoints (B, T, K, D), keypoints_visible (B, T, K),
        lifting_target (B, T', K, C), lifting_target_visible (B, T', K), camera_param
        batched as in the class docstring; returns ``encode``'s arrays with a leading B."""
        inputs = Inputs(keypoints, keypoints_visible, lifting_target, lifting_target_visible,
                        True, max(self.root_index) + 1 if self.zero_center else 1, self)
        return self._encode(inputs, camera_param)

    def _encode(self, inputs: Inputs, camera_param) -> dict:
        X, kp, vis, lt = inputs.X, inputs.keypoints, inputs.visible, inputs.target
        B, N, K, D = kp.shape
        if inputs.target_visible is None and lt.shape[2] < 3:
            raise ValueError('lifting_target needs K >= 3 without lifting_target_visible '
                             '(MMPose computes trajectory_weights = 1 / lifting_target[:, 2]); '
                             f'got shape {shape_str(lt.shape[1:])}')
        if D != 2:
            raise ValueError(f'keypoints must hold (x, y) in the last axis (MMPose subtracts '
                             f'a 2-vector), got shape {shape_str(kp.shape)}')
        cam = batch_camera(X, camera_param, B, self.normalize_camera)
        if vis is None:
            vis = X.ones((B, N, K))
        _, weight, trajectory = target_weights(X, lt, inputs.target_visible)

        encoded = {}
        if self.zero_center:
            lt = as_float(X, lt)
            root = root_mean(X, lt, self.root_index, X.dtype(lt))
            label = arith(X, 'subtract', lt, root[:, :, None])
            encoded['target_root'] = root
            if self.remove_root and len(self.root_index) == 1:
                r = self.root_index[0]
                label = delete_keypoint(X, label, r, 2)
                weight = delete_keypoint(X, weight, r, 2)
                encoded['target_root_removed'] = True
                if self.save_index:
                    encoded['target_root_index'] = r
        else:
            label = X.copy(lt)

        # The image centre and half width, float32 as in MMPose.
        cx = X.cast(arith(X, 'multiply', 0.5, X.cast(cam.w, F64)), F32)
        cy = X.cast(arith(X, 'multiply', 0.5, X.cast(cam.h, F64)), F32)
        center = X.cat([cx[:, None], cy[:, None]], 1)                  # (B, 2)
        kdt = promote(X.dtype(kp), F32)
        # (keypoints - center) / scale. Numpy broadcasts a (B, 1, 1, 2) operand slowly:
        # the subtraction runs channel by channel into views of one array or, for a
        # C-contiguous float numpy array, on each (x, y) pair as one complex number
        # (complex subtraction is the two float subtractions, bit for bit) over one
        # contiguous axis: 400 against 650 us for 1024 x 27 x 17 pairs (AMD EPYC).
        labels = X.empty(kp.shape, kdt)
        pair = _COMPLEX_OF.get(kdt)
        if X is NUMPY and pair is not None and kp.dtype == kdt and kp.flags.c_contiguous:
            np.subtract(kp.view(pair)[..., 0],
                        np.asarray(center, kdt).view(pair).reshape(B, 1, 1),
                        out=labels.view(pair)[..., 0])
        else:
            for j in range(2):
                X.binop('subtract', kp[..., j], X.cast(center[:, j], kdt).reshape(B, 1, 1),
                        labels[..., j])
        flat = labels.reshape(B, -1)
        X.binop('divide', flat, X.cast(cx, kdt).reshape(B, 1), flat)

        if self.normalize_camera:
            f, c = cam.f, cam.c
            fdt, cdt = promote(X.dtype(f), F32), promote(X.dtype(c), F32)
            f_new = arith(X, 'divide', X.cast(f, fdt),
                          X.cast(cx, fdt).reshape((B,) + (1,) * (f.ndim - 1)))
            c_new = arith(X, 'divide', arith(X, 'subtract', X.cast(per_sample(c, 3), cdt),
                                             X.cast(center, cdt).reshape(B, 2, 1)),
                          X.cast(cx, cdt).reshape(B, 1, 1))
            encoded['camera_param'] = dict(cam.extras, w=cam.w, h=cam.h, f=f_new, c=c_new)

        if self.concat_vis:
            labels = concat_visibility(X, labels, vis)
        if self.reshape_keypoints:
            labels = reshape_keypoints(X, labels)

        encoded['keypoint_labels'] = labels
        encoded['keypoints_visible'] = vis
        encoded['lifting_target_label'] = label
        encoded['lifting_target_weight'] = weight
        encoded['trajectory_weights'] = trajectory
        finite_batch(X, encoded, kp, inputs.target, self._finite,
                     inputs.target_visible is not None)
        return X.results(encoded)

    def _finite(self, X, encoded: dict, kp, lt, visible_given: bool) -> None:
        """Finite targets for non-finite keypoints (``_lifting.non_finite``): a
        non-finite target keypoint, or with ``zero_center`` every keypoint of a frame
        with a non-finite root, gets label and weight 0 (trajectory weights and the
        root alike); a non-finite 2D keypoint gets labels and visibility 0."""
        finite_keypoint_labels(X, encoded, kp, 'keypoint_labels', 'keypoints_visible',
                               self.reshape_keypoints)
        finite_rooted_targets(X, encoded, lt, self.root_index if self.zero_center else None,
                              visible_given, False)

    def _config(self) -> dict:
        return dict(num_keypoints=self.num_keypoints, zero_center=self.zero_center,
                    root_index=self.root_index, remove_root=self.remove_root,
                    save_index=self.save_index, reshape_keypoints=self.reshape_keypoints,
                    concat_vis=self.concat_vis, normalize_camera=self.normalize_camera)
