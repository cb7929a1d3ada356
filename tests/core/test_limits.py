"""Each argument limit is defined once (fastcodec/limits.py); the C++ extension's
copies of them agree, and the fronts raise past them."""
import numpy as np
import pytest

import fastcodec
from fastcodec import limits


def test_extension_agrees_with_the_limits_module():
    C = pytest.importorskip('fastcodec._C')
    assert C.MAX_BLUR_KERNEL == limits.MAX_BLUR_KERNEL
    assert C.MAX_SIGMA == limits.MAX_SIGMA


def test_fronts_raise_past_the_limits():
    size = dict(input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0, unbiased=True)
    fastcodec.MSRAHeatmap(**size, blur_kernel_size=limits.MAX_BLUR_KERNEL)
    with pytest.raises(ValueError, match=str(limits.MAX_BLUR_KERNEL)):
        fastcodec.MSRAHeatmap(**size, blur_kernel_size=limits.MAX_BLUR_KERNEL + 2)
    with pytest.raises(ValueError, match='sigma'):
        fastcodec.ops.generate_gaussian_heatmaps((48, 64), np.zeros((1, 17, 2)), None,
                                                 limits.MAX_SIGMA * 2)
