"""Two checkouts of fastcodec timed against each other on every benchmark case, in
turns of a few milliseconds.

    python benchmarks/paired_speed.py ../before . -- benchmarks/bench_lifting.py

Why: on a shared virtual machine the same code's speed differs from one virtual CPU
to the other, and drifts within seconds, by up to 1.6x (seen on a 2-core AMD EPYC
guest: one numpy loop took 10.9 or 17 us; two processes of the same checkout, each
left on its own CPU, timed the same case 0.6x apart). Two pytest-benchmark runs of two
checkouts then differ by more than the 10% a change is judged by, in both directions.

How: each checkout runs in its own long-lived process (its ``.venv/bin/python`` unless
``--python`` says otherwise), which collects the benchmark cases with pytest from its
own ``benchmarks/``: the files' own calls, backends and cold / flushed gaps. Both
processes run on one CPU (``--cpu``), and their kernels on one thread: a change in how
a kernel scales over cores is not what this measures. A stand-in
``benchmark`` fixture records what would be timed instead of timing it. The processes
then time a case on request. For each case the driver asks both in turn, a block of
calls each (about ``--block-ms``), in alternating order, ``--rounds`` times, so the two
blocks of a round see the same machine; a pair's ratio is the median over rounds of
after / before. Where objects land in memory moves a case's time too (by 20% seen
here: the same checkout, restarted, ran a 5 us decode 1.2x slower throughout), so
``--pairs`` pairs of processes, each with another hash seed, time every case: the
change is the median of their ratios, printed with the lowest and the highest.

MMPose's rows run the same code in both checkouts: their ratios show what the method
reads as a change where there is none, and the summary prints their spread. The
``busy`` variants (their load processes run around the timing) are deselected, and
bench_pipeline.py (it reads pytest-benchmark's statistics) is not supported. Speed-ups
over MMPose stay with pytest-benchmark and report.py: their targets are hot loops.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

import pytest

CPU_VARIABLE = 'FASTCODEC_PAIRED_CPU'  # the serving processes' CPU


# ---- the serving process ----------------------------------------------------------------
class RecordedCase:
    """What a benchmark test would time: ``call`` after ``setup`` (None: back to back),
    under the fastcodec backend ``about['impl']`` (or MMPose's / a floor's code);
    ``about`` also holds the test's case name (``benchmark.group``) and speed-up target."""

    def __init__(self, call: Callable[[], object], setup: Optional[Callable[[], object]],
                 about: dict) -> None:
        self.call, self.setup, self.about = call, setup, about


class RecordingBenchmark:
    """The stand-in for pytest-benchmark's fixture: records instead of timing."""

    def __init__(self, key: str, cases: Dict[str, RecordedCase]) -> None:
        self.key, self.cases = key, cases
        self.group: Optional[str] = None
        self.extra_info: dict = {}

    def _record(self, call, setup) -> None:
        self.cases[self.key] = RecordedCase(call, setup, dict(
            case=self.group, impl=self.extra_info.get('impl', '?'),
            target=self.extra_info.get('target')))

    def __call__(self, call, *args, **kwargs):
        self._record(lambda: call(*args, **kwargs), None)

    def pedantic(self, call, args=(), kwargs=None, setup=None, **_):
        self._record(lambda: call(*args, **(kwargs or {})), setup)


class RecordingPlugin:
    """The pytest plugin of a serving process: the stand-in fixture, and the busy
    variants deselected (see the module docstring)."""

    def __init__(self) -> None:
        self.cases: Dict[str, RecordedCase] = {}

    @pytest.fixture
    def benchmark(self, request):
        return RecordingBenchmark(request.node.nodeid, self.cases)

    def pytest_collection_modifyitems(self, config, items) -> None:
        busy = [item for item in items if '/busy' in item.nodeid]
        if busy:
            config.hook.pytest_deselected(items=busy)
            items[:] = [item for item in items if '/busy' not in item.nodeid]


