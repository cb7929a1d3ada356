"""SPR: Structured Pose Representation (Nie et al. 2019), a bottom-up codec of root
heatmaps and dense keypoint displacement fields."""
from __future__ import annotations

import numbers
from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np

from fastcodec import _calls
from fastcodec._arrays import (F32, F64, NUMPY, Call, check_ndim, check_real, check_size,
                               open_call)
from fastcodec.codecs._instances import check_root_type
from fastcodec.codecs.base import BaseKeypointCodec
from fastcodec.errors import mmpose_check_error
from fastcodec.registry import register


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f'{name} must be a real number, got {value!r}')
    return value


def _positive_sigma(value: Any, name: str) -> Any:
    _number(value, name)
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f'{name} must be a positive finite number, got {value!r}')
    return value


@register
class SPR(BaseKeypointCodec):
    """Keypoints as root heatmaps and displacement fields (MMPose's ``SPR``).

    Args:
        input_size: image size (w, h). heatmap_size: heatmap size (W, H).
        sigma: root sigma, or (root sigma, keypoint sigma); None: sqrt(W * H) / 32
            for roots and its ``// 2`` for keypoint maps.
        generate_keypoint_heatmaps: also encode one Gaussian map per keypoint (then
            ``sigma`` must hold two values when given).
        root_type: 'kpt_center' (mean of the visible keypoints) or 'bbox_center'.
        minimal_diagonal_length: instances with a smaller box diagonal get no root.
        background_weight: heatmap weight of pixels whose map value is not > 0.
        decode_nms_kernel: odd max-pool size of the root NMS.
        decode_max_instances: candidates kept by the top-k. decode_thr: root score
            threshold (strict).

    encode(keypoints (N, K, 2), keypoints_visible (N, K)) -> heatmaps (C, H, W) with
    C = 1, or K + 1 with keypoint maps (the root map last), heatmap_weights (C, H, W),
    displacements (2K, H, W) and displacement_weights (2K, H, W), all float32.

    decode(heatmaps (C, H, W), displacements (2K, H, W)) -> keypoints (N, K, 2) float32
    and (root_scores (N,), keypoint_scores (N, K) or None); torch tensors in give
    tensors out. ``batch_encode`` adds a leading batch axis to every key;
    ``batch_decode`` returns a list of per-sample decode results (N varies).
    """

    field_mapping_table = dict(
        heatmaps='heatmaps',
        heatmap_weights='heatmap_weights',
        displacements='displacements',
        displacement_weights='displacement_weights',
    )
    single_instance = False
    device_ready = True  # the cuda backend runs it on device arrays

    def __init__(self, input_size: Tuple[int, int], heatmap_size: Tuple[int, int],
                 sigma: Optional[Union[float, Tuple[float, ...]]] = None,
                 generate_keypoint_heatmaps: bool = False, root_type: str = 'kpt_center',
                 minimal_diagonal_length: Union[int, float] = 5,
                 background_weight: float = 0.1, decode_nms_kernel: int = 5,
                 decode_max_instances: int = 30, decode_thr: float = 0.01) -> None:
        check_size(input_size, 'input_size')
        W, H = check_size(heatmap_size, 'heatmap_size')
        self.input_size = input_size
        self.heatmap_size = heatmap_size
        self.generate_keypoint_heatmaps = generate_keypoint_heatmaps
        self.root_type = check_root_type(root_type)
        self.minimal_diagonal_length = _number(minimal_diagonal_length,
                                               'minimal_diagonal_length')
        self.background_weight = _number(background_weight, 'background_weight')
        k = decode_nms_kernel
        if (isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1
                or k % 2 == 0):
            # ValueError for any other value, as MMPose's assertion (and issue 4) asks
            raise ValueError(f'decode_nms_kernel must be an odd positive integer, got {k!r}')
        self.decode_nms_kernel = decode_nms_kernel
        m = decode_max_instances
        if isinstance(m, bool) or not isinstance(m, (int, np.integer)):
            raise TypeError(f'decode_max_instances must be an integer, got {m!r}')
        if m < 0:
            raise ValueError(f'decode_max_instances must be >= 0, got {m}')
        self.decode_max_instances = decode_max_instances
        self.decode_thr = _number(decode_thr, 'decode_thr')
        self.scale_factor = (np.array(input_size) / heatmap_size).astype(np.float32)

        if sigma is None:
            auto = (W * H) ** 0.5 / 32
            # sigma // 2 is 0 for heatmaps under 64 x 64 (docs/deviations.md)
            self.sigma = (auto, auto // 2) if generate_keypoint_heatmaps else (auto,)
        else:
            if not isinstance(sigma, (tuple, list)):
                sigma = (sigma,)
            if generate_keypoint_heatmaps and len(sigma) != 2:
                raise mmpose_check_error(
                    'sigma must hold 2 values (root, keypoints) when '
                    f'generate_keypoint_heatmaps is True, got {len(sigma)}: {sigma!r}',
                    'sigma for keypoints must be given if `generate_keypoint_heatmaps` '
                    'is True. e.g. sigma=(4, 2)')
            if len(sigma) < 1:
                raise ValueError('sigma must hold at least one value (the root sigma), got ()')
            for i, s in enumerate(sigma[:2 if generate_keypoint_heatmaps else 1]):
                _positive_sigma(s, f'sigma[{i}]')
            self.sigma = tuple(sigma)
        # numpy subtracts a Python (or float32) radius from a float32 root in float32
        try:
            self._radius_f32 = (np.float32(0) - self.sigma[0]).dtype == np.float32
        except TypeError:
            self._radius_f32 = False

    # ---- encode -----------------------------------------------------------------------
    def _encode_batch(self, call: Call, keypoints: np.ndarray, visible: np.ndarray) -> dict:
        if keypoints.shape[-1] != 2:
            raise ValueError('keypoints must hold (x, y) pairs in their last axis, '
                             f'got shape {tuple(keypoints.shape)}')
        check_real(visible, 'keypoints_visible')
        xp = call.xp  # numpy, or CuPy on a device: no array operators below
        B, N, K = visible.shape
        W, H = self.heatmap_size
        # keypoints in heatmap pixels, in numpy's dtype (float32 stays float32)
        kps = xp.divide(keypoints, xp.asarray(self.scale_factor))
        finite = xp.all(xp.isfinite(kps), axis=-1)
        # NaN / Inf keypoints are invisible (docs/deviations.md); on a device always
        # masked, as testing first would synchronise with the host
        if call.X is not NUMPY or not finite.all():
            visible = xp.where(finite, visible, 0)
            kps = xp.asarray(xp.where(finite[..., None], kps, 0), dtype=kps.dtype)
        # get_instance_root and get_diagonal_lengths of MMPose, bit-exact, in one pass
        roots, roots_visible, diagonals = _calls.instance_geometry(
            call, xp.ascontiguousarray(kps.reshape(B * N, K, 2)),
            xp.ascontiguousarray(visible.reshape(B * N, K), dtype=F64),
            self.root_type == 'kpt_center')
        roots_visible = xp.where(xp.less(diagonals, self.minimal_diagonal_length),
                                 np.float32(0), roots_visible)

        xy = xp.ascontiguousarray(kps, dtype=F64)
        vis64 = xp.ascontiguousarray(visible, dtype=F64)
        root_maps, _ = _calls.encode_gaussian(
            call, 'msra', xp.asarray(roots, dtype=F64).reshape(B, N, 1, 2),
            xp.asarray(roots_visible, dtype=F64).reshape(B, N, 1),
            call.full(N, float(self.sigma[0])), (1.0, 1.0), True, W, H)
        if self.generate_keypoint_heatmaps and float(self.sigma[1]) == 0:
            # the automatic sigma // 2 of a small heatmap: MMPose's exp(0 / 0) is NaN
            # at each keypoint; nothing is drawn here (docs/deviations.md)
            kpt_maps = call.zeros((B, K, H, W), F32)
        elif self.generate_keypoint_heatmaps:
            kpt_maps, _ = _calls.encode_gaussian(
                call, 'msra', xy, vis64, call.full(N, float(self.sigma[1])), (1.0, 1.0),
                kps.dtype == np.float32, W, H)
        if self.generate_keypoint_heatmaps:
            heatmaps = xp.concatenate((kpt_maps, root_maps), axis=1)
        else:
            heatmaps = root_maps
        heatmap_weights = xp.where(xp.greater(heatmaps, 0), np.float32(1),
                                   np.float32(self.background_weight))
        displacements, displacement_weights = _calls.spr_encode_displacements(
            call, xy, vis64, roots.reshape(B, N, 2), roots_visible.reshape(B, N),
            diagonals.reshape(B, N), float(self.sigma[0]), self._radius_f32, W, H)
        return dict(heatmaps=heatmaps, heatmap_weights=heatmap_weights,
                    displacements=displacements, displacement_weights=displacement_weights)

    # ---- decode -----------------------------------------------------------------------
    def decode(self, heatmaps: Any, displacements: Any):
        """Decode one sample: heatmaps (C, H, W) (the root map last) and displacements
        (2K, H, W) -> keypoints (N, K, 2) in input-image pixels and (root_scores (N,),
        keypoint_scores (N, K) or None)."""
        call = open_call((heatmaps, displacements), ('heatmaps', 'displacements'), self)
        heat, disp = call.array(heatmaps, 'heatmaps'), call.array(displacements, 'displacements')
        check_ndim(heat, 'heatmaps', (3,), '(C, H, W)')
        check_ndim(disp, 'displacements', (3,), '(2K, H, W)')
        return self._decode(call, heat[None], disp[None])[0]

    def batch_decode(self, heatmaps: Any, displacements: Any) -> List[tuple]:
        """Decode B samples at once: heatmaps (B, C, H, W), displacements (B, 2K, H, W)
        -> a list of B ``decode`` results, (keypoints (N_b, K, 2), (root_scores (N_b,),
        keypoint_scores (N_b, K) or None)); N_b varies per sample."""
        call = open_call((heatmaps, displacements), ('heatmaps', 'displacements'), self)
        heat, disp = call.array(heatmaps, 'heatmaps'), call.array(displacements, 'displacements')
        check_ndim(heat, 'heatmaps', (4,), '(B, C, H, W)')
        check_ndim(disp, 'displacements', (4,), '(B, 2K, H, W)')
        if heat.shape[0] != disp.shape[0]:
            raise ValueError(f'heatmaps and displacements must hold the same number of '
                             f'samples, got {tuple(heat.shape)} and {tuple(disp.shape)}')
        return self._decode(call, heat, disp)

    @property
    def support_batch_decoding(self) -> bool:
        # As MMPose's SPR: heads decode sample by sample (batch_decode returns a list).
        return False

    def _decode(self, call: Call, heat: np.ndarray, disp: np.ndarray) -> List[tuple]:
        C, H, W = heat.shape[1:]
        if C == 0 or H == 0 or W == 0:
            raise ValueError(f'heatmaps must have at least one channel and a positive '
                             f'height and width, got shape {tuple(heat.shape[1:])}')
        check_real(disp, 'displacements')
        if disp.shape[1] % 2 or disp.shape[2:] != (H, W):
            raise ValueError(f'displacements must have shape (2K, {H}, {W}) to match heatmaps '
                             f'{tuple(heat.shape[1:])}, got {tuple(disp.shape[1:])}')
        K = disp.shape[1] // 2
        with_scores = bool(self.generate_keypoint_heatmaps) and C == K + 1
        xp = call.xp
        kps, roots, scores, counts = _calls.spr_decode(
            call, xp.ascontiguousarray(heat, dtype=F32), xp.ascontiguousarray(disp, dtype=F32),
            int(self.decode_nms_kernel), int(self.decode_max_instances), float(self.decode_thr),
            with_scores, self._scale)
        # The instance counts depend on the maps: on a device, reading them (on the
        # call's stream) is the one synchronisation of a (batch) decode, to cut each
        # sample's rows.
        counts = counts.tolist() if call.X is NUMPY else xp.asnumpy(counts).tolist()
        out, back = [], call.result
        for b, n in enumerate(counts):
            out.append((back(kps[b, :n]),
                        (back(roots[b, :n]), back(scores[b, :n]) if with_scores else None)))
        return out

    def _config(self):
        return dict(input_size=self.input_size, heatmap_size=self.heatmap_size,
                    sigma=self.sigma, generate_keypoint_heatmaps=self.generate_keypoint_heatmaps,
                    root_type=self.root_type,
                    minimal_diagonal_length=self.minimal_diagonal_length,
                    background_weight=self.background_weight,
                    decode_nms_kernel=self.decode_nms_kernel,
                    decode_max_instances=self.decode_max_instances, decode_thr=self.decode_thr)


__all__: Sequence[str] = ['SPR']
