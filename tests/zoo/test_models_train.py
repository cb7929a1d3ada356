"""Zoo models: every model trains (loss decreases) on a tiny generated set, the three
forward modes and flip test behave, device-side targets equal DataLoader targets,
checkpoints resume, and a 2-process gloo DDP run keeps the ranks' weights equal."""
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip('pycocotools')
pytest.importorskip('tqdm')
torch = pytest.importorskip('torch')

from fastcodec.models.builder import build_model
from fastcodec.models.config import build_dataset, collate
from fastcodec.models.testing import TINY_CODECS, tiny_config, tiny_dataset
from fastcodec.models.train import lr_factor, train

KINDS = sorted(TINY_CODECS)


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    return tiny_dataset(str(tmp_path_factory.mktemp('synth')), num_train=6, num_val=3)


@pytest.mark.parametrize('kind', KINDS)
def test_every_model_trains(root, tmp_path, kind):
    torch.manual_seed(0)
    cfg = tiny_config(root, kind, max_iters=14, lr=2e-3,
                      extra=dict(train_dataloader=None))
    cfg['train_dataloader'] = tiny_config(root, kind)['train_dataloader']
    losses = train(cfg, work_dir=str(tmp_path), progress_bar=False)
    assert len(losses) == 14 and all(np.isfinite(losses))
    first, last = np.mean(losses[:3]), np.mean(losses[-3:])
    assert last < first - 0.2 * abs(first), losses  # RLE's loss may turn negative


def test_channels_last_gives_the_same_outputs(root):
    torch.manual_seed(0)
    cfg = tiny_config(root, 'msra')['model']
    a = build_model(cfg).eval()
    b = build_model(dict(cfg, test_cfg=dict(flip_test=True, channels_last=True))).eval()
    b.load_state_dict(a.state_dict())
    x = torch.randint(0, 255, (2, 3, 64, 64), dtype=torch.uint8)
    torch.testing.assert_close(a(x), b(x), atol=1e-5, rtol=1e-4)


def test_resnet_depths():
    from fastcodec.models.backbones import ResNet
    x = torch.zeros(1, 3, 64, 64)
    for depth, ch in ((18, 64), (34, 64), (50, 256)):
        net = ResNet(depth, base_channels=8)
        out = net(x)[-1]
        assert out.shape == (1, ch, 2, 2) and net.channels == ch
    with pytest.raises(ValueError):
        ResNet(19)


def test_resnet_stops_at_the_last_requested_stage():
    from fastcodec.models.backbones import ResNet
    net = ResNet(18, base_channels=8, out_indices=(1, 2))
    outs = net(torch.zeros(1, 3, 64, 64))
    assert [o.shape for o in outs] == [(1, 16, 8, 8), (1, 32, 4, 4)]
    assert len(net.stages) == 3 and net.channels == 32


@pytest.mark.parametrize('kind', ['msra', 'udp_combined', 'simcc', 'rle', 'dsnt'])
def test_forward_modes_and_flip(root, kind):
    torch.manual_seed(0)
    cfg = tiny_config(root, kind)
    model = build_model(cfg['model']).eval()
    ds = build_dataset(cfg['train_dataloader']['dataset'])
    batch = collate([ds[i] for i in range(4)])
    out = model(batch['inputs'], mode='tensor')
    outs = out if isinstance(out, tuple) else (out,)
    assert all(o.shape[0] == 4 for o in outs)
    loss = model(batch['inputs'], batch, mode='loss')
    assert 'loss_kpt' in loss and all(v.ndim == 0 for v in loss.values())
    with pytest.raises(ValueError):
        model(batch['inputs'], mode='loss')
    pred = model(batch['inputs'], batch, mode='predict')
    assert pred['keypoints'].shape == (4, 17, 2) and pred['keypoint_scores'].shape == (4, 17)
    # flip_back undoes a flip of the outputs: twice is the identity (no heatmap shift)
    model.head.shift_heatmap = False
    model.head.shift_coords = False
    back = model.head.flip_back(model.head.flip_back(out, model.flip_indices),
                                model.flip_indices)
    for a, b in zip(outs, back if isinstance(back, tuple) else (back,)):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize('kind', ['msra', 'simcc', 'rle', 'dsnt'])
