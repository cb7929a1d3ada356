"""Zoo lifting models: the data goes through fastcodec's VideoPoseLifting /
ImagePoseLifting codecs (and equals MMPose's codecs), predictions decode through the
codec, flip augmentation and flip test are consistent with the codec's normalisation,
the TCN (VideoPose3D) and MLP lifters train, and MPJPE / P-MPJPE behave."""

import numpy as np
import pytest

torch = pytest.importorskip('torch')
pytest.importorskip('tqdm')

import fastcodec
from fastcodec.models.backbones.tcn import TCN
from fastcodec.models.builder import build_model
from fastcodec.models.config import collate, load_config
from fastcodec.models.data.motion import (MotionLiftingDataset, check_mirror_symmetric,
                                lifting_stats)
from fastcodec.models.data.synth import write_motion
from fastcodec.models.lifter import PoseLifter
from fastcodec.models.metrics3d import mpjpe, p_mpjpe, procrustes_align
from fastcodec.models.train import train

VIDEO = dict(type='VideoPoseLifting', num_keypoints=17, zero_center=True, root_index=[11, 12],
             reshape_keypoints=False)


@pytest.fixture(scope='module')
def motion(tmp_path_factory):
    d = tmp_path_factory.mktemp('motion')
    write_motion(str(d / 'motion_train.npz'), 3, 40, seed=0)
    write_motion(str(d / 'motion_val.npz'), 1, 40, seed=1)
    return d


@pytest.fixture(scope='module')
def image_codec(motion):
    """ImagePoseLifting with keypoint and target statistics of the training file."""
    return dict(type='ImagePoseLifting', num_keypoints=17, root_index=[11, 12],
                reshape_keypoints=False, **lifting_stats(str(motion / 'motion_train.npz')))


def _codec(name, image_codec):
    return VIDEO if name == 'tcn' else image_codec


def _cfg(motion, backbone, seq_len, codec, iters=25):
    ds = dict(type='MotionLiftingDataset', npz_file=str(motion / 'motion_train.npz'),
              seq_len=seq_len, codec=codec)
    return dict(config_path=str(motion / 'lift.py'),
                model=dict(type='PoseLifter', backbone=backbone,
                           head=dict(type='TemporalRegressionHead', num_joints=17, codec=codec)),
                train_dataloader=dict(batch_size=32, num_workers=0, dataset=ds),
                val_dataloader=dict(batch_size=64, dataset=dict(
                    ds, npz_file=str(motion / 'motion_val.npz'), frame_stride=5)),
                optimizer=dict(lr=1e-3, weight_decay=0.0),
                schedule=dict(max_iters=iters, warmup_iters=0, log_interval=5,
                              min_lr_ratio=1.0), num_threads=1)


BACKBONES = {
    'tcn': (dict(type='TCN', in_channels=34, stem_channels=32, kernel_sizes=(3, 3),
                 dropout=0.0), 9),
    'mlp': (dict(type='LiftingMLP', in_channels=34, channels=64, num_blocks=1, dropout=0.0), 1),
}


def _mm(motion):
    """The motion file's arrays: keypoints_2d px, keypoints_3d metres (float64), sizes."""
    d = np.load(str(motion / 'motion_train.npz'))
    return (d['keypoints_2d'], d['keypoints_3d'].astype(np.float64) / 1000.0,
            d['image_size'])


