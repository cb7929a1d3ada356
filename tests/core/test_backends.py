"""Backend selection, threads, registry."""
import os
import subprocess
import sys

import numpy as np
import pytest

import fastcodec


def test_both_cpu_backends_present():
    # The test command builds the extension; numba is a core dependency.
    assert fastcodec.available_backends()[:2] == ['cpp', 'numba']


def test_set_and_use_backend(monkeypatch):
    from fastcodec._backend import kernels
    from fake_device import automatic_dispatch
    automatic_dispatch(monkeypatch)
    assert fastcodec.get_backend() is None
    with fastcodec.use_backend('numba'):
        assert fastcodec.get_backend() == 'numba'
        assert kernels().__name__.endswith('numba')
    fastcodec.set_backend('numba')
    try:
        assert kernels().__name__.endswith('numba')
        with fastcodec.use_backend('cpp'):
            assert kernels().__name__.endswith('cpp')
    finally:
        fastcodec.set_backend(None)
    assert kernels().__name__.endswith('cpp')
    with pytest.raises(ValueError, match='unknown backend'):
        fastcodec.set_backend('opencl')
    with pytest.raises(ValueError, match='not available'):
        fastcodec.set_backend('cuda')


def test_env_variable_selects_backend():
    code = 'import fastcodec._backend as b; print(b.kernels().__name__)'
    env = dict(os.environ, FASTCODEC_BACKEND='numba')
    out = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == 'fastcodec.backends.numba'


def test_fallback_to_numba_when_extension_missing():
    # no compiled extension at all: neither _C nor the CUDA emulator (one build)
    code = ('import sys; sys.modules["fastcodec._C"] = sys.modules["fastcodec._cuda_emulator"] = None\n'
            'import warnings, fastcodec\n'
            'with warnings.catch_warnings(record=True) as w:\n'
            '    warnings.simplefilter("always")\n'
            '    c = fastcodec.MSRAHeatmap((192, 256), (48, 64), 2.0)\n'
            '    out = c.encode(__import__("numpy").full((1, 2, 2), 50.0))\n'
            'print(fastcodec.available_backends(), len(w), out["heatmaps"].max())')
    env = {k: v for k, v in os.environ.items() if k != 'FASTCODEC_BACKEND'}
    out = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["['numba']", '1', '1.0']


def test_num_threads():
    fastcodec.set_num_threads(1)
    assert fastcodec.get_num_threads() == 1
    fastcodec.set_num_threads(0)
    assert fastcodec.get_num_threads() == os.cpu_count()
    with pytest.raises(ValueError):
        fastcodec.set_num_threads(-1)


def test_build_from_mmpose_config(mmc):
    cfg = dict(type='UDPHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2)
    codec = fastcodec.build(cfg)
    assert isinstance(codec, fastcodec.UDPHeatmap) and cfg['type'] == 'UDPHeatmap'
    ref = mmc.UDPHeatmap(input_size=(192, 256), heatmap_size=(48, 64), sigma=2)
    for attr in ('label_mapping_table', 'field_mapping_table', 'instance_mapping_table',
                 'auxiliary_encode_keys'):
        assert getattr(codec, attr) == getattr(ref, attr), attr
    np.testing.assert_array_equal(codec.scale_factor, ref.scale_factor)
    with pytest.raises(KeyError, match='MSRAHeatmap'):
        fastcodec.build(dict(type='NoSuchCodec'))


def test_the_extensions_own_checks_raise_their_messages():
    """The C++ bindings re-check what would index out of bounds; their messages are
    built only when a check fails (bindings.h: require), so each is read here."""
    C = pytest.importorskip('fastcodec._C')
    maps = np.zeros((1, 1, 8, 8), np.float32)
    with pytest.raises(ValueError, match=r'^blur kernel size must be odd and in \[1, 255\], '
                                         r'got 4$'):
        C.gaussian_blur(maps, 4, np.empty_like(maps))
    with pytest.raises(ValueError, match='^the last axis of encoded must be 2 or 4, got 3$'):
        C.decode_regression(np.zeros((1, 3)), (4.0, 4.0), True, np.empty((1, 2)),
                            np.empty(1, np.float32))
    with pytest.raises(ValueError, match='^a must be a float32 or float64 array$'):
        C.all_finite(np.zeros(3, np.int32), np.zeros(3))
    with pytest.raises(ValueError, match=r'^keypoints must be \(\.\.\., 2\)$'):  # a literal
        C.encode_regression(np.zeros(3), np.zeros(()), (4.0, 4.0), np.empty(2, np.float32),
                            np.empty((), np.float32))
