"""What every module of the Numba backend shares: the one jit policy, the float32
constants, the mirrors of fastcodec/common.h, the memory-safety checks of arguments,
and the thread functions of the backend contract.

The jit policy, ``jit``: every kernel of the backend is compiled with it.

- ``cache=True``: compiled once per machine and kept in ``__pycache__``. Numba checks a
  cached function against its own file only: after editing a helper here (or in
  blur.py), the cached callers in the other modules still hold the old helper inlined;
  delete ``__pycache__/*.nbi`` and ``*.nbc`` of this package.
- ``nogil=True``: calls from several Python threads run in parallel.
- ``error_model='numpy'``: IEEE division (x / 0 is Inf or NaN, as in the C++ and in
  numpy), with no zero check that raises ZeroDivisionError and keeps loops from
  vectorising.
- No ``parallel=True``: the kernels are single-threaded, so no threading layer is
  started and forked workers (torch DataLoader) stay safe.
"""
from __future__ import annotations

import math
import operator
from typing import Tuple

import numba
import numpy as np
from llvmlite import ir
from numba.core import types
from numba.core.errors import TypingError
from numba.extending import intrinsic, overload

ERROR_MODEL = 'numpy'
jit = numba.njit(cache=True, nogil=True, error_model=ERROR_MODEL)

_F0 = np.float32(0.0)
_F1 = np.float32(1.0)
_F2 = np.float32(2.0)
_FHALF = np.float32(0.5)
_FQUARTER = np.float32(0.25)
_F255 = np.float32(255.0)
_F50 = np.float32(50.0)
_F1EM3 = np.float32(1e-3)
_F1EM10 = np.float32(1e-10)
_FLT_EPS = 1.1920928955078125e-07  # np.finfo(np.float32).eps
# Denormals: float32 values below FLT_MIN (2^-126) cost 5-100x per multiply-add on many
# x86 cores (a microcode assist per operand or result). Encoders write none (a value
# that rounds below FLT_MIN is written as 0, as the C++ backend does); see _flush32.
_FLT_MIN = np.float32(1.1754943508222875e-38)
# The smallest float64 that rounds to a normal float32 (2^-126 - 2^-150, ties to even).
_ROUNDS_NORMAL = 1.1754942807573643e-38
_COORD_LIMIT = 1099511627776.0     # 2^40, see coord_is_usable


# Indexing with unsigned integers: Numba then skips its negative-index wraparound,
# which otherwise keeps LLVM from vectorising loops over `base + x`.
_u = np.uint64


@intrinsic
def _fmaf(typingctx, a, b, c):
    """fmaf(a, b, c): float32 a * b + c rounded once (llvm.fma.f32)."""
    sig = types.float32(types.float32, types.float32, types.float32)

    def codegen(context, builder, signature, args):
        f = ir.FloatType()
        fn = builder.module.declare_intrinsic('llvm.fma', [f], ir.FunctionType(f, [f, f, f]))
        return builder.call(fn, args)

    return sig, codegen


# ----------------------------------------------------------------------------------
# common.h


@jit
def _flush32(v):
    """float32(v) with a result below FLT_MIN written as 0; v float32 or float64 (then
    the comparison is made before rounding, so no denormal is ever computed). NaN is
    kept. A select, not a branch: LLVM vectorises the loops that call it."""
    return _F0 if abs(v) < _ROUNDS_NORMAL else np.float32(v)


def cast_like(x, like):
    """x converted to the type of the float scalar ``like``: the `(T)x` of a C++
    template (compiled only: see the overload below)."""
    raise NotImplementedError


@overload(cast_like, jit_options=dict(error_model=ERROR_MODEL))
def _cast_like_impl(x, like):
    # Resolved at compile time: no branch in the loops.
    if like == types.float32:
        return lambda x, like: np.float32(x)
    return lambda x, like: np.float64(x)


# Each function below mirrors the fastcodec/common.h (or argmax.h) function of the same
# name; a pointer output of the C++ becomes a returned value (docs/design.md).


@jit
def trunc_i64(v):
    return np.int64(v)


@jit
def coord_is_usable(v):
    return v == v and abs(v) < _COORD_LIMIT


@jit
def scale_coord(v, scale, f32):
    # scale is float32; f32: the quotient of two float32 values.
    if f32:
        return np.float64(np.float32(v) / scale)
    return v / np.float64(scale)


@jit
def round_half_up(v, f32):
    if f32:
        return np.int64(np.float64(np.float32(v) + _FHALF))
    return np.int64(v + 0.5)


@jit
def min_i64(a, b):
    return a if a < b else b


@jit
def max_i64(a, b):
    return a if a > b else b


@jit
def fc_exp(v):
    """exp in v's precision (float32 in, float32 out)."""
    return math.exp(v)


@jit
def sign_f32(v):
    if v > _F0:
        return _F1
    if v < _F0:
        return -_F1
    if v == _F0:
        return _F0
    return v


@jit
def sign_of_difference(a, b):
    if a > b:
        return _F1
    if a < b:
        return -_F1
    if a == b and a - a == _F0:
        return _F0
    return a - b