# ---- the dataset encodes through the codec ---------------------------------------------
@pytest.mark.parametrize('name', ['tcn', 'mlp'])
def test_dataset_is_the_codecs_encode(motion, image_codec, mmc, name):
    """Inputs and targets are what fastcodec's codec (and MMPose's) encode gives per
    sample: a sequence for VideoPoseLifting, a frame for ImagePoseLifting."""
    codec_cfg = _codec(name, image_codec)
    seq_len = BACKBONES[name][1]
    ds = MotionLiftingDataset(str(motion / 'motion_train.npz'), codec_cfg, seq_len=seq_len)
    kp2d, kp3d, size = _mm(motion)
    ours = fastcodec.build(dict(codec_cfg))
    args = {k: v for k, v in codec_cfg.items() if k != 'type'}
    ref = getattr(mmc, codec_cfg['type'])(**args)
    pad = seq_len // 2
    for i in (0, 7, 39, 40, 77, len(ds) - 1):
        s, t = ds.index[i]
        frames = np.clip(np.arange(t - pad, t + pad + 1), 0, kp2d.shape[1] - 1)
        item = ds[i]
        if name == 'tcn':
            cam = dict(w=float(size[s, 0]), h=float(size[s, 1]))
            encs = [c.encode(kp2d[s], None, kp3d[s], None, camera_param=dict(cam))
                    for c in (ours, ref)]
            for enc in encs:
                np.testing.assert_allclose(item['inputs'].numpy(),
                                           enc['keypoint_labels'][frames], rtol=0, atol=1e-6)
                np.testing.assert_allclose(item['targets']['lifting_target'],
                                           enc['lifting_target_label'][t], rtol=0, atol=1e-6)
                np.testing.assert_allclose(item['target_root'], enc['target_root'][t],
                                           rtol=0, atol=1e-6)
        else:
            encs = [c.encode(kp2d[s, t][None], None, kp3d[s, t][None]) for c in (ours, ref)]
            for enc in encs:
                np.testing.assert_allclose(item['inputs'].numpy(), enc['keypoint_labels'],
                                           rtol=0, atol=1e-5)
                np.testing.assert_allclose(item['targets']['lifting_target'],
                                           enc['lifting_target_label'][0], rtol=0, atol=1e-5)
        # the hip-midpoint root, the target in metres
        root = kp3d[s, t, [11, 12]].mean(0)
        np.testing.assert_allclose(item['target_root'], root, atol=1e-6)
        np.testing.assert_allclose(item['pose_3d'], kp3d[s, t] - root, atol=1e-6)
        np.testing.assert_allclose(item['keypoints_3d'], kp3d[s, t] * 1000, rtol=1e-6)
    assert len(ds) == 3 * 40 and item['inputs'].shape == (seq_len, 17, 2)
    first = ds[0]['inputs']  # first frame: left padding repeats it
    assert torch.equal(first[0], first[pad])
    with pytest.raises(ValueError):
        MotionLiftingDataset(str(motion / 'motion_train.npz'), codec_cfg, seq_len=4)


def test_video_codec_normalises_by_image_centre_and_half_width(motion):
    ds = MotionLiftingDataset(str(motion / 'motion_train.npz'), VIDEO, seq_len=1)
    kp2d, _, size = _mm(motion)
    s, t = ds.index[50]
    w, h = size[s]
    np.testing.assert_allclose(ds[50]['inputs'][0].numpy(),
                               (kp2d[s, t] - [w / 2, h / 2]) / (w / 2), atol=1e-6)
    for bad in (dict(VIDEO, reshape_keypoints=True), dict(VIDEO, zero_center=False),
                dict(VIDEO, root_index=11, remove_root=True), dict(type='MSRAHeatmap',
                input_size=(192, 256), heatmap_size=(48, 64), sigma=2)):
        with pytest.raises(ValueError):
            MotionLiftingDataset(str(motion / 'motion_train.npz'), bad, seq_len=1)


def test_lifting_stats_are_mirror_symmetric_and_normalise(motion, image_codec):
    ds = MotionLiftingDataset(str(motion / 'motion_train.npz'), image_codec, seq_len=1,
                              augment_flip=True)
    check_mirror_symmetric(fastcodec.build(dict(image_codec)), ds.flip_indices)
    both_in = np.concatenate([e['keypoints'] for e in ds.encoded]).reshape(-1, 17, 2)
    both_t = np.concatenate([e['lifting_target'] for e in ds.encoded]).reshape(-1, 17, 3)
    # the training set with its mirror image is standardised (up to the rounding)
    np.testing.assert_allclose(both_in.mean(0), 0, atol=2e-3)
    np.testing.assert_allclose(both_in.std(0), 1, atol=2e-3)
    # (rounding the means to 0.1 mm is 1e-2 of the hips' smallest std)
    np.testing.assert_allclose(both_t.mean(0), 0, atol=1e-2)
    np.testing.assert_allclose(both_t.std(0), 1, atol=1e-2)
    # statistics that are not mirror-symmetric cannot be flipped by negating x
    bad = dict(image_codec)
    bad['keypoints_mean'] = [[x + 30.0 * (j % 2), y] for j, (x, y) in
                             enumerate(image_codec['keypoints_mean'])]
    with pytest.raises(ValueError, match='mirror-symmetric'):
        check_mirror_symmetric(fastcodec.build(bad), ds.flip_indices)
    with pytest.raises(ValueError, match='keypoints_mean'):
        build_model(dict(type='PoseLifter', backbone=BACKBONES['mlp'][0],
                         head=dict(type='TemporalRegressionHead', codec=dict(
                             type='ImagePoseLifting', num_keypoints=17,
                             reshape_keypoints=False))))


