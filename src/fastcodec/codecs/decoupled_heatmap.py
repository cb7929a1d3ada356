"""DecoupledHeatmap: the global and instance-wise Gaussian heatmaps of CID (bottom-up).

Drop-in for ``mmpose.codecs.DecoupledHeatmap`` of MMPose 1.3.2 (Wang et al., CVPR 2022,
"Contextual Instance Decoupling for Robust Multi-Person Pose Estimation").

Randomness, and how to make it reproducible: ``encode`` draws exactly what MMPose draws,
from the same generators, in the same order: one ``np.random.randint(-1, 2, (2,))``
per visible instance root (in ``np.argsort`` order of the instance diagonals) for the
3x3 root jitter, then, when more than ``encode_max_instances`` instances remain, one
``random.sample(range(M), encode_max_instances)``. Seeding ``np.random.seed(s)`` and
``random.seed(s)`` before each call therefore gives outputs identical to MMPose's under
the same seeds. Pass ``rng`` (an int seed or a ``numpy.random.Generator``) to draw from
that generator instead and leave the global generators untouched: reproducible, but not
MMPose's draws.

On a CUDA device (CuPy arrays, torch CUDA tensors) the maps, roots, diagonals and sigmas
are computed there; the draws are the same host draws (so the same seeds give the same
targets on the CPU and the GPU), made in one host step per batch after one small
device-to-host copy: the selection they drive decides how many instances each image
keeps, which the host must know to shape the outputs.
"""
from __future__ import annotations

import random
from typing import Any, List, Optional, Tuple

import numpy as np

from fastcodec import _calls
from fastcodec._arrays import (Call, check_ndim, check_size, heatmaps_f32, open_call, visibility,
                               weights_from)
from fastcodec.codecs._instances import check_root_type, instance_bboxes
from fastcodec.codecs.base import BaseKeypointCodec
from fastcodec.limits import MAX_SIGMA
from fastcodec.registry import register

# The kernel's bound on sigma (heatmap pixels): a larger patch would not fit in memory.


def _pseudo_corners(xp, keypoints, visible):
    """MMPose's pseudo box corners (N, 4, 2) float32 from the visible keypoints, in its
    order: left-top, left-bottom, right-top, right-bottom (``xp``: the arrays' module)."""
    box = instance_bboxes(keypoints, visible, xp)
    x1, y1, x2, y2 = box[:, 0], box[:, 1], box[:, 2], box[:, 3]
    return xp.stack((x1, y1, x1, y2, x2, y1, x2, y2), axis=1).reshape(-1, 4, 2)


