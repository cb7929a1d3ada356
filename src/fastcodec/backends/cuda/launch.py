"""The launch path of the CUDA kernels, shared by the GPU and the host emulator.

For each backend-contract function this module computes the launch -- grid, block,
dynamic shared memory -- checks what memory safety needs (shapes, dtypes, contiguity
of the arrays the kernel will index), marshals the arguments to the kernel's exact
parameter types (``SIGNATURES``, which tests/cuda/test_cuda_emulator.py checks against the
``extern "C"`` declarations in csrc/cuda) and hands them to a *launcher*: CuPy's
(``device``: NVRTC-compiled kernels on the caller's current stream) or the host
emulator's (``emulator``: the same kernels compiled by g++). Nothing else differs
between the two, so the emulator tests exercise this code as a GPU run would.

The functions follow the backend contract's output convention: the front allocates the
outputs (in the inputs' array namespace, on their device) and passes them as the
trailing arguments; every element of an output is written, zeros included.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, NamedTuple, Sequence, Tuple

import numpy as np

from fastcodec.backends import contract
from fastcodec.limits import MAX_BLUR_KERNEL

# Parameter types of every kernel, in order, as declared in csrc/cuda/*.cu.
SIGNATURES: Dict[str, Tuple[str, ...]] = {
    'fc_heatmap_maximum': ('const float*', 'int64_t', 'int64_t', 'int64_t', 'float*', 'float*'),
    'fc_decode_msra': ('const float*', 'int64_t', 'int64_t', 'int64_t', 'float', 'float',
                       'float*', 'float*'),
    'fc_decode_dark': ('const float*', 'int64_t', 'int64_t', 'int64_t', 'int', 'int64_t',
                       'float', 'float', 'float*', 'float*'),
    'fc_dark_maxima': ('const float*', 'int64_t', 'int64_t', 'int64_t', 'int', 'int64_t',
                       'float*', 'float*', 'float*'),
    'fc_decode_dark_udp_step': ('const float*', 'int64_t', 'int64_t', 'int64_t', 'int64_t', 'int',
                                'const float*', 'float', 'float', 'float*'),
    'fc_refine_dark_udp': ('double*', 'int64_t', 'int64_t', 'int64_t', 'const float*', 'int64_t',
                           'int64_t', 'int', 'const float*', 'int'),
    'fc_refine_dark': ('double*', 'int64_t', 'int64_t', 'int64_t', 'const float*', 'int64_t',
                       'int64_t', 'int', 'const float*'),
    'fc_refine_sign': ('double*', 'int64_t', 'int64_t', 'int64_t', 'const float*', 'int64_t',
                       'int64_t'),
    'fc_decode_megvii': ('const float*', 'int64_t', 'int64_t', 'int64_t', 'int', 'int64_t',
                         'float*', 'float*'),
    'fc_decode_udp_combined': ('const float*', 'int64_t', 'int64_t', 'int64_t', 'int64_t', 'int',
                               'int64_t', 'float', 'float*', 'float*'),
    'fc_encode_offset': ('const double*', 'const double*', 'float', 'float', 'int', 'double',
                         'int64_t', 'int64_t', 'int64_t', 'int64_t', 'int64_t', 'float*',
                         'unsigned char*'),
    'fc_encode_megvii': ('const double*', 'const double*', 'float', 'float', 'int', 'int',
                         'int64_t', 'int64_t', 'int64_t', 'int64_t', 'int64_t', 'float*',
                         'unsigned char*'),
    'fc_gaussian_blur': ('const float*', 'int64_t', 'int64_t', 'int64_t', 'int', 'int64_t',
                         'float*'),
    'fc_simcc_encode': ('const double*', 'const double*', 'int64_t', 'int64_t', 'int64_t', 'int',
                        'double', 'double', 'double', 'int', 'double', 'int', 'float*', 'float*',
                        'unsigned char*'),
    'fc_simcc_maximum': ('const float*', 'const float*', 'int64_t', 'int64_t', 'int64_t',
                         'float*', 'float*'),
    'fc_simcc3d_encode': ('const double*', 'const double*', 'int64_t', 'int64_t', 'int64_t',
                          'int64_t', 'double', 'double', 'double', 'double', 'int', 'int',
                          'float*', 'float*', 'float*', 'unsigned char*'),
    'fc_simcc_decode': ('const float*', 'const float*', 'int64_t', 'int64_t', 'int64_t', 'int',
                        'int', 'double', 'int', 'float', 'double', 'double', 'float*', 'float*',
                        'double*'),
    'fc_simcc_refine_dark': ('const float*', 'const float*', 'int64_t', 'int64_t', 'int',
                             'float*'),
    'fc_encode_regression': ('const double*', 'const double*', 'int64_t', 'double', 'double',
                             'float*', 'float*'),
    'fc_decode_regression': ('const double*', 'int64_t', 'int64_t', 'double', 'double', 'int',
                             'double*', 'float*', 'double*'),
    'fc_normalize_heatmaps': ('float*', 'int64_t', 'int64_t', 'int64_t'),
    'fc_encode_gaussian': ('int', 'const double*', 'const double*', 'const double*', 'int64_t',
                           'int', 'float', 'float', 'int', 'int64_t', 'int64_t', 'int64_t',
                           'int64_t', 'int64_t', 'float*', 'unsigned char*'),
    # DecoupledHeatmap (issue 15)
    'fc_instance_geometry': ('const float*', 'const double*', 'int', 'const double*', 'int64_t',
                             'int64_t', 'int', 'float*', 'float*', 'float*'),
    'fc_instance_sigmas': ('const float*', 'const float*', 'const double*', 'const double*', 'int',
                           'int64_t', 'double', 'double', 'float*'),
    # SPR (issue 15)
    'fc_spr_encode_displacements': ('const double*', 'const double*', 'const float*',
                                    'const float*', 'const float*', 'int64_t', 'int64_t',
                                    'int64_t', 'int64_t', 'int64_t', 'double', 'int', 'float*',
                                    'float*'),
    'fc_spr_decode': ('const float*', 'const float*', 'int64_t', 'int64_t', 'int64_t', 'int64_t',
                      'int64_t', 'int64_t', 'int64_t', 'float', 'float', 'float', 'int', 'float*',
                      'int64_t*', 'float*', 'float*', 'float*', 'int64_t*'),
    # Hand3DHeatmap (issue 16)
    'fc_hand3d_encode': ('const double*', 'const double*', 'int64_t', 'int64_t', 'int64_t',
                         'int64_t', 'int64_t', 'int64_t', 'double', 'double', 'double', 'int',
                         'float', 'float*', 'unsigned char*'),
    # AssociativeEmbedding (issue 16)
    'fc_ae_candidates': ('const float*', 'int64_t', 'int64_t', 'int64_t', 'int64_t', 'int64_t',
                         'float*', 'int64_t*', 'float*', 'int64_t*'),
    'fc_ae_group': ('const float*', 'const float*', 'const int64_t*', 'float*', 'const float*',
                    'const int64_t*', 'int64_t', 'int64_t', 'int64_t', 'int64_t', 'int64_t',
                    'int64_t', 'double', 'double', 'int64_t', 'int', 'float', 'float', 'float',
                    'int64_t', 'unsigned char*', 'int64_t', 'float*', 'float*', 'float*',
                    'int64_t*'),
    # -- lifting (issue 15): motionbert_encode, a kernel pair per float dtype -----------
    'fc_motionbert_labels_f': ('const float*', 'const float*', 'int', 'int64_t', 'int64_t',
                               'int64_t', 'const double*', 'float*'),
    'fc_motionbert_labels_d': ('const double*', 'const double*', 'int', 'int64_t', 'int64_t',
                               'int64_t', 'const double*', 'double*'),
    'fc_motionbert_target_f': ('const float*', 'int64_t', 'int64_t', 'int64_t', 'int64_t',
                               'int64_t', 'int', 'int', 'const double*', 'const double*',
                               'int64_t', 'const unsigned char*', 'const double*', 'int',
                               'float*', 'float*', 'float*'),
    'fc_motionbert_target_d': ('const double*', 'int64_t', 'int64_t', 'int64_t', 'int64_t',
                               'int64_t', 'int', 'int', 'const double*', 'const double*',
                               'int64_t', 'const unsigned char*', 'const double*', 'int',
                               'double*', 'double*', 'float*'),
}

# numpy dtype of each pointer's element, and the scalar types.
POINTER_DTYPES = {'float': np.dtype(np.float32), 'double': np.dtype(np.float64),
                  'int64_t': np.dtype(np.int64), 'unsigned char': np.dtype(np.uint8),
                  'int': np.dtype(np.int32)}
SCALAR_TYPES = {'int': np.int32, 'int64_t': np.int64, 'float': np.float32, 'double': np.float64}

# Threads per block of the per-map decoders and the per-pixel encoders. Whole warps:
# the block reductions assume it.
MAP_BLOCK = 128
DARK_BLOCK = 256
PIXEL_BLOCK = 256
# Grid-stride kernels need no more blocks than this to fill any current GPU.
MAX_GRID = 65535 * 8
# Dynamic shared memory a kernel may ask for: 48 KiB work on every GPU without opting
# in; 8 KiB of that are left to the kernels' static __shared__ arrays.
SHARED_LIMIT = 40 * 1024


# The name suffix of a two-precision kernel (lifting.cu) per float dtype.
_PRECISION_SUFFIX = {np.dtype(np.float32): 'f', np.dtype(np.float64): 'd'}
# Rows (keypoints) per block of the one-warp-per-row SimCC kernels.
ROWS_PER_BLOCK = 4
# The most grouping scratch one fc_ae_group launch takes (images are launched in
# chunks within it), and the most one image may need.
AE_SCRATCH_PER_LAUNCH = 256 << 20
AE_SCRATCH_PER_IMAGE = 2 << 30


def ae_scratch_bytes(K: int, L: int, M: int) -> int:
    """fc_ae_group's scratch per image (ae_scratch_layout in associative_embedding.cu):
    room for every candidate its own group and munkres on the groups of K - 1 keypoints."""
    groups, n = K * M, M * max(K - 1, 1)
    f64 = M * n + M * groups + L + n * n
    i64 = groups + M + 2 * (2 * n + 1)
    f32 = groups * (1 + 3 * K + K * L + L) + L + K * L
    u8 = n * n + 2 * n
    return -(-(8 * (f64 + i64) + 4 * f32 + u8) // 16) * 16


class Pointer(NamedTuple):
    """A kernel's pointer argument: the array and the C type it is passed as."""
    array: Any
    ctype: str


