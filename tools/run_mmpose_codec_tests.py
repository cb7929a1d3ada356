"""Run MMPose's own codec tests with fastcodec's classes in place of MMPose's.

MMPose's tests ship neither in its wheel nor its sdist, and fastcodec does not vendor
them: this script takes a fetched MMPose source (a checkout, or a git directory such as
a mirror of github:open-mmlab/mmpose, read at ``--ref``), copies its ``tests/`` into a
temporary folder and runs ``tests/test_codecs`` there under pytest with the plugin
``tools/mmpose_codec_swap.py``, which registers fastcodec's codecs under MMPose's names.

    python tools/run_mmpose_codec_tests.py /path/to/mmpose [--ref v1.3.2] [--baseline]
        [-- extra pytest arguments]

``--baseline`` runs the same tests on MMPose's own classes. The exit status is
pytest's.
"""
from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

TOOLS = Path(__file__).resolve().parent


def extract_tests(source: Path, ref: str, into: Path) -> None:
    """Copy ``tests/`` of the MMPose source at ``source`` into ``into``."""
    if (source / 'tests' / 'test_codecs').is_dir():
        subprocess.run(['cp', '-r', str(source / 'tests'), str(into)], check=True)
        return
    archive = subprocess.run(['git', '--git-dir', str(source), 'archive', '--format=tar',
                              ref, 'tests'], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        # the 'data' filter (Python >= 3.11.4) refuses links and paths out of `into`
        tar.extractall(into, **({'filter': 'data'} if hasattr(tarfile, 'data_filter') else {}))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('source', type=Path,
                        help='MMPose source: a checkout or a git directory')
    parser.add_argument('--ref', default='v1.3.2', help='tag or commit of a git directory')
    parser.add_argument('--baseline', action='store_true',
                        help="run MMPose's own classes (no swap)")
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index('--') + 1:] if '--' in argv else []
    args = parser.parse_args(argv[:argv.index('--')] if '--' in argv else argv)
    with tempfile.TemporaryDirectory(prefix='mmpose-tests-') as tmp:
        extract_tests(args.source, args.ref, Path(tmp))
        env = dict(os.environ, FASTCODEC_SWAP='0' if args.baseline else '1',
                   PYTHONPATH=os.pathsep.join(
                       [str(TOOLS)] + [p for p in [os.environ.get('PYTHONPATH')] if p]))
        cmd = [sys.executable, '-m', 'pytest', 'tests/test_codecs', '-p', 'mmpose_codec_swap',
               '-p', 'no:cacheprovider', '--rootdir', tmp, '-q', *extra]
        return subprocess.run(cmd, cwd=tmp, env=env).returncode


if __name__ == '__main__':
    sys.exit(main())
