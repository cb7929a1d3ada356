"""benchmarks/paired_speed.py: its serving process records the benchmark files' own
calls and times them on request; the driver's ratios are after / before."""
import os
import sys
import tempfile

import pytest

from benchmark_scripts import BENCHMARKS, load_benchmark_script

ROOT = BENCHMARKS.parent


@pytest.fixture(scope='module')
def tool():
    return load_benchmark_script('paired_speed.py')


def serving(tool, pytest_args):
    log = tempfile.TemporaryFile('w+')
    env = {tool.CPU_VARIABLE: str(min(os.sched_getaffinity(0))), 'PYTHONHASHSEED': '1'}
    return tool.Server(sys.executable, str(ROOT), pytest_args, env, log)


def test_the_serving_process_times_the_recorded_cases(tool):
    server = serving(tool, ['benchmarks/bench_heatmap.py', '-k',
                            'decode_msra_dark and cpp and not flushed and not encoded'])
    try:
        # the hot and cold variants, recorded under their backend; the busy one, whose
        # load processes would run around the timing, deselected
        test = 'benchmarks/bench_heatmap.py::test_heatmap_codec'
        assert server.cases == {
            f'{test}[decode_msra_dark-cpp]': dict(case='decode_msra_dark', impl='cpp',
                                                  target=30),
            f'{test}[decode_msra_dark/cold-cpp]': dict(case='decode_msra_dark/cold',
                                                       impl='cpp', target=20)}
        for key in server.cases:
            block = server.block(key, 4)
            assert len(block['times']) == 4 and all(t > 0 for t in block['times'])
            assert block['wall'] > sum(block['times'])
    finally:
        server.close()
    assert server.process.returncode == 0


def test_a_failing_collection_stops_the_driver(tool):
    with pytest.raises(SystemExit, match='serving process ended'):
        serving(tool, ['benchmarks/no_such_file.py'])


class StubServer:
    """A serving process that takes ``ns`` per call."""

    def __init__(self, ns):
        self.ns = ns

    def block(self, key, calls):
        return dict(times=[self.ns] * calls, wall=self.ns * (calls + 1))


def test_ratios_are_after_over_before(tool):
    pair = tool.compare_case(StubServer(10_000), StubServer(12_000), 'case', rounds=4,
                             block_ms=0.1)
    assert pair == dict(ratio=1.2, before_ns=10_000, after_ns=12_000)
    row = tool.combine('case', 'cpp', [pair, dict(pair, ratio=1.05), dict(pair, ratio=1.3)])
    assert (row['ratio'], row['low'], row['high']) == (1.2, 1.05, 1.3)


def test_the_report_counts_slower_cases_apart_from_the_control(tool):
    def row(key, impl, ratio, low, high):
        return dict(key=key, impl=impl, ratio=ratio, low=low, high=high, before_ns=1e4,
                    after_ns=1e4 * ratio)
    text = tool.report([row('a', 'cpp', 1.2, 1.15, 1.3), row('b', 'numba', 1.12, 0.95, 1.2),
                        row('c', 'cpp', 0.8, 0.7, 0.85), row('d', 'mmpose', 1.3, 1.2, 1.4)],
                       threshold=0.10)
    assert 'control (MMPose rows, the same code in both): 1 cases, ratios 1.300 to 1.300' in text
    assert ('fastcodec: 3 cases, median ratio 1.120; more than 10% slower: 2 (in every pair '
            'of processes: 1); more than 10% faster: 1') in text
    lines = text.splitlines()
    assert [line.split()[-1] for line in lines[1:5]] == ['c', 'b', 'a', 'd']  # by ratio