class Launcher:
    """Where kernels run: ``launch(name, grid, block, shared_bytes, args)`` with args
    already marshalled (``Pointer`` for arrays, numpy scalars otherwise), and the few
    array operations the launch code needs on arrays of the launcher's kind."""

    def launch(self, name: str, grid: Tuple[int, ...], block: Tuple[int, ...],
               shared_bytes: int, args: Sequence[Any]) -> None:
        raise NotImplementedError

    def describe(self, array: Any) -> Tuple[Tuple[int, ...], np.dtype, bool]:
        """(shape, dtype, C-contiguous) of an array the launcher can pass."""
        raise NotImplementedError

    def astype(self, array: Any, dtype: Any) -> Any:
        """``array`` as a C-contiguous array of ``dtype`` on the same device (a scratch
        copy where it differs; no host round trip)."""
        raise NotImplementedError

    def empty(self, shape: Tuple[int, ...], dtype: Any, like: Any) -> Any:
        """A scratch array on ``like``'s device (in its stream's order)."""
        raise NotImplementedError


def marshal(name: str, values: Sequence[Any]) -> list:
    """``values`` converted to kernel ``name``'s parameter types."""
    params = SIGNATURES[name]
    if len(values) != len(params):
        raise TypeError(f'{name} takes {len(params)} arguments, got {len(values)}')
    out = []
    for ctype, v in zip(params, values):
        if ctype.endswith('*'):
            out.append(Pointer(v, ctype))
        else:
            out.append(SCALAR_TYPES[ctype](v))
    return out


