"""pytest plugin: MMPose's codec names resolve to fastcodec's classes.

Loaded by tools/run_mmpose_codec_tests.py (``-p mmpose_codec_swap``) before any test
module imports MMPose. It imports ``mmpose.codecs`` without mmcv (as fastcodec's own
tests do), registers fastcodec's codecs in ``mmpose.registry.KEYPOINT_CODECS`` under
MMPose's names (``import fastcodec.mmpose``, the documented one-line switch) and
rebinds the same names in the ``mmpose.codecs`` namespace, so both ways MMPose's tests
reach a codec (``KEYPOINT_CODECS.build(dict(type=...))`` and
``from mmpose.codecs import X``) give fastcodec's class. Set
``FASTCODEC_SWAP=0`` to run MMPose's own classes instead (a baseline).
"""
from __future__ import annotations

import os

from fastcodec.mmpose_oracle import import_mmpose_codecs

SWAPPED: dict = {}


def pytest_configure(config):
    codecs = import_mmpose_codecs()
    if os.environ.get('FASTCODEC_SWAP', '1') == '0':
        return
    import fastcodec.mmpose as plugin
    from mmpose.registry import KEYPOINT_CODECS
    for name, cls in plugin.REGISTERED.items():
        assert KEYPOINT_CODECS.get(name) is cls, name
        setattr(codecs, name, cls)
        SWAPPED[name] = cls


def pytest_report_header(config):
    codecs = import_mmpose_codecs()
    names = sorted(n for n in codecs.__all__)
    ours = [n for n in names if n in SWAPPED]
    theirs = [n for n in names if n not in SWAPPED]
    return [f'fastcodec in place of MMPose for: {", ".join(ours) or "(none)"}',
            f"MMPose's own class for: {', '.join(theirs) or '(none)'}"]
