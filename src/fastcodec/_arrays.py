"""The array front: every array that enters fastcodec passes through here.

It accepts numpy arrays (and anything ``np.asarray`` takes), torch tensors on any
device, CuPy arrays, and any object exposing ``__cuda_array_interface__`` or DLPack;
``device_of`` reports where an array lives, ``namespace_of`` gives its namespace: the
array kind results are returned as, on the same device, with the array operations the
codecs need (``empty``, ``where``, ``cat``, ...).

A call of a codec or op is a ``Call``: the caller's namespace, the backend for its
device (``fastcodec._backend.kernels``: CPU arrays -> cpp or numba, device arrays -> the
device's backend, a TypeError naming it while it is missing), and the namespace the
backend computes in. The CPU backends compute on numpy arrays: a torch CPU tensor is
read as a numpy view and results are handed back as tensors sharing the numpy memory
(no copies at the boundary). Outputs are allocated here, by ``Call.empty``, and passed
to the kernels, which only fill them (docs/design.md).
"""
from __future__ import annotations

import sys
from typing import Any, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from fastcodec import _backend
from fastcodec.limits import MAX_BLUR_KERNEL

F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)


# ---- devices ------------------------------------------------------------------------------
class Device(NamedTuple):
    """Where an array lives: ``type`` is 'cpu', 'cuda', 'rocm', ...; ``index`` the
    device number (0 on the CPU; None where the array does not say)."""
    type: str
    index: Optional[int] = 0

    def __str__(self) -> str:
        return self.type if self.type == 'cpu' or self.index is None \
            else f'{self.type}:{self.index}'


CPU = Device('cpu')

# DLPack's DLDeviceType codes; pinned host memory (CUDAHost, ROCMHost) is CPU memory.
_DLPACK_DEVICES = {1: 'cpu', 2: 'cuda', 3: 'cpu', 4: 'opencl', 7: 'vulkan', 8: 'metal',
                   9: 'vpi', 10: 'rocm', 11: 'cpu', 13: 'cuda', 14: 'oneapi', 15: 'webgpu',
                   16: 'hexagon', 17: 'maia'}


def _torch():
    return sys.modules.get('torch')


def is_torch(x: Any) -> bool:
    torch = _torch()
    return torch is not None and isinstance(x, torch.Tensor)


def _is_cupy(x: Any) -> bool:
    cupy = sys.modules.get('cupy')
    return cupy is not None and isinstance(x, cupy.ndarray)


def device_of(x: Any) -> Device:
    """The device of an array: torch's own, CuPy's, a ``__cuda_array_interface__``
    (CUDA; its device number is not part of the interface), a DLPack producer's
    ``__dlpack_device__``; anything else is read on the host."""
    if type(x) is np.ndarray:
        return CPU
    if is_torch(x):
        d = x.device
        return CPU if d.type == 'cpu' else Device(d.type, d.index)
    if _is_cupy(x):
        return Device('cuda', x.device.id)
    if hasattr(type(x), '__cuda_array_interface__'):
        return Device('cuda', None)
    dlpack_device = getattr(x, '__dlpack_device__', None)
    if dlpack_device is not None:
        try:
            code, index = dlpack_device()
        except Exception:  # noqa: BLE001 - not a usable DLPack producer: read on the host
            return CPU
        name = _DLPACK_DEVICES.get(int(code), f'dlpack-device-{int(code)}')
        return CPU if name == 'cpu' else Device(name, int(index))
    return CPU


def on_device(x: Any) -> bool:
    """Whether ``x`` lives in accelerator memory (not readable by the host)."""
    return device_of(x).type != 'cpu'


def common_device(arrays: Sequence[Any], names: Sequence[str]) -> Device:
    """The one device of the given arrays (None entries skipped); arrays on two
    devices are a TypeError."""
    found: Optional[Tuple[Device, str]] = None
    for x, name in zip(arrays, names):
        if x is None:
            continue
        d = device_of(x)
        if found is None:
            found = (d, name)
        elif d.type != found[0].type or (d.index != found[0].index and None not in
                                         (d.index, found[0].index)):
            raise TypeError(f'{found[1]} is on {found[0]} but {name} is on {d}: '
                            'the arrays of one call must share a device')
    return CPU if found is None else found[0]


