"""Array interop and argument checks shared by ops and codecs.

numpy in -> numpy out; torch CPU tensors in -> torch tensors out, sharing memory
with numpy both ways (no copies at the boundary).
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence, Tuple

import numpy as np

from fastcodec.limits import MAX_BLUR_KERNEL


def _torch():
    import sys
    return sys.modules.get('torch')


def is_torch(x: Any) -> bool:
    torch = _torch()
    return torch is not None and isinstance(x, torch.Tensor)


# DLPack device types whose memory the host can read (DLDeviceType: kDLCPU, pinned
# kDLCUDAHost, kDLROCMHost).
_HOST_DLPACK_DEVICES = (1, 3, 11)


def on_device(x: Any) -> bool:
    """Whether ``x`` is an array in accelerator memory: it exposes
    ``__cuda_array_interface__`` (CuPy, Numba, PyTorch CUDA tensors) or a DLPack device
    the host cannot read."""
    if hasattr(type(x), '__cuda_array_interface__'):
        return True
    dlpack_device = getattr(x, '__dlpack_device__', None)
    if dlpack_device is None or type(x) is np.ndarray:
        return False
    try:
        return int(dlpack_device()[0]) not in _HOST_DLPACK_DEVICES
    except Exception:  # noqa: BLE001 - not a usable DLPack producer: not a device array
        return False


def reject_device_array(x: Any, name: str) -> None:
    """The TypeError for arrays in accelerator memory: this release computes on the
    CPU only (the cuda backend is planned)."""
    if on_device(x):
        raise TypeError(f'{name}: a {type(x).__module__}.{type(x).__name__} in accelerator '
                        'memory needs the cuda backend, which is not part of this release; '
                        'copy it to the host first (e.g. tensor.cpu(), cupy.asnumpy)')


def as_numpy(x: Any, name: str) -> Tuple[np.ndarray, Callable[[np.ndarray], Any]]:
    """``x`` as a numpy array, and a function that turns results back into x's kind."""
    if type(x) is np.ndarray:
        check_real(x, name)
        return x, _same
    if is_torch(x):
        if x.device.type != 'cpu':
            raise TypeError(f'{name}: tensors on {x.device} need the cuda backend, '
                            'which is not part of this release; move them to the CPU')
        torch = _torch()
        t = x.detach()
        if t.dtype == torch.bfloat16:
            t = t.float()
        array = t.numpy()
        check_real(array, name)
        return array, lambda out: torch.from_numpy(np.ascontiguousarray(out)) \
            if isinstance(out, np.ndarray) else out
    reject_device_array(x, name)
    try:
        array = np.asarray(x)
    except Exception as err:  # noqa: BLE001 - report any conversion failure alike
        raise TypeError(f'{name} must be array-like, got {type(x).__name__}') from err
    check_real(array, name)
    return array, _same


def _same(out):
    return out


def check_real(array: np.ndarray, name: str) -> None:
    if array.dtype.kind not in 'biuf':
        raise TypeError(f'{name} must hold real numbers, got dtype {array.dtype}')


def check_ndim(array: np.ndarray, name: str, ndims: Sequence[int], layout: str) -> None:
    if array.ndim not in ndims:
        raise ValueError(f'{name} must have shape {layout}, got {tuple(array.shape)}')


def keypoints_f64(keypoints: np.ndarray, name: str = 'keypoints') -> Tuple[np.ndarray, bool]:
    """float64 copy-or-view of keypoints (..., 2+) and whether MMPose would compute in
    float32 (float16/float32 input) rather than float64."""
    check_real(keypoints, name)
    if keypoints.shape[-1] != 2:
        raise ValueError(f'{name} must hold (x, y) pairs in its last axis, '
                         f'got shape {tuple(keypoints.shape)}')
    f32 = keypoints.dtype in (np.float16, np.float32)
    return np.ascontiguousarray(keypoints, dtype=np.float64), f32


def visibility(keypoints_visible: Optional[Any], lead: Tuple[int, ...],
               name: str = 'keypoints_visible') -> np.ndarray:
    """The visibility array (MMPose: ones of float32 when None), checked to be ``lead``."""
    if keypoints_visible is None:
        return np.ones(lead, dtype=np.float32)
    vis, _ = as_numpy(keypoints_visible, name)
    check_real(vis, name)
    if vis.shape != lead:
        raise ValueError(f'{name} must have shape {lead} to match keypoints, '
                         f'got {tuple(vis.shape)}')
    return vis


def heatmaps_f32(heatmaps: np.ndarray, name: str = 'heatmaps') -> np.ndarray:
    check_real(heatmaps, name)
    return np.ascontiguousarray(heatmaps, dtype=np.float32)


def check_size(size: Any, name: str) -> Tuple[int, int]:
    """A (w, h) pair of positive integers."""
    try:
        w, h = size
        w_i, h_i = int(w), int(h)
    except (TypeError, ValueError) as err:
        raise TypeError(f'{name} must be a (width, height) pair, got {size!r}') from err
    if w_i != w or h_i != h or w_i <= 0 or h_i <= 0:
        raise ValueError(f'{name} must be two positive integers, got {size!r}')
    return w_i, h_i


def check_kernel_size(k: Any, name: str) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f'{name} must be an odd integer, got {k!r}')
    if k < 1 or k % 2 == 0 or k > MAX_BLUR_KERNEL:
        raise ValueError(f'{name} must be an odd integer in [1, {MAX_BLUR_KERNEL}], got {k}')
    return int(k)


def check_positive(v: Any, name: str) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError) as err:
        raise TypeError(f'{name} must be a number, got {v!r}') from err
    if not np.isfinite(f) or f <= 0:
        raise ValueError(f'{name} must be a positive finite number, got {v!r}')
    return f


def weights_from(visible: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """MMPose's keypoint_weights: a copy of the visibility with the out-of-heatmap
    entries zeroed, in the visibility's dtype."""
    return np.where(inside.view(bool), visible, 0).astype(visible.dtype, copy=False)
