"""The Numba backend: the C++ kernels of ``fastcodec._C`` (csrc/cpu) rewritten as
``numba.njit`` functions, for machines where the extension is not built.

It implements the backend contract (``fastcodec.backends.contract``): the same
functions and signatures as the C++ backend, filling the output buffers the front
allocates (every element, zeros included; SPR's displacements come zeroed) after
checking only what memory safety needs: dtype, C-contiguity and writeable outputs,
shapes. Where a call's Python cost matters (the encoders and decoders the codecs call
once per sample) the jitted kernel checks its own arguments: their types when it is
compiled for them (``common.expect``), their shapes at run time; its Python function
runs the per-argument checks of ``common._check_array`` only when the kernel cannot be
compiled for a call's types, for the user-facing TypeError or ValueError. The other
functions run ``_check_array`` on every argument of every call. And the same
numbers: every float32 step of the C++ is a float32 step here (explicit
``np.float32`` casts, since Numba would otherwise promote to float64), in the same
order; fused multiply-adds exactly where the C++ calls fmaf (OpenCV's SIMD blur), and
nowhere else (Numba does not contract). The argmax of fastcodec/argmax.h is numpy's own
argmax, which defines it.

The kernels are single-threaded, compiled with one jit policy (``common.jit``): no
``parallel=True``, so no threading layer is started and forked workers (torch
DataLoader) stay safe. ``set_num_threads`` is accepted for interface parity and has no
effect.

Modules, by concern, as the C++ sources: ``common`` (the jit policy, common.h, the
array check, threads), ``blur`` (blur.h, blur_cpu.cpp), ``heatmap`` (heatmap targets, argmax,
refinement, decoders), ``instances`` (instances.h), ``regression``, ``simcc``, ``spr``,
``lifting``, ``hand3d``, ``simcc3d``, ``associative_embedding``. A module imports its
siblings only, never this package's namespace, so
each can be imported first (tests/core/test_backend_contract.py). This module holds the
contract's functions and nothing else public.
"""
from fastcodec.backends.numba.associative_embedding import ae_decode
from fastcodec.backends.numba.blur import gaussian_blur
from fastcodec.backends.numba.common import num_threads, pool_calls, set_num_threads
from fastcodec.backends.numba.hand3d import hand3d_encode
from fastcodec.backends.numba.heatmap import (decode_dark, decode_megvii, decode_msra,
                                              decode_udp_combined, encode_gaussian,
                                              encode_megvii, encode_offset, heatmap_maximum,
                                              refine_dark, refine_dark_udp, refine_sign)
from fastcodec.backends.numba.instances import instance_geometry, instance_sigmas
from fastcodec.backends.numba.lifting import all_finite, motionbert_encode
from fastcodec.backends.numba.regression import (decode_regression, encode_regression,
                                                 normalize_heatmaps)
from fastcodec.backends.numba.simcc import (simcc_decode, simcc_encode, simcc_maximum,
                                            simcc_refine_dark)
from fastcodec.backends.numba.simcc3d import simcc3d_encode
from fastcodec.backends.numba.spr import spr_decode, spr_encode_displacements

__all__ = ['encode_gaussian', 'encode_offset', 'encode_megvii', 'instance_geometry',
           'instance_sigmas', 'heatmap_maximum', 'gaussian_blur', 'refine_sign',
           'refine_dark', 'refine_dark_udp', 'decode_msra', 'decode_dark', 'decode_megvii',
           'decode_udp_combined', 'encode_regression', 'decode_regression',
           'normalize_heatmaps', 'simcc_encode', 'simcc_maximum', 'simcc_decode',
           'simcc_refine_dark', 'spr_encode_displacements', 'spr_decode',
           'all_finite', 'motionbert_encode', 'hand3d_encode', 'simcc3d_encode', 'ae_decode',
           'num_threads', 'set_num_threads', 'pool_calls']
