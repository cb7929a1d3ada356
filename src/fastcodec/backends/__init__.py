"""Kernel backends. Each module exposes the same functions with the same
signatures on C-contiguous numpy arrays (see ``fastcodec.backends.cpp``)."""