def serve(pytest_args: List[str]) -> None:
    """Collect and record the cases, print their keys (one JSON line), then time blocks
    on request: each stdin line ``{"key": ..., "calls": n}`` is answered with
    ``time_block``'s dict (one JSON line). The protocol has stdout to itself; pytest and
    the cases print to stderr."""
    os.sched_setaffinity(0, {int(os.environ[CPU_VARIABLE])})
    protocol = os.fdopen(os.dup(1), 'w')
    os.dup2(2, 1)
    plugin = RecordingPlugin()
    code = pytest.main(list(pytest_args) + ['-q', '-p', 'no:benchmark', '-p', 'no:cacheprovider'],
                       plugins=[plugin])
    if code != 0:
        raise SystemExit(f'collecting the cases failed (pytest exit code {code})')
    import fastcodec
    fastcodec.set_num_threads(1)  # one CPU: more threads would only take turns on it
    backends = set(fastcodec.available_backends())
    print(json.dumps({key: case.about for key, case in plugin.cases.items()}),
          file=protocol, flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        case = plugin.cases[request['key']]
        impl = case.about['impl']
        using = fastcodec.use_backend(impl) if impl in backends else contextlib.nullcontext()
        with using:
            times = time_block(case, request['calls'])
        print(json.dumps(times), file=protocol, flush=True)


def time_block(case: RecordedCase, calls: int) -> dict:
    """``calls`` timed calls after one untimed one (the other process ran last: its
    data, not this case's, is in the caches): their times in ns, and the block's wall
    time with the gaps before the calls."""
    clock = time.perf_counter_ns
    began = clock()
    if case.setup is not None:
        case.setup()
    case.call()
    times = []
    for _ in range(calls):
        if case.setup is not None:
            case.setup()
        start = clock()
        case.call()
        times.append(clock() - start)
    return dict(times=times, wall=clock() - began)


# ---- the driver ---------------------------------------------------------------------------
class Server:
    """One checkout's serving process."""

    def __init__(self, python: str, checkout: str, pytest_args: List[str],
                 env: Dict[str, str], log) -> None:
        self.checkout = checkout
        self.process = subprocess.Popen(
            [python, os.path.abspath(__file__), '--serve', '--'] + pytest_args, cwd=checkout,
            env=dict(os.environ, **env),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True)
        self.cases: Dict[str, dict] = self._read()  # key -> RecordedCase.about

    def _read(self):
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f'{self.checkout}: the serving process ended (exit code '
                             f'{self.process.wait()}); its output is in the log')
        return json.loads(line)

    def block(self, key: str, calls: int) -> dict:
        self.process.stdin.write(json.dumps(dict(key=key, calls=calls)) + '\n')
        self.process.stdin.flush()
        return self._read()

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


def compare_case(before: Server, after: Server, key: str, rounds: int, block_ms: float
                 ) -> dict:
    """One pair of processes on one case, taking turns: the median over rounds of after /
    before (the blocks' medians), and the blocks' median times."""
    per_call = max(server.block(key, 3)['wall'] for server in (before, after)) / 4
    calls = int(min(2000, max(3, block_ms * 1e6 / per_call)))
    ratios, times = [], {before: [], after: []}
    for r in range(rounds):
        for server in ((before, after) if r % 2 == 0 else (after, before)):
            times[server].append(statistics.median(server.block(key, calls)['times']))
        ratios.append(times[after][-1] / times[before][-1])
    return dict(ratio=statistics.median(ratios), before_ns=statistics.median(times[before]),
                after_ns=statistics.median(times[after]))


def combine(key: str, impl: str, pairs: List[dict]) -> dict:
    """A case over the pairs of processes (memory layouts): the median ratio, and the
    lowest and highest pair's."""
    ratios = sorted(p['ratio'] for p in pairs)
    return dict(key=key, impl=impl, ratio=statistics.median(ratios), low=ratios[0],
                high=ratios[-1], pairs=pairs,
                before_ns=statistics.median(p['before_ns'] for p in pairs),
                after_ns=statistics.median(p['after_ns'] for p in pairs))


