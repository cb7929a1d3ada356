"""A process that used the kernels' threads, then forks DataLoader workers that encode,
must finish (GNU OpenMP's pool would hang here; fastcodec starts threads per call)."""
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import numpy as np, torch, fastcodec
    codec = fastcodec.MSRAHeatmap((192, 256), (48, 64), 2.0, unbiased=True)
    fastcodec.set_num_threads(2)
    maps = codec.batch_encode(np.random.rand(64, 1, 17, 2) * 190)["heatmaps"]
    codec.batch_decode(maps)                      # threads used in the parent

    class Targets(torch.utils.data.Dataset):
        def __len__(self):
            return 64
        def __getitem__(self, i):
            kps = np.random.default_rng(i).uniform(0, 190, (1, 17, 2))
            out = codec.batch_encode(kps[None])   # threaded call inside the worker
            return torch.from_numpy(out["heatmaps"][0])

    loader = torch.utils.data.DataLoader(Targets(), batch_size=8, num_workers=4,
                                         multiprocessing_context="fork")
    total = sum(int(batch.shape[0]) for batch in loader)
    codec.batch_decode(maps)                      # and again after the workers
    print("done", total)
''')


def test_forked_dataloader_workers_finish():
    out = subprocess.run([sys.executable, '-c', SCRIPT], capture_output=True, text=True,
                         timeout=180)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ['done', '64']
