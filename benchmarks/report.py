#!/usr/bin/env python
"""Speed-ups of fastcodec over MMPose 1.3.2 from a pytest-benchmark JSON.

    pytest benchmarks/bench_heatmap.py --benchmark-json RUN.json
    python benchmarks/report.py RUN.json [--png speedups.png] [--md speedups.md]
    python benchmarks/report.py RUN1.json RUN2.json RUN3.json ...   (median of the runs)

For each benchmark group (one case) the speed-up of a fastcodec backend is
median(mmpose) / median(backend) (``--stat min`` or ``mean`` compares another
statistic). Prints a Markdown table with the machine (CPU, date) on top, optionally
writes the same Markdown to --md and a log-scale bar chart to --png. The exit code
is 0 whether targets are met or not: this reports, it does not judge. The last
line printed is ``all targets met`` or ``targets missed: ...``.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
from typing import Dict, List, Optional

BASELINE = 'mmpose'
FLOOR = 'floor'  # the memory floor of a case (_harness.py): reported, not a backend
BACKEND_ORDER = ('cpp', 'numba', 'cuda')
DEFAULT_TARGETS = {'numba': 3.0}
COLORS = {'cpp': '#1f77b4', 'numba': '#ff7f0e', 'cuda': '#2ca02c'}


# ---- reading ------------------------------------------------------------------------
def impl_of(bench: dict) -> Optional[str]:
    extra = bench.get('extra_info') or {}
    return extra.get('impl') or (bench.get('params') or {}).get('impl')


def collect(run: dict, stat: str = 'median'):
    """-> (cases in run order: [{name, median: {impl: s}, target: {impl: x}}], backends);
    ``median`` holds the statistic ``stat`` (the median unless asked otherwise)."""
    cases: Dict[str, dict] = {}
    for bench in run.get('benchmarks', []):
        impl = impl_of(bench)
        extra = bench.get('extra_info') or {}
        if is_pipeline(bench):
            continue  # its own table: pipeline_lines
        name = bench.get('group') or extra.get('case') or bench.get('name')
        if impl is None or name is None:
            continue
        case = cases.setdefault(name, dict(name=name, median={}, target={}, parity={},
                                           floor=None))
        if impl == FLOOR:
            case['floor'] = float(bench['stats'][stat])
            continue
        if impl in case['median']:
            print(f'note: {name}/{impl} appears twice; keeping the first', file=sys.stderr)
            continue
        case['median'][impl] = float(bench['stats'][stat])
        if 'target' in extra:  # an explicit None: this case sets no target for impl
            target = extra['target']
            case['target'][impl] = None if target is None else float(target)
        if extra.get('parity'):
            case['parity'][impl] = extra['parity']
    seen = {impl for case in cases.values() for impl in case['median']} - {BASELINE}
    backends = [b for b in BACKEND_ORDER if b in seen] + sorted(seen - set(BACKEND_ORDER))
    for case in cases.values():
        for backend in backends:
            if backend not in case['target']:
                fallback = DEFAULT_TARGETS.get(backend, case['target'].get(BASELINE))
                if fallback is not None:
                    case['target'][backend] = fallback
    return list(cases.values()), backends


def is_pipeline(bench: dict) -> bool:
    """A bench_pipeline.py entry (samples per second, not a codec call)."""
    return str((bench.get('extra_info') or {}).get('case', '')).startswith('pipeline')


def pipeline_lines(run: dict) -> List[str]:
    """bench_pipeline.py's table, when the run holds its entries."""
    entries = [b for b in run.get('benchmarks', []) if is_pipeline(b)]
    if not entries:
        return []
    spec = importlib.util.spec_from_file_location(
        'fastcodec_bench_pipeline', os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                 'bench_pipeline.py'))
    bench_pipeline = importlib.util.module_from_spec(spec)
    # registered first: its dataclasses look their module up in sys.modules
    sys.modules.setdefault(spec.name, bench_pipeline)
    spec.loader.exec_module(bench_pipeline)
    pipeline_markdown = bench_pipeline.pipeline_markdown
    return ['', '## The whole data pipeline (bench_pipeline.py)', '',
            pipeline_markdown(entries).rstrip('\n')]


