"""The `fastcodec` command: demo, info and bench run and report every codec."""
import json

import numpy as np
import pytest

import fastcodec
from fastcodec import bench, cli, demo, examples


def test_demo_covers_every_codec():
    assert {cfg['type'] for cfg in examples.CONFIGS} == set(fastcodec.CODECS)


def test_demo_reports_every_codec(tmp_path, capsys):
    pytest.importorskip('matplotlib')
    out = tmp_path / 'demo.png'
    assert cli.main(['demo', '--out', str(out)]) == 0
    text = capsys.readouterr().out
    for cfg in examples.CONFIGS:
        assert examples.label(cfg) in text
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_demo_panels_are_titled_with_codec_and_error(tmp_path):
    pytest.importorskip('matplotlib')
    kps, vis, sample = examples.load_sample()
    results = [(cfg, demo.round_trip(cfg, kps, vis)) for cfg in examples.CONFIGS]
    titles = demo.write_figure(str(tmp_path / 'd.png'), results, kps, vis,
                               sample['input_size'])
    assert len(titles) == len(examples.CONFIGS)
    for (cfg, r), title in zip(results, titles):
        assert title.rsplit('\n', 1)[0].replace('\n', ' ') == examples.label(cfg)
        assert f"round-trip error {r['error']:.3g}" in title
    # the heatmap codecs round-trip within their resolution on the sample
    errors = {examples.label(cfg): r['error'] for cfg, r in results}
    assert errors['MSRAHeatmap(unbiased=True)'] < 0.5 and errors['RegressionLabel'] < 1e-3


def test_info_lists_codecs(capsys):
    assert cli.main(['info']) == 0
    text = capsys.readouterr().out
    for name in ('MSRAHeatmap', 'SimCCLabel', 'RegressionLabel', 'IntegralRegressionLabel'):
        assert name in text


def test_bench_tiny_run(tmp_path, capsys):
    """One codec, batch 2: the table names the machine and every implementation, the
    JSON holds a timing per (config, op, implementation), the PNG is written."""
    pytest.importorskip('matplotlib')
    pytest.importorskip('tqdm')
    out = tmp_path / 'b'
    assert cli.main(['bench', '--codec', 'RegressionLabel', '--quick', '--batch', '2',
                     '--out', str(out), '--no-progress']) == 0
    text = capsys.readouterr().out
    record = json.loads((tmp_path / 'b.json').read_text())
    assert (tmp_path / 'b.png').read_bytes()[:4] == b'\x89PNG'
    assert record['machine']['cpu'] in text and 'logical cores' in text
    # --quick times the C++ backend, not the numba fallback (when both are there)
    quick = set(bench.backends()) - ({'numba'} if 'cpp' in bench.backends() else set())
    impls = quick | {'baseline'} | (
        {'mmpose'} if record['settings']['mmpose'] else set())
    got = {(t['op'], t['impl']) for t in record['timings']}
    assert got == {(op, impl) for op in bench.OPS for impl in impls}
    for t in record['timings']:
        assert 0 < t['p25_us'] <= t['median_us'] <= t['p75_us'] and t['calls'] >= 3
        assert f"{t['median_us']:.1f}" in text
    if record['settings']['mmpose']:
        ups = [u['vs_mmpose'] for u in bench.speedups(record)]
        assert all(u is not None and u > 0 for u in ups)


def test_bench_inputs_are_stacked_samples():
    case = bench.make_case(examples.CONFIGS[0], 3)
    assert all(b.shape == (3,) + a.shape for a, b in zip(case.enc_args, case.batch_enc_args))
    for b in case.batch_dec_args:
        np.testing.assert_array_equal(b[2], case.dec_args[0])


def test_bench_rejects_unknown_codec_and_op():
    with pytest.raises(ValueError, match='unknown codec'):
        bench.select_configs('NoSuchCodec')
    with pytest.raises(ValueError, match='unknown operation'):
        bench.run('RegressionLabel', quick=True, ops=['fly'], progress=False)
