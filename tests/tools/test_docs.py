"""The API reference (docs/api, Sphinx) builds with warnings as errors, and documents
every registered codec, every kernel of the backend contract and the deviations table.
Needs the docs extra (pip install ".[docs]"); the README's test command installs it."""
import os
import subprocess
import sys

import pytest

import fastcodec
from fastcodec.backends.contract import KERNELS

pytest.importorskip('sphinx')
pytest.importorskip('myst_parser')

DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                    'docs', 'api')


@pytest.fixture(scope='module')
def html(tmp_path_factory):
    out = tmp_path_factory.mktemp('docs')
    r = subprocess.run([sys.executable, '-m', 'sphinx', '-W', '--keep-going', '-E', '-q',
                        '-b', 'html', DOCS, str(out)], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    pages = {}
    for root, _, files in os.walk(out):
        for name in files:
            if name.endswith('.html'):
                with open(os.path.join(root, name), encoding='utf-8') as f:
                    pages[os.path.relpath(os.path.join(root, name), out)] = f.read()
    return pages


def test_every_codec_has_a_reference(html):
    text = ''.join(v for k, v in html.items() if k.startswith('_generated'))
    for name, cls in fastcodec.CODECS.items():
        assert f'id="{cls.__module__}.{name}"' in text, name


def test_contract_and_deviations_pages(html):
    contract = html[os.path.join('_generated', '6_contract.html')]
    for kernel in KERNELS:
        assert kernel.name in contract
    assert 'fastcodec.use_backend' in contract
    deviations = html['deviations.html']
    assert 'Where fastcodec deliberately differs from MMPose 1.3.2' in deviations
    assert deviations.count('<tr') > 20