def test_predict_maps_to_image_pixels(root, kind):
    """A model whose output is the encoded truth predicts the truth in image pixels."""
    cfg = tiny_config(root, kind)
    model = build_model(cfg['model']).eval()
    model.flip_test = False
    ds = build_dataset(cfg['train_dataloader']['dataset'])
    batch = collate([ds[i] for i in range(3)])
    t = batch['targets']
    if kind == 'simcc':
        enc = (t['keypoint_x_labels'][:, 0], t['keypoint_y_labels'][:, 0])
    elif kind == 'rle':
        enc = t['keypoint_labels'][:, 0]
    elif kind == 'dsnt':
        enc = (t['keypoint_labels'][:, 0], t['heatmaps'])
    else:
        enc = t['heatmaps']
    model.head.forward = lambda feats: enc
    pred = model(batch['inputs'], batch, mode='predict')['keypoints']
    raw = ds.samples
    gt = torch.as_tensor(np.stack([raw[i]['keypoints'][0] for i in range(3)]))
    vis = torch.as_tensor(np.stack([raw[i]['keypoints_visible'][0] for i in range(3)])) > 0
    inside = t['keypoint_weights'][:, 0] > 0
    m = vis & inside
    assert m.sum() > 10
    scale = batch['input_scale'].max()
    err = (pred - gt).norm(dim=-1)[m]
    # one heatmap pixel is input_scale / 16 image pixels; decoding is within that
    assert float(err.max()) <= float(scale) / 16 + 1e-3


@pytest.mark.parametrize('kind', ['dark', 'udp_combined', 'simcc', 'rle', 'dsnt'])
def test_device_targets_equal_dataloader_targets(root, kind):
    cfg = tiny_config(root, kind)
    model = build_model(cfg['model'])
    ds = build_dataset(cfg['train_dataloader']['dataset'])
    batch = collate([ds[i] for i in range(4)])
    dev = model.head.encode_targets(batch['keypoints'], batch['keypoints_visible'])
    assert set(dev) == set(batch['targets'])
    for k, v in dev.items():
        assert torch.equal(v, batch['targets'][k].float()), k  # the same kernels: bit for bit


def test_train_with_device_targets_and_resume(root, tmp_path):
    cfg = tiny_config(root, 'msra', max_iters=4)
    losses = train(cfg, work_dir=str(tmp_path), device_targets=True, progress_bar=False)
    assert len(losses) == 4
    ck = torch.load(tmp_path / 'latest.pt', weights_only=False)
    assert ck['iter'] == 4
    more = train(cfg, work_dir=str(tmp_path), resume='auto', max_iters=6, progress_bar=False)
    assert len(more) == 2
    assert torch.load(tmp_path / 'latest.pt', weights_only=False)['iter'] == 6
    rows = (tmp_path / 'log.csv').read_text().strip().splitlines()
    assert rows[0].startswith('iter,') and len(rows) == 1 + 6
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = EventAccumulator(str(tmp_path / 'tb')).Reload()
    assert [e.step for e in events.Scalars('train/loss')] == list(range(1, 7))


def test_lr_schedule():
    assert lr_factor(0.0, 0, 10, 0.001, 0.01) == pytest.approx(0.001)
    assert lr_factor(0.05, 5, 10, 0.0, 0.01) < lr_factor(0.1, 10, 10, 0.0, 0.01)
    assert lr_factor(0.5, 50, 10, 0.001, 0.0) == pytest.approx(0.5)
    assert lr_factor(1.0, 100, 10, 0.001, 0.01) == pytest.approx(0.01)


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_ddp_two_processes_gloo(root, tmp_path):
    cfg_path = tmp_path / 'tiny_ddp.py'
    cfg_path.write_text(
        'from fastcodec.models.testing import tiny_config\n'
        f'globals().update(tiny_config({root!r}, "msra", augment=True, batch_size=4, '
        'max_iters=3))\n'
        'del tiny_config\n')
    env = dict(os.environ, OMP_NUM_THREADS='1')  # the installed fastcodec.models.train
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2',
           '--master_addr', '127.0.0.1', '--master_port', str(_free_port()),
           '-m', 'fastcodec.models.train', str(cfg_path), '--work-dir',
           str(tmp_path / 'w'), '--device', 'cpu', '--no-progress', '--dump-rank-weights']
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=150)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    p0 = torch.load(tmp_path / 'w' / 'rank0_params.pt')
    p1 = torch.load(tmp_path / 'w' / 'rank1_params.pt')
    init = build_model(tiny_config(root, 'msra')['model']).state_dict()
    assert p0.keys() == p1.keys()
    changed = 0
    for k in p0:
        torch.testing.assert_close(p0[k], p1[k], atol=1e-6, rtol=1e-5)
        changed += int(not torch.allclose(p0[k], init[k]))
    assert changed > len(p0) // 2  # the ranks trained, and agree
    assert torch.load(tmp_path / 'w' / 'latest.pt', weights_only=False)['iter'] == 3
