"""The CUDA kernels compile for the GPU without a GPU: the exact source string and
NVRTC options the runtime uses (fastcodec.backends.cuda.sources) compiled by NVRTC for
sm_80 and sm_90, and by nvcc when it is installed.

NVRTC comes from the ``test`` (and ``cuda``) extra: cupy-cuda12x's low-level bindings
and the nvidia-cuda-nvrtc-cu12 library (CuPy's high-level compile asks the driver and
needs a GPU, these do not). Without them the NVRTC tests skip, except in CI
(conftest.load_nvrtc), where the extra installs them.
"""
import shutil
import subprocess

import pytest

from fastcodec.backends.cuda import sources
from conftest import load_nvrtc


NVRTC, NVRTC_MISSING = load_nvrtc()


def _nvrtc():
    if NVRTC is None:
        pytest.skip(NVRTC_MISSING)
    return NVRTC


def _compile(nvrtc, source, options):
    prog = nvrtc.createProgram(source, 'fastcodec_kernels.cu', [], [])
    try:
        try:
            nvrtc.compileProgram(prog, list(options))
        except nvrtc.NVRTCError as exc:
            raise AssertionError(f'{exc}\n{nvrtc.getProgramLog(prog)}') from None
        return nvrtc.getCUBIN(prog), nvrtc.getProgramLog(prog)
    finally:
        nvrtc.destroyProgram(prog)


@pytest.mark.parametrize('arch', ['sm_80', 'sm_90'])
def test_runtime_source_compiles_with_nvrtc(arch):
    nvrtc = _nvrtc()
    cubin, log = _compile(nvrtc, sources.program_source(),
                          sources.nvrtc_options() + (f'--gpu-architecture={arch}',))
    assert len(cubin) > 0
    # every kernel the launch code calls is in the binary
    from fastcodec.backends.cuda.launch import SIGNATURES
    for name in SIGNATURES:
        assert name.encode() in cubin, name
    assert 'warning' not in log.lower(), log


def test_nvrtc_reports_a_broken_source():
    """The harness itself: a kernel that does not compile fails the check."""
    nvrtc = _nvrtc()
    with pytest.raises(AssertionError, match='undefined'):
        _compile(nvrtc, sources.program_source() + 'extern "C" __global__ void k() { undefined_fn(); }\n',
                 sources.nvrtc_options() + ('--gpu-architecture=sm_80',))


def test_sources_are_what_the_package_ships():
    root = sources.source_root()
    for name in sources.KERNEL_FILES:
        assert (root / 'cuda' / name).is_file()
    assert (root / 'include' / 'fastcodec' / 'common.h').is_file()
    assert f'--include-path={root / "include"}' in sources.nvrtc_options()
    assert '--fmad=false' in sources.nvrtc_options()


@pytest.mark.skipif(shutil.which('nvcc') is None, reason='nvcc not installed')
def test_kernels_compile_with_nvcc(tmp_path):
    root = sources.source_root()
    src = tmp_path / 'kernels.cu'
    src.write_text(sources.program_source())
    out = subprocess.run(
        # one architecture: NVRTC covers both above, nvcc's front end is the point here
        ['nvcc', '-std=c++17', '--fmad=false', '-arch=sm_90', '-I', str(root / 'cuda'),
         '-I', str(root / 'include'), '-c', str(src), '-o', str(tmp_path / 'k.o')],
        capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / 'k.o').stat().st_size > 0
