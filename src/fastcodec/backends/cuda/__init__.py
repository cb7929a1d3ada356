"""The CUDA backends: the kernels of csrc/cuda, launched by one shared launch path
(``launch``) on a GPU through CuPy (``device``) or on the host through the emulator
(``emulator``, the ``cuda-emulator`` backend). Importing this package imports neither
CuPy nor the emulator extension.
"""
