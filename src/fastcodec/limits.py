"""The limits fastcodec checks its arguments against, defined once.

The Python fronts raise ValueError past them before any kernel runs; the C++
extension asserts the same values (``fastcodec._C.MAX_BLUR_KERNEL``, ``MAX_SIGMA``,
from csrc/include/fastcodec/blur.h and heatmap_targets.h; tests/core/test_limits.py checks
that they agree) and the Numba backend imports them from here.
"""

# Blur kernels (DARK's modulation, Megvii, SimCC's 1-D DARK): odd sizes up to 255
# taps, the largest OpenCV's Gaussian tables and our stack buffers take.
MAX_BLUR_KERNEL = 255

# Gaussian sigmas of the heatmap encoders, in heatmap pixels: a patch of 6 sigma per
# side must stay far inside int64 arithmetic and memory.
MAX_SIGMA = 1e4
