"""benchmarks/cold_counts.py: the measured process runs the benchmark's own call, and
cachegrind's summary line is read by event name."""
import subprocess
import sys

import pytest

from benchmark_scripts import BENCHMARKS, load_benchmark_script

ROOT = BENCHMARKS.parent
TOOL = BENCHMARKS / 'cold_counts.py'


@pytest.fixture(scope='module')
def tool():
    return load_benchmark_script('cold_counts.py')


def test_the_measured_process_calls_the_benchmark_case():
    # 3 evicting writes, 2 of them followed by a call, heap shifted by layout 1
    done = subprocess.run([sys.executable, str(TOOL), '--child', 'bench_regression',
                           'encode_regression', 'cpp', '2', '3', '1'], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    unknown = subprocess.run([sys.executable, str(TOOL), '--child', 'bench_regression',
                              'no_such_case', 'cpp', '2', '3', '0'], cwd=ROOT,
                             capture_output=True, text=True)
    assert unknown.returncode != 0


def test_summary_is_read_by_event_name(tool, tmp_path):
    out = tmp_path / 'cachegrind.out'
    out.write_text('desc: I1 cache: 32768 B, 64 B, 8-way associative\n'
                   'cmd: python x.py\n'
                   'events: Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw\n'
                   'fl=x.c\nfn=f\n1 10 1 1 4 1 0 2 0 0\n'
                   'summary: 1000 30 20 400 50 40 200 10 5\n')
    assert tool._summary(str(out)) == dict(Ir=1000, I1mr=30, ILmr=20, Dr=400, D1mr=50,
                                           DLmr=40, Dw=200, D1mw=10, DLmw=5)
    (tmp_path / 'empty.out').write_text('events: Ir\n')
    with pytest.raises(RuntimeError, match='no summary'):
        tool._summary(str(tmp_path / 'empty.out'))