# ---- namespaces -----------------------------------------------------------------------------
# numpy's real dtypes in native byte order: a set lookup, faster than reading dtype.kind
_REAL_DTYPES = frozenset(np.dtype(c) for c in '?bBhHiIlLqQefdg')


def _real(dtype_kind: str, dtype: Any, name: str) -> None:
    if dtype_kind not in 'biuf':
        raise TypeError(f'{name} must hold real numbers, got dtype {dtype}')


class NumpyNS:
    """numpy arrays on the host: numpy inputs, array-likes, host DLPack producers, and
    torch CPU tensors as the CPU backends read them."""

    kind = 'numpy'
    is_torch = False
    device = CPU
    xp = np  # the array module: the codecs' glue around kernels is written against it

    @staticmethod
    def asarray(x: Any, name: str) -> np.ndarray:
        """x as a numpy array of real numbers, without a copy where x's memory allows."""
        if type(x) is np.ndarray:
            if x.dtype in _REAL_DTYPES:
                return x
            arr = x
        elif is_torch(x):
            t = x.detach()
            if t.dtype == _torch().bfloat16:
                t = t.float()
            arr = t.cpu().numpy()
        elif hasattr(x, '__dlpack__') and not isinstance(x, np.ndarray):
            arr = np.from_dlpack(x)
        else:
            try:
                arr = np.asarray(x)
            except Exception as err:  # noqa: BLE001 - report any conversion failure alike
                raise TypeError(f'{name} must be array-like, got {type(x).__name__}') from err
        _real(arr.dtype.kind, arr.dtype, name)
        return arr

    @staticmethod
    def wrap(out):
        return out

    @staticmethod
    def results(encoded: dict) -> dict:
        """An encode's dict as the caller's kind: numpy results are already."""
        return encoded

    @staticmethod
    def dtype(x) -> np.dtype:
        return x.dtype

    @staticmethod
    def cast(x, dtype: np.dtype):
        return x if x.dtype == dtype else x.astype(dtype)

    @staticmethod
    def copy(x):
        return x.copy()

    empty = staticmethod(np.empty)   # (shape tuple, dtype): no Python frame per buffer

    @staticmethod
    def full(shape, value, dtype=F64):
        out = np.empty(shape, dtype)  # empty + fill: a third of np.full's cost
        out.fill(value)
        return out

    @staticmethod
    def ones(shape, dtype=F32):
        return NumpyNS.full(shape, 1, dtype)

    @staticmethod
    def zeros(shape, dtype):
        return np.zeros(shape, dtype)

    @staticmethod
    def cat(xs, axis):
        return np.concatenate(xs, axis=axis)

    @staticmethod
    def weight(visible):
        """MMPose's ``np.where(visible > 0.5, 1., 0.).astype(np.float32)``."""
        return (visible > 0.5).astype(F32)  # a ufunc's out= and casting= cost 1 us more

    @staticmethod
    def where(cond, a, b):
        return np.where(cond, a, b)

    @staticmethod
    def binop(op: str, a, b, out):
        """``out[...] = a <op> b`` computed as numpy does (NEP 50 promotion of a and b),
        stored in out's dtype: MMPose's in-place ``a op= b`` and casts. Writing through
        ``out`` (a view, e.g. one coordinate channel) avoids numpy's slow broadcasting
        of small trailing axes."""
        return _UFUNCS[op](a, b, out=out, casting='unsafe')

    @staticmethod
    def planes(x):
        """The last axis of x (..., C) as C contiguous arrays (...), always fresh copies
        (callers write into them): one pass, after which every op reads contiguous
        memory."""
        return [np.array(x[..., j], order='C') for j in range(x.shape[-1])]  # copies

    @staticmethod
    def rdiv(scalar: float, x):
        """``scalar / x``, one correctly rounded division."""
        return scalar / x

    @staticmethod
    def take(x, index: List[int], axis: int):
        return np.take(x, index, axis=axis)

    @staticmethod
    def permute(x, dims):
        return x.transpose(dims)

    @staticmethod
    def expand(x, shape):
        return np.broadcast_to(x, shape)


NUMPY = NumpyNS()
_UFUNCS = dict(add=np.add, subtract=np.subtract, multiply=np.multiply, divide=np.divide)
_TORCH_OF_NP: dict = {}
_NP_OF_TORCH: dict = {}


