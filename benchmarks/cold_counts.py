"""What one cold call of a benchmark case costs, counted instead of timed: instructions
and cache misses per call under valgrind's cachegrind, for one or more checkouts.

    python benchmarks/cold_counts.py bench_regression encode_regression cpp \\
        --python /path/to/before/.venv/bin/python --python .venv/bin/python

A cold call's time on a shared or virtual machine swings by 2x between runs, so a
change of 0.5 us in a 10 us call cannot be timed there; counts can. Each interpreter
runs the case (the same ``make_call`` as the benchmarks, from the repository it runs
in: its working directory is the parent of the parent of ``--python``'s directory unless
``--cwd`` says otherwise) twice under cachegrind: CALLS calls each after a cache-evicting
write, and the writes alone; the difference over CALLS is one cold call. The simulated
last-level cache is 512 KiB (``--ll``: a core's L2 on Zen 2; the writes evict it), so
its misses are the ones a cold call pays a trip to L3 or memory for. Garbage collection
is off while counting (it would land in one run and not the other).

Counts are exact for one memory layout, but the layout moves them: where strings and
objects land decides collisions in CPython's attribute cache, and one layout can cost
a call thousands of instructions more than another (the same code measured 17,000 to
23,000 instructions a call). So each checkout is counted in ``--layouts`` layouts
(hash seed and heap offset varied) and the median reported with the range. Needs
valgrind; a case takes one to two minutes per layout and checkout on 2 cores.
"""
from __future__ import annotations

import argparse
import importlib
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

EVICT_BYTES = 2 << 20  # four times the simulated cache


def run_case(module: str, name: str, backend: str, calls: int, total: int,
             layout: int) -> None:
    """The measured process: ``total`` cache-evicting writes, the first ``calls`` of
    them each followed by one call of the case; ``layout`` shifts the heap."""
    import gc
    shift = [bytearray(layout * 4099)] + [object() for _ in range(layout * 37)]  # noqa: F841

    import numpy as np

    sys.path.insert(0, os.path.join(os.getcwd(), 'benchmarks'))  # the checkout's cases
    import fastcodec
    mod = importlib.import_module(module)
    cases = [r for r in mod.RUNS if r.timing == 'hot'] if hasattr(mod, 'RUNS') else mod.CASES
    case = next(c for c in cases if getattr(c, 'base_name', getattr(c, 'name', None)) == name)
    with fastcodec.use_backend(backend):
        call = mod.make_call(case, backend)
        for _ in range(20):  # compiled, cached, allocated: what a running program has
            call()
        evict = np.zeros(EVICT_BYTES // 4, np.float32)
        gc.collect()
        gc.disable()
        for i in range(total):
            evict += 1.0
            if i < calls:
                call()


def _summary(path: str) -> dict:
    events = None
    with open(path) as f:
        for line in f:
            if line.startswith('events:'):
                events = line.split()[1:]
            elif line.startswith('summary:'):
                return dict(zip(events, map(int, line.split()[1:])))
    raise RuntimeError(f'no summary in {path}')


def per_call(python: str, cwd: str, args, layout: int) -> dict:
    """One layout's counts of one cold call: the run with ``args.calls`` calls minus
    the run without, both under cachegrind at once."""
    env = dict(os.environ, PYTHONHASHSEED=str(layout), OMP_NUM_THREADS='1',
               OPENBLAS_NUM_THREADS='1')
    with tempfile.TemporaryDirectory() as tmp:
        runs = []
        for calls in (args.calls, 0):
            out = os.path.join(tmp, f'cg.{calls}')
            cmd = ['valgrind', '--tool=cachegrind', '--cache-sim=yes',
                   f'--LL={args.ll},8,64', f'--cachegrind-out-file={out}', python,
                   os.path.abspath(__file__), '--child', args.module, args.case,
                   args.backend, str(calls), str(args.calls), str(layout)]
            runs.append((out, subprocess.Popen(cmd, cwd=cwd, env=env, text=True,
                                               stdout=subprocess.DEVNULL,
                                               stderr=subprocess.PIPE)))
        for _, proc in runs:
            if proc.wait() != 0:
                raise SystemExit(f'{python}: {proc.stderr.read()[-2000:]}')
        with_calls, without = (_summary(out) for out, _ in runs)
    return {k: (with_calls[k] - without[k]) / args.calls for k in with_calls}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('module', help='benchmark module, e.g. bench_regression')
    parser.add_argument('case', help="case name without '/cold', e.g. encode_regression")
    parser.add_argument('backend', help='cpp, numba, ...')
    parser.add_argument('--python', action='append', default=None,
                        help='an interpreter with fastcodec installed (repeatable; '
                             'default: this one)')
    parser.add_argument('--cwd', action='append', default=None,
                        help='the repository each --python runs the case from')
    parser.add_argument('--calls', type=int, default=200)
    parser.add_argument('--layouts', type=int, default=3)
    parser.add_argument('--ll', type=int, default=512 << 10, help='simulated cache bytes')
    parser.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('child_args', nargs='*', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_case(args.module, args.case, args.backend, *map(int, args.child_args))
        return
    pythons = args.python or [sys.executable]
    cwds = args.cwd or [str(Path(p).absolute().parent.parent.parent) if args.python else
                        os.getcwd() for p in pythons]
    if len(cwds) != len(pythons):
        parser.error('give one --cwd per --python')
    print(f'{args.module} {args.case} on {args.backend}, one cold call (simulated cache '
          f'{args.ll >> 10} KiB; median of {args.layouts} layouts [min, max]):', flush=True)
    for python, cwd in zip(pythons, cwds):
        # the warm-up outside valgrind fills Numba's on-disk cache: no compiling counted
        subprocess.run([python, os.path.abspath(__file__), '--child', args.module, args.case,
                        args.backend, '0', '0', '0'], cwd=cwd, check=True)
        counts = [per_call(python, cwd, args, layout) for layout in range(args.layouts)]
        instructions = sorted(c['Ir'] for c in counts)
        misses = sorted(c['ILmr'] + c['DLmr'] + c['DLmw'] for c in counts)
        print(f'  {cwd}: {statistics.median(instructions):8.0f} instructions '
              f'[{instructions[0]:.0f}, {instructions[-1]:.0f}]  '
              f'{statistics.median(misses):6.0f} cache misses [{misses[0]:.0f}, {misses[-1]:.0f}]',
              flush=True)


if __name__ == '__main__':
    main()
