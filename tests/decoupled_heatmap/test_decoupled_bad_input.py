"""DecoupledHeatmap's bad-input rules (docs/design.md): ValueError/TypeError naming the
argument and the expected vs received shape, raised before any kernel runs."""
import numpy as np
import pytest

import fastcodec
from conftest import host_call
from fastcodec import _backend, _calls

INPUT, HEATMAP = (512, 512), (128, 128)


@pytest.fixture
def codec():
    return fastcodec.DecoupledHeatmap(INPUT, HEATMAP)


@pytest.fixture
def no_kernels(monkeypatch):
    """A kernel that paints or indexes arrays fails the test: the checks come first.
    (instance_sigmas, arithmetic on one value per box, is what finds too large boxes.)"""
    real = _backend.kernels()

    class Forbidden:
        instance_sigmas = staticmethod(real.instance_sigmas)

        def __getattr__(self, name):
            raise AssertionError(f'kernel {name} ran on bad input')
    forbidden = Forbidden()
    monkeypatch.setattr(_backend, 'kernels', lambda device=None: forbidden)
    monkeypatch.setattr(_backend, 'host_kernels', lambda: forbidden)


@pytest.mark.parametrize('kw, error, words', [
    (dict(root_type='center'), ValueError, 'root_type'),
    (dict(heatmap_min_overlap=0), ValueError, 'heatmap_min_overlap'),
    (dict(heatmap_min_overlap=1.0), ValueError, 'heatmap_min_overlap'),
    (dict(heatmap_min_overlap=-0.2), ValueError, 'heatmap_min_overlap'),
    (dict(heatmap_min_overlap=float('nan')), ValueError, 'heatmap_min_overlap'),
    (dict(heatmap_min_overlap='0.7'), TypeError, 'heatmap_min_overlap'),
    (dict(encode_max_instances=-1), ValueError, 'encode_max_instances'),
    (dict(encode_max_instances=2.5), TypeError, 'encode_max_instances'),
    (dict(encode_max_instances=True), TypeError, 'encode_max_instances'),
    (dict(heatmap_size=(0, 128)), ValueError, 'heatmap_size'),
    (dict(input_size=(512,)), TypeError, 'input_size'),
])
def test_constructor(kw, error, words):
    args = dict(dict(input_size=INPUT, heatmap_size=HEATMAP), **kw)
    with pytest.raises(error, match=words):
        fastcodec.DecoupledHeatmap(**args)


@pytest.mark.parametrize('kps, vis, bbox, error, words', [
    (np.zeros((17, 2)), None, None, ValueError, r'keypoints.*\(N, K, 2\).*\(17, 2\)'),
    (np.zeros((2, 17, 3)), None, None, ValueError, r'keypoints.*\(2, 17, 3\)'),
    (np.zeros((2, 17, 2)), np.ones((2, 16)), None, ValueError,
     r'keypoints_visible.*\(2, 17\).*\(2, 16\)'),
    (np.zeros((2, 17, 2)), None, np.zeros((2, 4)), ValueError,
     r'bbox.*\(N, 8\) or \(N, 4, 2\).*\(2, 4\)'),
    (np.zeros((2, 17, 2)), None, np.zeros((3, 8)), ValueError, r'bbox.*\(3, 8\)'),
    (np.zeros((2, 17, 2)), None, np.zeros((2, 4, 3)), ValueError, r'bbox.*\(2, 4, 3\)'),
    (np.zeros((2, 17, 2)), None, np.zeros(15), ValueError, r'bbox.*\(15,\)'),  # (16,) reshapes
    (np.zeros((2, 17, 2)), None, np.zeros((2, 8), complex), TypeError, 'bbox'),
    (np.zeros((2, 17, 2), complex), None, None, TypeError, 'keypoints'),
    (np.array([['a', 'b']]), None, None, TypeError, 'keypoints'),
    (np.zeros((2, 17, 2)), np.zeros((2, 17), complex), None, TypeError, 'keypoints_visible'),
    (np.array([[[0, 0], [1e9, 1e9]]]), None, None, ValueError, 'bbox'),  # sigma > 1e4
])
def test_encode(codec, no_kernels, kps, vis, bbox, error, words):
    with pytest.raises(error, match=words):
        codec.encode(kps, vis, bbox)


@pytest.mark.parametrize('kps, vis, bbox, error, words', [
    (np.zeros((2, 17, 2)), None, None, ValueError, r'keypoints.*\(B, N, K, 2\)'),
    (np.zeros((2, 3, 17, 2)), np.ones((2, 3)), None, ValueError, 'keypoints_visible'),
    (np.zeros((2, 3, 17, 2)), None, np.zeros((2, 3, 4)), ValueError,
     r'bbox.*\(B, N, 8\) or \(B, N, 4, 2\).*\(2, 3, 4\)'),
    (np.zeros((2, 3, 17, 2)), None, np.zeros((3, 8)), ValueError, r'bbox.*\(3, 8\)'),
])
def test_batch_encode(codec, no_kernels, kps, vis, bbox, error, words):
    with pytest.raises(error, match=words):
        codec.batch_encode(kps, vis, bbox)


@pytest.mark.parametrize('maps, scores, error, words', [
    (np.zeros((17, 8, 8)), np.ones((1, 1)), ValueError, r'instance_heatmaps.*\(N, K, H, W\)'),
    (np.zeros((3, 17, 8, 8)), np.ones(3), ValueError, r'instance_scores.*\(3, 1\).*\(3,\)'),
    (np.zeros((3, 17, 8, 8)), np.ones((4, 1)), ValueError, r'instance_scores.*\(4, 1\)'),
    (np.zeros((3, 17, 0, 8)), np.ones((3, 1)), ValueError, 'height and width'),
    (np.zeros((3, 17, 8, 8), complex), np.ones((3, 1)), TypeError, 'instance_heatmaps'),
    (np.zeros((3, 17, 8, 8)), np.ones((3, 1), complex), TypeError, 'instance_scores'),
])
def test_decode(codec, no_kernels, maps, scores, error, words):
    with pytest.raises(error, match=words):
        codec.decode(maps, scores)


@pytest.mark.parametrize('maps, scores, error, words', [
    (np.zeros((3, 17, 8, 8)), np.ones((3, 1)), ValueError, r'\(B, N, K, H, W\)'),
    (np.zeros((2, 3, 17, 8, 8)), np.ones((2, 3)), ValueError, r'\(B, N, 1\).*\(2, 3\)'),
])
def test_batch_decode(codec, no_kernels, maps, scores, error, words):
    with pytest.raises(error, match=words):
        codec.batch_decode(maps, scores)


@pytest.mark.parametrize('sigma', [np.array([np.nan]), np.array([-1.0]), np.array([1e5]),
                                   np.ones(2), np.ones((2, 1)), np.ones((1, 1, 1))])
def test_kernel_rejects_bad_sigma(backend, sigma):
    """The kernel's own guard: one finite sigma in [0, 1e4] per (sample,) instance."""
    kps, vis = np.zeros((1, 1, 3, 2)), np.ones((1, 1, 3))
    with pytest.raises(ValueError, match='sigma'):
        _calls.encode_gaussian(host_call(), 'msra', kps, vis, sigma, (1.0, 1.0), False, 8, 8)