def _dtype_tables():
    import torch
    if not _TORCH_OF_NP:
        for t, n in ((torch.float16, np.float16), (torch.float32, np.float32),
                     (torch.float64, np.float64), (torch.int8, np.int8),
                     (torch.int16, np.int16), (torch.int32, np.int32),
                     (torch.int64, np.int64), (torch.uint8, np.uint8),
                     (torch.bool, np.bool_)):
            _TORCH_OF_NP[np.dtype(n)] = t
            _NP_OF_TORCH[t] = np.dtype(n)
    return torch


class TorchNS:
    """torch tensors on one device, computed on with torch ops there (the lifting
    codecs' vectorised path); results of the CPU backends come back as tensors sharing
    the numpy memory."""

    kind = 'torch'
    is_torch = True

    def __init__(self, device) -> None:
        self.torch = _dtype_tables()
        self.torch_device = device
        self.device = CPU if device.type == 'cpu' else Device(device.type, device.index)

    def asarray(self, x: Any, name: str):
        torch = self.torch
        if isinstance(x, torch.Tensor):
            t = x.detach()
            if t.dtype == torch.bfloat16:
                t = t.float()
            if t.dtype not in _NP_OF_TORCH:
                raise TypeError(f'{name} must hold real numbers, got dtype {t.dtype}')
            return t if t.device == self.torch_device else t.to(self.torch_device)
        return torch.as_tensor(NUMPY.asarray(x, name), device=self.torch_device)

    def wrap(self, out):
        """A result in this namespace: numpy arrays become tensors (sharing memory on
        the CPU), device arrays (CuPy) tensors sharing the device memory."""
        if isinstance(out, np.ndarray):
            if self.device.type == 'cpu':
                return self.torch.from_numpy(np.ascontiguousarray(out))
            return self.torch.as_tensor(out, device=self.torch_device)
        if hasattr(type(out), '__cuda_array_interface__') and \
                not isinstance(out, self.torch.Tensor):
            return self.torch.as_tensor(out, device=self.torch_device)
        return out

    @staticmethod
    def results(encoded: dict) -> dict:
        """An encode's dict as the caller's kind: torch ops made tensors already."""
        return encoded

    @staticmethod
    def dtype(x) -> np.dtype:
        return _NP_OF_TORCH[x.dtype]

    @staticmethod
    def cast(x, dtype: np.dtype):
        t = _TORCH_OF_NP[np.dtype(dtype)]
        return x if x.dtype == t else x.to(t)

    @staticmethod
    def copy(x):
        return x.clone()

    def empty(self, shape, dtype):
        return self.torch.empty(tuple(shape), dtype=_TORCH_OF_NP[np.dtype(dtype)],
                                device=self.torch_device)

    def ones(self, shape, dtype=F32):
        return self.torch.ones(tuple(shape), dtype=_TORCH_OF_NP[np.dtype(dtype)],
                               device=self.torch_device)

    def zeros(self, shape, dtype):
        return self.torch.zeros(tuple(shape), dtype=_TORCH_OF_NP[np.dtype(dtype)],
                                device=self.torch_device)

    def cat(self, xs, axis):
        return self.torch.cat(xs, dim=axis)

    def weight(self, visible):
        return (visible > 0.5).to(self.torch.float32)

    def where(self, cond, a, b):
        return self.torch.where(cond, a, b)

    def binop(self, op: str, a, b, out):
        if isinstance(b, (int, float)):
            dtype = float_of(self.dtype(a)) if op == 'divide' else self.dtype(a)
            a2, b2 = self.cast(a, dtype), b
        else:
            dtype = np.result_type(self.dtype(a), self.dtype(b))
            if op == 'divide':
                dtype = float_of(dtype)
            a2, b2 = self.cast(a, dtype), self.cast(b, dtype)
        out.copy_(getattr(self.torch, op)(a2, b2))
        return out

    def planes(self, x):
        return list(x.movedim(-1, 0).clone(memory_format=self.torch.contiguous_format)
                    .unbind(0))

    def rdiv(self, scalar: float, x):
        # torch's ``scalar / x`` is ``x.reciprocal() * scalar``: two roundings.
        return self.torch.div(self.torch.full_like(x, scalar), x)

    def take(self, x, index: List[int], axis: int):
        idx = self.torch.as_tensor(index, dtype=self.torch.long, device=self.torch_device)
        return self.torch.index_select(x, axis, idx)

    @staticmethod
    def permute(x, dims):
        return x.permute(*dims)

    @staticmethod
    def expand(x, shape):
        return x.expand(*shape)


