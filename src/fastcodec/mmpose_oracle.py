"""MMPose 1.3.2 as the reference: import its codecs without mmcv.

``mmpose/__init__.py`` demands mmcv, which the codecs never use; registering a bare
``mmpose`` package whose ``__path__`` is the installed folder lets
``mmpose.codecs`` import on its own. Used by the tests, the benchmarks and
``fastcodec demo``.
"""
import importlib.util
import sys
import types


def import_mmpose_codecs():
    """``mmpose.codecs`` of the installed MMPose; ImportError when it is missing."""
    if 'mmpose.codecs' in sys.modules:
        return sys.modules['mmpose.codecs']
    spec = importlib.util.find_spec('mmpose')
    if spec is None or not spec.submodule_search_locations:
        raise ImportError('MMPose 1.3.2 is the reference: pip install mmpose==1.3.2 --no-deps')
    if 'mmpose' not in sys.modules:
        package = types.ModuleType('mmpose')
        package.__path__ = list(spec.submodule_search_locations)
        sys.modules['mmpose'] = package
    import mmpose.codecs
    return mmpose.codecs