def report(rows: List[dict], threshold: float) -> str:
    rows = sorted(rows, key=lambda row: row['ratio'])
    lines = [f'{"ratio":>6} {"[low, high]":>15} {"before":>11} {"after":>11}  case']
    for row in rows:
        lines.append(f'{row["ratio"]:6.3f} [{row["low"]:5.3f}, {row["high"]:5.3f}] '
                     f'{row["before_ns"] / 1e3:9.2f}us {row["after_ns"] / 1e3:9.2f}us  '
                     f'{row["key"]}')
    control = [row['ratio'] for row in rows if row['impl'] == 'mmpose']
    ours = [row for row in rows if row['impl'] != 'mmpose']
    slower = [row for row in ours if row['ratio'] > 1 + threshold]
    every_pair = [row for row in slower if row['low'] > 1 + threshold]
    lines.append('')
    if control:
        lines.append(f'control (MMPose rows, the same code in both): {len(control)} cases, '
                     f'ratios {min(control):.3f} to {max(control):.3f}, median '
                     f'{statistics.median(control):.3f}')
    if ours:
        lines.append(f'fastcodec: {len(ours)} cases, median ratio '
                     f'{statistics.median(r["ratio"] for r in ours):.3f}; more than '
                     f'{threshold:.0%} slower: {len(slower)} (in every pair of processes: '
                     f'{len(every_pair)}); more than {threshold:.0%} faster: '
                     f'{sum(r["ratio"] < 1 / (1 + threshold) for r in ours)}')
    return '\n'.join(lines)


def default_python(checkout: str) -> str:
    return str(Path(checkout).absolute() / '.venv' / 'bin' / 'python')


def main() -> None:
    if '--serve' in sys.argv:
        serve(sys.argv[sys.argv.index('--') + 1:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('before', help='the checkout timed as "before"')
    parser.add_argument('after', help='the checkout timed as "after"')
    parser.add_argument('--python', nargs=2, metavar=('BEFORE', 'AFTER'),
                        help="interpreters (default: each checkout's .venv/bin/python)")
    parser.add_argument('--pairs', type=int, default=3,
                        help='pairs of processes, each another memory layout')
    parser.add_argument('--rounds', type=int, default=10, help='rounds per case and pair')
    parser.add_argument('--block-ms', type=float, default=3.0)
    parser.add_argument('--cpu', type=int, default=min(os.sched_getaffinity(0)),
                        help='the one CPU both processes run on (default: the first)')
    parser.add_argument('--threshold', type=float, default=0.10)
    parser.add_argument('--json', help="write every case's numbers here")
    split = sys.argv.index('--') if '--' in sys.argv else len(sys.argv)
    args = parser.parse_args(sys.argv[1:split])
    pytest_args = sys.argv[split + 1:]  # the benchmark files and options, e.g. -k cpp
    checkouts = (args.before, args.after)
    pythons = args.python or [default_python(checkout) for checkout in checkouts]
    log = tempfile.NamedTemporaryFile('w+', suffix='.log', delete=False)
    print(f"the serving processes' output: {log.name}", file=sys.stderr)
    per_case: Dict[str, List[dict]] = {}
    impls: Dict[str, str] = {}
    for pair in range(args.pairs):
        env = {CPU_VARIABLE: str(args.cpu), 'PYTHONHASHSEED': str(pair + 1)}  # a layout
        before, after = (Server(python, checkout, pytest_args, env, log)
                         for python, checkout in zip(pythons, checkouts))
        keys = sorted(before.cases.keys() & after.cases.keys())
        if pair == 0:
            for only, server in ((before.cases.keys() - after.cases.keys(), before),
                                 (after.cases.keys() - before.cases.keys(), after)):
                if only:
                    print(f'{len(only)} cases only in {server.checkout}: not compared',
                          file=sys.stderr)
        for i, key in enumerate(keys):
            impls[key] = before.cases[key]['impl']
            per_case.setdefault(key, []).append(
                compare_case(before, after, key, args.rounds, args.block_ms))
            print(f'pair {pair + 1}/{args.pairs} [{i + 1}/{len(keys)}] '
                  f'{per_case[key][-1]["ratio"]:.3f} {key}', file=sys.stderr)
        before.close()
        after.close()
    rows = [combine(key, impls[key], pairs) for key, pairs in per_case.items()]
    print(report(rows, args.threshold))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == '__main__':
    main()
