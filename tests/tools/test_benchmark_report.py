"""benchmarks/report.py: speed-ups, targets and verdicts from a pytest-benchmark JSON."""
import pytest

from benchmark_scripts import load_benchmark_script


@pytest.fixture(scope='module')
def report():
    return load_benchmark_script('report.py')


def bench(case, impl, median, **extra):
    return dict(group=case, stats=dict(median=median, min=median),
                extra_info=dict(impl=impl, case=case, **extra))


def test_speedups_targets_and_verdicts(report):
    run = dict(benchmarks=[
        bench('fast', 'mmpose', 10e-6, target=5.0),
        bench('fast', 'cpp', 1e-6, target=5.0),       # 10x >= 5x: ok
        bench('fast', 'numba', 5e-6),                  # 2x, numba's default 3x: MISS
        bench('slow', 'mmpose', 10e-6, target=None),
        bench('slow', 'cpp', 5e-6, target=None),      # recorded, not judged
        bench('slow', 'numba', 5e-6, target=None),
    ])
    cases, backends = report.collect(run)
    assert backends == ['cpp', 'numba']
    fast, slow = cases
    assert report.speedup(fast, 'cpp') == pytest.approx(10.0)
    verdict, missed = report.evaluate(cases, backends)
    assert verdict['fast', 'cpp'] == 'ok'
    assert verdict['fast', 'numba'] == 'MISS'
    assert verdict['slow', 'cpp'] == verdict['slow', 'numba'] == '—'
    assert missed == ['fast/numba (2.00x < 3x)']
    text = report.markdown(run, cases, backends)
    assert text.rstrip().endswith('targets missed: fast/numba (2.00x < 3x)')


def test_all_met_and_missing_baseline(report):
    run = dict(benchmarks=[bench('a', 'mmpose', 4e-6, target=2.0),
                           bench('a', 'cpp', 1e-6, target=2.0),
                           bench('b', 'cpp', 1e-6, target=2.0)])
    cases, backends = report.collect(run)
    verdict, missed = report.evaluate(cases, backends)
    assert verdict['a', 'cpp'] == 'ok'
    assert verdict['b', 'cpp'] == 'MISS' and missed == ['b/cpp (no MMPose baseline)']


def test_several_runs_report_the_median_speedup_and_range(report):
    runs = [dict(benchmarks=[bench('a', 'mmpose', m * 1e-6, target=3.0),
                             bench('a', 'cpp', 1e-6, target=3.0),
                             bench('a', 'floor', 0.5e-6)])
            for m in (2.0, 4.0, 9.0)]  # speed-ups 2x, 4x, 9x
    cases = report.merge_runs([report.collect(run)[0] for run in runs])
    (case,) = cases
    assert report.speedup(case, 'cpp') == pytest.approx(4.0)
    assert report.spread(case, 'cpp') == '2.00x-9.00x'
    assert case['floor'] == pytest.approx(0.5e-6)
    verdict, missed = report.evaluate(cases, ['cpp'])
    assert verdict['a', 'cpp'] == 'ok' and not missed
    text = report.markdown(runs[0], cases, ['cpp'])
    assert '| a | 4.0 | 1.0 | 2.00x-9.00x | 4.00x | 3x | ok | 0.5 | 2.0 |' in text


def test_a_run_with_pipeline_entries_gets_their_table(report):
    """bench_pipeline.py's entries (samples per second) add its table below the cases'."""
    extra = dict(setting='topdown_msra_dark', workers=0, samples_per_s=100.0,
                 target_generation_share=0.5, encode_ms_per_sample=2.0)
    run = dict(benchmarks=[
        bench('encode_msra', 'mmpose', 2e-3), bench('encode_msra', 'cpp', 1e-4),
        bench('pipeline', 'mmpose', 1.0, **extra),
        bench('pipeline', 'cpp', 1.0, **dict(extra, samples_per_s=150.0,
                                              target_generation_share=0.1,
                                              encode_ms_per_sample=0.5))])
    lines = '\n'.join(report.pipeline_lines(run)).splitlines()
    assert lines[1] == '## The whole data pipeline (bench_pipeline.py)'
    row = next(line for line in lines if line.startswith('| topdown_msra_dark |'))
    # gain 150 / 100, encode speed-up 2.0 / 0.5, MMPose's bound 1 / (1 - 0.5)
    assert row.split(' | ')[4:7] == ['1.50x', '4.0x', '50.0%'], row
    assert row.endswith('| 2.00x |'), row
