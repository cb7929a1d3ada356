"""Build codecs from MMPose config dicts: ``build(dict(type='MSRAHeatmap', ...))``."""
from __future__ import annotations

from typing import Any, Dict, Mapping

CODECS: Dict[str, type] = {}


def register(cls: type) -> type:
    """Class decorator: make ``cls`` buildable by its name."""
    CODECS[cls.__name__] = cls
    return cls


def build(cfg: Mapping[str, Any]):
    """Instantiate the codec named by ``cfg['type']`` with the remaining keys."""
    if not isinstance(cfg, Mapping):
        raise TypeError(f'codec config must be a dict, got {type(cfg).__name__}')
    if 'type' not in cfg:
        raise KeyError(f'codec config needs a "type" key; known types: {sorted(CODECS)}')
    args = dict(cfg)
    kind = args.pop('type')
    if isinstance(kind, type):
        kind = kind.__name__
    if kind not in CODECS:
        raise KeyError(f'unknown codec type {kind!r}; known types: {sorted(CODECS)}')
    return CODECS[kind](**args)
