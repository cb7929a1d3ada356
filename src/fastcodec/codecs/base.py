"""The codec base class: MMPose's BaseKeypointCodec vocabulary plus batched calls.

A codec implements ``_encode_batch`` and ``_decode_batch`` on arrays with a leading
batch axis, in the namespace of the call's backend (``fastcodec._arrays.Call``: numpy
for the CPU backends); this class turns them into MMPose's per-sample ``encode`` /
``decode`` and the batched ``batch_encode`` / ``batch_decode``: it opens the call
(the inputs' device picks the backend), checks shapes before any kernel runs, and
returns results as the caller's kind.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import numpy as np

from fastcodec._arrays import (F64, Call, check_ndim, heatmaps_f32, keypoints_f64, open_array,
                               open_keypoints)
from fastcodec.errors import mmpose_check_error


# The keypoint dtypes numpy divides by a float32 array in float32 (the others, int32/64,
# uint32/64 and float64, in float64): np.result_type(dtype, float32) == float32, listed
# because np.result_type costs 1.4 us per call (tests/core/test_fuzz_dtypes.py checks it).
DIVIDES_IN_FLOAT32 = frozenset(np.dtype(t) for t in (np.bool_, np.int8, np.uint8, np.int16,
                                                    np.uint16, np.float16, np.float32))


class BaseKeypointCodec:
    """Base of all fastcodec codecs (mirrors ``mmpose.codecs.base``)."""

    # Keys beyond keypoints/keypoints_visible that ``encode`` accepts.
    auxiliary_encode_keys: set = set()
    field_mapping_table: dict = dict()
    instance_mapping_table: dict = dict()
    label_mapping_table: dict = dict()
    # MMPose's top-down heatmap codecs encode exactly one instance per sample.
    single_instance = True
    # Whether the codec runs on device arrays (the cuda backend has its kernels and its
    # glue is written against Call.xp); the others refuse them with NotImplementedError.
    device_ready = False

    # ---- implemented by each codec -------------------------------------------------
    def _encode_batch(self, call: Call, keypoints: np.ndarray,
                      visible: np.ndarray) -> Dict[str, np.ndarray]:
        """keypoints (B, N, K, 2) any real dtype, visible (B, N, K) -> arrays (B, ...)."""
        raise NotImplementedError

    def _decode_batch(self, call: Call, encoded: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """encoded (B, C, H, W) float32 -> keypoints (B, N, K, 2), scores (B, N, K)."""
        raise NotImplementedError

    # ---- MMPose API ---------------------------------------------------------------
    def encode(self, keypoints: Any, keypoints_visible: Optional[Any] = None) -> dict:
        """Encode one sample: keypoints (N, K, 2) in input-image pixels and visibility
        (N, K) (ones when None). Returns MMPose's dict for this codec."""
        call, kps, vis = open_keypoints(keypoints, keypoints_visible, 3, '(N, K, 2)', self)
        self._check_instances(kps.shape[0], '(N, K, 2)')
        encoded = self._encode_batch(call, kps[None], vis[None])
        return {key: call.result(value[0]) for key, value in encoded.items()}

    def decode(self, encoded: Any) -> Tuple[Any, Any]:
        """Decode one sample's maps (C, H, W) into keypoints (N, K, 2) in input-image
        pixels and scores (N, K)."""
        call, heat = open_array(encoded, 'encoded', self)
        check_ndim(heat, 'encoded', (3,), '(K, H, W)')
        keypoints, scores = self._decode_batch(call, heatmaps_f32(call, heat[None]))
        return call.result(keypoints[0]), call.result(scores[0])

    # ---- batched API --------------------------------------------------------------
    def batch_encode(self, keypoints: Any, keypoints_visible: Optional[Any] = None) -> dict:
        """Encode B samples at once: keypoints (B, N, K, 2), visibility (B, N, K).
        Every returned array gains a leading batch axis."""
        call, kps, vis = open_keypoints(keypoints, keypoints_visible, 4, '(B, N, K, 2)', self)
        self._check_instances(kps.shape[1], '(B, N, K, 2)')
        return {key: call.result(value)
                for key, value in self._encode_batch(call, kps, vis).items()}

    def batch_decode(self, batch_encoded: Any) -> Tuple[Any, Any]:
        """Decode B samples at once: maps (B, C, H, W) -> keypoints (B, N, K, 2) and
        scores (B, N, K); iterating over the batch axis gives ``decode``'s results."""
        call, heat = open_array(batch_encoded, 'batch_encoded', self)
        check_ndim(heat, 'batch_encoded', (4,), '(B, K, H, W)')
        keypoints, scores = self._decode_batch(call, heatmaps_f32(call, heat))
        return call.result(keypoints), call.result(scores)

    @property
    def support_batch_decoding(self) -> bool:
        return True

    # ---- helpers ------------------------------------------------------------------
    def _check_instances(self, n: int, layout: str) -> None:
        if self.single_instance and n != 1:
            raise mmpose_check_error(
                f'{type(self).__name__} encodes one instance per sample: keypoints must '
                f'be {layout} with N = 1, got N = {n}',
                f'{type(self).__name__} only support single-instance keypoint encoding')

    @property
    def _scale(self):
        """scale_factor as the (sx, sy) float pair the kernels take."""
        sx, sy = self.scale_factor.tolist()  # one call: Python floats, exact
        return sx, sy

    @staticmethod
    def _kernel_inputs(call: Call, keypoints, visible):
        """float64 keypoints and visibility for the kernels, and whether MMPose's
        ``keypoints / scale_factor`` (a float32 array) computes in float32 or float64."""
        xy, _ = keypoints_f64(call, keypoints)
        return (xy, call.xp.ascontiguousarray(visible, dtype=F64),
                keypoints.dtype in DIVIDES_IN_FLOAT32)

    def __repr__(self) -> str:
        args = ', '.join(f'{k}={v!r}' for k, v in self._config().items())
        return f'{type(self).__name__}({args})'

    def _config(self) -> dict:
        return {}
