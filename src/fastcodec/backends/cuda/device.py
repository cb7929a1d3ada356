"""The ``cuda`` backend: the kernels of csrc/cuda compiled at run time by NVRTC
through CuPy (cached per device architecture) and launched on the caller's current
stream -- torch's for torch tensors, CuPy's otherwise -- without synchronising the
host. Arrays are passed zero-copy by their device pointers
(``__cuda_array_interface__``); the launch arithmetic is ``launch.py``'s, shared with
the host emulator that the test suite runs.

Importing this module needs CuPy (the ``cuda`` extra) and a CUDA device; it raises
ImportError otherwise, which makes the backend unavailable rather than broken.
"""
import contextlib
import sys
from typing import Any as _Any, Dict as _Dict, Sequence as _Sequence, Tuple as _Tuple

import numpy as _np

import cupy  # noqa: F401 - ImportError here: no cuda backend

try:  # CuPy without a usable GPU (no driver, no device) is no backend either
    if cupy.cuda.runtime.getDeviceCount() < 1:
        raise ImportError('the cuda backend needs a CUDA device; none is present')
except cupy.cuda.runtime.CUDARuntimeError as _err:
    raise ImportError(f'the cuda backend needs a CUDA device: {_err}') from None

from fastcodec._arrays import cupy_stream as _cupy_stream
from fastcodec.backends.cuda import sources as _sources
from fastcodec.backends.cuda import launch as _launch


def _interface(array: _Any) -> dict:
    cai = getattr(array, '__cuda_array_interface__', None)
    if cai is None:
        raise TypeError(f'the cuda backend takes arrays in GPU memory, got '
                        f'{type(array).__module__}.{type(array).__name__}')
    return cai


def _device_id(array: _Any) -> int:
    """The CUDA device holding ``array``."""
    if _is_torch(array):
        return array.device.index
    if isinstance(array, cupy.ndarray):
        return array.device.id
    return cupy.cuda.runtime.pointerGetAttributes(_interface(array)['data'][0]).device


def _is_torch(array: _Any) -> bool:
    torch = sys.modules.get('torch')
    return torch is not None and isinstance(array, torch.Tensor)


class _CupyLauncher(_launch.Launcher):
    """Launches NVRTC-compiled kernels with CuPy on the current stream."""

    def __init__(self):
        self._modules: _Dict[str, _Any] = {}

    def _function(self, name: str):
        arch = cupy.cuda.Device().compute_capability  # e.g. '90'
        module = self._modules.get(arch)
        if module is None:
            # CuPy compiles for the current device's architecture and keeps the binary
            # in its on-disk cache; the module loads onto each device it is used on.
            module = cupy.RawModule(code=_sources.program_source(),
                                    options=_sources.nvrtc_options(), backend='nvrtc')
            self._modules[arch] = module
        return module.get_function(name)

    @staticmethod
    def _stream(arrays: _Sequence[_Any]):
        """The caller's current stream: torch's (on the arrays' device) when the arrays
        are torch tensors, else CuPy's current stream (used by CuPy's launch as is)."""
        tensors = [a for a in arrays if _is_torch(a)]
        if tensors:
            import torch
            return _cupy_stream(torch.cuda.current_stream(tensors[0].device),
                               tensors[0].device.index)
        return contextlib.nullcontext()

    def launch(self, name: str, grid: _Tuple[int, ...], block: _Tuple[int, ...],
               shared_bytes: int, args: _Sequence[_Any]) -> None:
        arrays = [a.array for a in args if isinstance(a, _launch.Pointer)]
        values = []
        for a in args:
            if isinstance(a, _launch.Pointer):
                cai = _interface(a.array)
                expected = _launch.POINTER_DTYPES[a.ctype.replace('const ', '').rstrip('*').strip()]
                if _np.dtype(cai['typestr']) != expected:
                    raise TypeError(f'{name}: a {a.ctype} argument needs {expected}')
                values.append(_np.uint64(cai['data'][0]))
            else:
                values.append(a)
        devices = {_device_id(a) for a in arrays}
        if len(devices) != 1:
            raise ValueError(f'{name}: the arrays are on different devices {sorted(devices)}')
        with cupy.cuda.Device(devices.pop()), self._stream(arrays):
            self._function(name)(tuple(grid), tuple(block), tuple(values),
                                 shared_mem=int(shared_bytes))

    def describe(self, array: _Any) -> _Tuple[_Tuple[int, ...], _np.dtype, bool]:
        cai = _interface(array)
        shape = tuple(cai['shape'])
        dtype = _np.dtype(cai['typestr'])
        strides = cai.get('strides')
        # C order; a dimension of size 1 may carry any stride
        contiguous = strides is None or all(
            n == 1 or s == int(_np.prod(shape[i + 1:], dtype=_np.int64)) * dtype.itemsize
            for i, (n, s) in enumerate(zip(shape, strides)))
        return shape, dtype, contiguous

    def astype(self, array: _Any, dtype: _Any) -> _Any:
        with cupy.cuda.Device(_device_id(array)), self._stream([array]):
            return cupy.ascontiguousarray(cupy.asarray(array), dtype=dtype)

    def empty(self, shape, dtype, like):
        with cupy.cuda.Device(_device_id(like)):
            return cupy.empty(shape, dtype)


_kernels = _launch.Kernels(_CupyLauncher())
# The backend-contract functions as this module's own.
globals().update(_launch.contract_functions(_kernels))