def speedup(case: dict, backend: str) -> Optional[float]:
    """median(MMPose) / median(backend); over several runs, the median of the runs'
    speed-ups."""
    if case.get('runs'):
        xs = [x for x in (speedup(c, backend) for c in case['runs']) if x is not None]
        return statistics.median(xs) if xs else None
    base, ours = case['median'].get(BASELINE), case['median'].get(backend)
    if base is None or ours is None or ours <= 0:
        return None
    return base / ours


def spread(case: dict, backend: str) -> str:
    """The lowest and highest speed-up over the runs ('' for one run)."""
    xs = [x for x in (speedup(c, backend) for c in case.get('runs', [])) if x is not None]
    return f'{fmt_x(min(xs))}-{fmt_x(max(xs))}' if len(xs) > 1 else ''


def merge_runs(per_run: List[List[dict]]) -> List[dict]:
    """Cases of several runs of the same benchmarks as one list: times are the median
    over the runs, speed-ups the median of the runs' speed-ups (``runs`` keeps each)."""
    if len(per_run) == 1:
        return per_run[0]
    merged: Dict[str, dict] = {}
    for cases in per_run:
        for case in cases:
            m = merged.setdefault(case['name'], dict(name=case['name'], median={}, target={},
                                                     parity={}, floor=None, runs=[],
                                                     floors=[]))
            m['runs'].append(case)
            m['target'].update(case['target'])
            m['parity'].update(case['parity'])
            if case['floor'] is not None:
                m['floors'].append(case['floor'])
    for m in merged.values():
        impls = {i for c in m['runs'] for i in c['median']}
        for impl in impls:
            m['median'][impl] = statistics.median(c['median'][impl] for c in m['runs']
                                                  if impl in c['median'])
        floors = m.pop('floors')
        m['floor'] = statistics.median(floors) if floors else None
    return list(merged.values())


def machine_lines(run: dict) -> List[str]:
    info = run.get('machine_info') or {}
    cpu = info.get('cpu') or {}
    brand = cpu.get('brand_raw') or cpu.get('brand') or info.get('processor') or 'unknown CPU'
    count = cpu.get('count')
    cores = f' ({count} logical cores)' if count else ''
    system = ' '.join(str(x) for x in (info.get('machine'), info.get('system'),
                                        info.get('release')) if x)
    flags = set(cpu.get('flags') or [])
    shown = [f for f in ('avx512f', 'avx2', 'fma', 'sse4_2') if f in flags]
    lines = [f'- CPU: {brand}{cores}' + (f', {system}' if system else ''),
             f"- Date: {run.get('datetime', 'unknown')}"]
    if flags:
        lines.append('- CPU flags: ' + (', '.join(shown) if shown else 'none of avx512f, avx2, '
                                        'fma, sse4_2'))
    details = []
    if info.get('python_version'):
        details.append(f"Python {info['python_version']}")
    commit = run.get('commit_info') or {}
    if commit.get('id'):
        details.append(f"commit {commit['id'][:10]}" + (' (dirty)' if commit.get('dirty') else ''))
    threads = sorted({b['extra_info']['num_threads'] for b in run.get('benchmarks', [])
                      if 'num_threads' in (b.get('extra_info') or {})})
    if threads:
        details.append('fastcodec threads: ' + ', '.join(map(str, threads)))
    if details:
        lines.append('- ' + '; '.join(details))
    return lines


# ---- formatting ---------------------------------------------------------------------
def fmt_us(seconds: Optional[float]) -> str:
    return '—' if seconds is None else f'{seconds * 1e6:,.1f}'


def fmt_x(x: Optional[float]) -> str:
    if x is None:
        return '—'
    return f'{x:.1f}x' if x >= 10 else f'{x:.2f}x'


def fmt_target(t: Optional[float]) -> str:
    return '—' if t is None else f'{t:g}x'


def uniform_target(cases: List[dict], backend: str) -> Optional[float]:
    targets = {case['target'].get(backend) for case in cases}
    return targets.pop() if len(targets) == 1 else None


