"""SimCC in forked DataLoader workers after the parent used the thread pool: the
workers and the parent must finish (the pool is fork-safe)."""
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import numpy as np, torch, fastcodec
    codec = fastcodec.SimCCLabel((192, 256), sigma=(4.9, 5.66), use_dark=True)
    fastcodec.set_num_threads(2)
    enc = codec.batch_encode(np.random.rand(256, 1, 17, 2) * 190)
    sx, sy = enc["keypoint_x_labels"][:, 0], enc["keypoint_y_labels"][:, 0]
    codec.batch_decode(sx, sy)                    # threads used in the parent

    class Targets(torch.utils.data.Dataset):
        def __len__(self):
            return 64
        def __getitem__(self, i):
            kps = np.random.default_rng(i).uniform(0, 190, (64, 1, 17, 2))
            out = codec.batch_encode(kps)         # big enough to use threads in the worker
            k, s = codec.batch_decode(out["keypoint_x_labels"][:, 0], out["keypoint_y_labels"][:, 0])
            return torch.from_numpy(k[0, 0])

    loader = torch.utils.data.DataLoader(Targets(), batch_size=8, num_workers=4,
                                         multiprocessing_context="fork")
    total = sum(int(batch.shape[0]) for batch in loader)
    codec.batch_decode(sx, sy)                    # and again after the workers
    print("done", total)
''')


def test_simcc_in_forked_dataloader_workers_finishes():
    out = subprocess.run([sys.executable, '-c', SCRIPT], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ['done', '64']
