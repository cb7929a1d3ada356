"""A process that used the kernels' thread pool, then forks DataLoader workers that call
the kernels, must finish: GNU OpenMP's pool would hang here; fastcodec's pool is
dropped in forked children (pthread_atfork) and rebuilt on first use."""
import subprocess
import sys
import textwrap

import pytest

# {setup} builds `codec` and a parent-side `call()`; {work} is a worker's threaded
# call on keypoints `kps`, returning one tensor.
TEMPLATE = textwrap.dedent('''
    import numpy as np, torch, fastcodec
    fastcodec.set_num_threads(2)
{setup}
    call()                                        # threads used in the parent

    class Targets(torch.utils.data.Dataset):
        def __len__(self):
            return 64
        def __getitem__(self, i):
            kps = np.random.default_rng(i).uniform(0, 190, (64, 1, 17, 2))
{work}

    loader = torch.utils.data.DataLoader(Targets(), batch_size=8, num_workers=4,
                                         multiprocessing_context="fork")
    total = sum(int(batch.shape[0]) for batch in loader)
    call()                                        # and again after the workers
    print("done", total)
''')

CASES = {
    'heatmap': ('''
    codec = fastcodec.MSRAHeatmap((192, 256), (48, 64), 2.0, unbiased=True)
    maps = codec.batch_encode(np.random.rand(64, 1, 17, 2) * 190)["heatmaps"]
    call = lambda: codec.batch_decode(maps)
''', '''
            return torch.from_numpy(codec.batch_encode(kps)["heatmaps"][0])
'''),
    'simcc': ('''
    codec = fastcodec.SimCCLabel((192, 256), sigma=(4.9, 5.66), use_dark=True)
    enc = codec.batch_encode(np.random.rand(256, 1, 17, 2) * 190)
    sx, sy = enc["keypoint_x_labels"][:, 0], enc["keypoint_y_labels"][:, 0]
    call = lambda: codec.batch_decode(sx, sy)
''', '''
            out = codec.batch_encode(kps)
            k, _ = codec.batch_decode(out["keypoint_x_labels"][:, 0],
                                      out["keypoint_y_labels"][:, 0])
            return torch.from_numpy(k[0, 0])
'''),
    'spr': ('''
    codec = fastcodec.SPR((256, 256), (64, 64), generate_keypoint_heatmaps=True)
    many = np.random.rand(32, 10, 17, 2) * 250
    call = lambda: codec.batch_encode(many)
''', '''
            out = codec.batch_encode(kps.reshape(8, 8, 17, 2))
            return torch.from_numpy(out["displacements"][0])
'''),
}


@pytest.mark.parametrize('case', sorted(CASES))
def test_forked_dataloader_workers_finish(case):
    setup, work = CASES[case]
    script = TEMPLATE.format(setup=textwrap.indent(textwrap.dedent(setup), '    ').rstrip(),
                             work=textwrap.indent(textwrap.dedent(work), ' ' * 12).rstrip())
    out = subprocess.run([sys.executable, '-c', textwrap.dedent(script)], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ['done', '64']
