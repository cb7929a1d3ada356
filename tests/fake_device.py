"""A CUDA device simulated on the host, to run the codecs' device path end to end
without a GPU: device detection, the dispatch to the ``cuda`` backend, the front's
allocation in the caller's namespace, the glue around the kernels (``Call.xp``), the
launch code, and results handed back as device arrays.

- ``DeviceArray`` stands in for a CuPy array: a numpy array in host memory that says it
  lives on ``cuda:0`` (``.device.id``, ``__cuda_array_interface__``). Like CuPy it
  refuses to be mixed with host (numpy) arrays: a codec that combines a device array
  with a host constant, or hands a host array to a device kernel, fails here as it
  would on a GPU. Stricter than CuPy, it computes only through the ``cupy`` module
  (``Call.xp``): an array operator, a numpy function, item assignment or ``astype`` on
  it is a TypeError, since on a torch caller's stream only ``xp``'s functions are
  queued on that stream.
- ``fake_cupy()`` is the ``cupy`` module for them: numpy's functions on unwrapped
  arrays, results wrapped back (``asarray`` of a host array is the host-to-device copy).
- ``FakeLauncher`` launches the CUDA kernels through the host emulator
  (``fastcodec._cuda_emulator``) and accepts device arrays only.

``install(monkeypatch)`` puts the fake ``cupy`` in ``sys.modules`` and makes the
emulated kernels the ``cuda`` backend for the test. Not simulated: separate memory
(the arrays share host memory), streams, asynchrony.
"""
from __future__ import annotations

import sys
import types
from typing import Any

import numpy as np


class _Device:
    id = 0


class DeviceArray(np.ndarray):
    """A host array posing as a CuPy array on cuda:0 (see the module docstring)."""

    device = _Device()

    @property
    def __cuda_array_interface__(self) -> dict:
        return dict(shape=self.shape, typestr=self.dtype.str, version=3, strides=None,
                    data=(self.ctypes.data, False))

    # Stricter than CuPy: a device call's computations must go through ``Call.xp``
    # (on a torch caller's stream every xp function runs on that stream; an operator
    # or a numpy function on device arrays would run on another). Views (indexing,
    # reshape, view) stay allowed.
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raise TypeError(f'{ufunc.__name__} applied to device arrays outside Call.xp '
                        '(an array operator or a numpy function)')

    def __array_function__(self, func, types_, args, kwargs):
        raise TypeError(f'numpy.{func.__name__} called on device arrays; use Call.xp')

    def __setitem__(self, key, value):
        raise TypeError('item assignment on a device array outside Call.xp (use xp.copyto)')

    def astype(self, *args, **kwargs):
        raise TypeError('astype on a device array outside Call.xp (use xp.asarray)')

    def get(self) -> np.ndarray:
        """The device-to-host copy (CuPy's ``get``)."""
        return np.array(self.view(np.ndarray), copy=True)


def to_host(x: Any) -> Any:
    """The numpy view of device arrays in x (nested in tuples, lists, dicts); a host
    ndarray among them is a TypeError, as CuPy refuses implicit transfers."""
    if isinstance(x, DeviceArray):
        return x.view(np.ndarray)
    if isinstance(x, np.ndarray):
        raise TypeError('a host (numpy) array was mixed with device arrays; CuPy refuses '
                        'implicit host-device transfers')
    if isinstance(x, (list, tuple)):
        return type(x)(to_host(v) for v in x)
    if isinstance(x, dict):
        return {k: to_host(v) for k, v in x.items()}
    return x


def to_device(x: Any) -> Any:
    if type(x) is np.ndarray:
        return x.view(DeviceArray)
    if isinstance(x, tuple):
        return tuple(to_device(v) for v in x)
    return x


def device(host: np.ndarray) -> DeviceArray:
    """A copy of a host array on the simulated device."""
    return np.array(host, copy=True).view(DeviceArray)


class _FakeCupy(types.ModuleType):
    """``cupy``: numpy's functions on the device arrays' host views, results wrapped.
    ``blocking_copies`` counts the host-to-device copies that block the host
    (``asarray(..., blocking=True)``); CuPy's default copy is asynchronous on the
    current stream."""

    ndarray = DeviceArray

    def __init__(self) -> None:
        super().__init__('cupy')
        self.blocking_copies = 0

    def asarray(self, x, dtype=None, blocking=False):
        if isinstance(x, DeviceArray):
            return x if dtype is None else to_device(np.asarray(to_host(x), dtype))
        self.blocking_copies += bool(blocking)
        return np.array(x, dtype=dtype).view(DeviceArray)   # a host-to-device copy

    def __getattr__(self, name: str):
        fn = getattr(np, name)
        if not callable(fn):
            return fn

        def on_device(*args, **kwargs):
            return to_device(fn(*to_host(args), **to_host(kwargs)))
        on_device.__name__ = name
        return on_device

    # DecoupledHeatmap (issue 15): the device-to-host copy a call synchronises on,
    # counted (``host_copies``) so tests can require at most one per batch call.
    host_copies = 0

    def asnumpy(self, x):
        if not isinstance(x, DeviceArray):
            raise TypeError(f'asnumpy of a {type(x).__name__}: not a device array')
        self.host_copies += 1
        return x.get()


def fake_cupy() -> types.ModuleType:
    return _FakeCupy()


def _launcher():
    from fastcodec.backends.cuda import emulator, launch

    class FakeLauncher(emulator._HostLauncher):
        """The emulator's launches, on device arrays only."""

        def launch(self, name, grid, block, shared_bytes, args):
            host = [launch.Pointer(self._host(a.array, name), a.ctype)
                    if isinstance(a, launch.Pointer) else a for a in args]
            super().launch(name, grid, block, shared_bytes, host)

        @staticmethod
        def _host(array, name):
            if not isinstance(array, DeviceArray):
                raise TypeError(f'{name}: a {type(array).__name__} reached a device '
                                'kernel; the device backend takes device arrays only')
            return array.view(np.ndarray)

        def describe(self, array):
            return super().describe(self._host(array, 'describe'))

        def astype(self, array, dtype):
            return to_device(super().astype(self._host(array, 'astype'), dtype))

        def empty(self, shape, dtype, like):
            return np.empty(shape, dtype).view(DeviceArray)

    return FakeLauncher()


def cuda_backend() -> types.ModuleType:
    """The backend-contract functions of the CUDA launch code on FakeLauncher."""
    from fastcodec.backends.cuda import launch
    module = types.ModuleType('fake_cuda_backend')
    vars(module).update(launch.contract_functions(launch.Kernels(_launcher())))
    return module


def install(monkeypatch) -> None:
    """For one test: the fake ``cupy`` imported by fastcodec, and the emulated kernels
    on FakeLauncher as the ``cuda`` backend."""
    from fastcodec import _backend
    monkeypatch.setitem(sys.modules, 'cupy', fake_cupy())
    monkeypatch.setitem(_backend._loaded, 'cuda', cuda_backend())
    monkeypatch.delitem(_backend._missing, 'cuda', raising=False)
    automatic_dispatch(monkeypatch)


def automatic_dispatch(monkeypatch) -> None:
    """For one test: backends chosen by the arrays' device, as without FASTCODEC_BACKEND
    (the suite may run with it set to test a CPU backend; it would refuse device arrays)."""
    from fastcodec import _backend
    monkeypatch.setattr(_backend, '_from_env', None)
