"""The `fastcodec` command: demo and info run and report every codec."""
import pytest

import fastcodec
from fastcodec import cli, examples


def test_demo_covers_every_codec():
    assert {cfg['type'] for cfg in examples.CONFIGS} == set(fastcodec.CODECS)


def test_demo_reports_every_codec(tmp_path, capsys):
    pytest.importorskip('cv2')
    out = tmp_path / 'demo.png'
    assert cli.main(['demo', '--out', str(out)]) == 0
    text = capsys.readouterr().out
    for cfg in examples.CONFIGS:
        assert examples.label(cfg) in text
    assert out.stat().st_size > 0


def test_info_lists_codecs(capsys):
    assert cli.main(['info']) == 0
    text = capsys.readouterr().out
    for name in ('MSRAHeatmap', 'SimCCLabel', 'RegressionLabel', 'IntegralRegressionLabel'):
        assert name in text