def test_quick_mlp_config_stats_fit_the_generated_data(tmp_path):
    """The statistics embedded in quick_lifting_mlp.py are those of the generator."""
    cfg = load_config('quick_lifting_mlp')
    codec = cfg['model']['head']['codec']
    assert cfg['train_dataloader']['dataset']['codec'] == codec
    write_motion(str(tmp_path / 'm.npz'), 40, 12, seed=5)
    fresh = lifting_stats(str(tmp_path / 'm.npz'))
    for key in ('keypoints', 'target'):
        m, s = np.array(codec[f'{key}_mean']), np.array(codec[f'{key}_std'])
        fm, fs = np.array(fresh[f'{key}_mean']), np.array(fresh[f'{key}_std'])
        assert np.all(np.abs(m - fm) < 0.35 * s), key
        assert np.all((fs > 0.6 * s) & (fs < 1.6 * s)), key


# ---- flip augmentation and flip test -------------------------------------------------------
@pytest.mark.parametrize('name', ['tcn', 'mlp'])
def test_flip_augmentation_is_the_mirrored_image(motion, image_codec, name):
    """The augmented view encodes the image mirrored in pixels (x -> w - x, left and
    right swapped) and the 3-D pose mirrored (x -> -x); in the codec's normalised
    coordinates that is the lifter's flip (negate x of the swapped joints), and the
    decoded mirrored target is the mirrored decoded target."""
    codec_cfg = _codec(name, image_codec)
    ds = MotionLiftingDataset(str(motion / 'motion_train.npz'), codec_cfg, seq_len=1,
                              augment_flip=True, seed=3)
    fi = ds.flip_indices
    kp2d, kp3d, size = _mm(motion)
    orig, mirr = ds.encoded
    x = torch.from_numpy(orig['keypoints'][:, :, :, :].reshape(-1, 1, 17, 2))
    np.testing.assert_allclose(PoseLifter.flip_inputs(x, fi).numpy().reshape(
        mirr['keypoints'].shape), mirr['keypoints'], rtol=0, atol=2e-5)
    # the mirrored view is what the codec gives for the pixel mirror image
    codec = fastcodec.build(dict(codec_cfg))
    s, t = 2, 17
    px = kp2d[s, t][fi].astype(np.float64)
    px[:, 0] = size[s, 0] - px[:, 0]
    p3 = kp3d[s, t][fi].copy()
    p3[:, 0] = -p3[:, 0]
    if name == 'tcn':
        enc = codec.encode(px[None], None, p3[None], None,
                           camera_param=dict(w=float(size[s, 0]), h=float(size[s, 1])))
    else:
        enc = codec.encode(px[None], None, p3[None])
    np.testing.assert_allclose(mirr['keypoints'][s, t], enc['keypoint_labels'][0], atol=1e-5)
    np.testing.assert_allclose(mirr['lifting_target'][s, t], enc['lifting_target_label'][0],
                               atol=1e-5)
    head = build_model(dict(type='PoseLifter', backbone=BACKBONES['mlp'][0], head=dict(
        type='TemporalRegressionHead', codec=codec_cfg))).head
    t0 = torch.from_numpy(orig['lifting_target'].reshape(-1, 17, 3))
    t1 = torch.from_numpy(mirr['lifting_target'].reshape(-1, 17, 3))
    torch.testing.assert_close(head.flip_back(head.decode(t1), fi), head.decode(t0),
                               atol=2e-6, rtol=0)
    # items draw either view, mirrored consistently (inputs with targets)
    seen = set()
    for i in range(40):
        it = ds[i]
        s, t = ds.index[i]
        v = int(not np.array_equal(it['inputs'].numpy(), orig['keypoints'][s, [t]]))
        seen.add(v)
        np.testing.assert_array_equal(it['inputs'].numpy(), ds.encoded[v]['keypoints'][s, [t]])
        np.testing.assert_array_equal(it['targets']['lifting_target'],
                                      ds.encoded[v]['lifting_target'][s, t])
        np.testing.assert_array_equal(it['pose_3d'], ds.pose_3d[v][s, t])
    assert seen == {0, 1}