@jit
def first_argmax(v, o, n):
    """(index, value) of numpy's argmax over v[o:o + n] (the first NaN wins)."""
    best = v[o]
    if best != best:
        return 0, best
    bi = 0
    for i in range(1, n):
        x = v[o + i]
        if x > best:
            best = x
            bi = i
        elif x != x:
            return i, x
    return bi, best


@jit
def maximum_location(index, value, W):
    """(x, y) of the maximum, (-1, -1) where its value is <= 0."""
    if value <= _F0:
        return -_F1, -_F1
    return np.float32(index % W), np.float32(index // W)


# ----------------------------------------------------------------------------------
# Python-facing helpers (module.cpp)

_threads = 0


def num_threads() -> int:
    """Threads per call: the Numba kernels are single-threaded."""
    return 1


def set_num_threads(n: int) -> None:
    """Accepted for parity with the C++ backend; the Numba kernels stay single-threaded."""
    global _threads
    n = operator.index(n)
    _threads = 0 if n < 0 else n


def pool_calls() -> int:
    """Calls that ran on more than one thread: none, the Numba kernels are
    single-threaded."""
    return 0


def _require(ok: bool, msg: str) -> None:
    if not ok:
        raise ValueError(msg)


# The dtypes _check_array is given: numpy's dtype objects of the native types are
# singletons, so the common case is an identity test (comparing with a scalar type such
# as np.float32 converts it first, several times slower).
F32, F64, U8, I64 = (np.dtype(t) for t in (np.float32, np.float64, np.uint8, np.int64))
REAL = (F32, F64)


def _check_array(a, name: str, dtype, shape=None, out: bool = False) -> np.ndarray:
    """The one memory-safety assertion on an array argument (the front converts and
    allocates; the kernels index the flat data): a numpy array of ``dtype`` (a dtype
    or a tuple of dtypes; TypeError otherwise), C-contiguous, of ``shape`` (a tuple,
    None for any extent; None: any shape), writeable if ``out``. Returns ``a``.
    Runs on every argument of every call, so the accepting path is kept to a few
    attribute reads and comparisons (about 0.3 us): one exact shape comparison, an
    extent loop only for a pattern with None."""
    if type(a) is np.ndarray:
        t = a.dtype
        if t is dtype or (t in dtype if type(dtype) is tuple else t == dtype):
            flags = a.flags
            if flags.c_contiguous and (flags.writeable or not out):
                if shape is None:
                    return a
                s = a.shape
                if s == shape:
                    return a
                if len(s) == len(shape):
                    for e, n in zip(shape, s):
                        if e is not None and e != n:
                            break
                    else:
                        return a
    dtypes = dtype if isinstance(dtype, tuple) else (dtype,)
    if not isinstance(a, np.ndarray) or a.dtype not in dtypes:
        got = a.dtype if isinstance(a, np.ndarray) else type(a).__name__
        raise TypeError(f'{name} must be a numpy array of '
                        f'{" or ".join(np.dtype(d).name for d in dtypes)}, got {got}')
    if shape is not None and (a.ndim != len(shape) or any(
            e is not None and e != n for e, n in zip(shape, a.shape))):
        want = ', '.join('*' if e is None else str(e) for e in shape)
        raise ValueError(f'{name} must have shape ({want}), got {a.shape}')
    if not a.flags.c_contiguous:
        raise ValueError(f'{name} must be C-contiguous')
    if out and not a.flags.writeable:
        raise ValueError(f'{name} must be writeable')
    return a


def expect(a, name, dtypes, out):
    """The type half of ``_check_array`` inside a jitted kernel, at compile time: a
    C-contiguous numpy array of one of ``dtypes`` (a constant string, 'float32 or
    float64'), writeable if ``out`` (a constant bool); ``name`` a constant string. A
    call of the kernel with any other type fails to compile (numba's TypingError): its
    Python wrapper then runs ``_check_array`` for the user-facing TypeError or
    ValueError. The kernel checks the shapes itself (ValueError), so a call costs no
    Python check at all (compiled only: see the overload below)."""
    raise NotImplementedError


@overload(expect, prefer_literal=True, jit_options=dict(error_model=ERROR_MODEL))
def _expect_impl(a, name, dtypes, out):
    want = getattr(dtypes, 'literal_value', '').split(' or ')
    if (isinstance(a, types.Array) and a.layout == 'C' and str(a.dtype) in want
            and (a.mutable or not getattr(out, 'literal_value', True))):
        return lambda a, name, dtypes, out: None
    raise TypingError(f'{getattr(name, "literal_value", "an argument")} is {a}, '
                      f'not a C-contiguous array of {" or ".join(want)}')


def _odd_kernel(k, name: str) -> int:
    """A blur kernel size as an int: odd and positive, else its taps w[0 .. 2r] (r =
    k // 2) would be read past the kernel's end. The upper limit is the front's."""
    k = operator.index(k)
    _require(k >= 1 and k % 2 == 1, f'{name} must be odd and positive, got {k}')
    return k


def _argmax_rows(maps: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """first_argmax of every row of a (C, n) float32 array, n > 0. numpy's argmax is
    the very rule fastcodec/argmax.h follows (first occurrence, the first NaN wins),
    and its SIMD loops beat a scalar Numba scan several times over."""
    idx = maps.argmax(axis=1)
    return idx, maps[np.arange(maps.shape[0]), idx]
