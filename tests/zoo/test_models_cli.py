"""The zoo's installed commands, run as a user runs them (the console script pip
installed, from a directory outside the repository): `fastcodec configs` lists the
bundled configs, `fastcodec synth` writes a data set, `fastcodec train` trains a
bundled config by name for two iterations and `fastcodec eval` ends with `AP=`."""
import os
import shutil
import subprocess
import sys

import pytest

pytest.importorskip('torch')
pytest.importorskip('pycocotools')


def fastcodec_command():
    """The `fastcodec` console script beside this interpreter (the venv's), else PATH's."""
    found = (shutil.which('fastcodec', path=os.path.dirname(sys.executable))
             or shutil.which('fastcodec'))
    assert found, 'the fastcodec console script is not installed (pip install .)'
    return found


def run(args, cwd, **env):
    r = subprocess.run([fastcodec_command(), *args], cwd=cwd, capture_output=True, text=True,
                       timeout=300, env=dict(os.environ, OMP_NUM_THREADS='1', **env))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r.stdout


def test_configs_lists_the_bundled_configs(tmp_path):
    out = run(['configs'], tmp_path)
    names = [line.split()[0] for line in out.splitlines() if line.strip()]
    assert {'quick_heatmap_res18', 'quick_simcc_res18', 'quick_lifting_mlp',
            'td_hm_res50_256x192'} <= set(names)
    assert not any(name.startswith('_') for name in names)


def test_unknown_config_names_the_bundled_ones(tmp_path):
    r = subprocess.run([fastcodec_command(), 'train', 'no_such_config'], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and 'quick_heatmap_res18' in r.stderr


def test_synth_train_eval(tmp_path):
    run(['synth', 'data/synth', '--train', '6', '--val', '3', '--width', '128', '--height',
         '96', '--max-people', '2'], tmp_path)
    assert (tmp_path / 'data/synth/annotations/person_keypoints_val.json').is_file()
    loaders = ['train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
               'val_dataloader.num_workers=0']
    run(['train', 'quick_heatmap_res18', '--work-dir', 'w', '--max-iters', '2',
         '--no-progress', '--cfg-options', *loaders], tmp_path)
    assert (tmp_path / 'w' / 'latest.pt').is_file()
    out = run(['eval', 'quick_heatmap_res18', 'w/latest.pt', '--no-flip',
               '--cfg-options', *loaders], tmp_path)
    last = out.strip().splitlines()[-1]
    assert last.startswith('AP=') and 0.0 <= float(last[3:]) <= 1.0