class CupyNS:
    """CuPy arrays on one CUDA device, and other device arrays read through CuPy
    (zero-copy, by ``__cuda_array_interface__`` or DLPack): what a device backend
    computes on and returns. CuPy mirrors numpy's API, so the codecs' glue around the
    kernels (``Call.xp``: dtype conversions, ``where``, ``full``, ufuncs) runs
    unchanged on the device."""

    kind = 'cupy'
    is_torch = False

    def __init__(self, device: Device, stream: Any = None, torch_ns: Any = None) -> None:
        try:
            import cupy
        except ImportError as err:
            raise TypeError(f'arrays on {device} that are not torch tensors are read '
                            'through CuPy, which is not installed (pip install '
                            '"fastcodec[cuda]")') from err
        self.cupy, self.device = cupy, device
        # ``stream``: a CuPy stream every operation of the call is queued on (a torch
        # caller's current stream); None: CuPy's current stream (a CuPy caller's own)
        self.xp = cupy if stream is None else OnStream(cupy, stream)
        # ``torch_ns``: a torch caller's namespace, whose allocator the outputs come
        # from (CuPy views of torch tensors), so a torch caller's results are torch
        # memory like the rest of its tensors
        self._torch = torch_ns

    def asarray(self, x: Any, name: str):
        arr = x if isinstance(x, self.cupy.ndarray) else self.cupy.asarray(x)
        _real(arr.dtype.kind, arr.dtype, name)
        return arr

    wrap = staticmethod(NumpyNS.wrap)    # results are CuPy arrays already
    dtype = staticmethod(NumpyNS.dtype)

    def empty(self, shape, dtype):
        if self._torch is not None:
            return self.cupy.asarray(self._torch.empty(shape, dtype))
        return self.xp.empty(tuple(shape), dtype)

    def zeros(self, shape, dtype):
        if self._torch is not None:
            return self.cupy.asarray(self._torch.zeros(shape, dtype))
        return self.xp.zeros(tuple(shape), dtype)

    def full(self, shape, value, dtype=F64):
        return self.xp.full(shape, value, dtype)  # shape: an int or a tuple


class OnStream:
    """A module (CuPy, a device backend's kernels) whose functions each run with
    ``stream`` as CuPy's current stream: a device call's every operation, glue and
    kernels, is queued on the caller's stream. (The codecs' glue uses ``Call.xp``'s
    functions only, no array operators, so nothing escapes to another stream.)"""

    def __init__(self, module: Any, stream: Any) -> None:
        self._module, self._stream = module, stream

    def __getattr__(self, name: str):
        value = getattr(self._module, name)
        if not callable(value) or isinstance(value, type):
            return value
        stream = self._stream

        def on_stream(*args, **kwargs):
            with stream:
                return value(*args, **kwargs)
        on_stream.__name__ = name
        return on_stream


def namespace_of(x: Any):
    """The namespace of results for input x: torch tensors -> torch on x's device;
    numpy and other host arrays -> numpy; CuPy and other device arrays -> CuPy."""
    if type(x) is np.ndarray:
        return NUMPY
    if is_torch(x):
        return torch_namespace(x.device)
    device = device_of(x)
    return NUMPY if device.type == 'cpu' else CupyNS(device)


_TORCH_NAMESPACES: dict = {}  # torch.device -> its TorchNS (never modified)


def torch_namespace(device) -> 'TorchNS':
    """The TorchNS of a torch device, made once (1.5 us a call here otherwise)."""
    ns = _TORCH_NAMESPACES.get(device)
    if ns is None:
        ns = _TORCH_NAMESPACES[device] = TorchNS(device)
    return ns


_PROMOTED: dict = {}


def promoted_dtype(dtype: np.dtype, scalar: Any) -> np.dtype:
    """np.result_type(dtype, scalar): the dtype numpy computes ``array op scalar`` in
    (MMPose's ``keypoints * simcc_split_ratio``, ``keypoints / bound``), cached by dtype
    and the scalar's kind (a Python number's type, or a numpy number's dtype: all NumPy
    2's promotion reads), since np.result_type costs 1.4 us per call."""
    key = (dtype, getattr(scalar, 'dtype', type(scalar)))
    work = _PROMOTED.get(key)
    if work is None:
        work = _PROMOTED[key] = np.result_type(dtype, scalar)
    return work


