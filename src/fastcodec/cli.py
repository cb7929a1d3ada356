"""The ``fastcodec`` command.

    fastcodec demo [--out fastcodec_demo.png]   every codec on a bundled sample, a picture
    fastcodec info                              version, backends, codecs
    fastcodec bench [--codec NAME] [--quick]    speed on this machine: table, PNG, JSON
    fastcodec configs                           the model zoo's bundled configs
    fastcodec synth OUT_DIR ...                 a synthetic COCO-format data set
    fastcodec train CONFIG ...                  train a zoo model
    fastcodec eval CONFIG CHECKPOINT ...        evaluate it (last line AP=... or MPJPE=...)

The zoo commands need torch and the ``train`` extra.
"""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional

import fastcodec
from fastcodec.bench import OPS


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
    p_bench = sub.add_parser(
        'bench', help='time fastcodec against MMPose and plain baselines on this machine',
        description='Time every fastcodec backend against MMPose 1.3.2 (when installed) and '
                    'plain torch/numpy baselines, per sample and batched; print a table, '
                    'write a PNG chart and a JSON record.')
    p_bench.add_argument('--codec', default='all',
                         help='a codec name (e.g. MSRAHeatmap) or "all" (default)')
    p_bench.add_argument('--quick', action='store_true',
                         help='short timings, batch 4, the C++ backend (not numba): under a '
                              'minute on 2 cores')
    p_bench.add_argument('--batch', type=int, help='samples per batched call (64; quick: 4)')
    p_bench.add_argument('--ops', nargs='+', default=list(OPS), choices=OPS, metavar='OP',
                         help=f'operations to time (default: all of {", ".join(OPS)})')
    p_bench.add_argument('--out', default='fastcodec_bench',
                         help='output name: writes OUT.png and OUT.json')
    p_bench.add_argument('--no-mmpose', action='store_true', help='leave MMPose out')
    p_bench.add_argument('--no-progress', action='store_true', help='no progress bar')
    for name, (_, about) in ZOO_COMMANDS.items():
        sub.add_parser(name, help=about, add_help=False)
    sub.add_parser('configs', help="list the zoo's bundled configs")
    args = parser.parse_args(argv)
    if args.command == 'configs':
        try:
            return configs()
        except ImportError as err:
            raise SystemExit(f'fastcodec: {err}; {TRAIN_EXTRA}') from err
    if args.command == 'bench':
        from fastcodec import bench
        return bench.main(None if args.codec == 'all' else args.codec, args.quick, args.batch,
                          args.out, args.ops, not args.no_mmpose, not args.no_progress)
    if args.command == 'demo':
        from fastcodec import demo
        return demo.main(args.out)
    return info()


if __name__ == '__main__':
    sys.exit(main())
