"""ImagePoseLifting: 2D keypoints and a root-relative 3D target for single-frame pose
lifters (SimpleBaseline3D).

Vectorised numpy / torch over the batch, CuPy-style ``xp`` glue on device arrays: the
work is a few flops per keypoint, so a compiled kernel would not pay off (see
``fastcodec.codecs._lifting``).
"""
from __future__ import annotations

from typing import Any, List, Optional, Union

import numpy as np

from fastcodec.codecs import _lifting
from fastcodec.codecs._lifting import (F32, FLAG_KEYS, Inputs, RootedLiftingCodec, arith,
                                       broadcast_check, check_num_keypoints, check_root_index,
                                       concat_visibility, delete_keypoint, fast_float,
                                       fast_visible, finite_keypoint_labels,
                                       finite_batch, finite_rooted_targets, finite_sample, first,
                                       np_concat_visibility,
                                       np_delete_keypoint, np_ones, np_root_mean,
                                       np_target_weights, promote, reshape_keypoints,
                                       root_mean, shape_str, target_weights)
from fastcodec.registry import register


def _stats(mean, std, num_keypoints: int, name: str):
    """MMPose's mean/std: float32 arrays of shape (1, K, -1), same shape."""
    if mean is None:
        return None, None
    if std is None:
        raise ValueError(f'{name}_std is required with {name}_mean')
    try:
        m = np.array(mean, dtype=np.float32).reshape(1, num_keypoints, -1)
        s = np.array(std, dtype=np.float32).reshape(1, num_keypoints, -1)
    except ValueError as err:
        raise ValueError(f'{name}_mean / {name}_std must reshape to (1, {num_keypoints}, '
                         f'-1): {err}') from None
    if m.shape != s.shape:
        raise ValueError(f'{name}_mean.shape {m.shape} != {name}_std.shape {s.shape}')
    return m, s


