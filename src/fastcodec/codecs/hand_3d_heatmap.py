"""Hand3DHeatmap: 3-D Gaussian target volumes and root depth for InterNet (InterHand2.6M)."""
from __future__ import annotations

import numbers
from typing import Any, Optional, Tuple

import numpy as np

from fastcodec import _calls
from fastcodec._arrays import (Call, check_ndim, check_real, heatmaps_f32, open_call,
                               positive_numbers, promoted_dtype, open_keypoints)
from fastcodec.codecs.base import BaseKeypointCodec
from fastcodec.errors import mmpose_check_error
from fastcodec.limits import MAX_SIGMA
from fastcodec.registry import register

def _real(v: Any, name: str, positive: bool = False) -> float:
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f'{name} must be a real number, got {v!r}')
    if not np.isfinite(v) or (positive and v <= 0) or (not positive and v == 0):
        raise ValueError(f'{name} must be a finite {"positive" if positive else "non-zero"} '
                         f'number, got {v!r}')
    return float(v)


@register
class Hand3DHeatmap(BaseKeypointCodec):
    """Keypoints (x, y in image pixels, depth relative to the root) as 3-D Gaussian
    volumes, plus the hand's relative root depth and type (InterNet, Moon et al. 2020).

    Args (as MMPose 1.3.2): image_size (w, h); root_heatmap_size; heatmap_size
    (W, H, D); heatmap3d_depth_bound; heatmap_size_root; root_depth_bound; depth_size;
    use_different_joint_weights; sigma (a number, or one per instance); joint_indices
    (the keypoints that get volumes, or None for all); max_bound (the volumes' scale).

    encode(keypoints (N, K, 3), keypoints_visible (N, K), dataset_keypoint_weights (K,),
    rel_root_depth, rel_root_valid, hand_type, hand_type_valid, focal, principal_pt) ->
    heatmaps (K*D, H, W) float32, keypoint_weights (N, K) (the visibility's dtype),
    root_depth (1,), type, type_weight, root_depth_weight (1,). Every keypoint gets its
    window, visible or not, as in MMPose; the weight holds visibility and depth range.
    decode(heatmaps (K, D, H, W), root_depth, hand_type) -> keypoints (1, K, 3) float32
    in image pixels and depth units, scores (1, K), rel_root_depth, hand_type (1, T).
    batch_encode / batch_decode: the same with a leading batch axis on every argument
    (dataset_keypoint_weights stays (K,)) and result.
    """

    auxiliary_encode_keys = {'dataset_keypoint_weights', 'rel_root_depth', 'rel_root_valid',
                             'hand_type', 'hand_type_valid', 'focal', 'principal_pt'}
    instance_mapping_table = {'keypoints': 'keypoints',
                              'keypoints_visible': 'keypoints_visible',
                              'keypoints_cam': 'keypoints_cam'}
    label_mapping_table = {'keypoint_weights': 'keypoint_weights',
                           'root_depth_weight': 'root_depth_weight',
                           'type_weight': 'type_weight',
                           'root_depth': 'root_depth',
                           'type': 'type'}
    single_instance = False
    # the cuda backend encodes on device arrays (the volumes and weights stay there); the
    # root depth and hand type come from the auxiliary values as given (host numbers, as
    # MMPose's pipeline passes them)
    device_ready = True

    def __init__(self, image_size: Tuple[int, int] = [256, 256], root_heatmap_size: int = 64,
                 heatmap_size: Tuple[int, int, int] = [64, 64, 64],
                 heatmap3d_depth_bound: float = 400.0, heatmap_size_root: int = 64,
                 root_depth_bound: float = 400.0, depth_size: int = 64,
                 use_different_joint_weights: bool = False, sigma: int = 2,
                 joint_indices: Optional[list] = None, max_bound: float = 1.0) -> None:
        image = positive_numbers(image_size, 2, 'image_size', '2 numbers')
        size = positive_numbers(heatmap_size, 3, 'heatmap_size', '3 numbers')
        if size.dtype.kind not in 'iu':
            raise TypeError(f'heatmap_size must be three positive integers, got {heatmap_size!r}')
        for v, name in ((heatmap3d_depth_bound, 'heatmap3d_depth_bound'),
                        (root_depth_bound, 'root_depth_bound'),
                        (root_heatmap_size, 'root_heatmap_size'),
                        (heatmap_size_root, 'heatmap_size_root'), (depth_size, 'depth_size')):
            _real(v, name)
        _real(max_bound, 'max_bound', positive=True)
        sig = np.atleast_1d(np.array(sigma, dtype=object))
        if sig.ndim != 1 or sig.size == 0:
            raise TypeError(f'sigma must be a number or one number per instance, got {sigma!r}')
        for s in sig:
            if _real(s, 'sigma', positive=True) > MAX_SIGMA:
                raise ValueError(f'sigma must be at most {MAX_SIGMA:g}, got {sigma!r}')
        if joint_indices is not None:
            idx = np.asarray(joint_indices)
            if idx.ndim != 1 or (idx.size and idx.dtype.kind not in 'iu'):
                raise TypeError(f'joint_indices must be a list of integers, got {joint_indices!r}')
        self.image_size = np.array(image_size)
        self.root_heatmap_size = root_heatmap_size
        self.heatmap_size = np.array(heatmap_size)
        self.heatmap3d_depth_bound = heatmap3d_depth_bound
        self.heatmap_size_root = heatmap_size_root
        self.root_depth_bound = root_depth_bound
        self.depth_size = depth_size
        self.use_different_joint_weights = use_different_joint_weights
        self.sigma = sigma
        self.joint_indices = joint_indices
        self.max_bound = max_bound
        self.scale_factor = (np.array(image_size) / heatmap_size[:-1]).astype(np.float32)
        self._image = (float(image[0]), float(image[1]))

    # ---- encode -------------------------------------------------------------------
    def encode(self, keypoints: Any, keypoints_visible: Optional[Any],
               dataset_keypoint_weights: Optional[Any], rel_root_depth: Any,
               rel_root_valid: Any, hand_type: Any, hand_type_valid: Any, focal: Any = None,
               principal_pt: Any = None) -> dict:
        """Encode one sample; see the class docstring. focal and principal_pt are
        accepted and unused, as in MMPose."""
        call, kps, vis = open_keypoints(keypoints, keypoints_visible, 3, '(N, K, 3)', self)
        back = call.result
        heat, weights = self._volumes(call, kps[None], vis[None], dataset_keypoint_weights)
        root_depth, root_weight = self._root_depth(rel_root_depth, rel_root_valid)
        return dict(heatmaps=back(heat[0]), keypoint_weights=back(weights[0]),
                    root_depth=root_depth * np.ones(1, dtype=np.float32), type=hand_type,
                    type_weight=hand_type_valid,
                    root_depth_weight=root_weight * np.ones(1, dtype=np.float32))

    def batch_encode(self, keypoints: Any, keypoints_visible: Optional[Any] = None,
                     dataset_keypoint_weights: Optional[Any] = None,
                     rel_root_depth: Any = None, rel_root_valid: Any = None,
                     hand_type: Any = None, hand_type_valid: Any = None, focal: Any = None,
                     principal_pt: Any = None) -> dict:
        """Encode B samples: keypoints (B, N, K, 3), keypoints_visible (B, N, K),
        rel_root_depth and rel_root_valid (B,), hand_type and hand_type_valid (B, ...) ->
        heatmaps (B, K*D, H, W), keypoint_weights (B, N, K), root_depth and
        root_depth_weight (B, 1), type and type_weight as given (as arrays). Root depths
        are computed in their array's dtype (float32 at least)."""
        call, kps, vis = open_keypoints(keypoints, keypoints_visible, 4, '(B, N, K, 3)', self)
        back = call.result
        heat, weights = self._volumes(call, kps, vis, dataset_keypoint_weights)
        out = dict(heatmaps=back(heat), keypoint_weights=back(weights))
        if rel_root_depth is not None:
            depth = np.asarray(rel_root_depth).reshape(-1, 1)
            valid = np.asarray(rel_root_valid if rel_root_valid is not None else 1.0)
            root_depth, root_weight = self._root_depth(depth, valid.reshape(-1, 1))
            out.update(root_depth=root_depth * np.ones(1, dtype=np.float32),
                       root_depth_weight=root_weight * np.ones(1, dtype=np.float32))
        if hand_type is not None:
            out.update(type=np.asarray(hand_type),
                       type_weight=None if hand_type_valid is None else np.asarray(hand_type_valid))
        return out

    def _root_depth(self, depth: Any, valid: Any):
        # MMPose's expressions, in the caller's dtypes
        depth = (depth / self.root_depth_bound + 0.5) * self.heatmap_size_root
        valid = valid * (depth >= 0) * (depth <= self.heatmap_size_root)
        return depth, valid

    def _volumes(self, call: Call, kps: np.ndarray, vis: np.ndarray,
                 joint_weights: Optional[Any]):
        """kps (B, N, K, 3), vis (B, N, K) -> heatmaps (B, K'*D, H, W), weights (B, N, K')."""
        if kps.shape[-1] != 3:
            raise ValueError(f'keypoints must hold (x, y, depth) in their last axis, '
                             f'got shape {tuple(kps.shape)}')
        check_real(vis, 'keypoints_visible')
        if self.use_different_joint_weights and joint_weights is None:
            raise mmpose_check_error(
                'use_different_joint_weights=True needs dataset_keypoint_weights (K,)',
                'To use different joint weights,`dataset_keypoint_weights` cannot be None.')
        if self.joint_indices is not None:
            try:
                kps = kps[:, :, self.joint_indices]
                vis = vis[:, :, self.joint_indices]
            except IndexError as err:
                raise ValueError(f'joint_indices {self.joint_indices!r} out of range for '
                                 f'K = {kps.shape[2]} keypoints') from err
        B, N, K = kps.shape[:3]
        xp = call.xp
        if np.ndim(self.sigma) == 0:
            sigma = call.full((B, N), float(self.sigma))  # (B, N), the kernel's layout
        else:  # one per instance, as generate_3d_gaussian_heatmaps reads sigma[n]
            per_instance = np.asarray(self.sigma, dtype=np.float64)[:N]
            if per_instance.size < N:
                raise ValueError(f'sigma holds {len(self.sigma)} values, one per instance, '
                                 f'for N = {N} instances')
            sigma = xp.ascontiguousarray(xp.broadcast_to(xp.asarray(per_instance), (B, N)))
        W, H, D = (int(v) for v in self.heatmap_size)
        xyz = xp.ascontiguousarray(kps, dtype=np.float64)
        # MMPose's depth bracket ``z / heatmap3d_depth_bound + 0.5`` is computed in
        # numpy's result type: float32 and float64 by the kernels (f32 says which); a
        # float16 bracket is formed here and handed over as bracket - 0.5 with bound 1,
        # which the kernel's float64 steps return exactly
        bound = self.heatmap3d_depth_bound
        work = promoted_dtype(kps.dtype, bound)
        f32 = work.char == 'f'
        if work.char == 'e':  # (xyz is a float64 copy of the float16 keypoints here)
            bracket = xp.add(xp.divide(kps[..., 2], bound), 0.5)
            xp.subtract(xp.asarray(bracket, dtype=np.float64), 0.5, out=xyz[..., 2])
            bound = 1.0
        heat, inside = _calls.hand3d_encode(
            call, xyz, sigma, f32, self._image, float(bound),
            float(np.float32(self.max_bound)), D, H, W)
        # MMPose's in-place products, in the visibility's dtype
        weights = xp.multiply(vis, inside.view(bool))
        if self.use_different_joint_weights:
            jw = call.array(joint_weights, 'dataset_keypoint_weights')
            try:
                xp.multiply(weights, jw, out=weights, casting='unsafe')
            except ValueError as err:
                raise ValueError(f'dataset_keypoint_weights must broadcast to the weights '
                                 f'(K = {K}), got shape {tuple(jw.shape)}') from err
        return heat.reshape(B, K * D, H, W), weights

    # ---- decode -------------------------------------------------------------------
    def decode(self, heatmaps: Any, root_depth: Any, hand_type: Any):
        """Decode one sample: heatmaps (K, D, H, W) -> keypoints (1, K, 3), scores
        (1, K), rel_root_depth, hand_type (1, T) int."""
        call = open_call((heatmaps,), ('heatmaps',), self)
        heat, back = call.array(heatmaps, 'heatmaps'), call.result
        check_ndim(heat, 'heatmaps', (4,), '(K, D, H, W)')
        keypoints, scores = self._maximum(call, heat[None])
        rel_root_depth = (root_depth / self.root_heatmap_size - 0.5) * self.root_depth_bound
        hand = (np.asarray(hand_type) > 0).reshape(1, -1).astype(int)
        return back(keypoints[0]), back(scores[0]), rel_root_depth, hand

    def batch_decode(self, heatmaps: Any, root_depth: Any, hand_type: Any):
        """Decode B samples: heatmaps (B, K, D, H, W), root_depth (B, ...), hand_type
        (B, ...) -> keypoints (B, 1, K, 3), scores (B, 1, K), rel_root_depth (B, ...),
        hand_type (B, 1, T)."""
        call = open_call((heatmaps,), ('heatmaps',), self)
        heat, back = call.array(heatmaps, 'heatmaps'), call.result
        check_ndim(heat, 'heatmaps', (5,), '(B, K, D, H, W)')
        keypoints, scores = self._maximum(call, heat)
        depth = np.asarray(root_depth)
        rel_root_depth = (depth / self.root_heatmap_size - 0.5) * self.root_depth_bound
        hand = np.asarray(hand_type)
        hand = (hand > 0).reshape(hand.shape[0], 1, -1).astype(int)
        return back(keypoints), back(scores), rel_root_depth, hand

    def _maximum(self, call: Call, heat: np.ndarray):
        """(B, K, D, H, W) -> keypoints (B, 1, K, 3) float32, scores (B, 1, K)."""
        B, K, D, H, W = heat.shape
        if min(D, H, W) == 0:
            raise ValueError(f'heatmaps must have positive depth, height and width, '
                             f'got shape {tuple(heat.shape)}')
        xp = call.xp
        maps = heatmaps_f32(call, heat).reshape(B, K, D * H, W)
        locs2, vals = _calls.heatmap_maximum(call, maps)
        row = xp.asarray(locs2[..., 1], dtype=np.int64)
        locs = xp.stack([locs2[..., 0], xp.asarray(xp.remainder(row, H), dtype=np.float32),
                         xp.asarray(xp.floor_divide(row, H), dtype=np.float32)], axis=-1)
        # MMPose's order: -1 where the maximum is <= 0, then every location converted
        locs = xp.where(xp.less_equal(vals, 0.)[..., None], np.float32(-1), locs)
        depth = xp.asarray(xp.multiply(xp.subtract(xp.divide(locs[..., 2], self.depth_size),
                                                   0.5), self.heatmap3d_depth_bound),
                           dtype=np.float32)  # float32 as MMPose's in-place assignment
        xy = xp.multiply(locs[..., :2], xp.asarray(self.scale_factor))
        locs = xp.concatenate([xy, depth[..., None]], axis=-1)
        return locs[:, None], vals[:, None]

    @property
    def support_batch_decoding(self) -> bool:
        return False

    def _config(self):
        return dict(image_size=tuple(self.image_size.tolist()),
                    heatmap_size=tuple(self.heatmap_size.tolist()), sigma=self.sigma,
                    joint_indices=self.joint_indices, max_bound=self.max_bound)