def evaluate(cases: List[dict], backends: List[str]):
    """-> {(case, backend): 'ok' | 'MISS' | '—'} and the list of misses, described."""
    verdict, missed = {}, []
    for case in cases:
        for backend in backends:
            x, target = speedup(case, backend), case['target'].get(backend)
            if target is None:
                verdict[case['name'], backend] = '—'
            elif x is None:
                verdict[case['name'], backend] = 'MISS'
                why = ('no MMPose baseline' if BASELINE not in case['median']
                       else 'not measured')
                missed.append(f"{case['name']}/{backend} ({why})")
            elif x >= target:
                verdict[case['name'], backend] = 'ok'
            else:
                verdict[case['name'], backend] = 'MISS'
                missed.append(f"{case['name']}/{backend} ({fmt_x(x)} < {fmt_target(target)})")
    return verdict, missed


def markdown(run: dict, cases: List[dict], backends: List[str], stat: str = 'median') -> str:
    verdict, missed = evaluate(cases, backends)
    several = any(len(case.get('runs', [])) > 1 for case in cases)
    header, align = ['case', f'MMPose {stat} (µs)'], ['---', '---:']
    target_column = {}
    for backend in backends:
        same = uniform_target(cases, backend)
        target_column[backend] = backend == 'cpp' or same is None
        header += [f'{backend} {stat} (µs)']
        if several:
            header += [f'{backend} speed-up range']
            align += ['---:']
        if target_column[backend]:
            header += [f'{backend} speed-up', 'target']
        else:
            header += [f'{backend} speed-up (target {fmt_target(same)})']
        header += ['ok/MISS']
        align += ['---:', '---:'] + (['---:'] if target_column[backend] else []) + [':---:']
    floors = any(case['floor'] is not None for case in cases)
    if floors:
        first = backends[0] if backends else None
        header += ['memory floor (µs)', f'{first} ÷ floor']
        align += ['---:', '---:']
    rows = []
    for case in cases:
        row = [case['name'], fmt_us(case['median'].get(BASELINE))]
        for backend in backends:
            row += [fmt_us(case['median'].get(backend))]
            if several:
                row += [spread(case, backend)]
            row += [fmt_x(speedup(case, backend))]
            if target_column[backend]:
                row += [fmt_target(case['target'].get(backend))]
            row += [verdict[case['name'], backend]]
        if floors:
            ours = case['median'].get(first)
            ratio = ours / case['floor'] if case['floor'] and ours is not None else None
            row += [fmt_us(case['floor']), '—' if ratio is None else f'{ratio:.1f}']
        rows.append(row)

    lines = ['# fastcodec vs MMPose 1.3.2: codec speed-ups', '']
    lines += machine_lines(run)
    lines += ['', f'Speed-up = {stat}(MMPose) / {stat}(backend), same inputs, same run.']
    if floors:
        lines += ['Memory floor: writing the outputs (encoders) or reading the input once '
                  '(decoders), same bytes, same timing (a sparse target, encode_hand3d: '
                  'the first write into each page its non-zero values occupy); ÷ floor = '
                  'how many times that the backend takes.']
    lines += ['']
    if rows:
        lines += ['| ' + ' | '.join(header) + ' |', '|' + '|'.join(align) + '|']
        lines += ['| ' + ' | '.join(row) + ' |' for row in rows]
    notes = [f"- {case['name']}/{impl}: output differs from MMPose: {problem}"
             for case in cases for impl, problem in case['parity'].items()]
    if notes:
        lines += ['', 'Parity notes (recorded before timing):'] + notes
    lines += pipeline_lines(run)
    lines += ['', 'all targets met' if not missed else 'targets missed: ' + ', '.join(missed)]
    return '\n'.join(lines) + '\n'


