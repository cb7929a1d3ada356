"""The parity oracle for SimCC3DLabel: MMPose's ``projects/rtmpose3d`` codec, which is in
neither MMPose's wheel nor its sdist, loaded from a fetched MMPose source.

Where the source is: ``$FASTCODEC_MMPOSE_SOURCE`` (a checkout, or a git directory read
at ``$FASTCODEC_MMPOSE_REF``, default HEAD, which holds the project since v1.3.2), else
the mirror that the project's ``fetch`` tool leaves in /work/.mirror. Without one the
parity tests skip and say so.
"""
from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path
from typing import Optional

PROJECT = 'projects/rtmpose3d/rtmpose3d'
CANDIDATES = ('/work/.mirror/open-mmlab+mmpose/repo',)
SKIP_REASON = ("SimCC3DLabel's oracle lives in MMPose's projects/rtmpose3d, which no MMPose "
               'package ships: set FASTCODEC_MMPOSE_SOURCE to a fetched MMPose source '
               '(checkout or git directory, github:open-mmlab/mmpose)')


def _read(source: Path, name: str) -> Optional[str]:
    path = source / PROJECT / name
    if path.is_file():
        return path.read_text()
    ref = os.environ.get('FASTCODEC_MMPOSE_REF', 'HEAD')
    try:
        return subprocess.run(['git', '--git-dir', str(source), 'show', f'{ref}:{PROJECT}/{name}'],
                              check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None


def load_simcc3d_label():
    """MMPose's SimCC3DLabel class, or None when no source is found. It is loaded into
    a package of its own, ``rtmpose3d_oracle``, without registering it in MMPose's
    registry (fastcodec's plug-in may hold that name)."""
    if 'rtmpose3d_oracle.simcc_3d_label' in sys.modules:
        return sys.modules['rtmpose3d_oracle.simcc_3d_label'].SimCC3DLabel
    env = os.environ.get('FASTCODEC_MMPOSE_SOURCE')
    for source in ([env] if env else []) + list(CANDIDATES):
        utils, codec = _read(Path(source), 'utils.py'), _read(Path(source), 'simcc_3d_label.py')
        if utils and codec:
            break
    else:
        return None
    from fastcodec.mmpose_oracle import import_mmpose_codecs
    import_mmpose_codecs()
    from mmpose.registry import KEYPOINT_CODECS
    package = types.ModuleType('rtmpose3d_oracle')
    package.__path__ = []
    sys.modules['rtmpose3d_oracle'] = package
    for name, text in (('utils', utils), ('simcc_3d_label', codec)):
        module = types.ModuleType(f'rtmpose3d_oracle.{name}')
        module.__package__ = 'rtmpose3d_oracle'
        sys.modules[module.__name__] = module
        held = KEYPOINT_CODECS._module_dict.pop('SimCC3DLabel', None)
        try:
            exec(compile(text, f'<mmpose {PROJECT}/{name}.py>', 'exec'), module.__dict__)
        finally:
            KEYPOINT_CODECS._module_dict.pop('SimCC3DLabel', None)
            if held is not None:
                KEYPOINT_CODECS._module_dict['SimCC3DLabel'] = held
    return sys.modules['rtmpose3d_oracle.simcc_3d_label'].SimCC3DLabel