@register
class ImagePoseLifting(RootedLiftingCodec):
    """Keypoint labels and a root-centred 3D target for image pose lifting.

    Args (MMPose 1.3.2's):
        num_keypoints: K.
        root_index: root keypoint index, or a list of indices whose mean is the root.
        remove_root: drop the root keypoint from the target (one root index only).
        save_index: with ``remove_root``, also return ``target_root_index``.
        reshape_keypoints: return keypoint labels as (K * D, N).
        concat_vis: append the visibility to the keypoint labels (D + 1 columns).
        keypoints_mean, keypoints_std: (K, D) statistics normalising the 2D keypoints.
        target_mean, target_std: (K, C) (or (K - 1, C) with ``remove_root``)
            statistics normalising the target; the target then must have T = 1.
        additional_encode_keys: extra keys for ``auxiliary_encode_keys`` (kept on the
            instance; MMPose adds them to the class-wide set).

    encode(keypoints (N, K, D), keypoints_visible (N, K) or None,
           lifting_target (T, K, C), lifting_target_visible (T, K) or None) -> dict:
        keypoint_labels (N, K, D') or (K * D', N) with D' = D (+ 1 with concat_vis);
        keypoint_labels_visible (N, K): the visibility given (float32 ones if None);
        lifting_target_label (T, K, C) or (T, K - 1, C): target minus the root;
        lifting_target_weight (T, K) or (T, K - 1) float32;
        trajectory_weights: (T, C) ``1 / lifting_target[:, 2]`` without target
            visibility (MMPose's indexing), else the (T, K) weights before root removal;
        target_root (T, C) float32; plus target_root_removed, target_root_index,
        keypoints_mean/std (1, K, D), target_mean/std (1, K', C) where enabled.
        MMPose's T and the root broadcast as ``target - root[None]``: T is 1 in practice.
    decode(encoded (N, K', C), target_root (T, C) or None) ->
        keypoints (N, K, C) (de-normalised, root added and re-inserted),
        scores (N, K) float32 ones.

    batch_encode / batch_decode take the same arrays with a leading batch axis B and
    return every array with a leading B (flags stay scalars); numpy in -> numpy out,
    torch in -> torch out on the same device.
    """

    auxiliary_encode_keys = {'lifting_target', 'lifting_target_visible'}

    def __init__(self,
                 num_keypoints: int,
                 root_index: Union[int, List] = 0,
                 remove_root: bool = False,
                 save_index: bool = False,
                 reshape_keypoints: bool = True,
                 concat_vis: bool = False,
                 keypoints_mean: Optional[np.ndarray] = None,
                 keypoints_std: Optional[np.ndarray] = None,
                 target_mean: Optional[np.ndarray] = None,
                 target_std: Optional[np.ndarray] = None,
                 additional_encode_keys: Optional[List[str]] = None) -> None:
        self.num_keypoints = check_num_keypoints(num_keypoints)
        self.root_index = check_root_index(root_index, allow_list=True)
        self.remove_root = remove_root
        self.save_index = save_index
        self.reshape_keypoints = reshape_keypoints
        self.concat_vis = concat_vis
        self.keypoints_mean, self.keypoints_std = _stats(
            keypoints_mean, keypoints_std, self.num_keypoints, 'keypoints')
        target_k = self.num_keypoints - 1 if remove_root else self.num_keypoints
        self.target_mean, self.target_std = _stats(target_mean, target_std, target_k, 'target')
        if additional_encode_keys is not None:
            self.auxiliary_encode_keys = set(type(self).auxiliary_encode_keys)
            self.auxiliary_encode_keys.update(additional_encode_keys)

    # ---- encode ------------------------------------------------------------------------
    def encode(self,
               keypoints: np.ndarray,
               keypoints_visible: Optional[np.ndarray] = None,
               lifting_target: Optional[np.ndarray] = None,
               lifting_target_visible: Optional[np.ndarray] = None) -> dict:
        """One sample; shapes in the class docstring."""
        if _lifting.SAMPLE_FAST_PATH and fast_float(keypoints) and fast_float(lifting_target):
            encoded = self._encode_sample(keypoints, keypoints_visible, lifting_target,
                                          lifting_target_visible)
            if encoded is not None:
                return encoded
        inputs = Inputs(keypoints, keypoints_visible, lifting_target, lifting_target_visible,
                        False, max(self.root_index) + 1, self)
        return first(self._encode(inputs), FLAG_KEYS)

    def _encode_sample(self, kp, vis, lt, ltv) -> Optional[dict]:
        """encode's numpy fast path (``_lifting.SAMPLE_FAST_PATH``): MMPose's expressions
        for keypoints (N, K, D) and a target (1, K', C) of float32 / float64 with the
        shapes ``_encode`` accepts; None where ``_encode`` must decide (other shapes,
        bad input)."""
        if kp.ndim != 3 or lt.ndim != 3 or kp.size == 0:
            return None
        N, K, D = kp.shape
        T, KT, C = lt.shape
        if T != 1 or KT <= max(self.root_index) or C == 0 or (ltv is None and KT < 3) or \
                not fast_visible(vis, (N, K)) or not fast_visible(ltv, (T, KT)):
            return None
        single = self.remove_root and len(self.root_index) == 1
        if self.keypoints_mean is not None and self.keypoints_mean.shape[1:] != (K, D):
            return None
        if self.target_mean is not None and self.target_mean.shape != (1, KT - single, C):
            return None
        if vis is None:
            vis = np_ones((N, K))
        weight, trajectory = np_target_weights(lt, ltv)

        encoded = {}
        root = np_root_mean(lt, self.root_index, F32)
        label = lt - root[None]
        if single:
            r = self.root_index[0]
            label = np_delete_keypoint(label, r)
            weight = np_delete_keypoint(weight, r)
            encoded['target_root_removed'] = True
            if self.save_index:
                encoded['target_root_index'] = r
        if self.keypoints_mean is not None:
            encoded['keypoints_mean'] = self.keypoints_mean.copy()
            encoded['keypoints_std'] = self.keypoints_std.copy()
            labels = (kp - self.keypoints_mean) / self.keypoints_std
        else:
            labels = kp.copy()
        if self.target_mean is not None:
            encoded['target_mean'] = self.target_mean.copy()
            encoded['target_std'] = self.target_std.copy()
            label = (label - self.target_mean) / self.target_std
        if self.concat_vis:
            labels = np_concat_visibility(labels, vis)
        if self.reshape_keypoints:
            labels = labels.transpose(1, 2, 0).reshape(-1, N)

        encoded['keypoint_labels'] = labels
        encoded['keypoint_labels_visible'] = vis
        encoded['lifting_target_label'] = label
        encoded['lifting_target_weight'] = weight
        encoded['trajectory_weights'] = trajectory
        encoded['target_root'] = root
        return finite_sample(encoded, kp, lt, self._finite, ltv is not None)

    def batch_encode(self,
                     keypoints: Any,
                     keypoints_visible: Optional[Any] = None,
                     lifting_target: Optional[Any] = None,
                     lifting_target_visible: Optional[Any] = None) -> dict:
        """B samples: keypoints (B, N, K, D), keypoints_visible (B, N, K),
        lifting_target (B, T, K, C), lifting_target_visible (B, T, K); returns
        ``encode``'s arrays with a leading B."""
        inputs = Inputs(keypoints, keypoints_visible, lifting_target, lifting_target_visible,
                        True, max(self.root_index) + 1, self)
        return self._encode(inputs)

    def _encode(self, inputs: Inputs) -> dict:
        X, kp, vis, lt = inputs.X, inputs.keypoints, inputs.visible, inputs.target
        B, N, K, D = kp.shape
        T, KT, C = lt.shape[1:]
        if inputs.target_visible is None and KT < 3:
            raise ValueError('lifting_target needs K >= 3 without lifting_target_visible '
                             '(MMPose computes trajectory_weights = 1 / lifting_target[:, 2]); '
                             f'got shape {shape_str(lt.shape[1:])}')
        label_shape = broadcast_check(lt.shape, (B, 1, T, C), 'lifting_target - root[None]')
        single = self.remove_root and len(self.root_index) == 1
        if self.keypoints_mean is not None and self.keypoints_mean.shape[1:] != (K, D):
            raise ValueError(f'keypoints_mean has shape {self.keypoints_mean.shape[1:]} but '
                             f'keypoints have (K, D) = {(K, D)}')
        if self.target_mean is not None:
            want = (label_shape[1], label_shape[2] - single, label_shape[3])
            if self.target_mean.shape != want:
                raise ValueError(f'target_mean has shape {self.target_mean.shape} but the '
                                 f'target label has {want} (T must be 1)')
        if vis is None:
            vis = X.ones((B, N, K))
        _, weight, trajectory = target_weights(X, lt, inputs.target_visible)

        encoded = {}
        root = root_mean(X, lt, self.root_index, F32)
        dtype = promote(X.dtype(lt), F32)
        label = arith(X, 'subtract', X.cast(lt, dtype), X.cast(root, dtype)[:, None])
        if single:
            r = self.root_index[0]
            label = delete_keypoint(X, label, r, 2)
            weight = delete_keypoint(X, weight, r, 2)
            encoded['target_root_removed'] = True
            if self.save_index:
                encoded['target_root_index'] = r

        labels = X.copy(kp)
        if self.keypoints_mean is not None:
            mean, std = X.asarray(self.keypoints_mean, 'mean'), X.asarray(self.keypoints_std, 'std')
            encoded['keypoints_mean'] = X.copy(X.expand(mean, (B,) + mean.shape))
            encoded['keypoints_std'] = X.copy(X.expand(std, (B,) + std.shape))
            kdt = promote(X.dtype(kp), F32)
            labels = arith(X, 'divide', arith(X, 'subtract', X.cast(kp, kdt), X.cast(mean, kdt)),
                           X.cast(std, kdt))
        if self.target_mean is not None:
            mean, std = X.asarray(self.target_mean, 'mean'), X.asarray(self.target_std, 'std')
            encoded['target_mean'] = X.copy(X.expand(mean, (B,) + mean.shape))
            encoded['target_std'] = X.copy(X.expand(std, (B,) + std.shape))
            tdt = promote(X.dtype(label), F32)
            label = arith(X, 'divide', arith(X, 'subtract', X.cast(label, tdt), X.cast(mean, tdt)),
                          X.cast(std, tdt))

        if self.concat_vis:
            labels = concat_visibility(X, labels, vis)
        if self.reshape_keypoints:
            labels = reshape_keypoints(X, labels)

        encoded['keypoint_labels'] = labels
        encoded['keypoint_labels_visible'] = vis
        encoded['lifting_target_label'] = label
        encoded['lifting_target_weight'] = weight
        encoded['trajectory_weights'] = trajectory
        encoded['target_root'] = root
        finite_batch(X, encoded, kp, lt, self._finite,
                     inputs.target_visible is not None)
        return X.results(encoded)

    def _finite(self, X, encoded: dict, kp, lt, visible_given: bool) -> None:
        """Finite targets for non-finite keypoints (``_lifting.non_finite``): a
        non-finite target keypoint, or every keypoint of a frame with a non-finite
        root, gets label and weight 0 (trajectory weights and the root alike); a
        non-finite 2D keypoint gets labels and visibility 0."""
        finite_keypoint_labels(X, encoded, kp, 'keypoint_labels', 'keypoint_labels_visible',
                               self.reshape_keypoints)
        finite_rooted_targets(X, encoded, lt, self.root_index, visible_given, True)

    # ---- decode ------------------------------------------------------------------------
    def _denormalise(self, X, keypoints, name: str):
        if self.target_mean is None:
            return keypoints
        if tuple(keypoints.shape[1:]) != self.target_mean.shape:
            raise ValueError(f'{name} must have per-sample shape {self.target_mean.shape} '
                             f'(target_mean.shape), got {shape_str(keypoints.shape[1:])}')
        mean, std = X.asarray(self.target_mean, 'mean'), X.asarray(self.target_std, 'std')
        dtype = promote(X.dtype(keypoints), F32)
        return arith(X, 'add', arith(X, 'multiply', X.cast(keypoints, dtype), X.cast(std, dtype)),
                     X.cast(mean, dtype))

    @property
    def _has_stats(self) -> bool:
        return self.target_mean is not None

    def _denormalise_sample(self, encoded):
        if self.target_mean is None:
            return encoded
        if encoded.shape != self.target_mean.shape:
            return None
        return encoded * self.target_std + self.target_mean

    def _config(self) -> dict:
        return dict(num_keypoints=self.num_keypoints, root_index=self.root_index,
                    remove_root=self.remove_root, save_index=self.save_index,
                    reshape_keypoints=self.reshape_keypoints, concat_vis=self.concat_vis)
