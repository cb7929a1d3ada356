"""The backend contract (fastcodec.backends.contract): every available backend provides
exactly its functions, with its parameters; the Numba package's modules have no import
cycle (each imports first, on its own), and the CUDA backends (cuda, cuda-emulator) have a
kernel behind every function."""
import ast
import importlib
import inspect
import pkgutil
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import fastcodec
from fastcodec import _backend
from fastcodec.backends import contract

BACKENDS = fastcodec.available_backends()
CPU_BACKENDS = [b for b in BACKENDS if _backend.BACKENDS[b].device == 'cpu']
# Python-level backends, whose functions inspect.signature reads.
PYTHON_BACKENDS = [b for b in BACKENDS if b != 'cpp']
CUDA_BACKENDS = ('cuda', 'cuda-emulator')
NUMBA = importlib.import_module('fastcodec.backends.numba')
NUMBA_MODULES = sorted(m.name for m in pkgutil.iter_modules(NUMBA.__path__))


def _public(module: ModuleType) -> set:
    return {n for n, v in vars(module).items()
            if not n.startswith('_') and not isinstance(v, ModuleType)}


def _params(sig: inspect.Signature) -> list:
    return [(p.name, p.kind, p.default) for p in sig.parameters.values()]


def test_contract_is_well_formed():
    assert len(set(contract.NAMES)) == len(contract.NAMES) == len(contract.KERNELS)
    for kernel in contract.KERNELS:
        assert kernel.doc.strip(), kernel.name
        contract.signature(kernel)  # parses
    assert str(contract.signature(contract.KERNELS[contract.NAMES.index('decode_msra')])) \
        == '(heatmaps, scale, locs, vals)'


@pytest.mark.parametrize('kernel', contract.KERNELS, ids=contract.NAMES)
def test_output_buffers_are_the_trailing_parameters(kernel):
    names = list(contract.signature(kernel).parameters)
    outputs = list(contract.OUTPUTS.get(kernel.name, ()))
    assert names[len(names) - len(outputs):] == outputs
    parts = re.split(r'\s\|\s', kernel.doc)  # ' | ' in the doc starts the outputs
    assert len(parts) == 1 + bool(outputs)
    assert all(re.search(rf'\b{o}\b', parts[-1]) for o in outputs)


def test_the_front_allocates_every_output():
    """fastcodec._calls has one function per kernel with outputs, and no other."""
    from fastcodec import _calls
    fronts = {n for n, v in vars(_calls).items() if callable(v) and not n.startswith('_')
              and getattr(v, '__module__', '') == _calls.__name__}
    assert fronts == set(contract.OUTPUTS)


def test_every_backend_is_registered_for_a_device():
    assert set(CUDA_BACKENDS) <= set(_backend.BACKENDS)
    assert _backend.BACKENDS['cuda'].device == 'cuda'
    assert _backend.BACKENDS['cuda-emulator'].device == 'cpu'
    # the emulator is only chosen by name, never automatically
    assert 'cuda-emulator' not in _backend.AUTOMATIC['cpu']
    assert _backend.kernels().__name__ != _backend.BACKENDS['cuda-emulator'].module


@pytest.mark.parametrize('name', BACKENDS)
def test_backend_provides_exactly_the_contract(name):
    module = _backend._import(name)
    public = _public(module)
    assert sorted(set(contract.NAMES) - public) == [], 'missing'
    assert sorted(public - set(contract.NAMES)) == [], 'public but not in the contract'
    assert all(callable(getattr(module, n)) for n in contract.NAMES)
    if hasattr(module, '__all__'):
        assert sorted(module.__all__) == sorted(contract.NAMES)


@pytest.mark.parametrize('name', PYTHON_BACKENDS)
def test_python_signatures_match_the_contract(name):
    module = _backend._import(name)
    wrong = {k.name: (str(inspect.signature(getattr(module, k.name))), k.params)
             for k in contract.KERNELS
             if _params(inspect.signature(getattr(module, k.name)))
             != _params(contract.signature(k))}
    assert wrong == {}


