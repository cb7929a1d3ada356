"""MotionBERTLabel: 2D keypoint sequences in [-1, 1] image units and a 3D target in
image coordinates (camera projection, scale factor), for MotionBERT.

numpy and torch-CPU inputs of float32 / float64 go through one compiled pass
(the ``motionbert_encode`` kernel: csrc/include/fastcodec/lifting.h, C++ or Numba),
which reproduces numpy's rounding step by step; reproducing it with numpy takes ~20
memory-bound passes over the batch, about half in float64. Device arrays (CuPy, torch
CUDA) of those dtypes run the same functions as CUDA kernels (``_encode_device``).
Everything else (integer or float16 keypoints / targets on the host) takes the
vectorised numpy / torch path, whose numbers the kernel equals bit for bit
(tests/lifting/test_lifting_parity.py).
"""
from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np

from fastcodec import _calls
from fastcodec._arrays import open_call
from fastcodec.codecs import _lifting
from fastcodec.codecs._lifting import (F32, F64, NUMPY, Camera, Inputs, LiftingCodec, _size,
                                       arith, as_float, assign, batch_camera, broadcast_check,
                                       check_num_keypoints, check_root_index, concat_visibility,
                                       equal, fast_float, fast_real, fast_visible,
                                       finite_keypoint_labels, finite_sample, first, float_of,
                                       is_device, isfinite, logical_and_not, logical_or,
                                       np_camera_pairs, np_ones, np_scalar, np_target_weights,
                                       per_sample, promote, sample_camera, shape_str,
                                       target_masks, target_weights, zero_where)
from fastcodec.registry import register

_KERNEL_DTYPES = (F32, F64)
_FAST_WH = 'ilqd' + 'f'    # decode's fast path: w, h dtypes (float32 with float64 keypoints)


def _host(x):
    """A numpy view of a CPU tensor (zero-copy), or x as a numpy array."""
    return x.numpy() if hasattr(x, 'numpy') and not isinstance(x, np.ndarray) else np.asarray(x)


def _to_pixel(X, u, z, focal, centre, dtype, out=None):
    """One coordinate of MMPose's ``camera_to_pixel``: ``u / z`` in ``dtype``, then
    ``*= focal`` and ``+= centre`` (each stored back in ``dtype``). u, z: (B, ...)
    planes; focal, centre: (B,) reshaped to broadcast; ``out`` may be ``u``."""
    shape = (u.shape[0],) + (1,) * (u.ndim - 1)
    out = X.binop('divide', u, z, X.empty(u.shape, dtype) if out is None else out)
    X.binop('multiply', out, focal.reshape(shape), out)
    return X.binop('add', out, centre.reshape(shape), out)


def _camera_to_image(X, planes, root_index: int, f, c, dtype):
    """MMPose's ``camera_to_image_coord`` batched on coordinate planes: planes
    (x, y, z) each (B, T, K) in camera space (overwritten), f and c (B, 2) or
    (B, 2, 1) -> (image-space planes (x, y, depth), factor (B, T))."""
    B = f.shape[0]
    fdt, cdt = float_of(X.dtype(f)), float_of(X.dtype(c))
    f2 = X.cast(f, fdt).reshape(B, 2) / 1000.
    c2 = X.cast(c, cdt).reshape(B, 2) / 1000.
    x, y, z = planes
    rx, rz = x[:, :, root_index], z[:, :, root_index]                 # (B, T)
    # The x of the root shifted by -1 and +1 (MMPose also projects y; it is unused).
    tl = _to_pixel(X, X.binop('subtract', rx, 1.0, X.empty(rx.shape, dtype)), rz,
                   f2[:, 0], c2[:, 0], dtype)
    br = _to_pixel(X, X.binop('add', rx, 1.0, X.empty(rx.shape, dtype)), rz,
                   f2[:, 0], c2[:, 0], dtype)
    span = br - tl + 0.001                                             # (B, T)
    ratio = span / 2.0
    factor = X.rdiv(2.0, span)
    # In place: x and y are read only here, z last.
    px = _to_pixel(X, x, z, f2[:, 0], c2[:, 0], dtype, out=x)
    py = _to_pixel(X, y, z, f2[:, 1], c2[:, 1], dtype, out=y)
    dz = X.binop('subtract', z, X.copy(z[:, :, root_index:root_index + 1]), z)
    depth = X.binop('multiply', dz, ratio[..., None], dz)
    return [px, py, depth], factor


