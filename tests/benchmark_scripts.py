"""The benchmarks/ scripts the tests read, loaded by path (benchmarks/ is not a package)."""
import importlib.util
import pathlib
import sys
from types import ModuleType

BENCHMARKS = pathlib.Path(__file__).resolve().parents[1] / 'benchmarks'


def load_benchmark_script(filename: str) -> ModuleType:
    """benchmarks/``filename`` as a module, registered in sys.modules first (dataclasses
    look their module up there)."""
    path = BENCHMARKS / filename
    spec = importlib.util.spec_from_file_location(f'fastcodec_bench_{path.stem}', path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