@pytest.mark.parametrize('name', [b for b in CUDA_BACKENDS if b in BACKENDS])
def test_cuda_backends_launch_a_kernel_for_every_function(name):
    """Every contract function of a CUDA backend is the launch code's (Kernels), none a
    placeholder, and the launch code's kernels are all declared in csrc/cuda."""
    from fastcodec.backends.cuda import launch
    module = _backend._import(name)
    for kernel in contract.KERNELS:
        function = getattr(module, kernel.name)
        assert getattr(function, '__self__', None).__class__ is launch.Kernels or \
            getattr(launch.Kernels, kernel.name, None) is function, kernel.name


def _pybind_params(fn) -> list:
    """[(name, default text or None)] from the first line of a pybind11 docstring,
    'name(arg0: type, x: type = default) -> type'."""
    line = fn.__doc__.splitlines()[0]
    match = re.fullmatch(re.escape(fn.__name__) + r'\((.*)\) -> .*', line)
    assert match, line
    parts, depth, current = [], 0, ''
    for ch in match.group(1):
        depth += (ch in '([{') - (ch in ')]}')
        if ch == ',' and depth == 0:
            parts.append(current)
            current = ''
        else:
            current += ch
    if current.strip():
        parts.append(current)
    out = []
    for part in parts:
        name, _, rest = part.partition(':')
        _, eq, default = rest.partition(' = ')
        out.append((name.strip(), default.strip() if eq else None))
    return out


@pytest.mark.skipif('cpp' not in CPU_BACKENDS, reason='the C++ extension is not built')
def test_cpp_signatures_match_the_contract():
    """Arity everywhere; names and defaults where pybind11 names the parameters
    (py::arg), since unnamed ones show as arg0, arg1, ..."""
    cpp = _backend._import('cpp')
    named = set()
    for kernel in contract.KERNELS:
        expected = contract.signature(kernel).parameters.values()
        got = _pybind_params(getattr(cpp, kernel.name))
        assert len(got) == len(expected), (kernel.name, got, kernel.params)
        if all(re.fullmatch(r'arg\d+', n) for n, _ in got):
            # positional only: a default in the contract would be missing in C++
            assert all(p.default is p.empty for p in expected), kernel.name
            continue
        if got:
            named.add(kernel.name)
        assert [n for n, _ in got] == [p.name for p in expected], kernel.name
        for (n, default), p in zip(got, expected):
            assert (default is None) == (p.default is p.empty), (kernel.name, n)
            if default is not None:
                assert ast.literal_eval(default) == p.default, (kernel.name, n, default)
    # every binding names its parameters, so the names were compared everywhere
    assert named == {k.name for k in contract.KERNELS if contract.signature(k).parameters}


def test_numba_is_single_threaded():
    NUMBA.set_num_threads(4)
    assert NUMBA.num_threads() == 1
    assert NUMBA.pool_calls() == 0
    NUMBA.set_num_threads(0)


def _run(code: str) -> None:
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


_FRESH = ('import sys, fastcodec.backends\n'
          'assert not [m for m in sys.modules if m.startswith("fastcodec.backends.numba")]\n')


@pytest.mark.parametrize('module', NUMBA_MODULES)
def test_numba_module_imports_first_on_its_own(module):
    """In a fresh interpreter, the submodule first, with the package's __init__ left
    out (an empty package stands in): it needs its siblings only."""
    _run(_FRESH +
         'import importlib, importlib.util, types\n'
         'spec = importlib.util.find_spec("fastcodec.backends.numba")\n'
         'package = types.ModuleType(spec.name)\n'
         'package.__path__ = list(spec.submodule_search_locations)\n'
         'sys.modules[spec.name] = package\n'
         f'importlib.import_module("fastcodec.backends.numba.{module}")\n')


@pytest.mark.parametrize('module', ['fastcodec.backends.numba', 'fastcodec.backends.contract'])
def test_backend_module_imports_first(module):
    _run(_FRESH + f'import {module}\n')


def test_numba_modules_import_no_cycle():
    """The import graph of the package's modules is acyclic, and no module imports
    the package's own namespace (only __init__ gathers the functions)."""
    root = Path(NUMBA.__file__).parent
    prefix = 'fastcodec.backends.numba'
    graph = {}
    for name in NUMBA_MODULES:
        tree = ast.parse((root / f'{name}.py').read_text())
        deps = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.level == 0, f'{name}: use absolute imports'
                targets = [node.module]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for target in targets:
                assert target != prefix, f'{name} imports the package namespace'
                if target.startswith(prefix + '.'):
                    deps.add(target[len(prefix) + 1:])
        graph[name] = deps
    order = []
    while graph:
        ready = sorted(n for n, deps in graph.items() if not deps - set(order))
        assert ready, f'import cycle among {sorted(graph)}'
        order += ready
        for n in ready:
            del graph[n]
    assert order[0] == 'common'


