"""The shared math headers compile for the GPU (nvcc), when nvcc is installed."""
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which('nvcc') is None, reason='nvcc not installed')
def test_headers_compile_with_nvcc(tmp_path):
    out = subprocess.run(
        ['nvcc', '-std=c++17', '-I', str(ROOT / 'csrc' / 'include'), '-c',
         str(ROOT / 'csrc' / 'cuda' / 'compile_check.cu'), '-o', str(tmp_path / 'check.o')],
        capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / 'check.o').stat().st_size > 0
