"""Zoo lifting models: the TCN (VideoPose3D) and MLP lifters train on generated 3-D
sequences, flip test is consistent, and MPJPE / P-MPJPE behave."""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
torch = pytest.importorskip('torch')
pytest.importorskip('tqdm')

from models.backbones.tcn import TCN  # noqa: E402
from models.builder import build_model  # noqa: E402
from models.data.motion import LiftingNormalizer, MotionLiftingDataset  # noqa: E402
from models.data.synth import write_motion  # noqa: E402
from models.metrics3d import mpjpe, p_mpjpe, procrustes_align  # noqa: E402
from models.train import train  # noqa: E402


@pytest.fixture(scope='module')
def motion(tmp_path_factory):
    d = tmp_path_factory.mktemp('motion')
    write_motion(str(d / 'motion_train.npz'), 3, 40, seed=0)
    write_motion(str(d / 'motion_val.npz'), 1, 40, seed=1)
    return d


def _cfg(motion, backbone, seq_len, iters=25):
    ds = dict(type='MotionLiftingDataset', npz_file=str(motion / 'motion_train.npz'),
              seq_len=seq_len)
    return dict(config_path=str(motion / 'lift.py'),
                model=dict(type='PoseLifter', backbone=backbone,
                           head=dict(type='TemporalRegressionHead', num_joints=17)),
                train_dataloader=dict(batch_size=32, num_workers=0, dataset=ds),
                val_dataloader=dict(batch_size=64, dataset=dict(
                    ds, npz_file=str(motion / 'motion_val.npz'), frame_stride=5)),
                optimizer=dict(lr=1e-3, weight_decay=0.0),
                schedule=dict(max_iters=iters, warmup_iters=0, log_interval=5,
                              min_lr_ratio=1.0))


BACKBONES = {
    'tcn': (dict(type='TCN', in_channels=34, stem_channels=32, kernel_sizes=(3, 3),
                 dropout=0.0), 9),
    'mlp': (dict(type='LiftingMLP', in_channels=34, channels=64, num_blocks=1, dropout=0.0), 1),
}


@pytest.mark.parametrize('name', sorted(BACKBONES))
def test_lifters_train(motion, tmp_path, name):
    torch.manual_seed(0)
    bb, seq_len = BACKBONES[name]
    losses = train(_cfg(motion, bb, seq_len), work_dir=str(tmp_path), progress_bar=False)
    assert len(losses) == 25 and np.mean(losses[-3:]) < 0.7 * np.mean(losses[:3]), losses
    from models.eval import evaluate_lifting
    m = evaluate_lifting(_cfg(motion, bb, seq_len), str(tmp_path / 'latest.pt'))
    assert 0 < m['P-MPJPE'] <= m['MPJPE'] + 1e-6


def test_tcn_receptive_field():
    net = TCN(34, 16, (3, 3, 3))
    assert net.receptive_field == 27
    assert net(torch.zeros(2, 27, 17, 2))[0].shape == (2, 16, 1)
    assert net(torch.zeros(2, 30, 17, 2))[0].shape == (2, 16, 4)
    strided = TCN(34, 16, (3, 3, 3), use_stride_conv=True)
    assert strided(torch.zeros(2, 27, 17, 2))[0].shape == (2, 16, 1)


def test_dataset_windows_and_normalisation(motion):
    ds = MotionLiftingDataset(str(motion / 'motion_train.npz'), seq_len=9)
    assert len(ds) == 3 * 40
    item = ds[0]  # first frame: left padding repeats it
    assert item['inputs'].shape == (9, 17, 2)
    assert torch.equal(item['inputs'][0], item['inputs'][4])
    tgt = item['targets']['lifting_target']
    np.testing.assert_allclose(tgt[[11, 12]].mean(0), 0, atol=1e-6)  # hip-midpoint root
    back = LiftingNormalizer.decode(tgt, item['target_root'])
    np.testing.assert_allclose(back, item['keypoints_3d'], atol=1e-2)
    with pytest.raises(ValueError):
        MotionLiftingDataset(str(motion / 'motion_train.npz'), seq_len=4)


def test_flip_test_of_a_mirror_symmetric_lifter(motion):
    """flip_back undoes the input mirroring: with flip test, a model predicts the same
    for an input and for its mirror image mirrored back."""
    torch.manual_seed(0)
    model = build_model(dict(type='PoseLifter', backbone=BACKBONES['mlp'][0],
                             head=dict(type='TemporalRegressionHead', num_joints=17))).eval()
    x = torch.randn(4, 1, 17, 2)
    xf = x[:, :, model.flip_indices].clone()
    xf[..., 0] = -xf[..., 0]
    p = model(x, mode='predict')['keypoints_3d']
    pf = model.head.flip_back(model(xf, mode='predict')['keypoints_3d'], model.flip_indices)
    torch.testing.assert_close(p, pf, atol=1e-5, rtol=1e-5)


def test_mpjpe_and_procrustes():
    rng = np.random.default_rng(0)
    gt = rng.normal(0, 300, (5, 17, 3))
    assert mpjpe(gt, gt) == 0.0
    shifted = gt + np.array([10.0, 0.0, 0.0])
    assert mpjpe(shifted, gt) == pytest.approx(10.0)
    c, s = np.cos(0.7), np.sin(0.7)
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    moved = 1.3 * gt @ rot.T + 50.0
    assert mpjpe(moved, gt) > 100
    assert p_mpjpe(moved, gt) == pytest.approx(0.0, abs=1e-6)
    noisy = gt + rng.normal(0, 20, gt.shape)
    assert p_mpjpe(noisy, gt) <= mpjpe(noisy, gt)
    # a reflection is not a rotation: Procrustes must not undo it
    mirrored = gt * np.array([-1.0, 1.0, 1.0])
    assert mpjpe(procrustes_align(mirrored, gt), gt) > 1.0