class Kernels:
    """The backend-contract functions on one launcher."""

    def __init__(self, launcher: Launcher):
        self._launcher = launcher

    # -- helpers ---------------------------------------------------------------------
    def _require(self, array: Any, name: str, dtype: Any, shape: Tuple[int, ...] = None,
                 ndim_at_least: int = 0) -> Tuple[int, ...]:
        """The kernels index arrays as C-contiguous buffers of one dtype: anything else
        would read or write out of bounds, so it is refused here (the front converts)."""
        got_shape, got_dtype, contiguous = self._launcher.describe(array)
        if got_dtype != np.dtype(dtype):
            raise TypeError(f'{name}: expected dtype {np.dtype(dtype)}, got {got_dtype}')
        if not contiguous:
            raise ValueError(f'{name}: expected a C-contiguous array')
        if shape is not None and tuple(got_shape) != tuple(shape):
            raise ValueError(f'{name}: expected shape {tuple(shape)}, got {tuple(got_shape)}')
        if len(got_shape) < ndim_at_least:
            raise ValueError(f'{name}: expected at least {ndim_at_least} dimensions, '
                             f'got shape {tuple(got_shape)}')
        return tuple(got_shape)

    def _float_array(self, array, name: str, ndim: int) -> Tuple[Tuple[int, ...], np.dtype]:
        """An array of the kernels compiled for both precisions: float32 or float64,
        C-contiguous, ``ndim`` dimensions -> (shape, dtype)."""
        dtype = self._launcher.describe(array)[1]
        if dtype not in _PRECISION_SUFFIX:
            raise TypeError(f'{name}: expected dtype float32 or float64, got {dtype}')
        shape = self._require(array, name, dtype, ndim_at_least=ndim)
        if len(shape) != ndim:
            raise ValueError(f'{name}: expected {ndim} dimensions, got shape {shape}')
        return shape, dtype

    def _run(self, name: str, grid: int, block: int, shared_bytes: int, *values: Any) -> None:
        if grid == 0:
            return  # an empty batch: nothing to launch (CUDA rejects a 0-block grid)
        self._launcher.launch(name, (grid,), (block,), shared_bytes, marshal(name, values))

    @staticmethod
    def _grid_for(elements: int, block: int) -> int:
        return min(-(-elements // block), MAX_GRID)

    def _maps(self, heatmaps: Any) -> Tuple[Tuple[int, ...], int, int, int]:
        shape = self._require(heatmaps, 'heatmaps', np.float32, ndim_at_least=2)
        H, W = shape[-2], shape[-1]
        if H < 1 or W < 1:
            raise ValueError(f'heatmaps: maps must not be empty, got shape {shape}')
        C = int(np.prod(shape[:-2], dtype=np.int64))
        return shape[:-2], C, H, W

    @staticmethod
    def _ksize(ksize: int) -> int:
        k = int(ksize)
        if k < 1 or k % 2 == 0 or k > MAX_BLUR_KERNEL:
            raise ValueError(f'ksize must be odd and in [1, {MAX_BLUR_KERNEL}], got {ksize}')
        return k

    @staticmethod
    def _nms_radius(nms_kernel: int) -> int:
        """The NMS window's radius r (window 2r + 1) of an odd, positive kernel size."""
        k = int(nms_kernel)
        if k < 1 or k % 2 == 0:
            raise ValueError(f'nms_kernel must be odd and positive, got {nms_kernel}')
        return (k - 1) // 2

    def _topk_scratch(self, maps: int, M: int, HW: int, like: Any) -> Tuple[Any, Any]:
        """The scratch of nms_topk.cuh's block_nms_topk for `maps` maps of HW pixels:
        the NMS values (maps, HW) and the candidates (maps, topk_scratch_length, 2) int64,
        M of them on the heap path (spr_partial_sort_path), HW on the nth_element one."""
        length = M if M * 64 <= HW else HW
        return (self._launcher.empty((maps, HW), np.float32, like),
                self._launcher.empty((maps, length, 2), np.int64, like))

    @staticmethod
    def _scale(scale: Any) -> Tuple[float, float]:
        sx, sy = (float(v) for v in scale)
        return sx, sy

    # -- decoding --------------------------------------------------------------------
    def heatmap_maximum(self, heatmaps, locs, vals) -> None:
        """heatmaps f32 (..., H, W) -> locs f32 (..., 2), vals f32 (...): the first
        maximum of each map, locs -1 where vals <= 0. One block per map."""
        lead, C, H, W = self._maps(heatmaps)
        self._require(locs, 'locs', np.float32, lead + (2,))
        self._require(vals, 'vals', np.float32, lead)
        self._run('fc_heatmap_maximum', C, MAP_BLOCK, 0, heatmaps, C, H, W, locs, vals)

    def decode_msra(self, heatmaps, scale, locs, vals) -> None:
        """heatmaps f32 (B, K, H, W), scale (sx, sy) -> locs f32 (B, K, 2), vals f32
        (B, K): the argmax, the 0.25 px step, locations times scale in float32."""
        lead, C, H, W = self._maps(heatmaps)
        sx, sy = self._scale(scale)
        self._require(locs, 'locs', np.float32, lead + (2,))
        self._require(vals, 'vals', np.float32, lead)
        self._run('fc_decode_msra', C, MAP_BLOCK, 0, heatmaps, C, H, W, sx, sy, locs, vals)

    @staticmethod
    def dark_band_rows(H: int, W: int, ksize: int) -> int:
        """Rows of the blurred map one DARK block holds per band: as many as fit the
        shared-memory budget beside the 2r halo rows (at most H); 0 when not even one
        row fits (a very wide map: each pixel is then blurred from global memory)."""
        r = ksize // 2
        fit = SHARED_LIMIT // (4 * W) - 2 * r
        return max(0, min(H, fit))

    def _band(self, H: int, W: int, k: int) -> Tuple[int, int]:
        band = self.dark_band_rows(H, W, k)
        return band, (4 * (band + 2 * (k // 2)) * W if band else 0)

    def _keypoints_and_maps(self, keypoints, heatmaps) -> Tuple[int, int, int, int, int]:
        B, N, K, _ = self._require(keypoints, 'keypoints', np.float64, ndim_at_least=4)
        self._require(keypoints, 'keypoints', np.float64, (B, N, K, 2))
        shape = self._require(heatmaps, 'heatmaps', np.float32, ndim_at_least=4)
        if len(shape) != 4 or shape[:2] != (B, K):
            raise ValueError(f'heatmaps: expected shape ({B}, {K}, H, W) to match keypoints '
                             f'{(B, N, K, 2)}, got {shape}')
        H, W = shape[2:]
        if H < 1 or W < 1:
            raise ValueError(f'heatmaps: maps must not be empty, got shape {shape}')
        return B, N, K, H, W

    def _scales(self, heatmaps, C: int, H: int, W: int, k: int):
        """Each map's gaussian_blur rescale factor (and its raw maximum, unused)."""
        band, shared = self._band(H, W, k)
        locs = self._launcher.empty((C, 2), np.float32, heatmaps)
        vals = self._launcher.empty((C,), np.float32, heatmaps)
        scales = self._launcher.empty((C,), np.float32, heatmaps)
        self._run('fc_dark_maxima', C, DARK_BLOCK, shared, heatmaps, C, H, W, k, band, locs, vals,
                  scales)
        return locs, vals, scales

    def decode_dark(self, heatmaps, ksize, udp, scale, locs, vals) -> None:
        """heatmaps f32 (B, K, H, W), ksize odd, udp bool, scale (sx, sy) -> locs f32
        (B, K, 2), vals f32 (B, K): the argmax, then the DARK (udp False) or DARK-UDP
        step, locations times scale in float32. DARK: one block per map, the blur of
        each row band in shared memory, fused with the step. DARK-UDP (whose -1
        locations read neighbouring maps): every map's maximum and scale first, then
        one thread per keypoint."""
        lead, C, H, W = self._maps(heatmaps)
        k = self._ksize(ksize)
        sx, sy = self._scale(scale)
        self._require(locs, 'locs', np.float32, lead + (2,))
        self._require(vals, 'vals', np.float32, lead)
        band, shared = self._band(H, W, k)
        if not udp:
            self._run('fc_decode_dark', C, DARK_BLOCK, shared, heatmaps, C, H, W, k, band, sx, sy,
                      locs, vals)
            return
        if len(lead) != 2:
            raise ValueError(f'heatmaps: expected (B, K, H, W), got shape {lead + (H, W)}')
        B, K = lead
        scales = self._launcher.empty((C,), np.float32, heatmaps)
        self._run('fc_dark_maxima', C, DARK_BLOCK, shared, heatmaps, C, H, W, k, band, locs, vals,
                  scales)
        self._run('fc_decode_dark_udp_step', self._grid_for(C, MAP_BLOCK), MAP_BLOCK, 0,
                  heatmaps, B, K, H, W, k, scales, sx, sy, locs)

    def gaussian_blur(self, heatmaps, ksize, blurred) -> None:
        """heatmaps f32 (..., H, W), ksize odd -> blurred f32 (..., H, W): MMPose's
        gaussian_blur (OpenCV's sigma-0 kernel, zero padding, each map rescaled to its
        raw maximum). One block per map."""
        lead, C, H, W = self._maps(heatmaps)
        k = self._ksize(ksize)
        self._require(blurred, 'blurred', np.float32, lead + (H, W))
        band, shared = self._band(H, W, k)
        self._run('fc_gaussian_blur', C, DARK_BLOCK, shared, heatmaps, C, H, W, k, band, blurred)

    # -- threads: a GPU backend has no host thread pool ----------------------------------
    @staticmethod
    def num_threads() -> int:
        """1: the GPU backends run no host threads of their own."""
        return 1

    @staticmethod
    def set_num_threads(n) -> None:
        """Accepted and ignored (no host thread pool)."""
        int(n)

    @staticmethod
    def pool_calls() -> int:
        """0: no call runs on a host thread pool."""
        return 0

    def refine_sign(self, keypoints, heatmaps) -> None:
        """keypoints f64 (B, N, K, 2) in place, heatmaps f32 (B, K, H, W): the 0.25 px
        step toward the higher neighbour. One thread per keypoint."""
        B, N, K, H, W = self._keypoints_and_maps(keypoints, heatmaps)
        M = B * N * K
        self._run('fc_refine_sign', self._grid_for(M, MAP_BLOCK), MAP_BLOCK, 0, keypoints, B, N, K,
                  heatmaps, H, W)

    def refine_dark(self, keypoints, heatmaps, ksize) -> None:
        """keypoints f64 (B, N, K, 2) in place, heatmaps f32 (B, K, H, W), ksize:
        refine_keypoints_dark. Each map's rescale factor first (one block per map), then
        one thread per keypoint blurring its 5x5 neighbourhood."""
        B, N, K, H, W = self._keypoints_and_maps(keypoints, heatmaps)
        k = self._ksize(ksize)
        if B * K == 0 or N == 0:
            return
        _, _, scales = self._scales(heatmaps, B * K, H, W, k)
        self._run('fc_refine_dark', self._grid_for(B * N * K, MAP_BLOCK), MAP_BLOCK, 0, keypoints,
                  B, N, K, heatmaps, H, W, k, scales)

    def refine_dark_udp(self, keypoints, heatmaps, ksize, f32) -> None:
        """keypoints f64 (B, N, K, 2) in place, heatmaps f32 (B, K, H, W), ksize, f32:
        refine_keypoints_dark_udp (f32: MMPose's index math in float32)."""
        B, N, K, H, W = self._keypoints_and_maps(keypoints, heatmaps)
        k = self._ksize(ksize)
        if B * K == 0 or N == 0:
            return
        _, _, scales = self._scales(heatmaps, B * K, H, W, k)
        self._run('fc_refine_dark_udp', self._grid_for(B * N * K, MAP_BLOCK), MAP_BLOCK, 0,
                  keypoints, B, N, K, heatmaps, H, W, k, scales, int(bool(f32)))

    def decode_megvii(self, heatmaps, ksize, locs, scores) -> None:
        """heatmaps f32 (B, K, H, W), ksize -> locs f32 (B, K, 2), scores f32 (B, K) in
        heatmap pixels: MegviiHeatmap.decode. One block per map."""
        lead, C, H, W = self._maps(heatmaps)
        k = self._ksize(ksize)
        self._require(locs, 'locs', np.float32, lead + (2,))
        self._require(scores, 'scores', np.float32, lead)
        band, shared = self._band(H, W, k)
        self._run('fc_decode_megvii', C, DARK_BLOCK, shared, heatmaps, C, H, W, k, band, locs,
                  scores)

    def decode_udp_combined(self, heatmaps, ksize, radius, locs, scores) -> None:
        """heatmaps f32 (B, 3K, H, W), ksize, radius -> locs f32 (B, K, 2), scores f32
        (B, K) in heatmap pixels: UDPHeatmap('combined').decode. One block per keypoint."""
        shape = self._require(heatmaps, 'heatmaps', np.float32, ndim_at_least=4)
        if len(shape) != 4 or shape[1] % 3:
            raise ValueError(f'heatmaps: expected (B, 3K, H, W), got shape {shape}')
        B, K3, H, W = shape
        K = K3 // 3
        if H < 1 or W < 1:
            raise ValueError(f'heatmaps: maps must not be empty, got shape {shape}')
        k = self._ksize(ksize)
        self._require(locs, 'locs', np.float32, (B, K, 2))
        self._require(scores, 'scores', np.float32, (B, K))
        band, shared = self._band(H, W, k)
        self._run('fc_decode_udp_combined', B * K, DARK_BLOCK, shared, heatmaps, B, K, H, W, k,
                  band, float(radius), locs, scores)

    # -- encoding --------------------------------------------------------------------
    _GAUSSIAN_KINDS = {'msra': 0, 'unbiased': 1, 'udp': 2}

    def encode_gaussian(self, kind, keypoints, visible, sigma, scale, f32, heatmaps,
                        inside) -> None:
        """keypoints f64 (B, N, K, 2), visible f64 (B, N, K), sigma f64 or f32 (N,) or
        (B, N) (float32: MMPose's float32 patch geometry), scale (sx, sy), f32 ->
        heatmaps f32 (B, K, H, W) (W, H read from it), inside u8 (B, N, K). One block per map: each
        instance's geometry once, then the block's threads over the map's pixels; the
        front has checked sigma's range."""
        if kind not in self._GAUSSIAN_KINDS:
            raise ValueError(f"kind must be 'msra', 'unbiased' or 'udp', got {kind!r}")
        B, N, K, _ = self._require(keypoints, 'keypoints', np.float64, ndim_at_least=4)
        self._require(keypoints, 'keypoints', np.float64, (B, N, K, 2))
        self._require(visible, 'visible', np.float64, (B, N, K))
        s_shape, s_dtype, s_contiguous = self._launcher.describe(sigma)
        if tuple(s_shape) not in ((N,), (B, N)):
            raise ValueError(f'sigma: expected shape {(N,)} or {(B, N)}, got {tuple(s_shape)}')
        if s_dtype not in (np.dtype(np.float32), np.dtype(np.float64)) or not s_contiguous:
            raise TypeError('sigma: expected a C-contiguous float32 or float64 array')
        sigma_f32 = s_dtype == np.dtype(np.float32)
        sigma64 = self._launcher.astype(sigma, np.float64)
        W, H = self._map_size(heatmaps, (B, K))
        sx, sy = self._scale(scale)
        self._require(inside, 'inside', np.uint8, (B, N, K))
        self._run('fc_encode_gaussian', B * K, PIXEL_BLOCK, 0,
                  self._GAUSSIAN_KINDS[kind], keypoints, visible, sigma64,
                  1 if len(s_shape) == 1 else B, int(sigma_f32), sx, sy, int(bool(f32)),
                  B, N, K, H, W, heatmaps, inside)

    def _map_size(self, heatmaps, lead: Tuple[int, ...]) -> Tuple[int, int]:
        """(W, H) of an encoder's output maps (lead + (H, W)): the contract passes the
        heatmap size only as the outputs' shape."""
        shape = self._require(heatmaps, 'heatmaps', np.float32, ndim_at_least=2)
        if tuple(shape[:-2]) != tuple(lead) or len(shape) != len(lead) + 2:
            raise ValueError(f'heatmaps: expected shape {tuple(lead)} + (H, W), got {shape}')
        H, W = shape[-2:]
        if W < 1 or H < 1:
            raise ValueError(f'heatmap size must be positive, got W={W}, H={H}')
        return W, H

    def _encode_inputs(self, keypoints, visible, coords: int = 2) -> Tuple[int, int, int]:
        """keypoints f64 (B, N, K, coords), visible f64 (B, N, K) (None: not checked)
        -> (B, N, K)."""
        B, N, K, _ = self._require(keypoints, 'keypoints', np.float64, ndim_at_least=4)
        self._require(keypoints, 'keypoints', np.float64, (B, N, K, coords))
        if visible is not None:
            self._require(visible, 'visible', np.float64, (B, N, K))
        return B, N, K

    def encode_offset(self, keypoints, visible, scale, f32, radius, heatmaps, inside) -> None:
        """keypoints f64 (B, N, K, 2), visible f64 (B, N, K), scale, f32, radius ->
        heatmaps f32 (B, 3K, H, W) (label, x offset, y offset per keypoint), inside u8
        (B, N, K): UDP 'combined' targets. One block per keypoint map."""
        B, N, K = self._encode_inputs(keypoints, visible)
        W, H = self._map_size(heatmaps, (B, 3 * K))
        sx, sy = self._scale(scale)
        self._require(inside, 'inside', np.uint8, (B, N, K))
        self._run('fc_encode_offset', B * K, PIXEL_BLOCK, 0,
                  keypoints, visible, sx, sy, int(bool(f32)), float(radius), B, N, K, H, W,
                  heatmaps, inside)

    def encode_megvii(self, keypoints, visible, scale, f32, ksize, heatmaps, inside) -> None:
        """keypoints f64 (B, N, K, 2) with N <= 1, visible f64 (B, N, K), scale, f32,
        ksize -> heatmaps f32 (B, K, H, W), inside u8 (B, N, K): MegviiHeatmap's
        targets. One block per map."""
        B, N, K = self._encode_inputs(keypoints, visible)
        if N > 1:
            raise ValueError(f'MegviiHeatmap encodes one instance per sample, got N={N}')
        k = self._ksize(ksize)
        W, H = self._map_size(heatmaps, (B, K))
        sx, sy = self._scale(scale)
        self._require(inside, 'inside', np.uint8, (B, N, K))
        self._run('fc_encode_megvii', B * K, PIXEL_BLOCK, 0,
                  keypoints, visible, sx, sy, int(bool(f32)), k, B, N, K, H, W, heatmaps, inside)


    # -- SimCC -----------------------------------------------------------------------
    def simcc_encode(self, keypoints, visible, gaussian, sigma, ratio, f32,
                     label_smooth_weight, normalize, x_labels, y_labels, inside) -> None:
        """keypoints f64 (B, N, K, 2), visible f64 (B, N, K), gaussian bool, sigma
        (sigma_x, sigma_y), ratio, f32, label_smooth_weight, normalize -> x_labels f32
        (B, N, K, W), y_labels f32 (B, N, K, H) (W, H read from them), inside u8
        (B, N, K). One thread per label bin."""
        B, N, K = self._encode_inputs(keypoints, visible)
        W = self._require(x_labels, 'x_labels', np.float32, ndim_at_least=4)[-1]
        H = self._require(y_labels, 'y_labels', np.float32, ndim_at_least=4)[-1]
        self._require(x_labels, 'x_labels', np.float32, (B, N, K, W))
        self._require(y_labels, 'y_labels', np.float32, (B, N, K, H))
        self._require(inside, 'inside', np.uint8, (B, N, K))
        sigma_x, sigma_y = (float(v) for v in sigma)
        R = B * N * K
        self._run('fc_simcc_encode', self._grid_for(R * (W + H), PIXEL_BLOCK), PIXEL_BLOCK, 0,
                  keypoints, visible, R, W, H, int(bool(gaussian)), sigma_x, sigma_y,
                  float(ratio), int(bool(f32)), float(label_smooth_weight), int(bool(normalize)),
                  x_labels, y_labels, inside)

    def simcc3d_encode(self, keypoints, visible, sigma, ratio, f32, normalize, x_labels,
                       y_labels, z_labels, inside) -> None:
        """keypoints f64 (B, N, K, 3), visible f64 (B, N, K), sigma (sx, sy, sz), ratio,
        f32, normalize -> x_labels f32 (B, N, K, W), y_labels (B, N, K, H), z_labels
        (B, N, K, D) (W, H, D read from them), inside u8 (B, N, K): SimCC3DLabel's
        Gaussian labels. One thread per label bin."""
        B, N, K = self._encode_inputs(keypoints, visible, 3)
        lengths = []
        for name, labels in (('x_labels', x_labels), ('y_labels', y_labels),
                             ('z_labels', z_labels)):
            n = self._require(labels, name, np.float32, ndim_at_least=4)[-1]
            self._require(labels, name, np.float32, (B, N, K, n))
            lengths.append(n)
        self._require(inside, 'inside', np.uint8, (B, N, K))
        W, H, D = lengths
        sx, sy, sz = (float(v) for v in sigma)
        R = B * N * K
        self._run('fc_simcc3d_encode', self._grid_for(R * (W + H + D), PIXEL_BLOCK), PIXEL_BLOCK,
                  0, keypoints, visible, R, W, H, D, sx, sy, sz, float(ratio), int(bool(f32)),
                  int(bool(normalize)), x_labels, y_labels, z_labels, inside)

    def _rows(self, simcc_x, simcc_y) -> Tuple[int, int, int]:
        R, Wx = self._require(simcc_x, 'simcc_x', np.float32, ndim_at_least=2)[:2]
        self._require(simcc_x, 'simcc_x', np.float32, (R, Wx))
        Wy = self._require(simcc_y, 'simcc_y', np.float32, ndim_at_least=2)[1]
        self._require(simcc_y, 'simcc_y', np.float32, (R, Wy))
        if Wx < 1 or Wy < 1:
            raise ValueError(f'simcc lengths must be positive, got {Wx} and {Wy}')
        return R, Wx, Wy

    def _row_grid(self, R: int) -> int:
        return -(-R // ROWS_PER_BLOCK)

    def simcc_maximum(self, simcc_x, simcc_y, locs, vals) -> None:
        """simcc_x f32 (R, Wx), simcc_y f32 (R, Wy) -> locs f32 (R, 2), vals f32 (R,):
        get_simcc_maximum on rows. One warp per row."""
        R, Wx, Wy = self._rows(simcc_x, simcc_y)
        self._require(locs, 'locs', np.float32, (R, 2))
        self._require(vals, 'vals', np.float32, (R,))
        self._run('fc_simcc_maximum', self._row_grid(R), 32 * ROWS_PER_BLOCK, 0, simcc_x,
                  simcc_y, R, Wx, Wy, locs, vals)

    def simcc_decode(self, simcc_x, simcc_y, kx, ky, ratio, beta, sigma, locs, vals,
                     visible) -> None:
        """simcc_x f32 (R, Wx), simcc_y f32 (R, Wy), kx, ky DARK blur sizes (0: none),
        ratio, beta, sigma (sigma_x, sigma_y) -> locs f32 (R, 2) in input pixels, vals
        f32 (R,), visible f64 (R,) or (0,): the softmax visibility is computed iff it
        has R entries. One warp per row: argmax, 1-D DARK, softmax visibility."""
        R, Wx, Wy = self._rows(simcc_x, simcc_y)
        kx = self._ksize(kx) if kx else 0
        ky = self._ksize(ky) if ky else 0
        self._require(locs, 'locs', np.float32, (R, 2))
        self._require(vals, 'vals', np.float32, (R,))
        v_shape = self._require(visible, 'visible', np.float64, ndim_at_least=1)
        if tuple(v_shape) not in ((R,), (0,)):
            raise ValueError(f'visible: expected shape ({R},) or (0,), got {tuple(v_shape)}')
        visibility = v_shape[0] == R and R > 0
        sigma_x, sigma_y = (float(v) for v in sigma)
        self._run('fc_simcc_decode', self._row_grid(R), 32 * ROWS_PER_BLOCK, 0, simcc_x, simcc_y,
                  R, Wx, Wy, kx, ky, float(ratio), int(visibility), float(beta), sigma_x,
                  sigma_y, locs, vals, visible)

    def simcc_refine_dark(self, keypoints, simcc, blur_kernel_size, refined) -> None:
        """keypoints f32 (R,), simcc f32 (R, W), blur_kernel_size odd -> refined f32
        (R,): refine_simcc_dark. One warp per row."""
        R, W = self._require(simcc, 'simcc', np.float32, ndim_at_least=2)[:2]
        self._require(simcc, 'simcc', np.float32, (R, W))
        if W < 1:
            raise ValueError('simcc length must be positive')
        self._require(keypoints, 'keypoints', np.float32, (R,))
        self._require(refined, 'refined', np.float32, (R,))
        k = self._ksize(blur_kernel_size)
        self._run('fc_simcc_refine_dark', self._row_grid(R), 32 * ROWS_PER_BLOCK, 0, keypoints,
                  simcc, R, W, k, refined)

    # -- regression ------------------------------------------------------------------
    def encode_regression(self, keypoints, visible, input_size, labels, weights) -> None:
        """keypoints f32|f64 (..., 2), visible f32|f64 (...), input_size (w, h) ->
        labels f32 (..., 2), weights f32 (...): RegressionLabel's targets (float32
        inputs are widened exactly, as the CPU reads them). One thread per keypoint."""
        shape, kdtype, _ = self._launcher.describe(keypoints)
        if len(shape) < 1 or shape[-1] != 2:
            raise ValueError(f'keypoints: expected shape (..., 2), got {tuple(shape)}')
        lead = tuple(shape[:-1])
        vshape, _, _ = self._launcher.describe(visible)
        if tuple(vshape) != lead:
            raise ValueError(f'visible: expected shape {lead}, got {tuple(vshape)}')
        kps = self._launcher.astype(keypoints, np.float64)
        vis = self._launcher.astype(visible, np.float64)
        self._require(labels, 'labels', np.float32, lead + (2,))
        self._require(weights, 'weights', np.float32, lead)
        w, h = (float(v) for v in input_size)
        M = int(np.prod(lead, dtype=np.int64))
        self._run('fc_encode_regression', self._grid_for(M, PIXEL_BLOCK), PIXEL_BLOCK, 0, kps, vis,
                  M, w, h, labels, weights)

    def decode_regression(self, encoded, input_size, f32, keypoints, scores) -> None:
        """encoded f32|f64 (..., D), D = 2 or 4, input_size (w, h), f32 -> keypoints f64
        (..., 2), scores (...) float32 when D = 2 or f32, else float64."""
        shape, _, _ = self._launcher.describe(encoded)
        if len(shape) < 1 or shape[-1] not in (2, 4):
            raise ValueError(f'encoded: expected shape (..., 2) or (..., 4), got {tuple(shape)}')
        lead, D = tuple(shape[:-1]), shape[-1]
        scores32 = D == 2 or bool(f32)
        enc = self._launcher.astype(encoded, np.float64)
        self._require(keypoints, 'keypoints', np.float64, lead + (2,))
        self._require(scores, 'scores', np.float32 if scores32 else np.float64, lead)
        other = self._launcher.empty((0,), np.float64 if scores32 else np.float32, encoded)
        w, h = (float(v) for v in input_size)
        M = int(np.prod(lead, dtype=np.int64))
        self._run('fc_decode_regression', self._grid_for(M, PIXEL_BLOCK), PIXEL_BLOCK, 0, enc, M,
                  D, w, h, int(scores32), keypoints, scores if scores32 else other,
                  other if scores32 else scores)

    def normalize_heatmaps(self, heatmaps) -> None:
        """heatmaps f32 (..., H, W), in place: each map divided by (its sum + 1e-24).
        One block per map."""
        _, C, H, W = self._maps(heatmaps)
        self._run('fc_normalize_heatmaps', C, MAP_BLOCK, 0, heatmaps, C, H, W)

    # -- SPR (issue 15) --------------------------------------------------------------
    def spr_encode_displacements(self, keypoints, visible, roots, roots_visible, diagonals,
                                 radius, radius_f32, displacements, weights) -> None:
        """keypoints f64 (B, N, K, 2) in heatmap pixels, visible f64 (B, N, K), roots f32
        (B, N, 2), roots_visible f32 (B, N), diagonals f32 (B, N), radius, radius_f32 ->
        displacements, weights f32 (B, 2K, H, W), zeroed by the front: SPR's displacement
        targets, written only inside the roots' windows. One thread per pixel."""
        B, N, K = self._encode_inputs(keypoints, visible)
        self._require(roots, 'roots', np.float32, (B, N, 2))
        self._require(roots_visible, 'roots_visible', np.float32, (B, N))
        self._require(diagonals, 'diagonals', np.float32, (B, N))
        W, H = self._map_size(displacements, (B, 2 * K))
        self._require(weights, 'weights', np.float32, (B, 2 * K, H, W))
        self._run('fc_spr_encode_displacements', self._grid_for(B * H * W, PIXEL_BLOCK),
                  PIXEL_BLOCK, 0, keypoints, visible, roots, roots_visible, diagonals, B, N, K,
                  H, W, float(radius), int(bool(radius_f32)), displacements, weights)

    def spr_decode(self, heatmaps, displacements, nms_kernel, threshold, scale, keypoints,
                   root_scores, keypoint_scores, counts) -> None:
        """heatmaps f32 (B, C, H, W), displacements f32 (B, 2K, H, W), nms_kernel odd,
        threshold, scale (sx, sy) -> keypoints f32 (B, M, K, 2), root_scores f32 (B, M),
        keypoint_scores f32 (B, M, K) (rescoring with the keypoint maps, C = K + 1) or
        (B, M, 0), counts int64 (B,): SPR's decode, sample b's instances in its first
        counts[b] rows. One block per sample; the NMS map and the top-k candidates
        (M per sample, or H * W where torch's CPU top-k takes the nth_element path) in
        scratch arrays."""
        B, C, H, W = self._require(heatmaps, 'heatmaps', np.float32, ndim_at_least=4)
        self._require(heatmaps, 'heatmaps', np.float32, (B, C, H, W))
        if C < 1 or H < 1 or W < 1:
            raise ValueError(f'heatmaps: expected (B, C, H, W) with C, H, W > 0, got '
                             f'{(B, C, H, W)}')
        K2 = self._require(displacements, 'displacements', np.float32, ndim_at_least=2)[1]
        if K2 % 2:
            raise ValueError(f'displacements: expected (B, 2K, {H}, {W}), got {K2} channels')
        self._require(displacements, 'displacements', np.float32, (B, K2, H, W))
        K = K2 // 2
        r = self._nms_radius(nms_kernel)
        M = self._require(keypoints, 'keypoints', np.float32, ndim_at_least=2)[1]
        self._require(keypoints, 'keypoints', np.float32, (B, M, K, 2))
        if M > H * W:
            raise ValueError(f'keypoints: at most H * W = {H * W} instances per sample, got {M}')
        self._require(root_scores, 'root_scores', np.float32, (B, M))
        s_shape = self._require(keypoint_scores, 'keypoint_scores', np.float32, ndim_at_least=3)
        rescore = K > 0 and len(s_shape) == 3 and s_shape[2] == K
        self._require(keypoint_scores, 'keypoint_scores', np.float32, (B, M, K if rescore else 0))
        if rescore and C != K + 1:
            raise ValueError(f'keypoint scores need K + 1 = {K + 1} heatmaps, got {C}')
        self._require(counts, 'counts', np.int64, (B,))
        sx, sy = self._scale(scale)
        peaks, scratch = self._topk_scratch(B, M, H * W, heatmaps)
        self._run('fc_spr_decode', B, PIXEL_BLOCK, 0, heatmaps, displacements, B, C, K, H, W,
                  r, M, float(threshold), sx, sy, int(rescore), peaks, scratch, keypoints,
                  root_scores, keypoint_scores, counts)

    def ae_decode(self, heatmaps, tags, order, nms_kernel, topk, val_thr, tag_thr, max_instances,
                  udp, blur_kernel, center_shift, scale, keypoints, scores, instance_scores,
                  counts) -> None:
        """heatmaps f32 (B, K, H, W), tags f32 (B, L*K, H, W), order int64 (K,) -> keypoints
        f32 (B, G, K, 2), scores f32 (B, G, K), instance_scores f32 (B, G), counts int64
        (B,): AssociativeEmbedding.batch_decode. fc_ae_candidates (one block per map: NMS,
        top-k), with UDP fc_gaussian_blur into a modulated copy, then fc_ae_group (one
        block per image: grouping, refinement, filling), images in chunks whose grouping
        scratch (ae_scratch_bytes each) stays within AE_SCRATCH_PER_LAUNCH."""
        B, K, H, W = self._require(heatmaps, 'heatmaps', np.float32, ndim_at_least=4)
        self._require(heatmaps, 'heatmaps', np.float32, (B, K, H, W))
        if H < 1 or W < 1:
            raise ValueError(f'heatmaps: maps must not be empty, got shape {(B, K, H, W)}')
        C = self._require(tags, 'tags', np.float32, ndim_at_least=2)[1]
        if (C % K if K else C) or (K and C < K):
            raise ValueError(f'tags: expected (B, L * {K}, {H}, {W}), got {C} channels')
        self._require(tags, 'tags', np.float32, (B, C, H, W))
        L = C // K if K else 0
        self._require(order, 'order', np.int64, (K,))
        r = self._nms_radius(nms_kernel)
        M = int(topk)
        if not 0 <= M <= H * W:
            raise ValueError(f'topk must be in [0, H * W = {H * W}], got {topk}')
        G = self._require(keypoints, 'keypoints', np.float32, ndim_at_least=2)[1]
        self._require(keypoints, 'keypoints', np.float32, (B, G, K, 2))
        self._require(scores, 'scores', np.float32, (B, G, K))
        self._require(instance_scores, 'instance_scores', np.float32, (B, G))
        self._require(counts, 'counts', np.int64, (B,))
        per_image = ae_scratch_bytes(K, L, M)
        if per_image > AE_SCRATCH_PER_IMAGE:
            raise ValueError(f'decode_topk = {M} with K = {K} keypoints needs '
                             f'{per_image / 2**30:.1f} GiB of grouping scratch per image on the '
                             'cuda backend; decode on the cpp backend (host arrays)')
        if B == 0:
            return
        vals = self._launcher.empty((B, K, M), np.float32, heatmaps)
        idx = self._launcher.empty((B, K, M), np.int64, heatmaps)
        if B * K and M:
            peaks, cands = self._topk_scratch(B * K, M, H * W, heatmaps)
            self._run('fc_ae_candidates', B * K, PIXEL_BLOCK, 0, heatmaps, B * K, H, W, r, M,
                      peaks, cands, vals, idx)
        modulated = self._launcher.empty((B, K, H, W) if udp else (0,), np.float32, heatmaps)
        if udp and B * K:
            self.gaussian_blur(heatmaps, blur_kernel, modulated)
        chunk = max(1, min(B, AE_SCRATCH_PER_LAUNCH // per_image))
        scratch = self._launcher.empty((chunk, per_image), np.uint8, heatmaps)
        sx, sy = self._scale(scale)
        for b0 in range(0, B, chunk):
            n = min(chunk, B - b0)
            self._run('fc_ae_group', n, MAP_BLOCK, 0, heatmaps[b0:b0 + n], tags[b0:b0 + n],
                      order, modulated[b0:b0 + n] if udp else modulated, vals[b0:b0 + n],
                      idx[b0:b0 + n], n, K, L, H, W, M, float(val_thr), float(tag_thr),
                      int(max_instances), int(bool(udp)), float(center_shift), sx, sy, G,
                      scratch, per_image, keypoints[b0:b0 + n], scores[b0:b0 + n],
                      instance_scores[b0:b0 + n], counts[b0:b0 + n])

    # -- DecoupledHeatmap (issue 15): instance properties -------------------------------
    def _precisions(self, f32: bool, *arrays, like) -> list:
        """The float32 and float64 pointer arguments of a two-precision kernel: the
        arrays where the kernel reads them, empty arrays of the other precision."""
        empty = self._launcher.empty((0,), np.float64 if f32 else np.float32, like)
        return [a if f32 else empty for a in arrays] + [empty if f32 else a for a in arrays]

    def instance_geometry(self, keypoints, visible, kpt_center, roots, roots_visible,
                          diagonals) -> None:
        """keypoints f32|f64 (R, K, 2), visible f64 (R, K), kpt_center -> roots f32
        (R, 2), roots_visible f32 (R,), diagonals f32 (R,): DecoupledHeatmap's
        instance_property, bit-exact (instances.h). One thread per instance."""
        (R, K, two), dtype = self._float_array(keypoints, 'keypoints', 3)
        if two != 2:
            raise ValueError(f'keypoints: expected shape (R, K, 2), got {(R, K, two)}')
        f32 = dtype == np.float32
        self._require(visible, 'visible', np.float64, (R, K))
        self._require(roots, 'roots', np.float32, (R, 2))
        self._require(roots_visible, 'roots_visible', np.float32, (R,))
        self._require(diagonals, 'diagonals', np.float32, (R,))
        k32, k64 = self._precisions(f32, keypoints, like=keypoints)
        self._run('fc_instance_geometry', self._grid_for(R, PIXEL_BLOCK), PIXEL_BLOCK, 0, k32, k64,
                  int(f32), visible, R, K, int(bool(kpt_center)), roots, roots_visible, diagonals)

    def instance_sigmas(self, heights, widths, overlap, sigmas) -> None:
        """heights, widths (R,) both f32 or both f64, overlap -> sigmas f32 (R,):
        DecoupledHeatmap's instance-wise sigmas (instances.h). One thread per instance.
        pow is CUDA's on a GPU (within a few ulp of libm; the emulator: libm's)."""
        (R,), dtype = self._float_array(heights, 'heights', 1)
        self._require(widths, 'widths', dtype, (R,))
        f32 = dtype == np.float32
        self._require(sigmas, 'sigmas', np.float32, (R,))
        h32, w32, h64, w64 = self._precisions(f32, heights, widths, like=heights)
        self._run('fc_instance_sigmas', self._grid_for(R, PIXEL_BLOCK), PIXEL_BLOCK, 0, h32, w32,
                  h64, w64, int(f32), R, float(overlap), 2.0, sigmas)

    # -- Hand3DHeatmap (issue 16) ----------------------------------------------------------
    def hand3d_encode(self, keypoints, sigma, f32, image_size, depth_bound, max_bound, heatmaps,
                      inside) -> None:
        """keypoints f64 (B, N, K, 3), sigma f64 (B, N), f32, image_size (w, h),
        depth_bound, max_bound -> heatmaps f32 (B, K, D, H, W) (zeroed by the front; the
        windows written), inside u8 (B, N, K). One block per volume; each window's voxel
        lists per axis in dynamic shared memory (16 bytes per voxel of W + H + D)."""
        B, N, K = self._encode_inputs(keypoints, None, 3)
        self._require(sigma, 'sigma', np.float64, (B, N))
        shape = self._require(heatmaps, 'heatmaps', np.float32, ndim_at_least=5)
        if len(shape) != 5 or shape[:2] != (B, K):
            raise ValueError(f'heatmaps: expected shape ({B}, {K}, D, H, W), got {shape}')
        D, H, W = shape[2:]
        if min(D, H, W) < 1:
            raise ValueError(f'heatmaps: volumes must not be empty, got shape {shape}')
        shared = 16 * (W + H + D)
        if shared > SHARED_LIMIT:
            raise ValueError(f'heatmaps: volumes of {W} x {H} x {D} voxels need '
                             f'{shared} bytes of shared memory per block, more than the '
                             f'{SHARED_LIMIT} the kernel may use (W + H + D <= '
                             f'{SHARED_LIMIT // 16})')
        self._require(inside, 'inside', np.uint8, (B, N, K))
        w, h = (float(v) for v in image_size)
        self._run('fc_hand3d_encode', B * K, PIXEL_BLOCK, shared, keypoints, sigma, B, N, K, W,
                  H, D, w, h, float(depth_bound), int(bool(f32)), float(max_bound), heatmaps,
                  inside)

    # -- lifting (issue 15) ----------------------------------------------------------
    def all_finite(self, a, b) -> None:
        """a, b f32|f64 (any layout) -> None, not whether they are finite: reading that
        back would synchronise the host, so the front runs the non-finite pass (its
        masks are no-ops on finite inputs)."""
        for array, name in ((a, 'a'), (b, 'b')):
            dtype = self._launcher.describe(array)[1]
            if dtype not in _PRECISION_SUFFIX:
                raise TypeError(f'{name}: expected dtype float32 or float64, got {dtype}')
        return None

    def motionbert_encode(self, keypoints, visible, target, params, factor, take_given,
                          root_index, project, train, target_visible, labels, target_label,
                          computed_factor, weights) -> None:
        """keypoints (B, N, K, D >= 2) f32|f64, visible (B, N, K) of their dtype or None,
        target (B, T, K', C) f32|f64 (C = 3 with project or train), params f64 (B, 8),
        factor f64 (B, 1 or T), take_given u8 (B,), root_index, project, train,
        target_visible (B, T, K') f32|f64 or None -> labels (B, N, K, D [+ 1]) of the
        keypoints' dtype, target_label (B, T, K', C) and computed_factor (B, T or 0) of
        the target's dtype, weights f32 (B, T, K') or None: MotionBERTLabel's encode, one
        thread per keypoint for the labels and one per target keypoint for the rest.

        Returns None, not whether the inputs were finite: reading that back would
        synchronise the host, so the device front zeroes what a non-finite keypoint
        touched unconditionally (its masks are no-ops on finite inputs)."""
        (B, N, K, D), kdt = self._float_array(keypoints, 'keypoints', 4)
        if D < 2:
            raise ValueError(f'keypoints: expected (B, N, K, D >= 2), got {(B, N, K, D)}')
        (Bt, T, KT, C), ldt = self._float_array(target, 'target', 4)
        if Bt != B:
            raise ValueError(f'target: expected a batch of {B}, got shape {(Bt, T, KT, C)}')
        root, project, train = int(root_index), bool(project), bool(train)
        if not 0 <= root < KT:
            raise ValueError(f'root_index {root} is out of range of the target\'s {KT} keypoints')
        if (project or train) and C != 3:
            raise ValueError(f'target: expected C = 3 to project or train, got {C}')
        has_vis = visible is not None
        if has_vis:
            self._require(visible, 'visible', kdt, (B, N, K))
        self._require(params, 'params', np.float64, (B, 8))
        f_shape = self._require(factor, 'factor', np.float64, ndim_at_least=2)
        if len(f_shape) != 2 or f_shape[0] != B or f_shape[1] not in (1, T):
            raise ValueError(f'factor: expected shape ({B}, 1) or ({B}, {T}), got {f_shape}')
        self._require(take_given, 'take_given', np.uint8, (B,))
        if (weights is None) != (target_visible is None):
            raise ValueError('weights must be given exactly when target_visible is')
        self._require(labels, 'labels', kdt, (B, N, K, D + has_vis))
        self._require(target_label, 'target_label', ldt, (B, T, KT, C))
        self._require(computed_factor, 'computed_factor', ldt, (B, T if project else 0))
        if target_visible is None:
            tv = self._launcher.empty((0,), np.float64, target)
            weights = self._launcher.empty((0,), np.float32, target)
        else:
            tv_shape, _ = self._float_array(target_visible, 'target_visible', 3)
            if tv_shape != (B, T, KT):
                raise ValueError(f'target_visible: expected shape {(B, T, KT)}, got {tv_shape}')
            tv = self._launcher.astype(target_visible, np.float64)   # exact
            self._require(weights, 'weights', np.float32, (B, T, KT))
        if not has_vis:
            visible = self._launcher.empty((0,), kdt, keypoints)
        k, c = _PRECISION_SUFFIX[kdt], _PRECISION_SUFFIX[ldt]
        self._run(f'fc_motionbert_labels_{k}', self._grid_for(B * N * K, PIXEL_BLOCK),
                  PIXEL_BLOCK, 0, keypoints, visible, int(has_vis), B, N * K, D, params, labels)
        self._run(f'fc_motionbert_target_{c}', self._grid_for(B * T * KT, PIXEL_BLOCK),
                  PIXEL_BLOCK, 0, target, B, T, KT, C, root, int(project), int(train), params,
                  factor, f_shape[1], take_given, tv, int(target_visible is not None),
                  target_label, computed_factor, weights)
        return None


def contract_functions(kernels: Kernels) -> Dict[str, Callable]:
    """Every contract function, ``kernels``' own, for a backend module to export."""
    return {name: getattr(kernels, name) for name in contract.NAMES}
