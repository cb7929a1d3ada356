"""Quick single-frame lifter (Martinez et al.'s simple baseline, MMPose's
ImagePoseLifting setting) on the synthetic 3-D sequences: the zoo's lifting config
measured against the MPJPE <= 60 mm bar (10-minute budget, 2 CPU cores): 47.5 mm in
3.5 minutes of training (the 4000-iteration cap) on an idle machine (below).

The codec is fastcodec's ImagePoseLifting (root = hip midpoint). Without statistics it
passes the 2-D keypoints through in pixels (MMPose's encode only normalises with
keypoints_mean / keypoints_std), so, as MMPose's H36M configs do, the config embeds
dataset statistics, from ``python -m fastcodec.models.data.motion data/synth3d/motion_train.npz``
(fastcodec.models.data.motion.lifting_stats: the training set with its mirror image, so that the
normalisation commutes with flipping). Both the keypoint and the target statistics are
used: standardising the root-relative targets per joint trained much better than
metre targets (600 iterations, 1 thread, 300 sequences: MPJPE 63.0 mm with
target_mean / target_std, 82.4 mm with the keypoint statistics only). The loss is then
an MPJPE in standardised units; ``predict`` decodes through the codec
(``batch_decode`` undoes target_mean / target_std), so eval's MPJPE is in mm.

Measured (models/README.md, Lifting): ``fastcodec synth data/synth3d --mode 3d
--train 300 --val 40 && fastcodec train quick_lifting_mlp
--work-dir work_dirs/quick_lifting_mlp && fastcodec eval
quick_lifting_mlp work_dirs/quick_lifting_mlp/latest.pt`` took 4 min
35 s on the idle 2-core VM (generation 59 s, 4000 iterations in 206 s, evaluation) and
printed MPJPE=47.46 (P-MPJPE=48.15). An earlier run sharing the CPU with another
training run got only 876 iterations in the 10 minutes and printed MPJPE=59.83.
"""
import os

_root = os.environ.get('FASTCODEC_DATA3D', 'data/synth3d')
# lifting_stats of motion_train.npz from `fastcodec synth data/synth3d --mode 3d
# --train 300` (rounded, mirror-symmetric): pixels of the 1000x1000 images, metres
_keypoints_mean = [[500.0, 398.5849], [499.7896, 388.9551], [500.2104, 388.9551],
    [499.3882, 396.0631], [500.6118, 396.0631], [499.2813, 440.9243],
    [500.7187, 440.9243], [498.4039, 447.0106], [501.5961, 447.0106],
    [499.0375, 432.9825], [500.9625, 432.9825], [499.6323, 545.3866],
    [500.3677, 545.3866], [498.9592, 627.788], [501.0408, 627.788], [499.2607, 699.6249],
    [500.7393, 699.6249]]
_keypoints_std = [[29.3573, 19.4325], [30.194, 20.8233], [30.194, 20.8233],
    [32.6671, 19.4012], [32.6671, 19.4012], [37.7388, 13.23], [37.7388, 13.23],
    [71.7744, 36.4883], [71.7744, 36.4883], [88.8441, 52.1746], [88.8441, 52.1746],
    [19.7149, 9.5021], [19.7149, 9.5021], [52.9114, 32.6024], [52.9114, 32.6024],
    [83.5975, 55.7783], [83.5975, 55.7783]]
_target_mean = [[0.0, -0.6406, 0.0039], [-0.0011, -0.6826, 0.0036],
    [0.0011, -0.6826, 0.0036], [-0.0032, -0.6515, 0.0007], [0.0032, -0.6515, 0.0007],
    [-0.0043, -0.4557, 0.0002], [0.0043, -0.4557, 0.0002], [-0.0089, -0.4279, 0.0001],
    [0.0089, -0.4279, 0.0001], [-0.0057, -0.4868, 0.0006], [0.0057, -0.4868, 0.0006],
    [-0.0022, 0.0, 0.0], [0.0022, 0.0, 0.0], [-0.0046, 0.36, 0.0079],
    [0.0046, 0.36, 0.0079], [-0.0025, 0.6707, 0.0023], [0.0025, 0.6707, 0.0023]]
_target_std = [[0.1172, 0.025, 0.1148], [0.1213, 0.0232, 0.1197],
    [0.1213, 0.0232, 0.1197], [0.1328, 0.0231, 0.133], [0.1328, 0.0231, 0.133],
    [0.1556, 0.0291, 0.1556], [0.1556, 0.0291, 0.1556], [0.3045, 0.1468, 0.3109],
    [0.3045, 0.1468, 0.3109], [0.3772, 0.2114, 0.389], [0.3772, 0.2114, 0.389],
    [0.0701, 0.01, 0.0706], [0.0701, 0.01, 0.0706], [0.2205, 0.1001, 0.2155],
    [0.2205, 0.1001, 0.2155], [0.353, 0.1805, 0.3403], [0.353, 0.1805, 0.3403]]
codec = dict(type='ImagePoseLifting', num_keypoints=17, root_index=[11, 12],
             reshape_keypoints=False, keypoints_mean=_keypoints_mean,
             keypoints_std=_keypoints_std, target_mean=_target_mean, target_std=_target_std)
model = dict(
    type='PoseLifter',
    backbone=dict(type='LiftingMLP', in_channels=34, channels=512, num_blocks=2, dropout=0.2),
    head=dict(type='TemporalRegressionHead', num_joints=17, codec=codec),
    test_cfg=dict(flip_test=True))
train_dataloader = dict(batch_size=256, num_workers=0, dataset=dict(
    type='MotionLiftingDataset', npz_file=os.path.join(_root, 'motion_train.npz'),
    codec=codec, seq_len=1, augment_flip=True))
val_dataloader = dict(batch_size=512, num_workers=0, dataset=dict(
    type='MotionLiftingDataset', npz_file=os.path.join(_root, 'motion_val.npz'),
    codec=codec, seq_len=1, frame_stride=4))
optimizer = dict(lr=2e-3, weight_decay=1e-4)
schedule = dict(max_iters=4000, max_minutes=10, warmup_iters=50, log_interval=20,
                checkpoint_interval=1000)
num_threads = 2