@pytest.mark.parametrize('layout', ['float64', 'fortran', 'byte-swapped', 'strided', 'list'])
def test_cpp_array_arguments_convert_what_is_not_native_float32(layout):
    """The C++ bindings take a native C-contiguous float32 heatmap argument as it is (a
    fast path past pybind11's conversion); any other array gives the same results as
    its native float32 copy, converted on the way in."""
    cpp = pytest.importorskip('fastcodec.backends.cpp')
    rng = np.random.default_rng(3)
    native = rng.random((2, 5, 6, 7), dtype=np.float32)
    given = {'float64': lambda: native.astype(np.float64),
             'fortran': lambda: np.asfortranarray(native),
             'byte-swapped': lambda: native.astype(native.dtype.newbyteorder()),
             'strided': lambda: np.repeat(native, 2, axis=3)[..., ::2],
             'list': lambda: native.tolist()}[layout]()
    outs = [(np.empty((2, 5, 2), np.float32), np.empty((2, 5), np.float32)) for _ in '12']
    cpp.decode_msra(native, (1.0, 1.0), *outs[0])
    cpp.decode_msra(given, (1.0, 1.0), *outs[1])
    np.testing.assert_array_equal(outs[0][0], outs[1][0])
    np.testing.assert_array_equal(outs[0][1], outs[1][1])


@pytest.mark.parametrize('size', [[192, 256], (np.float32(192), 256.0), np.array([192.0, 256.0])])
def test_cpp_pair_arguments_convert_what_is_not_a_tuple_of_floats(size):
    """(w, h) and (sx, sy) arguments: a tuple of two Python floats is read directly (a
    fast path); any other pair of numbers gives the same results, and three numbers
    are refused."""
    cpp = pytest.importorskip('fastcodec.backends.cpp')
    kps = np.random.default_rng(4).uniform(-20, 300, (1, 17, 2))
    vis = np.ones((1, 17))
    outs = [(np.empty((1, 17, 2), np.float32), np.empty((1, 17), np.float32)) for _ in '12']
    cpp.encode_regression(kps, vis, (192.0, 256.0), *outs[0])
    cpp.encode_regression(kps, vis, size, *outs[1])
    np.testing.assert_array_equal(outs[0][0], outs[1][0])
    np.testing.assert_array_equal(outs[0][1], outs[1][1])
    with pytest.raises(TypeError):
        cpp.encode_regression(kps, vis, (192.0, 256.0, 1.0), *outs[0])


@pytest.mark.parametrize('name', ['cpp', 'numba'])
def test_in_place_kernels_refuse_arrays_they_would_update_a_copy_of(name):
    """refine_* update float64 keypoints and normalize_heatmaps float32 maps in place: an
    array of another dtype (which a conversion would copy, dropping the update) or a
    read-only one is refused, not silently left as it was."""
    if name not in fastcodec.available_backends():
        pytest.skip(f'{name} is not available here')
    kernels = importlib.import_module(_backend.BACKENDS[name].module)
    heat = np.random.default_rng(5).random((1, 3, 8, 8), dtype=np.float32)
    read_only = np.zeros((1, 1, 3, 2))
    read_only.flags.writeable = False
    for bad, error in ((np.zeros((1, 1, 3, 2), np.float32), TypeError),
                       (read_only, (ValueError, TypeError))):
        with pytest.raises(error):
            kernels.refine_sign(bad, heat)
        with pytest.raises(error):
            kernels.refine_dark(bad, heat, 3)
    with pytest.raises(TypeError):
        kernels.normalize_heatmaps(heat.astype(np.float64))
    keypoints = np.full((1, 1, 3, 2), 4.0)
    kernels.refine_sign(keypoints, heat)
    assert not np.array_equal(keypoints, np.full((1, 1, 3, 2), 4.0))  # updated in place
