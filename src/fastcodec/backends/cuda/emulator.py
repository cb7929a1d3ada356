"""The ``cuda-emulator`` backend: the CUDA kernels compiled for the host
(``fastcodec._cuda_emulator``, csrc/cuda/emulator.h) behind the same launch code as the
GPU backend, on numpy arrays. Each CUDA thread of a block runs as a host thread with
real barriers, so the kernels' indexing, shared memory, reductions and the launch
arithmetic are exercised exactly as a GPU launch would exercise them; the GPU memory
model and speed are not (docs/design.md, "Verifying CUDA without a GPU").
"""
from typing import Any as _Any, Sequence as _Sequence, Tuple as _Tuple

import numpy as _np

from fastcodec import _cuda_emulator
from fastcodec.backends.cuda import launch as _launch


class _HostLauncher(_launch.Launcher):
    """Runs a launch on the host, synchronously; arrays are numpy arrays."""

    def launch(self, name: str, grid: _Tuple[int, ...], block: _Tuple[int, ...],
               shared_bytes: int, args: _Sequence[_Any]) -> None:
        values = []
        for a in args:
            if isinstance(a, _launch.Pointer):
                if type(a.array) is not _np.ndarray:
                    raise TypeError(f'{name}: the emulator takes numpy arrays, got '
                                    f'{type(a.array).__name__}')
                expected = _launch.POINTER_DTYPES[a.ctype.replace('const ', '').rstrip('*').strip()]
                if a.array.dtype != expected:
                    raise TypeError(f'{name}: a {a.ctype} argument needs {expected}, got '
                                    f'{a.array.dtype}')
                values.append(a.array)
            else:
                values.append(a)
        _cuda_emulator.launch(name, tuple(grid), tuple(block), int(shared_bytes), tuple(values))

    def describe(self, array: _Any) -> _Tuple[_Tuple[int, ...], _np.dtype, bool]:
        if type(array) is not _np.ndarray:
            raise TypeError(f'the cuda-emulator backend takes numpy arrays, got '
                            f'{type(array).__module__}.{type(array).__name__}')
        return array.shape, array.dtype, bool(array.flags.c_contiguous)

    def astype(self, array: _Any, dtype: _Any) -> _Any:
        return _np.ascontiguousarray(array, dtype=dtype)

    def empty(self, shape, dtype, like):
        return _np.empty(shape, dtype)


_kernels = _launch.Kernels(_HostLauncher())
# The backend-contract functions as this module's own.
globals().update(_launch.contract_functions(_kernels))
