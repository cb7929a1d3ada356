"""The C++ backend: the compiled extension ``fastcodec._C`` (csrc/cpu).

It implements every function of the backend contract, ``fastcodec.backends.contract``,
which documents their arguments, shapes, dtypes and results. pybind11 names the
parameters of the regression, SimCC, SPR and lifting functions; the others take them by
position.
"""
from fastcodec._C import (decode_dark, decode_megvii, decode_msra, decode_udp_combined, encode_gaussian,  # noqa: F401
                          encode_megvii, encode_offset, gaussian_blur, heatmap_maximum,
                          instance_geometry, instance_sigmas,
                          num_threads, pool_calls, refine_dark, refine_dark_udp, refine_sign,
                          set_num_threads)
from fastcodec._C import decode_regression, encode_regression, normalize_heatmaps  # noqa: F401
from fastcodec._C import simcc_decode, simcc_encode, simcc_maximum, simcc_refine_dark  # noqa: F401
from fastcodec._C import spr_decode, spr_encode_displacements  # noqa: F401
from fastcodec._C import all_finite, motionbert_encode  # noqa: F401
from fastcodec._C import hand3d_encode, simcc3d_encode  # noqa: F401
from fastcodec._C import ae_decode  # noqa: F401
