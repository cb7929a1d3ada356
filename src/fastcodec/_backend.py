"""Backend selection: which kernel module runs a call, chosen by the arrays' device.

Backends register for a device type (``BACKENDS``): ``cpp`` (the compiled extension
``fastcodec._C``) and ``numba`` (njit fallback) run on host arrays; ``cuda`` (csrc/cuda through
CuPy) on CUDA arrays; ``cuda-emulator`` runs the CUDA kernels on host arrays (tests,
only when selected by name). Each implements the backend contract,
``fastcodec.backends.contract``.

A call on arrays of device type D runs on: the ``use_backend`` context's backend, else
``set_backend``'s, else ``FASTCODEC_BACKEND``'s (each checked against D: a backend for
another device is a TypeError), else the first available of ``AUTOMATIC[D]`` (``cpp``,
falling back to ``numba`` on the CPU). A device with no available backend is a
TypeError that names the backend it needs.
"""
from __future__ import annotations

import contextlib
import contextvars
import importlib
import os
import sys
import warnings
from types import ModuleType
from typing import Dict, Iterator, List, NamedTuple, Optional


class Backend(NamedTuple):
    """A registered backend: the device type of the arrays it takes, its module."""
    device: str
    module: str


BACKENDS: Dict[str, Backend] = {
    'cpp': Backend('cpu', 'fastcodec.backends.cpp'),
    'numba': Backend('cpu', 'fastcodec.backends.numba'),
    'cuda': Backend('cuda', 'fastcodec.backends.cuda.device'),
    # the CUDA kernels compiled for the host (csrc/cuda/emulator.h), on host arrays:
    # for tests, chosen only explicitly (never automatically: it is slow)
    'cuda-emulator': Backend('cpu', 'fastcodec.backends.cuda.emulator'),
}
# Automatic choice per device type, fastest first.
AUTOMATIC: Dict[str, tuple] = {'cpu': ('cpp', 'numba'), 'cuda': ('cuda',)}
BACKEND_NAMES = tuple(BACKENDS)

_context: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar(
    'fastcodec_backend', default=None)
_selected: Optional[str] = None
# Read once: the environment is the process's default, not a per-call switch.
_from_env: Optional[str] = os.environ.get('FASTCODEC_BACKEND') or None
_loaded: Dict[str, ModuleType] = {}
_missing: Dict[str, str] = {}     # backend name -> why it cannot be imported
_warned_fallback = False
# The automatic CPU backend once resolved (and the thread limit settled): host_kernels'
# answer on every call with no backend selected, the hot path of small calls.
_automatic_host: Optional[ModuleType] = None
# The same for a selected host backend: name -> its module, once checked by kernels().
_selected_host: Dict[str, ModuleType] = {}


def register_backend(name: str, device: str, module: str) -> None:
    """Make the module ``module`` (implementing the backend contract) the backend
    ``name`` for arrays of device type ``device``, chosen automatically after the
    backends already registered for that device."""
    global _automatic_host
    BACKENDS[name] = Backend(device, module)
    _automatic_host = None
    _selected_host.clear()
    if name not in AUTOMATIC.get(device, ()):
        AUTOMATIC[device] = AUTOMATIC.get(device, ()) + (name,)
    _missing.pop(name, None)
    _loaded.pop(name, None)


def _import(name: str) -> ModuleType:
    module = _loaded.get(name)
    if module is None:
        if name in _missing:
            raise ImportError(_missing[name])
        try:
            module = importlib.import_module(BACKENDS[name].module)
        except ImportError as err:
            _missing[name] = f'{err}' or type(err).__name__
            raise
        _loaded[name] = module
    return module


def _is_available(name: str) -> bool:
    try:
        _import(name)
        return True
    except ImportError:
        return False


def available_backends() -> List[str]:
    """Names of the backends that can run here, fastest first per device."""
    return [name for name in BACKENDS if _is_available(name)]


def _check_name(name: str) -> str:
    if name not in BACKENDS:
        raise ValueError(f'unknown backend {name!r}; expected one of {tuple(BACKENDS)}')
    if not _is_available(name):
        raise ValueError(f'backend {name!r} is not available here ({_missing.get(name)}); '
                         f'available: {available_backends()}')
    return name


def set_backend(name: Optional[str]) -> None:
    """Select a backend for all later calls; ``None`` restores automatic choice."""
    global _selected
    _selected = None if name is None else _check_name(name)


def get_backend() -> Optional[str]:
    """The explicitly selected backend, or ``None`` when the choice is automatic."""
    return _context.get() or _selected or _from_env