@register
class MotionBERTLabel(LiftingCodec):
    """MotionBERT's keypoint labels and image-space 3D target.

    Args (MMPose 1.3.2's):
        num_keypoints: K.
        root_index: the root keypoint (an int).
        remove_root, save_index: accepted and stored; unused by MMPose's MotionBERTLabel.
        concat_vis: append the visibility to the keypoint labels.
        rootrel: ``decode`` zeroes keypoint 0 (as MMPose, index 0, not root_index).
        mode: 'train' (target scaled by the image width / 1000) or 'test' (target
            multiplied by the factor); case-insensitive.

    encode(keypoints (T, K, D), keypoints_visible (T, K) or None,
           lifting_target (T', K, C) (C = 3 with a camera f / c), lifting_target_visible
           (T', K) or None, camera_param dict with w, h (and f, c: (2,) or (2, 1)),
           factor (T,) or (T, 1) or None) -> dict:
        keypoint_labels (T, K, D'): x, y mapped by ``v / w * 2 - (1, h / w)``;
        keypoint_labels_visible (T, K); lifting_target_label (T', K, C) (projected to
        the image with f / c, train-scaled, root-relative, test: times the factor);
        lifting_target_weight (T', K) float32; lifting_target (= the label);
        lifting_target_visible (T', K); factor (T, 1): the given factor unless its
        first entry is 0, else the projection's (or 4).
    decode(encoded (T, K, C), w (T,) or None, h (T,) or None, factor (T,) or None) ->
        keypoints (T, K, C) in metres, root-relative, scores (T, K) float32 ones.

    batch_encode / batch_decode take the same arrays with a leading batch axis B
    (``camera_param`` as VideoPoseLifting's: a dict of (B,) / (B, 2) arrays or a
    sequence of B dicts; factor (B, T) or (B, T, 1); decode's w, h, factor (B, T)).
    A batch's factor dtype is the promotion of the given and computed factors' dtypes.
    """

    auxiliary_encode_keys = {'lifting_target', 'lifting_target_visible', 'camera_param',
                             'factor'}

    def __init__(self,
                 num_keypoints: int,
                 root_index: int = 0,
                 remove_root: bool = False,
                 save_index: bool = False,
                 concat_vis: bool = False,
                 rootrel: bool = False,
                 mode: str = 'test') -> None:
        self.num_keypoints = check_num_keypoints(num_keypoints)
        self.root_index = check_root_index(root_index, allow_list=False)[0]
        self.remove_root = remove_root
        self.save_index = save_index
        self.concat_vis = concat_vis
        self.rootrel = rootrel
        if not isinstance(mode, str) or mode.lower() not in ('train', 'test'):
            raise ValueError(f'Unsupported mode {mode!r}, mode should be one of '
                             '("train", "test").')
        self.mode = mode.lower()

    # ---- encode ------------------------------------------------------------------------
    def encode(self,
               keypoints: np.ndarray,
               keypoints_visible: Optional[np.ndarray] = None,
               lifting_target: Optional[np.ndarray] = None,
               lifting_target_visible: Optional[np.ndarray] = None,
               camera_param: Optional[dict] = None,
               factor: Optional[np.ndarray] = None) -> dict:
        """One sample; shapes in the class docstring."""
        if _lifting.SAMPLE_FAST_PATH and fast_float(keypoints) and fast_float(lifting_target) \
                and type(camera_param) is dict:
            encoded = self._encode_sample(keypoints, keypoints_visible, lifting_target,
                                          lifting_target_visible, camera_param, factor)
            if encoded is not None:
                return encoded
        inputs = Inputs(keypoints, keypoints_visible, lifting_target, lifting_target_visible,
                        False, self.root_index + 1, self)
        if factor is not None:
            factor = inputs.X.asarray(factor, 'factor')[None]
        return first(self._encode(inputs, sample_camera(camera_param), factor, 'factor'))

    def _encode_sample(self, kp, vis, lt, ltv, camera_param: dict, factor) -> Optional[dict]:
        """encode's fast path (``_lifting.SAMPLE_FAST_PATH``) for numpy float32 /
        float64 keypoints (T, K, D) and target (T', K, C), a camera dict with real
        scalars w, h, a factor None or (T'',) / (T'', 1) that broadcasts: the checks
        of ``_encode`` made cheap (anything unusual: None, and ``_encode`` decides),
        then the same compiled pass (``_encode_kernel``) with B = 1."""
        if kp.ndim != 3 or lt.ndim != 3 or kp.size == 0 or lt.size == 0:
            return None
        N, K, D = kp.shape
        T, KT, C = lt.shape
        if D < 2 or self.root_index >= KT or not fast_visible(vis, (N, K)) or \
                not fast_visible(ltv, (T, KT)):
            return None
        w, h = np_scalar(camera_param.get('w')), np_scalar(camera_param.get('h'))
        if w is None or h is None or not np_camera_pairs(camera_param):
            return None
        project = 'f' in camera_param and 'c' in camera_param
        train = self.mode == 'train'
        if (project or train) and C != 3:
            return None
        computed_len = T if project else N
        use_given = first_zero = None
        fac_len = computed_len
        if factor is not None:
            if not fast_real(factor) or not factor.shape or factor.shape[0] == 0 or \
                    factor.shape not in ((factor.shape[0],), (factor.shape[0], 1)):
                return None
            factor = factor[None]
            first_zero = factor.reshape(1, -1)[:, 0] == 0
            use_given = not bool(first_zero[0])
            if use_given:
                fac_len = factor.shape[1]
        if not train and fac_len != T and fac_len != 1:
            return None      # the factor would broadcast the label larger: _encode says so
        visible_given = ltv is not None
        if vis is None:
            vis = np_ones((N, K))
        cam = Camera(np.array((w,)), np.array((h,)),
                     camera_param['f'][None] if project else None,
                     camera_param['c'][None] if project else None, {})
        labels, label, computed, weight, finite = self._encode_kernel(
            NUMPY, kp[None], vis[None], lt[None], None if ltv is None else ltv[None], cam,
            factor, use_given, first_zero)
        if weight is None:
            weight, _ = np_target_weights(lt, ltv, with_trajectory=False)
            if ltv is None:
                ltv = weight
        else:
            weight = weight[0]
        label = label[0]
        if use_given:
            fac = factor[0] if factor.ndim == 3 else factor[0][:, None]
        else:
            fac = computed[0][:, None]
        encoded = dict(keypoint_labels=labels[0], keypoint_labels_visible=vis,
                       lifting_target_label=label, lifting_target_weight=weight,
                       lifting_target=label, lifting_target_visible=ltv, factor=fac)
        return encoded if finite else finite_sample(encoded, kp, lt, self._finite,
                                                    visible_given)

    def batch_encode(self,
                     keypoints: Any,
                     keypoints_visible: Optional[Any] = None,
                     lifting_target: Optional[Any] = None,
                     lifting_target_visible: Optional[Any] = None,
                     camera_param: Optional[Any] = None,
                     factor: Optional[Any] = None) -> dict:
        """B samples: keypoints (B, T, K, D), keypoints_visible (B, T, K),
        lifting_target (B, T', K, C), lifting_target_visible (B, T', K), camera_param
        batched, factor (B, T) or (B, T, 1); returns ``encode``'s arrays with a
        leading B."""
        inputs = Inputs(keypoints, keypoints_visible, lifting_target, lifting_target_visible,
                        True, self.root_index + 1, self)
        if factor is not None:
            factor = inputs.X.asarray(factor, 'factor')
        return self._encode(inputs, camera_param, factor, 'factor')

    def _encode(self, inputs: Inputs, camera_param, factor, fname: str) -> dict:
        X, kp, vis, lt = inputs.X, inputs.keypoints, inputs.visible, inputs.target
        B, N, K, D = kp.shape
        C = lt.shape[3]
        r = self.root_index
        if D < 2:
            raise ValueError(f'keypoints must hold (x, y) in the last axis, got shape '
                             f'{shape_str(kp.shape)}')
        cam = batch_camera(X, camera_param, B, False)
        project = cam.f is not None
        if (project or self.mode == 'train') and C != 3:
            raise ValueError(f'lifting_target must hold (x, y, z) (C = 3) for the camera '
                             f'projection and train mode, got shape {shape_str(lt.shape)}')
        if factor is not None and (factor.ndim not in (2, 3) or factor.shape[0] != B or
                                   (factor.ndim == 3 and factor.shape[2] != 1) or
                                   factor.shape[1] == 0):
            layout = '(B, T) or (B, T, 1)' if inputs.batched else '(T,) or (T, 1)'
            raise ValueError(f'{fname} must have shape {layout}, got '
                             f'{shape_str(factor.shape[1 - inputs.batched:])}')
        # Which factor each sample takes (MMPose: the given one unless its first entry
        # is 0), decided before computing so that shape errors come first.
        computed_len = lt.shape[1] if project else N
        use_given = None
        if factor is not None:
            first_zero = equal(X, factor.reshape(B, -1)[:, 0], 0)
            if not inputs.batched:     # on a device: one read of the first entry
                use_given = not bool(first_zero[0])
            elif factor.shape[1] != computed_len:
                if bool(first_zero.any()):     # on a device: read for this error only
                    raise ValueError(
                        f'{fname}: a sample whose factor starts with 0 takes the computed '
                        f'factor ({computed_len} frames), which cannot be batched with '
                        f'given factors of {factor.shape[1]} frames')
                use_given = True
        fac_len = factor.shape[1] if use_given or (use_given is None and factor is not None) \
            else computed_len
        if self.mode == 'test' and broadcast_check(
                lt.shape, (B, fac_len, 1, 1), 'lifting_target_label * factor') != tuple(lt.shape):
            raise ValueError(f'the factor ({fac_len} frames) would broadcast '
                             f'lifting_target_label {shape_str(lt.shape[1:])} larger')
        if vis is None:
            vis = X.ones((B, N, K))
        device = is_device(X)
        if device and not self._kernel_applies(X, kp, lt):
            raise TypeError(f'MotionBERTLabel on a device takes float32 / float64 keypoints and '
                            f'targets (integer targets too), got {X.dtype(kp)} and {X.dtype(lt)}')
        if self._kernel_applies(X, kp, lt):
            encode = self._encode_device if device else self._encode_kernel
            labels, label, computed, weight, finite = encode(
                X, kp, vis, lt, inputs.target_visible, cam, factor, use_given,
                first_zero if factor is not None else None)
            ltv = inputs.target_visible
            if weight is None:
                ltv, weight, _ = target_weights(X, lt, ltv, with_trajectory=False)
            fac = self._factor(X, computed, factor, use_given,
                               first_zero if factor is not None else None)
            encoded = dict(keypoint_labels=labels, keypoint_labels_visible=vis,
                           lifting_target_label=label, lifting_target_weight=weight,
                           lifting_target=label, lifting_target_visible=ltv, factor=fac)
            if not finite:   # the kernel saw a NaN or Inf (or a device kernel did not say)
                self._finite(X, encoded, kp, lt, inputs.target_visible is not None)
            return X.results(encoded)

        ltv, weight, _ = target_weights(X, lt, inputs.target_visible, with_trajectory=False)

        # Work on coordinate planes (B, T, K) written into channel views: numpy
        # broadcasts (B, 1, 1, 2)-shaped operands slowly.
        wf, hf = X.cast(cam.w, F64), X.cast(cam.h, F64)
        offsets = [X.ones((B,), F64), hf / wf]                         # (1, h / w)

        # 2D keypoints: v / w * 2 - (1, h / w) on x, y, stored in the keypoints' dtype.
        kdt = X.dtype(kp)
        # With concat_vis and no dtype promotion, write straight into the concatenation.
        direct = self.concat_vis and promote(kdt, X.dtype(vis)) == kdt
        labels = X.empty(kp.shape[:-1] + (D + direct,), kdt)
        if kdt.kind == 'f':
            # kp / w * 2 == kp / (w / 2) bit for bit (scaling by 2 commutes with rounding),
            # and x - 1 in float32 equals MMPose's float64 x - 1 rounded to float32.
            half_w = (X.cast(wf, kdt) / 2).reshape(B, 1, 1)
            for j in range(2):      # contiguous temporaries, one strided write each
                tmp = X.binop('divide', kp[..., j], half_w, X.empty((B, N, K), kdt))
                X.binop('subtract', tmp, 1 if j == 0 else offsets[1].reshape(B, 1, 1),
                        labels[..., j])
        else:
            wk = wf.reshape(B, 1, 1)
            for j in range(2):
                tmp = X.binop('divide', kp[..., j], wk, X.empty((B, N, K), F64))
                X.binop('multiply', tmp, 2, tmp)
                X.binop('subtract', tmp, offsets[j].reshape(B, 1, 1), labels[..., j])
        for j in range(2, D):
            labels[..., j] = kp[..., j]
        if direct:
            labels[..., D] = vis if vis.ndim == 3 else vis[..., 0]
        elif self.concat_vis:
            labels = concat_visibility(X, labels, vis)

        # 3D target: image coordinates, train scaling, root-relative, test factor.
        label = as_float(X, lt)
        ldt = X.dtype(label)
        planes = X.planes(label)
        if project:
            planes, computed = _camera_to_image(X, planes, r, cam.f, cam.c, ldt)
        else:
            computed = X.ones((B, N), F32) * 4
        if self.mode == 'train':
            w1, h1 = wf / 1000, hf / 1000
            half_w1 = (X.cast(w1, ldt) / 2).reshape(B, 1, 1)     # / w * 2, as above
            for j, p in enumerate(planes):          # our own copies: in place
                X.binop('divide', p, half_w1, p)
                if j == 0:
                    X.binop('subtract', p, 1, p)
                elif j == 1:
                    X.binop('subtract', p, (h1 / w1).reshape(B, 1, 1), p)

        fac = self._factor(X, computed, factor, use_given,
                           first_zero if factor is not None else None)

        out = X.empty(label.shape, ldt)
        for j in range(C):
            # label - label[..., root], then (test) *= factor, into channel j.
            if self.mode == 'test':
                # (the root column copied first: numpy buffers overlapping operands)
                p = X.binop('subtract', planes[j], X.copy(planes[j][:, :, r:r + 1]), planes[j])
                X.binop('multiply', p, fac, out[..., j])
            else:
                X.binop('subtract', planes[j], planes[j][:, :, r:r + 1], out[..., j])
        label = out

        encoded = dict(keypoint_labels=labels, keypoint_labels_visible=vis,
                       lifting_target_label=label, lifting_target_weight=weight,
                       lifting_target=label, lifting_target_visible=ltv, factor=fac)
        self._finite(X, encoded, kp, lt, inputs.target_visible is not None)
        return encoded

    def _finite(self, X, encoded: dict, kp, lt, visible_given: bool) -> None:
        """Finite targets for non-finite keypoints (``_lifting.non_finite``): a
        non-finite target keypoint, or every keypoint of a frame with a non-finite root
        (its depth, and with a camera its scale factor, is every label's), gets label
        and weight 0 (and target visibility 0 where it is the weight), a projected
        factor made non-finite by the root 0; a non-finite 2D keypoint gets labels
        (the visibility channel included) and visibility 0."""
        finite_keypoint_labels(X, encoded, kp, 'keypoint_labels', 'keypoint_labels_visible',
                               False)
        masks = target_masks(X, lt, [self.root_index])
        if masks is None:
            return
        bad, root = masks
        bad = logical_or(X, bad, root[:, :, None])
        label = zero_where(X, bad, encoded['lifting_target_label'])
        weight = zero_where(X, bad, encoded['lifting_target_weight'])
        encoded.update(lifting_target_label=label, lifting_target=label,
                       lifting_target_weight=weight)
        if not visible_given:                 # MMPose's target visibility is the weight
            encoded['lifting_target_visible'] = weight
        fac = encoded['factor']                                   # (B, T, 1)
        if fac.shape[1] == root.shape[1] and X.dtype(fac).kind == 'f':
            encoded['factor'] = zero_where(X, logical_and_not(X, root[:, :, None],
                                                               isfinite(X, fac)), fac)

    @staticmethod
    def _factor(X, computed, factor, use_given, first_zero):
        """The returned factor (B, T, 1): the computed one (B, T), the given one, or per
        sample the computed one where the given one starts with 0."""
        fac = computed[..., None]
        if factor is None:
            return fac
        given = factor if factor.ndim == 3 else factor[..., None]
        if use_given is not None:
            # One sample (MMPose's test picks one array, dtype and all), or a batch
            # whose factors cannot mix with the computed ones.
            return given if use_given else fac
        fdt = promote(X.dtype(given), X.dtype(fac))
        B = computed.shape[0]
        return X.where(first_zero.reshape(B, 1, 1), X.cast(fac, fdt), X.cast(given, fdt))

    @staticmethod
    def _kernel_applies(X, kp, lt) -> bool:
        """The compiled pass takes numpy / torch-CPU float32 and float64 keypoints and
        targets (integer targets become float64 first, as on the numpy path). Torch on
        other devices, integer or float16 keypoints and float16 targets take the
        vectorised path (the kernel's dtype-by-dtype rounding covers float32 / float64
        only)."""
        if X.is_torch and X.device.type != 'cpu':
            return False
        return X.dtype(kp) in _KERNEL_DTYPES and float_of(X.dtype(lt)) in _KERNEL_DTYPES

    def _encode_kernel(self, X, kp, vis, lt, ltv, cam, factor, use_given, first_zero):
        """keypoint labels, target label, computed factor (B, T) and, for a float32 /
        float64 target visibility, the target weights (else None) in one compiled pass
        over the batch, and whether keypoints and target were all finite; the
        per-sample constants are computed here with numpy, in the dtypes of the
        vectorised path, and handed over as exact float64 values."""
        kp_n = np.ascontiguousarray(_host(kp))
        lt_n = np.ascontiguousarray(_host(as_float(X, lt)))
        B, N, K, D = kp_n.shape
        kdt, ldt = kp_n.dtype, lt_n.dtype
        project = cam.f is not None
        wf, hf = _host(cam.w).astype(F64), _host(cam.h).astype(F64)
        params = np.zeros((B, 8), F64)
        params[:, 0] = wf.astype(kdt) / 2                   # kp / w * 2 == kp / (w / 2)
        params[:, 1] = hf / wf
        w1, h1 = wf / 1000, hf / 1000
        params[:, 2] = w1.astype(ldt) / 2
        params[:, 3] = h1 / w1
        if project:
            for col, value in ((4, cam.f), (6, cam.c)):
                v = _host(value)
                params[:, col:col + 2] = v.astype(float_of(v.dtype)).reshape(B, 2) / 1000.
        # Test mode: which samples multiply by the given factor.
        gf, take = np.zeros((B, 1), F64), np.zeros(B, np.uint8)
        if self.mode == 'test' and factor is not None and use_given is not False:
            gf = np.ascontiguousarray(_host(factor).reshape(B, factor.shape[1]), F64)
            take = np.ones(B, np.uint8) if use_given else ~_host(first_zero).astype(bool)
        vis_n = _host(vis)
        direct = self.concat_vis and promote(kdt, vis_n.dtype) == kdt
        vis_k = np.ascontiguousarray(vis_n.reshape(B, N, K), kdt) if direct else None
        tv = None if ltv is None else _host(ltv)
        if tv is not None and tv.dtype not in _KERNEL_DTYPES:
            tv = None                                   # weights by target_weights
        labels, label, computed, weight, finite = _calls.motionbert_encode(
            open_call((kp_n,), ('keypoints',)), kp_n, vis_k, lt_n, params, gf,
            take.astype(np.uint8),
            self.root_index, project, self.mode == 'train',
            None if tv is None else np.ascontiguousarray(tv).reshape(tv.shape[:3]))
        if self.concat_vis and not direct:
            labels = concat_visibility(NUMPY, labels, vis_n)
        computed = X.wrap(computed) if project else X.ones((B, N), F32) * 4
        if weight is not None:
            weight = X.wrap(weight.reshape(tv.shape))
        return X.wrap(labels), X.wrap(label), computed, weight, finite

    def _encode_device(self, X, kp, vis, lt, ltv, cam, factor, use_given, first_zero):
        """``_encode_kernel`` on a device (X a ``DeviceNS``): the per-sample constants
        computed there with ``Call.xp`` in the same dtypes (no host round trip), the
        kernels on the call's backend, results left in the call's namespace (the caller
        wraps them). The finiteness is not read back (False: the masks apply)."""
        xp = X.xp
        kp = xp.ascontiguousarray(kp)
        lt = xp.ascontiguousarray(as_float(X, lt))
        B, N, K, D = kp.shape
        kdt, ldt = kp.dtype, lt.dtype
        project = cam.f is not None
        wf, hf = X.cast(cam.w, F64), X.cast(cam.h, F64)
        w1, h1 = xp.divide(wf, 1000), xp.divide(hf, 1000)
        # the columns of the host's params, in its dtypes (MotionBertSample's layout)
        columns = [xp.divide(X.cast(wf, kdt), 2), xp.divide(hf, wf),
                   xp.divide(X.cast(w1, ldt), 2), xp.divide(h1, w1)]
        for value in ((cam.f, cam.c) if project else ()):
            v = X.cast(value, float_of(X.dtype(value))).reshape(B, 2)
            v = xp.divide(v, 1000.)
            columns += [v[:, 0], v[:, 1]]
        columns += [xp.zeros((B,), F64)] * (8 - len(columns))
        params = xp.stack([X.cast(c, F64) for c in columns], axis=1)
        if self.mode == 'test' and factor is not None and use_given is not False:
            gf = xp.ascontiguousarray(factor.reshape(B, factor.shape[1]), dtype=F64)
            take = xp.ones((B,), np.uint8) if use_given else \
                xp.asarray(xp.logical_not(first_zero), dtype=np.uint8)
        else:
            gf, take = xp.zeros((B, 1), F64), xp.zeros((B,), np.uint8)
        direct = self.concat_vis and promote(kdt, X.dtype(vis)) == kdt
        vis_k = xp.ascontiguousarray(vis.reshape(B, N, K), dtype=kdt) if direct else None
        tv = ltv if ltv is not None and X.dtype(ltv) in _KERNEL_DTYPES else None
        labels, label, computed, weight, _ = _calls.motionbert_encode(
            X.call, kp, vis_k, lt, params, gf, take, self.root_index, project,
            self.mode == 'train',
            None if tv is None else xp.ascontiguousarray(tv).reshape(tv.shape[:3]))
        if self.concat_vis and not direct:
            labels = concat_visibility(X, labels, vis)
        if not project:
            computed = X.full((B, N), 4, F32)
        if weight is not None:
            weight = weight.reshape(tv.shape)
        return labels, label, computed, weight, False

    # ---- decode ------------------------------------------------------------------------
    def decode(self, encoded: np.ndarray, w: Optional[np.ndarray] = None,
               h: Optional[np.ndarray] = None, factor: Optional[np.ndarray] = None
               ) -> Tuple[np.ndarray, np.ndarray]:
        """encoded (T, K, C), w and h (T,) or (T, 1), factor (T,) -> keypoints
        (T, K, C), scores (T, K) float32."""
        if _lifting.SAMPLE_FAST_PATH and fast_float(encoded):
            out = self._decode_sample(encoded, w, h, factor)
            if out is not None:
                return out
        keypoints, scores = self._decode(encoded, w, h, factor, False)
        return keypoints[0], scores[0]

    def _decode_sample(self, encoded, w, h, factor):
        """decode's numpy fast path (``_lifting.SAMPLE_FAST_PATH``) for encoded (T, K, C)
        float32 / float64, w and h None or (T,) / (T, 1) int32 / int64 / float64 (or
        float32 with float64 encoded), factor None or (T, 1) (or (1,)); None where
        ``_decode`` must decide (other shapes and dtypes, bad input).

        MMPose's steps, bit for bit, on a (K, C, T) layout (numpy is slow on small
        trailing axes; here the root row and the per-frame (C, T) operands broadcast over
        the leading axis): x, y: ``(v + (1, h / w)) * w / 2`` in float64, z:
        ``v * w / 2`` in float64 (the fast path takes only w dtypes for which MMPose's
        z step is float64 too: one rounding, so ``v + -0.0`` changes nothing; ``* 0.5``
        is ``/ 2`` exactly), both stored in the keypoints' dtype; then ``*= factor``,
        ``-= root``, ``/= 1000.``."""
        if encoded.ndim != 3:
            return None
        N, K, C = encoded.shape
        r = self.root_index
        if r >= K or encoded.size == 0:
            return None
        if w is not None and type(w) is np.ndarray and w.size == 0:
            w = None
        if factor is not None and type(factor) is np.ndarray and factor.size == 0:
            factor = None
        if factor is not None and not (fast_real(factor) and (
                factor.shape == (N, 1) or (N == 1 and factor.shape == (1,)))):
            return None
        ldt = encoded.dtype
        src = encoded.transpose(1, 2, 0)                       # (K, C, T) view
        if w is None:
            kp = src.copy()
            if self.rootrel:
                kp[0] = 0
        else:
            if type(w) is not np.ndarray or type(h) is not np.ndarray or \
                    w.shape != h.shape or w.dtype.char not in _FAST_WH or \
                    h.dtype.char not in _FAST_WH or C < 2 or \
                    not (w.shape == (N,) or w.shape == (N, 1)) or \
                    (ldt.char == 'f' and w.dtype.char == 'f'):
                return None
            w = w.reshape(N)
            add = np.empty((C, N), F64)                        # (1, h / w, -0.0, ...)
            add[0] = 1.0
            np.divide(h.reshape(N), w, out=add[1])
            add[2:] = -0.0
            t = src + add                                      # float64
            if self.rootrel:
                np.add(add, 0.0, out=t[0])                     # (0 + trans)
            t *= w
            t *= 0.5
            kp = t.astype(ldt)
        if factor is not None:
            kp *= factor.reshape(N)
        kp -= kp[r].copy()
        out = np.empty((N, K, C), ldt)
        np.divide(kp, 1000., out=out.transpose(1, 2, 0))
        return out, np_ones((N, K))

    def batch_decode(self, batch_encoded: Any, w: Optional[Any] = None,
                     h: Optional[Any] = None, factor: Optional[Any] = None
                     ) -> Tuple[Any, Any]:
        """batch_encoded (B, T, K, C), w and h (B, T) or (B, T, 1), factor (B, T) ->
        keypoints (B, T, K, C), scores (B, T, K) float32."""
        return self._decode(batch_encoded, w, h, factor, True)

    def _decode(self, encoded, w, h, factor, batched: bool):
        X, kp = self._decode_inputs(encoded, batched, 'batch_encoded' if batched else 'encoded')
        B, N, K, C = kp.shape
        pre = 'B, ' if batched else ''
        w = self._batched_operand(X, w, 'w', batched, B)
        h = self._batched_operand(X, h, 'h', batched, B)
        factor = self._batched_operand(X, factor, 'factor', batched, B)
        if w is not None and _size(w) == 0:
            w = None
        if factor is not None and _size(factor) == 0:
            factor = None
        if w is not None:
            if h is None or tuple(h.shape) != tuple(w.shape):
                raise ValueError(f'w and h must have the same shape, got '
                                 f'{shape_str(w.shape[1 - batched:])} and '
                                 f'{"None" if h is None else shape_str(h.shape[1 - batched:])}')
            if w.ndim not in (2, 3) or w.shape[1] != N or (w.ndim == 3 and w.shape[2] != 1):
                raise ValueError(f'w and h must have shape ({pre}{N},) or ({pre}{N}, 1) '
                                 f'(one per frame of encoded), got '
                                 f'{shape_str(w.shape[1 - batched:])}')
            if C < 2:
                raise ValueError(f'encoded must hold x, y in the last axis, got shape '
                                 f'{shape_str(kp.shape[1 - batched:])}')
        if factor is not None:
            if factor.ndim < 2 or factor.shape[1] != N:
                raise ValueError(f'factor must have {N} entries per sample (one per frame '
                                 f'of encoded), got shape {shape_str(factor.shape[1 - batched:])}')
            if factor.ndim > 4 or broadcast_check(kp.shape, per_sample(factor[..., None], 4).shape,
                                                  'encoded * factor') != tuple(kp.shape):
                raise ValueError(f'factor of shape {shape_str(factor.shape[1 - batched:])} does '
                                 f'not broadcast onto encoded {shape_str(kp.shape[1 - batched:])}')

        ldt = X.dtype(kp)
        scores = X.ones(kp.shape[:-1])
        planes = X.planes(kp)                       # C contiguous (B, N, K) planes
        if self.rootrel:
            for p in planes:
                assign(X, p[:, :, 0], 0)
        if w is not None:
            w2, h2 = w.reshape(B, N), h.reshape(B, N)
            hw = float_of(promote(X.dtype(h2), X.dtype(w2)))
            hq, wq = X.cast(h2, hw), X.cast(w2, hw)
            ratio = X.cast(arith(X, 'divide', hq, wq), F64)             # trans = (1, h / w)
            wb = w2.reshape(B, N, 1)
            for j in range(C):
                p = planes[j]
                if j < 2:
                    # (v + trans) * w / 2 in float64 (trans is float64), stored in ldt.
                    trans = X.ones((B, N, 1), F64) if j == 0 else ratio.reshape(B, N, 1)
                    tmp = X.binop('add', p, trans, X.empty(p.shape, F64))
                    X.binop('multiply', tmp, wb, tmp)
                    X.binop('divide', tmp, 2, p)
                else:
                    zdt = promote(ldt, X.dtype(wb))
                    tmp = X.binop('multiply', p, wb, X.empty(p.shape, zdt))
                    X.binop('divide', tmp, 2, p)
        if factor is not None:
            fp = per_sample(factor[..., None], 4)[..., 0]
            for p in planes:
                X.binop('multiply', p, fp, p)
        r = self.root_index
        out = X.empty(kp.shape, ldt)
        for j, p in enumerate(planes):
            X.binop('subtract', p, X.copy(p[:, :, r:r + 1]), p)
            X.binop('divide', p, 1000., out[..., j])
        return X.wrap(out), X.wrap(scores)

    def _config(self) -> dict:
        return dict(num_keypoints=self.num_keypoints, root_index=self.root_index,
                    concat_vis=self.concat_vis, rootrel=self.rootrel, mode=self.mode)


