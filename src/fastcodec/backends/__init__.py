"""Kernel backends. Each module exposes the functions of the backend contract
(``fastcodec.backends.contract``) with the same signatures, on C-contiguous numpy
arrays: ``cpp`` (the compiled extension) and ``numba`` (the njit fallback package)."""
