"""The ``cuda-emulator`` backend: the CUDA kernels compiled for the host
(``fastcodec._cuda_emulator``, csrc/cuda/emulator.h) behind the same launch code as the
GPU backend, on numpy arrays. Each CUDA thread of a block runs as a host thread with
real barriers, so the kernels' indexing, shared memory, reductions and the launch
arithmetic are exercised exactly as a GPU launch would exercise them; the GPU memory
model and speed are not (docs/design.md, "Verifying CUDA without a GPU").
"""
from __future__ import annotations

from typing import Any, Sequence, Tuple

import numpy as np

from fastcodec import _cuda_emulator
from fastcodec.backends.cuda.launch import (Kernels, Launcher, Pointer, POINTER_DTYPES,
                                            contract_functions)


class HostLauncher(Launcher):
    """Runs a launch on the host, synchronously; arrays are numpy arrays."""

    def launch(self, name: str, grid: Tuple[int, ...], block: Tuple[int, ...],
               shared_bytes: int, args: Sequence[Any]) -> None:
        values = []
        for a in args:
            if isinstance(a, Pointer):
                if type(a.array) is not np.ndarray:
                    raise TypeError(f'{name}: the emulator takes numpy arrays, got '
                                    f'{type(a.array).__name__}')
                expected = POINTER_DTYPES[a.ctype.replace('const ', '').rstrip('*').strip()]
                if a.array.dtype != expected:
                    raise TypeError(f'{name}: a {a.ctype} argument needs {expected}, got '
                                    f'{a.array.dtype}')
                values.append(a.array)
            else:
                values.append(a)
        _cuda_emulator.launch(name, tuple(grid), tuple(block), int(shared_bytes), tuple(values))

    def describe(self, array: Any) -> Tuple[Tuple[int, ...], np.dtype, bool]:
        if type(array) is not np.ndarray:
            raise TypeError(f'the cuda-emulator backend takes numpy arrays, got '
                            f'{type(array).__module__}.{type(array).__name__}')
        return array.shape, array.dtype, bool(array.flags.c_contiguous)

    def astype(self, array: Any, dtype: Any) -> Any:
        return np.ascontiguousarray(array, dtype=dtype)

    def empty(self, shape, dtype, like):
        return np.empty(shape, dtype)


_kernels = Kernels(HostLauncher())
# The backend-contract functions (launch.CONTRACT_FUNCTIONS) as this module's own.
globals().update(contract_functions(_kernels))
