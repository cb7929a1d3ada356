"""Backend selection: which kernel implementation runs a call.

Names: ``cpp`` (the compiled extension ``fastcodec._C``), ``numba`` (njit
fallback) and ``cuda`` (a later release). Precedence: ``use_backend`` context,
then ``set_backend``, then ``FASTCODEC_BACKEND``, then automatic (``cpp`` for
CPU arrays, ``numba`` when the extension cannot be imported).
"""
from __future__ import annotations

import contextlib
import contextvars
import importlib
import os
import sys
import warnings
from types import ModuleType
from typing import Iterator, List, Optional

BACKEND_NAMES = ('cpp', 'numba', 'cuda')

_context: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar(
    'fastcodec_backend', default=None)
_selected: Optional[str] = None
# Read once: the environment is the process's default, not a per-call switch.
_from_env: Optional[str] = os.environ.get('FASTCODEC_BACKEND') or None
_loaded: dict = {}
_warned_fallback = False


def _import(name: str) -> ModuleType:
    if name not in _loaded:
        if name == 'cuda':
            raise ImportError('the cuda backend is not part of this release')
        _loaded[name] = importlib.import_module(f'fastcodec.backends.{name}')
    return _loaded[name]


def _is_available(name: str) -> bool:
    try:
        _import(name)
        return True
    except ImportError:
        return False


def available_backends() -> List[str]:
    """Names of the backends that can run here, fastest first."""
    return [name for name in BACKEND_NAMES if _is_available(name)]


def _check_name(name: str) -> str:
    if name not in BACKEND_NAMES:
        raise ValueError(f'unknown backend {name!r}; expected one of {BACKEND_NAMES}')
    if not _is_available(name):
        raise ValueError(f'backend {name!r} is not available here; '
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


def kernels() -> ModuleType:
    """The kernel module for a call on CPU arrays."""
    global _warned_fallback
    if _threads_unsettled:
        _settle_threads()
    name = get_backend()
    if name is not None:
        module = _loaded.get(name)
        return module if module is not None else _import(_check_name(name))
    try:
        return _import('cpp')
    except ImportError as err:
        if not _warned_fallback:
            warnings.warn(f'fastcodec: C++ extension unavailable ({err}); using numba',
                          RuntimeWarning, stacklevel=3)
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
    global _threads_unsettled, _threads_set_here
    _threads_unsettled, _threads_set_here = True, False


if hasattr(os, 'register_at_fork'):
    os.register_at_fork(after_in_child=_forked_child)


def _set_threads(n: int) -> None:
    for name in ('cpp', 'numba'):
        if _is_available(name):
            _import(name).set_num_threads(n)


def set_num_threads(n: int) -> None:
    """The most threads one CPU kernel call may use (0 = one per core, the default;
    1 inside a torch DataLoader worker). Calls use fewer when their work is too small
    to pay for waking a thread: a single-sample call usually runs on the caller's."""
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
