"""Shared fixtures: the MMPose 1.3.2 oracle, backends, and input generators."""
import numpy as np
import pytest

import fastcodec
from fastcodec.mmpose_oracle import import_mmpose_codecs  # noqa: F401 (tests import it)


@pytest.fixture(scope='session')
def mmc():
    return import_mmpose_codecs()


@pytest.fixture(scope='session')
def mmu(mmc):
    import mmpose.codecs.utils as utils
    return utils


CPU_BACKENDS = [b for b in ('cpp', 'numba') if b in fastcodec.available_backends()]


@pytest.fixture(params=CPU_BACKENDS)
def backend(request):
    with fastcodec.use_backend(request.param):
        yield request.param


# ---- inputs -------------------------------------------------------------------------
def host_call():
    """A front call on host arrays (fastcodec._arrays.Call): the kernels of the backend
    selected now, outputs allocated as numpy arrays. Tests call kernels through
    fastcodec._calls with it, as the codecs do."""
    from fastcodec._arrays import Call
    return Call((np.empty(0),), ('x',))


def adversarial_keypoints(rng, input_size, scale_factor, n=1, k=17):
    """(n, k, 2) keypoints mixing: uniform inside, borders, outside, exact .5
    heatmap-pixel boundaries (before and after scaling), and far outside."""
    w, h = input_size
    kps = rng.uniform(0, 1, (n, k, 2)) * [w, h]
    kind = rng.integers(0, 6, (n, k))
    border = rng.choice([0.0, 1.0], (n, k, 2)) * [w - 1, h - 1]
    kps[kind == 1] = border[kind == 1]
    kps[kind == 2] = (rng.uniform(-0.3, 1.3, (n, k, 2)) * [w, h])[kind == 2]
    halves = (rng.integers(-2, 70, (n, k, 2)) + 0.5) * np.asarray(scale_factor, np.float64)
    kps[kind == 3] = halves[kind == 3]
    kps[kind == 4] = (rng.integers(-3, 70, (n, k, 2)) * np.asarray(scale_factor, np.float64))[kind == 4]
    kps[kind == 5] = (rng.uniform(-3, 3, (n, k, 2)) * [w, h])[kind == 5]
    return kps


def adversarial_visibility(rng, n=1, k=17):
    return rng.choice([0.0, 0.49, 0.5, 1.0, 2.0], (n, k))


HEATMAP_KINDS = ('clean', 'noisy', 'negative', 'rescaled', 'plateau', 'shifted')


def perturb(rng, heatmaps, kind, noise=0.05):
    """Model outputs (heatmaps or SimCC vectors) as a model might emit them, from clean
    encoded targets; `noise` is the standard deviation of the 'noisy' kind."""
    h = heatmaps.astype(np.float32)
    if kind == 'noisy':
        h = h + rng.normal(0, noise, h.shape).astype(np.float32)
    elif kind == 'negative':
        h = h - np.float32(0.3)
    elif kind == 'rescaled':
        h = h * np.float32(rng.choice([1e-3, 7.5, 120.0]))
    elif kind == 'plateau':
        h = np.round(h * 4) / np.float32(4)
    elif kind == 'shifted':
        h = np.roll(h, 1, axis=-1) * np.float32(0.6) + h * np.float32(0.4)
    return np.ascontiguousarray(h, dtype=np.float32)
