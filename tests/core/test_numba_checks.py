"""The Numba kernels that check their own arguments (common.expect at compile time, the
shapes at run time) refuse what would index out of bounds or write into a lost copy,
with the errors of the per-call checks: TypeError for a wrong dtype or a non-array,
ValueError for a wrong shape, a non-contiguous or a read-only array."""
import numpy as np
import pytest

numba_backend = pytest.importorskip('fastcodec.backends.numba')


def regression_args():
    return dict(encoded=np.zeros((2, 17, 2), np.float32), input_size=(192, 256), f32=True,
                keypoints=np.empty((2, 17, 2)), scores=np.empty((2, 17), np.float32))


def simcc_args():
    return dict(keypoints=np.zeros((1, 2, 17, 2)), visible=np.ones((1, 2, 17)), gaussian=True,
                sigma=(4.9, 5.66), ratio=2.0, f32=False, label_smooth_weight=0.0,
                normalize=False, x_labels=np.empty((1, 2, 17, 384), np.float32),
                y_labels=np.empty((1, 2, 17, 512), np.float32),
                inside=np.empty((1, 2, 17), np.uint8))


def gaussian_args():
    return dict(kind='msra', keypoints=np.zeros((1, 2, 17, 2)), visible=np.ones((1, 2, 17)),
                sigma=np.full(2, 2.0), scale=(1.0, 1.0), f32=False,
                heatmaps=np.empty((1, 17, 16, 12), np.float32),
                inside=np.empty((1, 2, 17), np.uint8))


def read_only(a):
    a = a.copy()
    a.flags.writeable = False
    return a


CASES = [  # (kernel, arguments, the argument replaced, its replacement, error)
    ('decode_regression', regression_args, 'scores', lambda a: a[:, :3], ValueError),
    ('decode_regression', regression_args, 'scores', lambda a: a.astype(np.float64), TypeError),
    ('decode_regression', regression_args, 'keypoints', lambda a: a.astype(np.float32),
     TypeError),
    ('decode_regression', regression_args, 'keypoints', read_only, ValueError),
    ('decode_regression', regression_args, 'encoded', lambda a: a[:, ::2], ValueError),
    ('decode_regression', regression_args, 'encoded', lambda a: a.tolist(), TypeError),
    ('simcc_encode', simcc_args, 'x_labels', lambda a: a[..., ::2], ValueError),
    ('simcc_encode', simcc_args, 'inside', lambda a: a[:, :1], ValueError),
    ('encode_gaussian', gaussian_args, 'sigma', lambda a: a[:1], ValueError),
    ('encode_gaussian', gaussian_args, 'sigma', lambda a: np.array([np.nan, 2.0]), ValueError),
    ('encode_gaussian', gaussian_args, 'heatmaps', lambda a: a[:, :3], ValueError),
    ('encode_gaussian', gaussian_args, 'inside', lambda a: a.astype(np.int8), TypeError),
]


@pytest.mark.parametrize('kernel, args, name, bad, error', CASES)
def test_kernel_refuses(kernel, args, name, bad, error):
    good = args()
    getattr(numba_backend, kernel)(**good)  # the unchanged call runs
    good[name] = bad(good[name])
    with pytest.raises(error, match=name if error is TypeError else None):
        getattr(numba_backend, kernel)(**good)