def float_of(dtype: np.dtype) -> np.dtype:
    """The dtype of ``array / python_number``: floats keep theirs, integers give f64."""
    return np.dtype(dtype) if np.dtype(dtype).kind == 'f' else F64


# ---- a call ---------------------------------------------------------------------------------
class Call:
    """One call of a codec or op (``open_call``): the caller's namespace (results go
    back as its kind, on its device), the kernel module of the backend for the arrays'
    device, and the namespace X that backend computes in (numpy for the CPU backends),
    with its array module ``xp`` (numpy or CuPy: the glue around kernels), its
    ``array(x, name)`` (an input as the backend reads it: real numbers, no copy
    where possible), ``empty(shape, dtype)`` (an output buffer there for a kernel to
    fill), ``result(out)`` (a result as the caller's kind) and ``results(outs)`` (a
    tuple of them: for numpy callers the tuple itself, without a call per result)."""

    __slots__ = ('caller', 'X', 'xp', 'kernels', 'array', 'empty', 'result', 'results')

    def __init__(self, caller, X, kernels) -> None:
        self.caller, self.X, self.xp, self.kernels = caller, X, X.xp, kernels
        # the namespaces' functions themselves: no extra frame on these per-call paths
        self.array, self.empty, self.result = X.asarray, X.empty, caller.wrap
        # tuple() of a tuple is that tuple: numpy callers' results without a Python frame
        self.results = tuple if caller is NUMPY else lambda outs: tuple(map(caller.wrap, outs))

    def zeros(self, shape, dtype):
        return self.X.zeros(shape, dtype)

    def full(self, shape, value: float):
        """A float64 array of ``value`` (per-keypoint sigmas), in the call's namespace."""
        return self.X.full(shape, value)


# kernel module (numpy callers), or (caller namespace, kernel module) -> the Call of
# host arrays on it (immutable)
_HOST_CALLS: dict = {}


def open_call(arrays: Sequence[Any], names: Sequence[str], codec: Any = None) -> Call:
    """The call on these arrays (None entries skipped): all on one device (else
    TypeError), the backend for that device (``_backend.kernels``: a TypeError for a
    device without one, before any conversion). ``codec``: the codec calling, whose
    ``device_ready`` says whether it runs on device arrays (else NotImplementedError)."""
    for x in arrays:
        if x is not None and type(x) is not _ndarray:
            return _open_device_call(arrays, names, codec)
    # numpy arrays only: the common case, without the device checks
    kernels = _backend.host_kernels()
    call = _HOST_CALLS.get(kernels)
    if call is None:
        call = _HOST_CALLS[kernels] = Call(NUMPY, NUMPY, kernels)
    return call


_ndarray = np.ndarray


def open_array(x: Any, name: str, codec: Any = None) -> Tuple[Call, Any]:
    """``open_call`` on one array, and that array as the call's backend reads it
    (``Call.array``): the single-input calls (decodes) in one step, a plain numpy array
    of real numbers as it is."""
    if type(x) is _ndarray and x.dtype in _REAL_DTYPES:
        call = _HOST_CALLS.get(_backend.host_kernels())  # open_call's numpy case
        if call is not None:
            return call, x
    call = open_call((x,), (name,), codec)
    return call, call.array(x, name)


def _open_device_call(arrays: Sequence[Any], names: Sequence[str], codec: Any) -> Call:
    """Calls on torch tensors (any device), other host arrays, and device arrays: the
    CPU backends compute on numpy views of host memory; a device backend on CuPy views
    of the device memory (torch CUDA tensors included: zero-copy, results handed back
    as tensors sharing it)."""
    torch_host = _torch_host_namespace(arrays)
    if torch_host is not None:  # the usual torch caller, without the device walk below
        return _host_call(torch_host, _backend.host_kernels())
    device = common_device(arrays, names)
    kernels = _backend.kernels(device)
    caller = namespace_of(next(x for x in arrays if x is not None))
    if device.type == 'cpu':
        return _host_call(caller, kernels)
    if not getattr(codec, 'device_ready', True):
        raise NotImplementedError(
            f'{type(codec).__name__} has no CUDA kernels yet (the cuda backend runs the '
            'heatmap, SimCC, regression, bottom-up, lifting and 3-D codecs); copy the arrays '
            'to the host first (tensor.cpu(), cupy.asnumpy)')
    if caller.is_torch:
        stream = cupy_stream(caller.torch.cuda.current_stream(caller.torch_device),
                             device.index)
        return Call(caller, CupyNS(device, stream, caller), OnStream(kernels, stream))
    return Call(caller, caller, kernels)


