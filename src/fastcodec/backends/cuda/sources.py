"""The CUDA kernel sources and the NVRTC options the runtime compiles them with.

The sources ship in the package (``fastcodec/cuda_src``, installed by CMakeLists.txt);
in a source checkout they are read from ``csrc``. tests/cuda/test_cuda_nvrtc.py compiles
exactly ``program_source()`` with ``nvrtc_options()`` for sm_80 and sm_90, so what
the tests compile is what a GPU run compiles.
"""
from __future__ import annotations

import pathlib
from typing import Tuple

# The kernel files, in the order they are included into one NVRTC program.
KERNEL_FILES: Tuple[str, ...] = ('heatmap.cu', 'simcc.cu', 'regression.cu',
                                 'instances.cu', 'spr.cu', 'lifting.cu',  # these three: issue 15
                                 'hand3d.cu', 'associative_embedding.cu')  # issue 16


def source_root() -> pathlib.Path:
    """The folder holding ``cuda/`` (kernels) and ``include/`` (the shared math)."""
    package = pathlib.Path(__file__).resolve().parents[2]
    installed = package / 'cuda_src'
    if (installed / 'cuda' / KERNEL_FILES[0]).is_file():
        return installed
    checkout = package.parents[1] / 'csrc'
    if (checkout / 'cuda' / KERNEL_FILES[0]).is_file():
        return checkout
    raise FileNotFoundError('the CUDA kernel sources are missing: neither '
                            f'{installed} nor {checkout} holds cuda/{KERNEL_FILES[0]}')


def program_source() -> str:
    """The source string handed to NVRTC: one program including every kernel file."""
    return ''.join(f'#include "{name}"\n' for name in KERNEL_FILES)


def nvrtc_options(root: pathlib.Path = None) -> Tuple[str, ...]:
    """NVRTC options without the architecture (CuPy adds the device's; the tests add
    sm_80 / sm_90). --fmad=false: no fused multiply-adds the CPU code does not make,
    so float32 rounds step by step as on the CPU (explicit fmaf calls stay fused);
    denormals, division and square roots IEEE as on the CPU."""
    root = source_root() if root is None else root
    return ('--std=c++17', '--fmad=false', '--ftz=false', '--prec-div=true',
            '--prec-sqrt=true', f'--include-path={root / "cuda"}',
            f'--include-path={root / "include"}')
