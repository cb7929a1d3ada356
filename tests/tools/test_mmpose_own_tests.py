"""MMPose's own codec tests (tests/test_codecs of a fetched MMPose source, v1.3.2) run
with fastcodec's classes in place of MMPose's, through tools/run_mmpose_codec_tests.py.
They ship in no MMPose package, so this test needs a fetched source
($FASTCODEC_MMPOSE_SOURCE, or the mirror tests/rtmpose3d_oracle.py knows) and skips
without one; tests/test_mmpose_compat_errors.py covers in CI what they check beyond
parity."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rtmpose3d_oracle import CANDIDATES

ROOT = Path(__file__).resolve().parents[2]


def mmpose_source():
    for source in [os.environ.get('FASTCODEC_MMPOSE_SOURCE')] + list(CANDIDATES):
        if not source:
            continue
        path = Path(source)
        if (path / 'tests' / 'test_codecs').is_dir():
            return path, 'HEAD'
        ok = subprocess.run(['git', '--git-dir', str(path), 'rev-parse', '--verify', '-q',
                             'v1.3.2^{commit}'], capture_output=True).returncode == 0
        if ok:
            return path, 'v1.3.2'
    return None


def test_mmpose_codec_suite_passes_with_fastcodec():
    found = mmpose_source()
    if found is None:
        pytest.skip("MMPose's tests/test_codecs ship in no package: set "
                    'FASTCODEC_MMPOSE_SOURCE to a fetched MMPose source (github:open-mmlab/mmpose)')
    source, ref = found
    out = subprocess.run([sys.executable, str(ROOT / 'tools' / 'run_mmpose_codec_tests.py'),
                          str(source), '--ref', ref, '--', '-p', 'no:warnings'],
                         capture_output=True, text=True, timeout=600)
    summary = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else out.stderr
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    passed = re.search(r'(\d+) passed', summary)
    assert passed and 'failed' not in summary and 'error' not in summary, summary
    if ref == 'v1.3.2':
        assert int(passed.group(1)) >= 52, summary
