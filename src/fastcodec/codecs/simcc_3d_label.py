"""SimCC3DLabel: 3-D keypoints as three 1-D classification vectors (RTMW3D, MMPose's
projects/rtmpose3d)."""
from __future__ import annotations

from typing import Any, Optional, Tuple, Union

import numpy as np

from fastcodec import _calls
from fastcodec._arrays import Call, check_ndim, check_real, open_call, visibility, weights_from
from fastcodec.codecs.base import BaseKeypointCodec
from fastcodec.codecs.simcc_label import (_number, axis_sigmas, bin_inputs,
                                          simcc_dark_kernel_size)
from fastcodec.limits import MAX_BLUR_KERNEL
from fastcodec.registry import register


@register
class SimCC3DLabel(BaseKeypointCodec):
    """Keypoints as SimCC labels on x, y and depth: Gaussian vectors of
    ``round(w * ratio)``, ``round(h * ratio)`` and ``round(d * ratio)`` bins.

    Args (as MMPose's projects/rtmpose3d, 1.3.2 and later): input_size (w, h, d);
    sigma, a number or (sx, sy, sz); simcc_split_ratio; normalize; use_dark;
    root_index, an index or a tuple of them (their mean depth is the root depth);
    z_range (None: 2.1744869), the depth range mapped onto d.

    encode(keypoints (N, K, 2), keypoints_3d (N, K, 3) or None, keypoints_visible
    (N, K)) -> keypoint_x_labels (N, K, Wx), keypoint_y_labels, keypoint_z_labels float32,
    lifting_target (a copy of keypoints_3d, or [None]), root_z ((N,), or the dataset
    mean [5.14388] without keypoints_3d), keypoint_weights (N, K), weight_z (the same
    weights, or zeros without keypoints_3d), with_z_label [bool]. Without keypoints_3d
    every depth is 1 input unit, as in MMPose.
    decode(x (N, K, Wx) or (K, Wx), y, z likewise) -> keypoints (N, K, 3) float32 (x, y
    in input pixels, depth in z_range units relative to the root), keypoints_simcc
    (N, K, 3) (the same before the depth conversion), scores (N, K).
    batch_encode / batch_decode: a leading batch axis on every argument and result
    (root_z (B, N) or (B, 1); with_z_label (B, 1); lifting_target (B, N, K, 3) or None).
    """

    auxiliary_encode_keys = {'keypoints_3d'}
    label_mapping_table = dict(keypoint_x_labels='keypoint_x_labels',
                               keypoint_y_labels='keypoint_y_labels',
                               keypoint_z_labels='keypoint_z_labels',
                               keypoint_weights='keypoint_weights', weight_z='weight_z',
                               with_z_label='with_z_label')
    instance_mapping_table = dict(bbox='bboxes', bbox_score='bbox_scores',
                                  bbox_scale='bbox_scales', lifting_target='lifting_target',
                                  lifting_target_visible='lifting_target_visible',
                                  camera_param='camera_params', root_z='root_z')
    single_instance = False
    device_ready = True  # the cuda backend runs it on device arrays

    def __init__(self, input_size: Tuple[int, int, int],
                 sigma: Union[float, int, Tuple[float]] = 6.0, simcc_split_ratio: float = 2.0,
                 normalize: bool = True, use_dark: bool = False,
                 root_index: Union[int, Tuple[int]] = 0, z_range: Optional[int] = None) -> None:
        try:
            size = np.array(input_size)
        except Exception as err:  # noqa: BLE001
            raise TypeError(f'input_size must be (w, h, d), got {input_size!r}') from err
        if size.shape != (3,) or size.dtype.kind not in 'iuf':
            raise TypeError(f'input_size must be three numbers (w, h, d), got {input_size!r}')
        if not np.all(np.isfinite(size)) or np.any(size <= 0):
            raise ValueError(f'input_size must be positive, got {input_size!r}')
        sig = axis_sigmas(sigma, 3, '(sx, sy, sz)')
        ratio = _number(simcc_split_ratio, 'simcc_split_ratio')
        if ratio <= 0:
            raise ValueError(f'simcc_split_ratio must be positive, got {simcc_split_ratio!r}')
        roots = list(root_index) if isinstance(root_index, tuple) else [root_index]
        if not roots or any(isinstance(r, bool) or not isinstance(r, (int, np.integer))
                            for r in roots):
            raise TypeError(f'root_index must be an integer or a tuple of them, got {root_index!r}')
        if z_range is not None and _number(z_range, 'z_range') == 0:
            raise ValueError('z_range must be non-zero')
        self.input_size = input_size
        self.simcc_split_ratio = simcc_split_ratio
        self.normalize = normalize
        self.use_dark = use_dark
        self.sigma = sig
        self.root_index = roots
        # the dataset mean of the root depth and the default depth range (RTMW3D's
        # training-set statistics, as in MMPose)
        self.root_z = [5.14388]
        self.z_range = z_range if z_range is not None else 2.1744869
        self._bins = tuple(int(np.around(v * ratio)) for v in size)
        if min(self._bins) <= 0:
            raise ValueError(f'input_size * simcc_split_ratio must round to at least one bin, '
                             f'got {self._bins}')
        self._sigma = tuple(float(s) for s in sig)
        self._blur = tuple(simcc_dark_kernel_size(s) for s in self._sigma)
        if use_dark and max(self._blur) > MAX_BLUR_KERNEL:
            raise ValueError(f'use_dark supports sigma up to 38 (blur kernel <= 255), '
                             f'got sigma {sigma!r}')

    # ---- encode -------------------------------------------------------------------
    def encode(self, keypoints: Any, keypoints_3d: Optional[Any] = None,
               keypoints_visible: Optional[Any] = None) -> dict:
        """Encode one sample; see the class docstring."""
        call = open_call((keypoints, keypoints_3d, keypoints_visible),
                         ('keypoints', 'keypoints_3d', 'keypoints_visible'), self)
        kps, back = call.array(keypoints, 'keypoints'), call.result
        if kps.ndim == 0:  # MMPose's placeholder for a sample without keypoints
            x, y, z = np.zeros((3, 1), dtype=np.float32)
            weights = np.ones((1,))
            return dict(keypoint_x_labels=x, keypoint_y_labels=y, keypoint_z_labels=z,
                        lifting_target=[None], root_z=self.root_z, keypoint_weights=weights,
                        weight_z=np.zeros_like(weights), with_z_label=[False])
        check_ndim(kps, 'keypoints', (3,), '(N, K, 2)')
        vis = visibility(call, keypoints_visible, kps.shape[:2])
        k3d = None
        if keypoints_3d is not None:
            k3d = call.array(keypoints_3d, 'keypoints_3d')
            check_ndim(k3d, 'keypoints_3d', (3,), '(N, K, 3)')
            k3d = k3d[None]
        out = self._encode_batch3d(call, kps[None], k3d, vis[None])
        labels = {key: back(out[key][0]) for key in
                  ('keypoint_x_labels', 'keypoint_y_labels', 'keypoint_z_labels')}
        weights = out['keypoint_weights'][0]
        with_z = k3d is not None
        return dict(**labels,
                    lifting_target=back(out['lifting_target'][0]) if with_z else [None],
                    root_z=back(out['root_z'][0]) if with_z else self.root_z,
                    keypoint_weights=back(weights),
                    weight_z=back(weights if with_z else call.xp.zeros_like(weights)),
                    with_z_label=[with_z])

    def batch_encode(self, keypoints: Any, keypoints_3d: Optional[Any] = None,
                     keypoints_visible: Optional[Any] = None) -> dict:
        """Encode B samples: keypoints (B, N, K, 2), keypoints_3d (B, N, K, 3) or None,
        keypoints_visible (B, N, K); see the class docstring."""
        call = open_call((keypoints, keypoints_3d, keypoints_visible),
                         ('keypoints', 'keypoints_3d', 'keypoints_visible'), self)
        kps, back = call.array(keypoints, 'keypoints'), call.result
        check_ndim(kps, 'keypoints', (4,), '(B, N, K, 2)')
        vis = visibility(call, keypoints_visible, kps.shape[:3])
        k3d = None
        if keypoints_3d is not None:
            k3d = call.array(keypoints_3d, 'keypoints_3d')
            check_ndim(k3d, 'keypoints_3d', (4,), '(B, N, K, 3)')
        out = self._encode_batch3d(call, kps, k3d, vis)
        B = kps.shape[0]
        if k3d is None:
            out['weight_z'] = call.xp.zeros_like(out['keypoint_weights'])
            out['root_z'] = call.xp.tile(call.xp.asarray(np.asarray(self.root_z)), (B, 1))
        else:
            out['weight_z'] = out['keypoint_weights']
        out = {key: back(value) for key, value in out.items()}
        if k3d is None:
            out['lifting_target'] = None
        out['with_z_label'] = np.full((B, 1), k3d is not None)
        return out

    def _encode_batch3d(self, call: Call, kps: np.ndarray, k3d: Optional[np.ndarray],
                        vis: np.ndarray):
        """kps (B, N, K, 2), k3d (B, N, K, 3) or None, vis (B, N, K) -> labels, weights
        and, with k3d, lifting_target and root_z (B, N)."""
        check_real(vis, 'keypoints_visible')
        if kps.shape[-1] != 2:
            raise ValueError(f'keypoints must hold (x, y) pairs in their last axis, '
                             f'got shape {tuple(kps.shape)}')
        out = {}
        if k3d is not None:
            if k3d.shape != kps.shape[:-1] + (3,):
                raise ValueError(f'keypoints_3d must have shape {kps.shape[:-1] + (3,)} to '
                                 f'match keypoints, got {tuple(k3d.shape)}')
            K = k3d.shape[2]
            if any(not -K <= r < K for r in self.root_index):
                raise ValueError(f'root_index {self.root_index} out of range for K = {K}')
            xp = call.xp
            out['lifting_target'] = xp.copy(k3d)
            # MMPose's steps: the mean root depth per instance, subtracted, then scaled
            # into input units (in the keypoints_3d's dtype; keypoints_3d is not modified)
            root_z = xp.mean(k3d[..., self.root_index, 2], axis=-1)
            rel = xp.subtract(k3d[..., 2], root_z[..., None])
            depth = xp.multiply(xp.add(xp.divide(rel, self.z_range), 1),
                                self.input_size[2] / 2)
            out['root_z'] = root_z
        else:
            depth = call.xp.ones(kps.shape[:-1], dtype=np.float32)
        xp = call.xp
        xyz = xp.concatenate([kps, depth[..., None]], axis=-1)
        xyz64, ratio, f32 = bin_inputs(call, xp.ascontiguousarray(xyz, dtype=np.float64),
                                       xyz.dtype, self.simcc_split_ratio)
        tx, ty, tz, inside = _calls.simcc3d_encode(
            call, xyz64, xp.ascontiguousarray(vis, dtype=np.float64), self._sigma, ratio, f32,
            bool(self.normalize), self._bins)
        out.update(keypoint_x_labels=tx, keypoint_y_labels=ty, keypoint_z_labels=tz,
                   keypoint_weights=weights_from(call, vis, inside))
        return out

    # ---- decode -------------------------------------------------------------------
    def decode(self, x: Any, y: Any, z: Any):
        """Decode one sample: x (N, K, Wx) or (K, Wx), y and z likewise -> keypoints
        (N, K, 3), keypoints_simcc (N, K, 3), scores (N, K) (N = 1 for 2-D input)."""
        call = open_call((x, y, z), ('x', 'y', 'z'), self)
        sx = call.array(x, 'x')
        rows = self._rows(call, sx, y, z, (2, 3), '(K, W) or (N, K, W)')
        lead = sx.shape[:-1] if sx.ndim == 3 else (1,) + sx.shape[:-1]
        return tuple(call.result(v) for v in self._decode_rows(call, *rows, lead))

    def batch_decode(self, x: Any, y: Any, z: Any):
        """Decode B samples: x (B, K, Wx) or (B, N, K, Wx), y and z likewise ->
        keypoints (B, N, K, 3), keypoints_simcc (B, N, K, 3), scores (B, N, K) (N = 1
        for the 3-D form)."""
        call = open_call((x, y, z), ('x', 'y', 'z'), self)
        sx = call.array(x, 'x')
        rows = self._rows(call, sx, y, z, (3, 4), '(B, K, W) or (B, N, K, W)')
        lead = sx.shape[:-1] if sx.ndim == 4 else (sx.shape[0], 1, sx.shape[1])
        return tuple(call.result(v) for v in self._decode_rows(call, *rows, lead))

    @staticmethod
    def _rows(call: Call, sx: np.ndarray, y: Any, z: Any, ndims, layout: str):
        sy, sz = call.array(y, 'y'), call.array(z, 'z')
        for a, name in ((sx, 'x'), (sy, 'y'), (sz, 'z')):
            check_ndim(a, name, ndims, layout)
            if a.shape[:-1] != sx.shape[:-1]:
                raise ValueError(f'x, y and z must agree in all but the last axis, got '
                                 f'{tuple(sx.shape)}, {tuple(sy.shape)} and {tuple(sz.shape)}')
            if a.shape[-1] == 0:
                raise ValueError(f'{name} must be non-empty vectors, got {tuple(a.shape)}')
        return tuple(call.xp.ascontiguousarray(a, dtype=np.float32).reshape(-1, a.shape[-1])
                     for a in (sx, sy, sz))

    def _decode_rows(self, call: Call, rx: np.ndarray, ry: np.ndarray, rz: np.ndarray, lead):
        xp = call.xp
        xy, vals = _calls.simcc_maximum(call, rx, ry)
        # the depth's argmax; the score is the smaller of the x and y maxima only, and
        # all three coordinates are -1 where it is <= 0 (MMPose's get_simcc_maximum)
        locs = xp.concatenate([xy, xp.argmax(rz, axis=1)[:, None]], axis=1, dtype=np.float32)
        xp.copyto(locs, np.float32(-1), where=xp.less_equal(vals, 0.)[:, None])
        if self.use_dark:
            for axis, rows in enumerate((rx, ry, rz)):
                xp.copyto(locs[:, axis], _calls.simcc_refine_dark(
                    call, xp.ascontiguousarray(locs[:, axis]), rows, self._blur[axis]))
        # MMPose's in-place steps on the float32 locations
        xp.divide(locs, self.simcc_split_ratio, out=locs)
        simcc = xp.copy(locs)
        z = locs[:, 2]
        xp.divide(z, self.input_size[-1] / 2, out=z)
        xp.subtract(z, 1, out=z)
        xp.multiply(z, self.z_range, out=z)
        return (locs.reshape(tuple(lead) + (3,)), simcc.reshape(tuple(lead) + (3,)),
                vals.reshape(lead))

    @property
    def support_batch_decoding(self) -> bool:
        return False

    def _config(self):
        return dict(input_size=self.input_size, sigma=tuple(self._sigma),
                    simcc_split_ratio=self.simcc_split_ratio, normalize=self.normalize,
                    use_dark=self.use_dark, root_index=self.root_index, z_range=self.z_range)