def _host_call(caller, kernels) -> Call:
    """The Call of a caller namespace other than numpy on host arrays, made once."""
    call = _HOST_CALLS.get((caller, kernels))
    if call is None:
        call = _HOST_CALLS[(caller, kernels)] = Call(caller, NUMPY, kernels)
    return call


def _torch_host_namespace(arrays: Sequence[Any]) -> Optional['TorchNS']:
    """The TorchNS of the CPU when every array given is a torch CPU tensor, else None."""
    tensor = getattr(_torch(), 'Tensor', None)
    if tensor is None:
        return None
    device = None
    for x in arrays:
        if x is None:
            continue
        if not isinstance(x, tensor):
            return None
        device = x.device
        if device.type != 'cpu':
            return None
    return None if device is None else torch_namespace(device)


def cupy_stream(torch_stream: Any, device_index: int):
    """A torch CUDA stream as a CuPy stream (the same CUDA stream)."""
    import cupy
    from_external = getattr(cupy.cuda.Stream, 'from_external', None)  # CuPy >= 14
    if from_external is not None and hasattr(torch_stream, '__cuda_stream__'):
        return from_external(torch_stream)
    return cupy.cuda.ExternalStream(torch_stream.cuda_stream, device_index)


def host_array(x: Any, name: str) -> np.ndarray:
    """x as a numpy array, for the steps codecs compute with numpy on the host (no
    kernel); arrays on a device get the dispatch's TypeError naming their backend where
    it is missing, and a TypeError saying the step runs on the host where it is not."""
    call = open_call((x,), (name,))
    if call.X is not NUMPY:
        raise TypeError(f'{name}: this step computes on the host; copy the array there '
                        f'first (it is on {call.X.device})')
    return call.array(x, name)


# ---- argument checks ----------------------------------------------------------------------
def check_real(array: np.ndarray, name: str) -> None:
    _real(array.dtype.kind, array.dtype, name)


def check_ndim(array: np.ndarray, name: str, ndims: Sequence[int], layout: str) -> None:
    if array.ndim not in ndims:
        raise ValueError(f'{name} must have shape {layout}, got {tuple(array.shape)}')


def keypoints_f64(call: Call, keypoints, name: str = 'keypoints'):
    """float64 copy-or-view of keypoints (..., 2+) and whether MMPose would compute in
    float32 (float16/float32 input) rather than float64."""
    dtype = keypoints.dtype
    if dtype not in _REAL_DTYPES:
        check_real(keypoints, name)
    if keypoints.shape[-1] != 2:
        raise ValueError(f'{name} must hold (x, y) pairs in its last axis, '
                         f'got shape {tuple(keypoints.shape)}')
    return (call.xp.ascontiguousarray(keypoints, dtype=F64),
            dtype is F32 or dtype in _HALF_SINGLE)


_HALF_SINGLE = (np.dtype(np.float16), F32)


def visibility(call: Call, keypoints_visible: Optional[Any], lead: Tuple[int, ...],
               name: str = 'keypoints_visible'):
    """The visibility array (MMPose: ones of float32 when None), checked to be ``lead``."""
    if keypoints_visible is None:
        return call.xp.ones(lead, dtype=F32)
    vis = call.array(keypoints_visible, name)
    if vis.shape != lead:
        raise _visibility_shape_error(name, lead, vis)
    return vis


def _visibility_shape_error(name: str, lead: Tuple[int, ...], vis) -> ValueError:
    return ValueError(f'{name} must have shape {lead} to match keypoints, '
                      f'got {tuple(vis.shape)}')


