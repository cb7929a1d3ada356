"""Threads only where they pay (csrc/cpu/parallel.h): a per-sample call stays on the
calling thread, a large batch uses the pool, a DataLoader worker uses one thread unless
told otherwise, and no thread spins while the process has nothing to do."""
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import fastcodec

cpp = pytest.importorskip('fastcodec.backends.cpp')

DARK = dict(input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0, unbiased=True,
            blur_kernel_size=11)


@pytest.fixture
def two_threads():
    fastcodec.set_num_threads(2)
    yield
    fastcodec.set_num_threads(0)


def _maps(batch, k=17):
    codec = fastcodec.MSRAHeatmap(**DARK)
    rng = np.random.default_rng(0)
    kps = rng.uniform(0, 1, (batch, 1, k, 2)) * [191, 255]
    maps = codec.batch_encode(kps)['heatmaps']
    return codec, (maps + rng.normal(0, 0.01, maps.shape)).astype(np.float32)


def _pool_calls_during(call):
    before = cpp.pool_calls()
    with fastcodec.use_backend('cpp'):
        call()
    return cpp.pool_calls() - before


def test_single_sample_calls_stay_on_the_calling_thread(two_threads):
    codec, maps = _maps(1)
    kps = np.random.default_rng(1).uniform(0, 190, (1, 17, 2))
    assert _pool_calls_during(lambda: codec.decode(maps[0])) == 0
    assert _pool_calls_during(lambda: codec.encode(kps)) == 0
    simcc = fastcodec.SimCCLabel((192, 256), sigma=(4.9, 5.66), simcc_split_ratio=2.0)
    assert _pool_calls_during(lambda: simcc.encode(kps)) == 0


def test_large_batches_use_the_pool(two_threads):
    codec, maps = _maps(64)
    assert _pool_calls_during(lambda: codec.batch_decode(maps)) == 1
    fastcodec.set_num_threads(1)
    assert _pool_calls_during(lambda: codec.batch_decode(maps)) == 0


def test_threaded_and_single_thread_results_are_identical(two_threads):
    codec, maps = _maps(64)
    threaded = codec.batch_decode(maps)
    fastcodec.set_num_threads(1)
    single = codec.batch_decode(maps)
    for a, b in zip(threaded, single):
        np.testing.assert_array_equal(a, b)


def test_no_thread_spins_while_idle(two_threads):
    codec, maps = _maps(64)
    assert _pool_calls_during(lambda: codec.batch_decode(maps)) == 1
    start = time.process_time()
    time.sleep(0.3)
    # CPU time of the whole process (every thread) while it sleeps: a worker that
    # spins after a call would add up to its spin time.
    assert time.process_time() - start < 0.02


WORKER_SCRIPT = textwrap.dedent('''
    import numpy as np, torch, fastcodec

    codec = fastcodec.MSRAHeatmap((192, 256), (48, 64), 2.0)

    class Threads(torch.utils.data.Dataset):
        def __len__(self):
            return 4
        def __getitem__(self, i):
            codec.encode(np.random.rand(1, 17, 2) * 190)
            return fastcodec.get_num_threads()

    def init(worker_id):
        fastcodec.set_num_threads(3)

    if __name__ == "__main__":
        fastcodec.set_num_threads(2)
        codec.batch_encode(np.random.rand(64, 1, 17, 2) * 190)   # the pool runs here
        for init_fn in (None, init):
            loader = torch.utils.data.DataLoader(Threads(), batch_size=None, num_workers=2,
                                                 worker_init_fn=init_fn,
                                                 multiprocessing_context="{context}")
            print(sorted(set(int(n) for n in loader)))
        print(fastcodec.get_num_threads())
''')


@pytest.mark.parametrize('context', ['fork', 'spawn'])
def test_dataloader_workers_use_one_thread_unless_told(context, tmp_path):
    pytest.importorskip('torch')
    script = tmp_path / 'workers.py'
    script.write_text(WORKER_SCRIPT.format(context=context))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    # default in workers: 1; set in worker_init_fn: 3; the parent keeps its 2
    assert out.stdout.split('\n')[:3] == ['[1]', '[3]', '2']


@pytest.mark.skipif(not hasattr(os, 'sched_setaffinity') or len(os.sched_getaffinity(0)) < 2,
                    reason='needs a process allowed on two CPUs or more')
def test_the_default_follows_the_cpus_the_process_may_run_on():
    # taskset / a cpuset / Slurm: threads beyond the allowed CPUs only take turns
    first = min(os.sched_getaffinity(0))
    out = subprocess.run([sys.executable, '-c', f'''
import os
os.sched_setaffinity(0, {{{first}}})
import fastcodec
print(fastcodec.get_num_threads())
'''], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ['1']
