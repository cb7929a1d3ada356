"""Sphinx configuration of fastcodec's API reference (``pip install ".[docs]"``):

    python -m sphinx -W -b html docs/api docs/api/_build/html

The codec pages are generated here from the registry (``fastcodec.CODECS``): one page
per family in FAMILIES, and any registered codec not listed there lands on an "Other
codecs" page, so a new codec is documented as soon as it registers.
"""
import os

import fastcodec
from fastcodec.backends.contract import KERNELS

project = 'fastcodec'
release = fastcodec.__version__
extensions = ['sphinx.ext.autodoc', 'myst_parser']
source_suffix = {'.rst': 'restructuredtext', '.md': 'markdown'}
exclude_patterns = ['_build']
autodoc_member_order = 'bysource'
autodoc_typehints = 'none'          # the docstrings state shapes and types
autodoc_default_options = {'members': True, 'inherited-members': True}
html_theme = 'alabaster'
# deviations.md links to design.md and the README, which live outside this tree.
suppress_warnings = ['myst.xref_missing']

HERE = os.path.dirname(os.path.abspath(__file__))
GENERATED = os.path.join(HERE, '_generated')

# Family pages: title, introduction, codec names. Order is the README's.
# Slugs sort in that order (the toctree's glob), before 5_other and 6_contract.
FAMILIES = [
    ('1_heatmap', 'Heatmap codecs', 'Gaussian heatmap targets and their decoders '
     '(argmax, DARK, DARK-UDP, UDP offsets, Megvii blur).',
     ['MSRAHeatmap', 'UDPHeatmap', 'MegviiHeatmap']),
    ('2_coordinates', 'Coordinate codecs', 'SimCC 1-D labels, normalised coordinates and '
     'integral regression.', ['SimCCLabel', 'RegressionLabel', 'IntegralRegressionLabel']),
    ('3_bottomup', 'Bottom-up codecs', 'Several people per image: root heatmaps with '
     'displacement fields (SPR, DEKR), per-instance heatmaps (CID), and heatmaps grouped '
     'by associative-embedding tags (HigherHRNet).',
     ['SPR', 'DecoupledHeatmap', 'AssociativeEmbedding']),
    ('3_onestage', 'One-stage codecs', 'Detection-style models: ED-Pose\'s normalised '
     'boxes and keypoints, and the box labels of YOLOX-Pose and RTMO.',
     ['EDPoseLabel', 'YOLOXPoseAnnotationProcessor']),
    ('4_lifting', 'Lifting codecs', '2-D keypoints to 3-D: normalised targets for lifting '
     'networks.', ['ImagePoseLifting', 'VideoPoseLifting', 'MotionBERTLabel']),
    ('4_threed', '3-D codecs', '3-D keypoints from images: Gaussian volumes (InterNet) and '
     'three 1-D SimCC labels per keypoint (RTMW3D).', ['Hand3DHeatmap', 'SimCC3DLabel']),
]


def _underline(title, char='='):
    return f'{title}\n{char * len(title)}\n'


def _codec_page(title, intro, names):
    lines = [_underline(title), intro, '',
             'Every class takes MMPose 1.3.2\'s constructor arguments and returns its keys, '
             'shapes and dtypes; ``batch_encode`` / ``batch_decode`` add a leading batch '
             'axis. Build any of them from an MMPose config dict with '
             ':func:`fastcodec.build`.', '']
    for name in names:
        cls = fastcodec.CODECS[name]
        lines += [f'.. autoclass:: {cls.__module__}.{name}', '']
    return '\n'.join(lines)


def _contract_page():
    lines = [_underline('Backend contract'),
             '.. automodule:: fastcodec.backends.contract', '   :no-members:', '',
             _underline('Kernel functions', '-')]
    for k in KERNELS:
        doc = ' '.join(k.doc.split())
        lines += [f'``{k.name}{k.params}``', f'   {doc}', '']
    lines += [_underline('Choosing a backend', '-'),
              '.. autofunction:: fastcodec.available_backends',
              '.. autofunction:: fastcodec.set_backend',
              '.. autofunction:: fastcodec.get_backend',
              '.. autofunction:: fastcodec.use_backend',
              '.. autofunction:: fastcodec.set_num_threads',
              '.. autofunction:: fastcodec.get_num_threads', '']
    return '\n'.join(lines)


def generate():
    """Write the generated pages (``_generated/<n>_<family>.rst``; the index's toctree
    globs them in order)."""
    os.makedirs(GENERATED, exist_ok=True)
    pages = {}
    listed = set()
    for slug, title, intro, names in FAMILIES:
        present = [n for n in names if n in fastcodec.CODECS]
        listed.update(names)
        if present:
            pages[slug] = _codec_page(title, intro, present)
    others = sorted(set(fastcodec.CODECS) - listed)
    if others:
        pages['5_other'] = _codec_page('Other codecs', 'Codecs not yet placed in a family.',
                                     others)
    pages['6_contract'] = _contract_page()
    for slug, text in pages.items():
        with open(os.path.join(GENERATED, f'{slug}.rst'), 'w', encoding='utf-8') as f:
            f.write(text)


def literal_body(app, what, name, obj, options, lines):
    """A codec class's docstring is written for ``help()``: its first paragraph is
    prose, the rest (arguments, encode / decode signatures with shapes) is laid out
    by hand. Show that rest as it is written, in a literal block."""
    if what != 'class' or '' not in lines:
        return
    cut = lines.index('')
    body = lines[cut + 1:]
    while body and not body[-1].strip():
        body.pop()
    if body:
        lines[cut:] = ['', '::', ''] + ['    ' + line for line in body] + ['']


def setup(app):
    generate()
    app.connect('autodoc-process-docstring', literal_body)
