"""Configs as Python files (like MMPose's), and builders for their data parts."""
from __future__ import annotations

import ast
import copy
import os
import runpy
import types
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

from fastcodec.models.data.coco import CocoKeypointDataset
from fastcodec.models.data.transforms import build_pipeline


CONFIG_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'configs')


def bundled_configs() -> Dict[str, str]:
    """The configs installed with the zoo (``fastcodec.models.configs``): name -> path."""
    return {name[:-3]: os.path.join(CONFIG_DIR, name) for name in sorted(os.listdir(CONFIG_DIR))
            if name.endswith('.py') and not name.startswith('_')}


def config_path(config: str) -> str:
    """``config`` if it is a file, else the bundled config of that name (``.py``
    optional); ``FileNotFoundError`` naming the bundled ones otherwise."""
    if os.path.isfile(config):
        return config
    bundled = bundled_configs()
    name = config[:-3] if config.endswith('.py') else config
    if name in bundled:
        return bundled[name]
    raise FileNotFoundError(f'config {config!r} is neither a file nor a bundled config; '
                            f'bundled: {", ".join(bundled)}')


def load_config(path: str, options: Optional[Sequence[str]] = None) -> Dict:
    """Run a config file (or a bundled config named by :func:`config_path`) and return
    its public top-level names (modules and functions dropped). ``options`` are
    ``key.sub=value`` overrides (value: a Python literal or a bare string)."""
    path = config_path(path)
    ns = runpy.run_path(path)
    cfg = {k: v for k, v in ns.items() if not k.startswith('_')
           and not isinstance(v, (types.ModuleType, types.FunctionType, type))}
    cfg['config_path'] = os.path.abspath(path)
    for opt in options or ():
        key, _, raw = opt.partition('=')
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            value = raw
        node = cfg
        parts = key.split('.')
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return cfg


def build_dataset(ds_cfg: Dict, device_targets: bool = False) -> CocoKeypointDataset:
    """dict(ann_file=..., img_dir=..., pipeline=[...], mode='topdown') -> dataset
    (or dict(type='MotionLiftingDataset', npz_file=..., seq_len=27) for lifting).
    ``device_targets``: the training step builds the targets (``head.encode_batch``),
    so the dataset does not: GenerateTarget is left out of the pipeline, and a
    MotionLiftingDataset ships the codec's raw inputs (``encode=False``)."""
    ds_cfg = copy.deepcopy(ds_cfg)
    if ds_cfg.pop('type', 'CocoKeypointDataset') == 'MotionLiftingDataset':
        from fastcodec.models.data.motion import MotionLiftingDataset
        return MotionLiftingDataset(**ds_cfg, encode=not device_targets)
    pipeline = [t for t in ds_cfg.pop('pipeline')
                if not (device_targets and t['type'] == 'GenerateTarget')]
    return CocoKeypointDataset(pipeline=build_pipeline(pipeline), **ds_cfg)


def reseed_worker(worker_id: int) -> None:
    """DataLoader worker_init_fn: give each worker's random transforms their own
    stream (torch seeds each worker differently, and anew each epoch)."""
    try:  # one OpenCV thread per worker: the training process owns the cores
        import cv2
        cv2.setNumThreads(1)
    except ImportError:
        pass
    info = torch.utils.data.get_worker_info()
    seed = torch.initial_seed() % (2 ** 63)
    # ranks seed torch alike (same initial weights): mix the rank in
    reseed_transforms(info.dataset, seed + 7919 * int(os.environ.get('RANK', 0)))


def reseed_transforms(dataset, seed: int) -> None:
    if hasattr(dataset, 'rng'):
        dataset.rng = np.random.default_rng([seed, 999])
    pipeline = getattr(dataset, 'pipeline', None)
    for i, t in enumerate(getattr(pipeline, 'transforms', [])):
        if hasattr(t, 'rng'):
            t.rng = np.random.default_rng([seed, i])


def collate(samples: List[Dict]) -> Dict:
    return torch.utils.data.default_collate(samples)