# ---- chart --------------------------------------------------------------------------
def chart(run: dict, cases: List[dict], backends: List[str], path: str,
          stat: str = 'median') -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    # One bar per hot case: the variants (cold, busy, encoded inputs, ...) are in the table.
    cases = [case for case in cases if '/' not in case['name']
             and not case['name'].endswith('_encoded')]
    n = max(len(backends), 1)
    height = 0.8 / n
    fig, ax = plt.subplots(figsize=(9, 1.0 + 0.42 * n * len(cases) + 0.6))
    values = []
    for i, case in enumerate(cases):
        for j, backend in enumerate(backends):
            y = i + (j - (n - 1) / 2) * height
            x, target = speedup(case, backend), case['target'].get(backend)
            if x is not None:
                missed = target is not None and x < target
                ax.barh(y, x, height=height * 0.9, color=COLORS.get(backend, '#7f7f7f'),
                        edgecolor='#d62728' if missed else 'none',
                        linewidth=1.5, hatch='//' if missed else None)
                ax.text(x * 1.04, y, fmt_x(x), va='center', ha='left', fontsize=7)
                values.append(x)
            if target is not None:
                ax.vlines(target, y - height / 2, y + height / 2, colors='black', linewidth=2.2)
                values.append(target)
    ax.axvline(1.0, color='#555555', linestyle='--', linewidth=0.8)
    ax.set_xscale('log')
    if values:
        ax.set_xlim(min(0.5, min(values) / 1.6), max(values) * 2.2)
    ax.set_yticks(range(len(cases)))
    ax.set_yticklabels([case['name'] for case in cases], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f'speed-up over MMPose 1.3.2 ({stat} / {stat}, log scale; hot loops, '
                  'network-like inputs)')
    info = run.get('machine_info') or {}
    cpu = (info.get('cpu') or {}).get('brand_raw') or 'unknown CPU'
    ax.set_title(f"fastcodec vs MMPose 1.3.2: every codec\n{cpu}, {run.get('datetime', '')[:19]}",
                 fontsize=9)
    handles = [Patch(color=COLORS.get(b, '#7f7f7f'), label=b) for b in backends]
    handles += [Line2D([], [], color='black', linewidth=2.2, label='target'),
                Line2D([], [], color='#555555', linestyle='--', linewidth=0.8,
                       label='MMPose (1x)'),
                Patch(facecolor='white', edgecolor='#d62728', hatch='//', label='target missed')]
    ax.legend(handles=handles, loc='upper right', fontsize=7, framealpha=0.9)
    ax.grid(axis='x', which='both', alpha=0.25)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


# ---- main ---------------------------------------------------------------------------
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('json', nargs='+',
                        help='pytest-benchmark JSON (--benchmark-json); several runs of the '
                             'same benchmarks: the median speed-up of the runs, and their range')
    parser.add_argument('--png', help='write a bar chart of the speed-ups here')
    parser.add_argument('--md', help='write the Markdown report here')
    parser.add_argument('--stat', default='median', choices=('median', 'min', 'mean'),
                        help='statistic compared (default median; min is steadier on a '
                             'loaded machine)')
    args = parser.parse_args(argv)

    runs = []
    for path in args.json:
        with open(path, encoding='utf-8') as f:
            runs.append(json.load(f))
    collected = [collect(run, args.stat) for run in runs]
    cases = merge_runs([c for c, _ in collected])
    backends = list(dict.fromkeys(b for _, bs in collected for b in bs))
    run = dict(runs[0])  # machine and date of the first run; pipeline rows of the first run
    if len(runs) > 1:   # that has them
        run['datetime'] = f"{runs[0].get('datetime', '?')} ({len(runs)} runs)"
        run['benchmarks'] = [b for b in run.get('benchmarks', []) if not is_pipeline(b)] + next(
            ([b for b in r['benchmarks'] if is_pipeline(b)] for r in runs
             if any(is_pipeline(b) for b in r.get('benchmarks', []))), [])
    text = markdown(run, cases, backends, args.stat)
    sys.stdout.write(text)
    if args.md:
        with open(args.md, 'w', encoding='utf-8') as f:
            f.write(text)
    if args.png:
        chart(run, cases, backends, args.png, args.stat)
    return 0


if __name__ == '__main__':
    sys.exit(main())
