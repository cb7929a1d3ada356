"""Training throughput of the quick heatmap config on a GPU: targets built by the
DataLoader (GenerateTarget in its workers, the default) against targets built in the
training step on the GPU (``--device-targets``: one ``MSRAHeatmap.batch_encode`` on
the batch's CUDA keypoints, the cuda backend's kernels).

    pytest benchmarks/bench_device_targets.py --benchmark-json RUN.json

Skipped without a CUDA device (and CuPy and torch with CUDA), like bench_cuda.py.
Each case is one run of models/train.py's loop (``train()``: DataLoader with the
config's workers, AMP, AdamW) for ``WARMUP_ITERS + ITERS`` iterations; samples per
second are measured over the last ``ITERS`` iterations from the loop's own log
(``log.csv``: elapsed seconds every ``LOG_EVERY`` iterations; the loss is read back
every iteration, so the clock follows the GPU). Data: ``$FASTCODEC_DATA`` when it holds
the synthetic set (``fastcodec synth``), else ``NUM_IMAGES`` images generated once into
a temporary directory. ``extra_info``: samples_per_s, targets (dataloader | device),
num_workers, batch_size, gpu.
"""
from __future__ import annotations

import csv
import os

import pytest

cupy = pytest.importorskip('cupy')
from _harness import cuda_device  # noqa: E402
torch = pytest.importorskip('torch')
pytest.importorskip('pycocotools')
pytestmark = pytest.mark.skipif(not cuda_device(), reason='no CUDA device')

CONFIG = 'quick_heatmap_res18'
WARMUP_ITERS = 20   # cuDNN autotuning, NVRTC compilation, the workers' start
ITERS = 100
LOG_EVERY = 10
NUM_IMAGES = 200


def samples_per_second(cfg, work_dir, device, device_targets, warmup=WARMUP_ITERS,
                       iters=ITERS, log_every=LOG_EVERY):
    """Run ``train()`` for warmup + iters iterations on ``device`` and return the
    samples per second of the last ``iters`` (from the elapsed times in log.csv)."""
    from fastcodec.models.train import train
    if warmup % log_every or iters % log_every:
        raise ValueError('warmup and iters must be multiples of log_every')
    cfg = dict(cfg, schedule=dict(cfg.get('schedule', {}), max_iters=warmup + iters,
                                  max_minutes=None, log_interval=log_every,
                                  checkpoint_interval=None))
    train(cfg, work_dir=work_dir, device=device, device_targets=device_targets,
          progress_bar=False)
    with open(os.path.join(work_dir, 'log.csv')) as f:
        elapsed = {int(r['iter']): float(r['elapsed_s']) for r in csv.DictReader(f)}
    seconds = elapsed[warmup + iters] - elapsed[warmup]
    return iters * int(cfg['train_dataloader']['batch_size']) / seconds


@pytest.fixture(scope='module')
def cfg(tmp_path_factory):
    from fastcodec.models.config import load_config
    root = os.environ.get('FASTCODEC_DATA', 'data/synth')
    if not os.path.exists(os.path.join(root, 'annotations', 'person_keypoints_train.json')):
        from fastcodec.models.data.synth import generate
        root = str(tmp_path_factory.mktemp('synth'))
        generate(root, NUM_IMAGES, 1, seed=0)
    ds = 'train_dataloader.dataset.'
    return load_config(CONFIG, [f'{ds}ann_file={root}/annotations/person_keypoints_train.json',
                                f'{ds}img_dir={root}/images/train'])


@pytest.mark.parametrize('targets', ['dataloader', 'device'])
def test_quick_heatmap_training_throughput(benchmark, cfg, tmp_path, targets):
    out = {}

    def run():
        out['samples_per_s'] = samples_per_second(cfg, str(tmp_path / targets), 'cuda',
                                                  targets == 'device')
    benchmark.group = f'train {CONFIG}'
    benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info.update(
        case=f'train {CONFIG}', targets=targets, samples_per_s=out['samples_per_s'],
        num_workers=int(cfg['train_dataloader'].get('num_workers', 0)),
        batch_size=int(cfg['train_dataloader']['batch_size']),
        gpu=torch.cuda.get_device_name())
    assert out['samples_per_s'] > 0
