"""The shared math headers (csrc/include/fastcodec) compile for the host and the GPU.

Every header is compiled on its own by g++ (host), by NVRTC for sm_80 and sm_90 (the
run-time compiler the CUDA backend uses: it has no C library headers, so a header that
includes <math.h> or uses its macros fails here), and by nvcc where it is installed;
csrc/cuda/compile_check.cu, which instantiates the header functions in kernels, is
compiled by NVRTC and nvcc as well. NVRTC needs no GPU: the `nvidia-cuda-nvrtc-cu12`
and `cupy-cuda12x` wheels of the `test` extra provide it.
"""
import pathlib
import shutil
import subprocess

import pytest

from conftest import load_nvrtc

ROOT = pathlib.Path(__file__).resolve().parents[2]
INCLUDE = ROOT / 'csrc' / 'include'
HEADERS = sorted(p.name for p in (INCLUDE / 'fastcodec').glob('*.h'))
CHECK_CU = ROOT / 'csrc' / 'cuda' / 'compile_check.cu'
ARCHS = ['sm_80', 'sm_90']


def _header_source(name: str) -> str:
    """A translation unit holding one header and a kernel, so the file is not empty."""
    return (f'#include "fastcodec/{name}"\n'
            'extern "C" __global__ void fc_touch(int* p) { if (p) *p = 1; }\n')


NVRTC, NVRTC_MISSING = load_nvrtc()


def _nvrtc_compile(source: str, name: str, arch: str) -> bytes:
    prog = NVRTC.createProgram(source, name, [], [])
    try:
        try:
            NVRTC.compileProgram(prog, [f'--gpu-architecture={arch}', '--std=c++17',
                                        f'--include-path={INCLUDE}'])
        except Exception as exc:
            raise AssertionError(f'NVRTC {arch} failed on {name}:\n'
                                 f'{NVRTC.getProgramLog(prog)}') from exc
        return NVRTC.getPTX(prog)
    finally:
        NVRTC.destroyProgram(prog)


@pytest.mark.skipif(NVRTC is None, reason=NVRTC_MISSING)
@pytest.mark.parametrize('arch', ARCHS)
@pytest.mark.parametrize('header', HEADERS)
def test_header_compiles_with_nvrtc(header, arch):
    ptx = _nvrtc_compile(_header_source(header), header.replace('.h', '.cu'), arch)
    assert b'fc_touch' in ptx


@pytest.mark.skipif(NVRTC is None, reason=NVRTC_MISSING)
@pytest.mark.parametrize('arch', ARCHS)
def test_compile_check_compiles_with_nvrtc(arch):
    ptx = _nvrtc_compile(CHECK_CU.read_text(), 'compile_check.cu', arch)
    assert b'.entry' in ptx


def test_nvrtc_rejects_a_libc_include():
    """The NVRTC test can fail: <math.h> is not found by NVRTC."""
    if NVRTC is None:
        pytest.skip(NVRTC_MISSING)
    with pytest.raises(AssertionError, match='math.h'):
        _nvrtc_compile('#include <math.h>\n', 'bad.cu', 'sm_80')


@pytest.mark.skipif(shutil.which('g++') is None, reason='g++ not installed')
def test_headers_compile_with_gxx(tmp_path):
    for header in HEADERS:
        src = tmp_path / f'{header}.cpp'
        src.write_text(f'#include "fastcodec/{header}"\n')
        out = subprocess.run(['g++', '-std=c++17', '-Wall', '-Werror', '-fsyntax-only',
                              '-I', str(INCLUDE), str(src)],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, f'{header}:\n{out.stderr}'


@pytest.mark.skipif(shutil.which('nvcc') is None, reason='nvcc not installed')
def test_headers_compile_with_nvcc(tmp_path):
    src = tmp_path / 'headers.cu'
    src.write_text(''.join(f'#include "fastcodec/{h}"\n' for h in HEADERS) +
                   CHECK_CU.read_text())
    out = subprocess.run(
        ['nvcc', '-std=c++17', *[f'-gencode=arch=compute_{a[3:]},code={a}' for a in ARCHS],
         '-I', str(INCLUDE), '-c', str(src), '-o', str(tmp_path / 'check.o')],
        capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / 'check.o').stat().st_size > 0
