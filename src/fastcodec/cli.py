"""The ``fastcodec`` command.

    fastcodec demo [--out fastcodec_demo.png]   every codec on a bundled sample, a picture
    fastcodec info                              version, backends, codecs
    fastcodec configs                           the model zoo's bundled configs
    fastcodec synth OUT_DIR ...                 a synthetic COCO-format data set
    fastcodec train CONFIG ...                  train a zoo model
    fastcodec eval CONFIG CHECKPOINT ...        evaluate it (last line AP=... or MPJPE=...)

The zoo commands need torch and the ``train`` extra.
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from typing import Callable, List, Optional

import numpy as np

import fastcodec
from fastcodec.examples import CONFIGS, encode_inputs, label, load_sample, model_output
from fastcodec.mmpose_oracle import import_mmpose_codecs

def median_us(fn: Callable[[], object], repeat: int = 30) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e6)


def mmpose_codecs_or_none():
    """MMPose 1.3.2's codecs when installed (imported without mmcv), else None."""
    try:
        return import_mmpose_codecs()
    except Exception:  # noqa: BLE001 - any broken install means "not available"
        return None


def demo(out_png: str) -> int:
    kps, vis, sample = load_sample()
    mmc = mmpose_codecs_or_none()
    print(f'fastcodec {fastcodec.__version__}; backends: {fastcodec.available_backends()}; '
          f"MMPose: {'1.3.2 found' if mmc else 'not installed (pip install mmpose==1.3.2 --no-deps)'}")
    print(f"sample: {len(sample['keypoint_names'])} keypoints, input {sample['input_size']}\n")
    header = f"{'codec':52s} {'round-trip err px':>17s} {'encode us':>10s} {'decode us':>10s}"
    if mmc:
        header += f" {'MMPose enc us':>13s} {'MMPose dec us':>13s} {'speed-up e/d':>13s}"
    print(header)
    panels = []
    for cfg in CONFIGS:
        codec = fastcodec.build(cfg)
        enc_args, enc_kwargs, expected = encode_inputs(cfg, kps, vis)
        encoded = codec.encode(*enc_args, **enc_kwargs)
        outputs = model_output(cfg, encoded)
        decoded, _ = codec.decode(*outputs)
        shown = vis[0] > 0.5
        err = np.linalg.norm(decoded[0][shown] - expected[0][shown], axis=-1).max()
        enc_us = median_us(lambda: codec.encode(*enc_args, **enc_kwargs))
        dec_us = median_us(lambda: codec.decode(*outputs))
        row = f'{label(cfg):52s} {err:17.3f} {enc_us:10.1f} {dec_us:10.1f}'
        if mmc:
            args = {k: v for k, v in cfg.items() if k != 'type'}
            ref = getattr(mmc, cfg['type'])(**args)
            m_enc = median_us(lambda: ref.encode(*enc_args, **enc_kwargs))
            # MMPose's DARK decoders overwrite their input: decode copies. Its 0/0 on
            # the maps of invisible keypoints warns (fastcodec: docs/deviations.md).
            copies = [o.copy() for o in outputs]
            if cfg['type'] == 'SPR':  # MMPose's SPR decodes torch tensors only
                import torch
                copies = [torch.from_numpy(o) for o in copies]
            with np.errstate(invalid='ignore', divide='ignore'), warnings.catch_warnings():
                warnings.simplefilter('ignore')  # torch's meshgrid / grid_sample notices
                m_dec = median_us(lambda: ref.decode(*[c.clone() if hasattr(c, 'clone')
                                                       else c.copy() for c in copies]))
            row += f' {m_enc:13.1f} {m_dec:13.1f} {m_enc / enc_us:6.1f}/{m_dec / dec_us:<6.1f}'
        print(row)
        if 'heatmaps' in encoded:
            heatmaps = encoded['heatmaps']
            panels.append(heatmaps[::3].max(0) if cfg.get('heatmap_type') == 'combined'
                          else heatmaps.max(0))
    write_png(out_png, panels)
    print(f'\nheatmaps (max over keypoints, one panel per heatmap codec) written to {out_png}')
    return 0


def write_png(path: str, panels: List[np.ndarray]) -> None:
    import cv2  # opencv-python: the [demo] extra
    tiles = []
    for p in panels:
        p = (p - p.min()) / max(float(p.max() - p.min()), 1e-12)
        tile = cv2.applyColorMap((p * 255).astype(np.uint8), cv2.COLORMAP_JET)
        tiles.append(cv2.resize(tile, (p.shape[1] * 4, p.shape[0] * 4),
                                interpolation=cv2.INTER_NEAREST))
    cv2.imwrite(path, np.concatenate(tiles, axis=1))


def info() -> int:
    print(f'fastcodec {fastcodec.__version__}')
    print(f'backends: {fastcodec.available_backends()}; threads: {fastcodec.get_num_threads()}')
    print(f'codecs: {sorted(fastcodec.CODECS)}')
    return 0


# The model zoo's commands: each hands its arguments to the zoo module's own parser.
ZOO_COMMANDS = {
    'train': ('fastcodec.models.train', 'train a zoo model (fastcodec train CONFIG)'),
    'eval': ('fastcodec.models.eval', 'evaluate a checkpoint (fastcodec eval CONFIG CHECKPOINT)'),
    'synth': ('fastcodec.models.data.synth', 'write a synthetic COCO-format data set'),
}
TRAIN_EXTRA = ('the model zoo needs torch and the train extra: '
               'pip install torch==2.13.0 && pip install "fastcodec[train]"')


def zoo_module(name: str):
    """Import a zoo module, or exit with the install command when its dependencies
    (torch, the train extra) are missing."""
    import importlib
    try:
        return importlib.import_module(name)
    except ImportError as err:
        raise SystemExit(f'fastcodec: {err}; {TRAIN_EXTRA}') from err


def configs() -> int:
    """Print the bundled configs: name and the first line of its docstring."""
    import ast
    from fastcodec.models.config import bundled_configs  # imports torch: the train extra
    for name, path in bundled_configs().items():
        with open(path, encoding='utf-8') as f:
            doc = ast.get_docstring(ast.parse(f.read())) or ''
        about = ' '.join(doc.split('\n\n')[0].split())
        print(f'{name:26s} {about if len(about) <= 90 else about[:89] + "..."}')
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ZOO_COMMANDS:
        return zoo_module(ZOO_COMMANDS[argv[0]][0]).main(argv[1:])
    parser = argparse.ArgumentParser(prog='fastcodec', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='command', required=True)
    p_demo = sub.add_parser('demo', help='encode/decode a bundled sample with every codec')
    p_demo.add_argument('--out', default='fastcodec_demo.png', help='the picture (PNG)')
    sub.add_parser('info', help='version, backends, codecs')
    for name, (_, about) in ZOO_COMMANDS.items():
        sub.add_parser(name, help=about, add_help=False)
    sub.add_parser('configs', help="list the zoo's bundled configs")
    args = parser.parse_args(argv)
    if args.command == 'configs':
        try:
            return configs()
        except ImportError as err:
            raise SystemExit(f'fastcodec: {err}; {TRAIN_EXTRA}') from err
    return demo(args.out) if args.command == 'demo' else info()


if __name__ == '__main__':
    sys.exit(main())