@register
class DecoupledHeatmap(BaseKeypointCodec):
    """Keypoints of several people as CID's targets: global heatmaps of all keypoints
    and instance roots, and one set of heatmaps per (randomly jittered, deduplicated,
    subsampled) instance, each instance with a sigma from its box size.

    Args:
        input_size: image size (w, h). heatmap_size: heatmap size (W, H).
        root_type: 'kpt_center' (mean of the visible keypoints) or 'bbox_center'
            (centre of their box).
        heatmap_min_overlap: minimum overlap rate in (0, 1) of the instance-wise sigmas.
        encode_max_instances: at most this many instances get instance heatmaps.

    encode(keypoints (N, K, 2), keypoints_visible (N, K), bbox (N, 8) or (N, 4, 2)) ->
        heatmaps (K+1, H, W) float32, instance_heatmaps (M*K, H, W) float32,
        keypoint_weights (M, K) in keypoints_visible's dtype, instance_coords (M, 2)
        int32; for M = 0 MMPose's float64 empties (0, H, W) and (0,).
    decode(instance_heatmaps (N, K, H, W), instance_scores (N, 1)) -> keypoints
        (N, K, 2) float32 in input-image pixels, scores (N, K) float32.

    Random draws: see the module docstring (same draws as MMPose under
    ``np.random.seed`` / ``random.seed``; ``rng=`` for a private generator).
    """

    auxiliary_encode_keys = {'bbox'}
    label_mapping_table = dict(keypoint_weights='keypoint_weights',
                               instance_coords='instance_coords')
    field_mapping_table = dict(heatmaps='heatmaps', instance_heatmaps='instance_heatmaps')
    single_instance = False
    device_ready = True

    def __init__(self, input_size: Tuple[int, int], heatmap_size: Tuple[int, int],
                 root_type: str = 'kpt_center', heatmap_min_overlap: float = 0.7,
                 encode_max_instances: int = 30) -> None:
        check_size(input_size, 'input_size')
        self._W, self._H = check_size(heatmap_size, 'heatmap_size')
        self.input_size = input_size
        self.heatmap_size = heatmap_size
        self.root_type = check_root_type(root_type)
        if isinstance(heatmap_min_overlap, bool) or not isinstance(
                heatmap_min_overlap, (int, float, np.integer, np.floating)):
            raise TypeError(f'heatmap_min_overlap must be a number, got {heatmap_min_overlap!r}')
        if not 0 < heatmap_min_overlap < 1:
            raise ValueError(f'heatmap_min_overlap must be in (0, 1), got {heatmap_min_overlap!r}')
        if isinstance(encode_max_instances, bool) or not isinstance(
                encode_max_instances, (int, np.integer)):
            raise TypeError(f'encode_max_instances must be an integer, '
                            f'got {encode_max_instances!r}')
        if encode_max_instances < 0:
            raise ValueError(f'encode_max_instances must be >= 0, got {encode_max_instances}')
        self.heatmap_min_overlap = heatmap_min_overlap
        self.encode_max_instances = encode_max_instances
        self.scale_factor = (np.array(input_size) / heatmap_size).astype(np.float32)

    # MMPose's CIDHead decodes instance by instance through ``decode`` when the codec
    # has no batch decoding, as MMPose's DecoupledHeatmap has not; ``batch_decode``
    # here takes (B, N, K, H, W), not what the head would pass.
    @property
    def support_batch_decoding(self) -> bool:
        return False

    # ---- encoding -------------------------------------------------------------------
    def encode(self, keypoints: Any, keypoints_visible: Optional[Any] = None,
               bbox: Optional[Any] = None, rng: Any = None) -> dict:
        """Encode one image's instances: keypoints (N, K, 2) and visibility (N, K) in
        input-image pixels, bbox (N, 8) / (N, 4, 2) box corners (left-top, left-bottom,
        right-top, right-bottom) or None for boxes around the visible keypoints.
        ``rng``: None for MMPose's global generators, else a seed or Generator."""
        call = open_call((keypoints, keypoints_visible, bbox), ('keypoints', 'keypoints_visible', 'bbox'), self)
        kps = call.array(keypoints, 'keypoints')
        check_ndim(kps, 'keypoints', (3,), '(N, K, 2)')
        self._check_pairs(kps, '(N, K, 2)')
        vis = visibility(call, keypoints_visible, kps.shape[:2])
        box = self._check_bbox(call, bbox, kps.shape[:1], '(N, 8) or (N, 4, 2)')
        encoded = self._encode_samples(call, kps[None], vis[None],
                                       None if box is None else box[None], rng)[0]
        return {key: call.result(value) for key, value in encoded.items()}

    def batch_encode(self, keypoints: Any, keypoints_visible: Optional[Any] = None,
                     bbox: Optional[Any] = None, rng: Any = None) -> List[dict]:
        """Encode B images at once: keypoints (B, N, K, 2), visibility (B, N, K), bbox
        (B, N, 8) / (B, N, 4, 2) or None. Returns a list of B dicts, each what
        ``encode`` returns for that image (the number of encoded instances M varies
        per image), with two kernel calls for the whole batch. The random draws are
        those of B ``encode`` calls in order."""
        call = open_call((keypoints, keypoints_visible, bbox), ('keypoints', 'keypoints_visible', 'bbox'), self)
        kps = call.array(keypoints, 'keypoints')
        check_ndim(kps, 'keypoints', (4,), '(B, N, K, 2)')
        self._check_pairs(kps, '(B, N, K, 2)')
        vis = visibility(call, keypoints_visible, kps.shape[:3])
        box = self._check_bbox(call, bbox, kps.shape[:2], '(B, N, 8) or (B, N, 4, 2)')
        return [{key: call.result(value) for key, value in encoded.items()}
                for encoded in self._encode_samples(call, kps, vis, box, rng)]

    def _encode_samples(self, call: Call, kps, vis, bbox, rng: Any) -> List[dict]:
        """kps (B, N, K, 2), vis (B, N, K), bbox (B, N, 4, 2) or None -> B dicts.

        The maps and per-instance properties are computed where the arrays live
        (``call.xp``: numpy, or CuPy on a device). The instance selection -- the root
        jitter, deduplication and subsampling, whose result count M varies per image --
        runs on the host with MMPose's draws; on a device its inputs (roots, diagonals,
        root flags, sigmas: 5 floats per instance) come to the host in one copy, the
        call's only synchronisation, and the selected rows and root coordinates go back
        in one asynchronous copy each."""
        B, N, K = vis.shape
        W, H = self._W, self._H
        if B == 0:
            return []
        xp = call.xp
        on_host = xp is np
        # MMPose's arithmetic, vectorised over images and instances
        scale = xp.asarray(self.scale_factor)                  # host: the array itself
        scaled = xp.divide(kps, scale)                         # _keypoints
        flat = scaled.reshape(B * N, K, 2)
        flat_vis = vis.reshape(B * N, K)
        if bbox is None:
            bbox = _pseudo_corners(xp, kps.reshape(B * N, K, 2), flat_vis)
        corners = xp.divide(bbox.reshape(-1, 4, 2), scale)     # _bbox
        # np.power(x, 2) of an array is np.square, exactly
        heights = xp.sqrt(xp.sum(xp.square(xp.subtract(corners[:, 0], corners[:, 1])), axis=-1))
        widths = xp.sqrt(xp.sum(xp.square(xp.subtract(corners[:, 0], corners[:, 2])), axis=-1))
        # instance-wise sigmas: MMPose's three-condition formula per box, bit-exact on
        # the CPU (libm pow as numpy's scalar power; fastcodec/instances.h)
        sigmas = _calls.instance_sigmas(call, heights, widths, float(self.heatmap_min_overlap))
        usable = xp.isfinite(sigmas)
        if on_host:  # a device checks at its one synchronisation, below
            self._check_sigmas(sigmas, usable, heights, widths)
        # roots, their visibility and the box diagonals: instance_property's
        # get_instance_root and get_diagonal_lengths, bit-exact, in one kernel pass
        roots, roots_vis, diagonals = _calls.instance_geometry(
            call, flat, xp.ascontiguousarray(flat_vis, dtype=np.float64),
            self.root_type == 'kpt_center')

        # global heatmaps: the keypoints and the roots, one sigma per instance. An
        # instance whose box gives no finite sigma is not drawn (MMPose raises).
        points = xp.concatenate((scaled, roots.reshape(B, N, 1, 2)), axis=2)
        drawn = xp.concatenate((vis.reshape(B, N, K), roots_vis.reshape(B, N, 1)), axis=2)
        drawn = xp.where(usable.reshape(B, N, 1), xp.asarray(drawn, dtype=np.float64), 0.0)
        heatmaps, inside = _calls.encode_gaussian(
            call, 'msra', xp.ascontiguousarray(points, dtype=np.float64), drawn,
            xp.where(usable, sigmas, np.float32(0)).reshape(B, N), (1.0, 1.0),
            points.dtype == np.float32, W, H)
        root_ok = xp.logical_and(xp.greater_equal(drawn[:, :, K], 1),
                                 xp.not_equal(inside[:, :, K], 0))
        if on_host:
            host_roots, host_diagonals = roots, diagonals
        else:  # the one device-to-host copy
            packed = xp.asnumpy(xp.stack((roots[:, 0], roots[:, 1], diagonals, sigmas,
                                          xp.asarray(root_ok.reshape(-1), dtype=np.float32)),
                                         axis=1))
            host_roots, host_diagonals = packed[:, :2], packed[:, 2]
            host_sigmas = packed[:, 3]
            self._check_sigmas(host_sigmas, np.isfinite(host_sigmas), None, None)
            root_ok = packed[:, 4].reshape(B, N) != 0
        selected, coords = self._select(host_roots, host_diagonals, root_ok, rng, B, N)

        # instance heatmaps: every selected instance of every image in one call
        rows = np.concatenate([b * N + s for b, s in enumerate(selected)]).astype(np.intp)
        if len(rows):
            rows_x = xp.asarray(rows)                          # host: the array itself
            inst_vis = xp.take(flat_vis, rows_x, axis=0)
            inst_heat, inst_inside = _calls.encode_gaussian(
                call, 'msra', xp.ascontiguousarray(xp.take(flat, rows_x, axis=0)[:, None],
                                                   dtype=np.float64),
                xp.ascontiguousarray(inst_vis[:, None], dtype=np.float64),
                xp.asarray(xp.take(sigmas, rows_x), dtype=np.float64)[:, None], (1.0, 1.0),
                scaled.dtype == np.float32, W, H)
            inst_weights = weights_from(call, inst_vis, inst_inside[:, 0])
            inst_coords = xp.asarray(np.concatenate(
                [c for c in coords if c is not None]).astype(np.int32))
        out, start = [], 0
        for b in range(B):
            M = len(selected[b])
            if M:
                out.append(dict(
                    heatmaps=heatmaps[b],
                    instance_heatmaps=inst_heat[start:start + M].reshape(M * K, H, W),
                    keypoint_weights=inst_weights[start:start + M],
                    instance_coords=inst_coords[start:start + M]))
            else:
                out.append(dict(heatmaps=heatmaps[b],
                                instance_heatmaps=xp.empty((0, H, W)),
                                keypoint_weights=xp.empty((0,)),
                                instance_coords=xp.empty((0, 2), dtype=np.int32)))
            start += M
        return out

    @staticmethod
    def _check_sigmas(sigmas: np.ndarray, usable: np.ndarray, heights, widths) -> None:
        """No finite sigma above MAX_SIGMA (the CPU encoders' patch bound); the box
        sizes are named where the host has them (heights, widths None on a device)."""
        if (sigmas[usable] > MAX_SIGMA).any():
            size = ('' if heights is None else
                    f' of up to {heights.max():g} x {widths.max():g} heatmap pixels')
            raise ValueError(f'bbox: instance boxes{size} give sigmas above {MAX_SIGMA:g}')

    def _select(self, roots: np.ndarray, diagonals: np.ndarray, root_ok: np.ndarray, rng: Any,
                B: int, N: int):
        """MMPose's instance selection on host arrays: per image, the instances with a
        drawn root in argsort order of their diagonals, each root jittered in its 3x3
        grid (one draw per instance) and clipped, duplicates dropped, then at most
        encode_max_instances sampled. -> (selected indices, root coordinates float64 or
        None) per image."""
        W, H = self._W, self._H
        order = np.argsort(diagonals.reshape(B, N), axis=1)
        visible = [row[ok[row]] for row, ok in zip(order, root_ok)]
        total = sum(len(v) for v in visible)
        if rng is None:
            jitter = np.random.randint(-1, 2, (total, 2)) if total else None
        else:
            rng = np.random.default_rng(rng)
            jitter = rng.integers(-1, 2, (total, 2)) if total else None
        selected, coords = [], []
        start = 0
        for b in range(B):
            idx = visible[b]
            if not len(idx):
                selected.append(idx)
                coords.append(None)
                continue
            xy = roots[b * N + idx] + jitter[start:start + len(idx)]  # float64
            start += len(idx)
            np.minimum(xy, (W - 1, H - 1), out=xy)
            np.maximum(xy, 0, out=xy)
            seen, keep = set(), []
            for j, pair in enumerate(map(tuple, xy.tolist())):
                if pair not in seen:
                    seen.add(pair)
                    keep.append(j)
            limit = self.encode_max_instances
            if len(keep) > limit:
                if rng is None:
                    keep = [keep[j] for j in random.sample(range(len(keep)), limit)]
                else:
                    keep = [keep[j] for j in rng.choice(len(keep), limit, replace=False)]
            selected.append(idx[keep])
            coords.append(xy[keep])
        return selected, coords

    # ---- decoding -------------------------------------------------------------------
    def decode(self, instance_heatmaps: Any, instance_scores: Any) -> Tuple[Any, Any]:
        """Decode one image's instance heatmaps (N, K, H, W) and root scores (N, 1):
        the maximum of each map, MMPose's quarter-pixel step, times scale_factor.
        Returns keypoints (N, K, 2) float32 in input-image pixels and scores (N, K)
        float32, the map maxima times the instance scores."""
        call = open_call((instance_heatmaps, instance_scores), ('instance_heatmaps', 'instance_scores'), self)
        heat = call.array(instance_heatmaps, 'instance_heatmaps')
        check_ndim(heat, 'instance_heatmaps', (4,), '(N, K, H, W)')
        scores = call.array(instance_scores, 'instance_scores')
        if scores.shape != (heat.shape[0], 1):
            raise ValueError(f'instance_scores must have shape (N, 1) = '
                             f'{(heat.shape[0], 1)}, got {tuple(scores.shape)}')
        keypoints, values = self._decode_maps(call, heat, scores)
        return call.result(keypoints), call.result(values)

    def batch_decode(self, instance_heatmaps: Any, instance_scores: Any) -> Tuple[Any, Any]:
        """Decode B images at once: instance heatmaps (B, N, K, H, W) and scores
        (B, N, 1) -> keypoints (B, N, K, 2) and scores (B, N, K), float32."""
        call = open_call((instance_heatmaps, instance_scores), ('instance_heatmaps', 'instance_scores'), self)
        heat = call.array(instance_heatmaps, 'instance_heatmaps')
        check_ndim(heat, 'instance_heatmaps', (5,), '(B, N, K, H, W)')
        scores = call.array(instance_scores, 'instance_scores')
        B, N = heat.shape[:2]
        if scores.shape != (B, N, 1):
            raise ValueError(f'instance_scores must have shape (B, N, 1) = {(B, N, 1)}, '
                             f'got {tuple(scores.shape)}')
        keypoints, values = self._decode_maps(call, heat.reshape(B * N, *heat.shape[2:]),
                                              scores.reshape(B * N, 1))
        return (call.result(keypoints.reshape(B, N, *keypoints.shape[1:])),
                call.result(values.reshape(B, N, -1)))

    def _decode_maps(self, call: Call, heat, scores):
        """heat (N, K, H, W), scores (N, 1) -> keypoints (N, K, 2), scores (N, K)."""
        heat = heatmaps_f32(call, heat)
        N, K = heat.shape[:2]
        if N * K == 0:
            return call.empty((N, K, 2), np.float32), call.empty((N, K), np.float32)
        keypoints, values = _calls.decode_msra(call, heat, self._scale)
        # in place: float32, like MMPose's ``*=``
        call.xp.multiply(values, scores, out=values)
        return keypoints, values

    # ---- checks ---------------------------------------------------------------------
    @staticmethod
    def _check_pairs(kps: np.ndarray, layout: str) -> None:
        if kps.shape[-1] != 2:
            raise ValueError(f'keypoints must have shape {layout}, got {tuple(kps.shape)}')

    @staticmethod
    def _check_bbox(call: Call, bbox: Any, lead: Tuple[int, ...],
                    layout: str) -> Optional[np.ndarray]:
        """bbox as (*lead, 4, 2), or None. Like MMPose (``bbox.reshape(-1, 4, 2)``), any
        shape holding 8 values per instance is accepted, e.g. (2N, 2, 2); a batch keeps
        its leading B axis."""
        if bbox is None:
            return None
        box = call.array(bbox, 'bbox')
        if box.shape[:len(lead) - 1] == lead[:-1] and box.size == int(np.prod(lead)) * 8:
            return box.reshape(lead + (4, 2))
        raise ValueError(f'bbox must have shape {layout} (or any shape holding 8 values per '
                         f'instance) with {lead} matching keypoints, got {tuple(box.shape)}')

    def _config(self):
        return dict(input_size=self.input_size, heatmap_size=self.heatmap_size,
                    root_type=self.root_type, heatmap_min_overlap=self.heatmap_min_overlap,
                    encode_max_instances=self.encode_max_instances)