def open_keypoints(keypoints: Any, keypoints_visible: Optional[Any], ndim: int, layout: str,
                   codec: Any = None) -> Tuple[Call, Any, Any]:
    """An encode's call (``open_call``) and its two inputs as the backend reads them:
    keypoints with ``ndim`` axes (``layout`` names them in the error) and the
    visibility of all but its last axis (``visibility``). Numpy arrays of real numbers
    are taken as they are, in one Python frame: small per-sample encodes are mostly
    this fixed cost."""
    call = None
    if type(keypoints) is _ndarray and keypoints.dtype in _REAL_DTYPES and (
            keypoints_visible is None or type(keypoints_visible) is _ndarray
            and keypoints_visible.dtype in _REAL_DTYPES):
        call = _HOST_CALLS.get(_backend.host_kernels())  # open_call's numpy case
        kps, vis = keypoints, keypoints_visible
    if call is None:
        call = open_call((keypoints, keypoints_visible), ('keypoints', 'keypoints_visible'),
                         codec)
        kps = call.array(keypoints, 'keypoints')
        vis = None if keypoints_visible is None else \
            call.array(keypoints_visible, 'keypoints_visible')
    if kps.ndim != ndim:
        raise ValueError(f'keypoints must have shape {layout}, got {tuple(kps.shape)}')
    lead = kps.shape[:-1]
    if vis is None:
        return call, kps, call.xp.ones(lead, dtype=F32)
    if vis.shape != lead:
        raise _visibility_shape_error('keypoints_visible', lead, vis)
    return call, kps, vis


def heatmaps_f32(call: Call, heatmaps, name: str = 'heatmaps'):
    """float32 C-contiguous maps (..., H, W) with H, W > 0, as the kernels read them."""
    if heatmaps.dtype not in _REAL_DTYPES:
        check_real(heatmaps, name)
    if 0 in heatmaps.shape[-2:]:
        raise ValueError(f'{name} must have positive height and width, '
                         f'got shape {tuple(heatmaps.shape)}')
    return call.xp.ascontiguousarray(heatmaps, dtype=F32)


def check_size(size: Any, name: str) -> Tuple[int, int]:
    """A (w, h) pair of positive integers."""
    try:
        w, h = size
        w_i, h_i = int(w), int(h)
    except (TypeError, ValueError) as err:
        raise TypeError(f'{name} must be a (width, height) pair, got {size!r}') from err
    if w_i != w or h_i != h or w_i <= 0 or h_i <= 0:
        raise ValueError(f'{name} must be two positive integers, got {size!r}')
    return w_i, h_i


def check_kernel_size(k: Any, name: str) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f'{name} must be an odd integer, got {k!r}')
    if k < 1 or k % 2 == 0 or k > MAX_BLUR_KERNEL:
        raise ValueError(f'{name} must be an odd integer in [1, {MAX_BLUR_KERNEL}], got {k}')
    return int(k)


def positive_numbers(v: Any, n: int, name: str, what: str) -> np.ndarray:
    """``n`` positive finite numbers (a sequence or array) as an array; ``what`` says in
    the errors what ``name`` must be."""
    try:
        arr = np.array(v)
    except Exception as err:  # noqa: BLE001 - report any conversion failure alike
        raise TypeError(f'{name} must be {what}, got {v!r}') from err
    if arr.shape != (n,) or arr.dtype.kind not in 'iuf':
        raise TypeError(f'{name} must be {what}, got {v!r}')
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f'{name} must be {what}, positive and finite, got {v!r}')
    return arr


def check_positive(v: Any, name: str) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError) as err:
        raise TypeError(f'{name} must be a number, got {v!r}') from err
    if not np.isfinite(f) or f <= 0:
        raise ValueError(f'{name} must be a positive finite number, got {v!r}')
    return f


def weights_from(call: Call, visible, inside):
    """MMPose's keypoint_weights: a copy of the visibility with the out-of-heatmap
    entries zeroed, in the visibility's dtype."""
    xp = call.xp
    return xp.where(inside.view(bool), visible, zero_of(xp, visible.dtype))


_HOST_ZEROS: dict = {}  # dtype -> a 0-d numpy zero, never handed out


def zero_of(xp, dtype):
    """A 0-d zero of ``dtype`` in the array module ``xp``: ``where(mask, x, zero)``
    keeps x's dtype, and costs 0.7 us less than with a Python 0, which numpy converts
    on every call (2-core Zen 2). numpy's zeros are cached, device ones made per call."""
    if xp is not np:
        return xp.zeros((), dtype)
    zero = _HOST_ZEROS.get(dtype)
    if zero is None:
        zero = _HOST_ZEROS[dtype] = np.zeros((), dtype)
    return zero