@contextlib.contextmanager
def use_backend(name: str) -> Iterator[None]:
    """Run the enclosed calls on backend ``name``."""
    token = _context.set(_check_name(name))
    try:
        yield
    finally:
        _context.reset(token)


def host_kernels() -> ModuleType:
    """``kernels(None)``, the kernel module for host arrays, without the device checks."""
    name = _context.get() or _selected or _from_env
    module = _automatic_host if name is None else _selected_host.get(name)
    return module if module is not None else kernels(None)


def kernels(device=None) -> ModuleType:
    """The kernel module for a call on arrays of ``device`` (a ``_arrays.Device``;
    None: the CPU)."""
    global _automatic_host
    if _threads_unsettled:
        _settle_threads()
    device_type = 'cpu' if device is None else device.type
    name = _context.get() or _selected or _from_env
    if name is not None:
        backend = BACKENDS.get(name)
        if backend is not None and backend.device != device_type:
            raise TypeError(f'backend {name!r} runs on {backend.device} arrays, but this '
                            f'call\'s arrays are on {device}; move them, or select a '
                            f'backend for {device_type} arrays')
        module = _loaded.get(name)
        if module is None:
            module = _import(_check_name(name))
        if device_type == 'cpu':
            _selected_host[name] = module
        return module
    if device_type == 'cpu':
        _automatic_host = _loaded.get('cpp') or _cpu_fallback()
        return _automatic_host
    for candidate in AUTOMATIC.get(device_type, ()):
        if _is_available(candidate):
            return _import(candidate)
    needed = AUTOMATIC.get(device_type, ())
    if not needed:
        raise TypeError(f'arrays on {device} are not supported: fastcodec has no backend '
                        f'for {device_type} devices; copy them to the host first')
    why = '; '.join(f'{n}: {_missing.get(n, "not importable")}' for n in needed)
    raise TypeError(f'arrays on {device} need the {" or ".join(needed)} backend, which is '
                    f'not available ({why}); copy them to the host first (e.g. '
                    'tensor.cpu(), cupy.asnumpy)')


def _cpu_fallback() -> ModuleType:
    global _warned_fallback
    try:
        return _import('cpp')
    except ImportError as err:
        if not _warned_fallback:
            warnings.warn(f'fastcodec: C++ extension unavailable ({err}); using numba',
                          RuntimeWarning, stacklevel=4)
            _warned_fallback = True
        return _import('numba')


# Threads per call. A call's thread count follows its work (csrc/cpu/parallel.h); this
# is the upper limit. Inside a torch DataLoader worker every core already runs a worker,
# so the limit is 1 there unless set_num_threads is called in that process (e.g. in a
# worker_init_fn). The first call of a process, and of each forked child, decides.
_threads_unsettled = True   # True until the first kernel call of this process
_threads_set_here = False   # set_num_threads was called in this process


def _settle_threads() -> None:
    global _threads_unsettled
    _threads_unsettled = False
    if _threads_set_here:
        return
    torch = sys.modules.get('torch')
    data = getattr(getattr(torch, 'utils', None), 'data', None)
    if data is not None and data.get_worker_info() is not None:
        _set_threads(1)


def _forked_child() -> None:
    # the parent's choice was for the parent: a DataLoader worker starts from one thread
    global _threads_unsettled, _threads_set_here, _automatic_host
    _threads_unsettled, _threads_set_here, _automatic_host = True, False, None
    _selected_host.clear()


if hasattr(os, 'register_at_fork'):
    os.register_at_fork(after_in_child=_forked_child)


def _set_threads(n: int) -> None:
    for name in (n for n, b in BACKENDS.items() if b.device == 'cpu'):
        if _is_available(name):
            _import(name).set_num_threads(n)


def set_num_threads(n: int) -> None:
    """The most threads one CPU kernel call may use (0 = one per CPU this process may
    run on, the default: on Linux its affinity, which taskset, containers and batch
    schedulers narrow, elsewhere one per core; 1 inside a torch DataLoader worker).
    Calls use fewer when their work is too small to pay for waking a thread: a
    single-sample call usually runs on the caller's."""
    global _threads_set_here, _threads_unsettled
    n = int(n)
    if n < 0:
        raise ValueError(f'num_threads must be >= 0, got {n}')
    _threads_set_here, _threads_unsettled = True, False
    _set_threads(n)


def get_num_threads() -> int:
    """The most threads one C++ kernel call may use."""
    if _threads_unsettled:
        _settle_threads()
    return _import('cpp').num_threads() if _is_available('cpp') else 1