@pytest.mark.parametrize('name', ['tcn', 'mlp'])
def test_predict_decodes_a_perfect_prediction_to_the_poses(motion, image_codec, name):
    """A head that outputs the encoded target of its input (the mirrored view's target
    for the mirrored input) predicts, through codec.batch_decode and the flip test,
    the root-relative 3-D poses: MPJPE 0 mm."""
    codec_cfg = _codec(name, image_codec)
    bb, seq_len = BACKBONES[name]
    ds = MotionLiftingDataset(str(motion / 'motion_train.npz'), codec_cfg, seq_len=seq_len,
                              augment_flip=True)
    pad = seq_len // 2
    T = ds.kp2d.shape[1]
    table_x, table_y = [], []
    for v in (0, 1):
        for s, t in ds.index:
            frames = np.clip(np.arange(t - pad, t + pad + 1), 0, T - 1)
            table_x.append(ds.encoded[v]['keypoints'][s, frames].reshape(-1))
            table_y.append(ds.encoded[v]['lifting_target'][s, t])
    table_x, table_y = torch.from_numpy(np.stack(table_x)), torch.from_numpy(np.stack(table_y))

    model = build_model(dict(type='PoseLifter', backbone=bb, head=dict(
        type='TemporalRegressionHead', num_joints=17, codec=codec_cfg))).eval()
    model.backbone = torch.nn.Identity()
    gap = []

    def oracle(x):
        d = torch.cdist(x.reshape(x.shape[0], -1).double(), table_x.double())
        dmin, idx = d.min(1)
        gap.append(float(dmin.max()))
        return table_y[idx]

    model.head.forward = oracle
    ds.augment_flip = False
    batch = collate([ds[i] for i in range(0, len(ds), 3)])
    for flip in (False, True):
        model.flip_test = flip
        pred = model(batch['inputs'], batch, mode='predict')['keypoints_3d']
        assert pred.dtype == torch.float32 and pred.shape == batch['pose_3d'].shape
        assert mpjpe(pred.numpy() * 1000, batch['pose_3d'].numpy() * 1000) < 0.01
    assert max(gap) < 1e-4  # the flipped inputs were the mirrored view's
    # the head's outputs are in the codec's units: decoding is not the identity for
    # ImagePoseLifting (target_mean / target_std)
    raw = batch['targets']['lifting_target']
    changed = not torch.allclose(model.head.decode(raw), raw, atol=1e-3)
    assert changed == (name == 'mlp')


# ---- training ------------------------------------------------------------------------------
@pytest.mark.parametrize('name', sorted(BACKBONES))
def test_lifters_train(motion, image_codec, tmp_path, name):
    torch.manual_seed(0)
    bb, seq_len = BACKBONES[name]
    cfg = _cfg(motion, bb, seq_len, _codec(name, image_codec))
    losses = train(cfg, work_dir=str(tmp_path), progress_bar=False)
    assert len(losses) == 25 and np.mean(losses[-3:]) < 0.7 * np.mean(losses[:3]), losses
    from fastcodec.models.eval import evaluate_lifting
    m = evaluate_lifting(cfg, str(tmp_path / 'latest.pt'))
    assert 0 < m['P-MPJPE'] <= m['MPJPE'] + 1e-6
    assert m['MPJPE'] < 1000  # mm: the decoded predictions are metres, not normalised


def test_tcn_receptive_field():
    net = TCN(34, 16, (3, 3, 3))
    assert net.receptive_field == 27
    assert net(torch.zeros(2, 27, 17, 2))[0].shape == (2, 16, 1)
    assert net(torch.zeros(2, 30, 17, 2))[0].shape == (2, 16, 4)
    strided = TCN(34, 16, (3, 3, 3), use_stride_conv=True)
    assert strided(torch.zeros(2, 27, 17, 2))[0].shape == (2, 16, 1)


@pytest.mark.parametrize('name', ['tcn', 'mlp'])
def test_flip_test_of_a_mirror_symmetric_lifter(image_codec, name):
    """flip_back undoes the input mirroring: with flip test, a model predicts the same
    for an input and for its mirror image mirrored back."""
    torch.manual_seed(0)
    model = build_model(dict(type='PoseLifter', backbone=BACKBONES['mlp'][0], head=dict(
        type='TemporalRegressionHead', num_joints=17,
        codec=_codec(name, image_codec)))).eval()
    x = torch.randn(4, 1, 17, 2)
    xf = PoseLifter.flip_inputs(x, model.flip_indices)
    p = model(x, mode='predict')['keypoints_3d']
    pf = model.head.flip_back(model(xf, mode='predict')['keypoints_3d'], model.flip_indices)
    torch.testing.assert_close(p, pf, atol=1e-5, rtol=1e-5)
    model.flip_test = False
    assert not torch.allclose(model(x, mode='predict')['keypoints_3d'], p, atol=1e-3)


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
