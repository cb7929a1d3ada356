"""Quick single-frame lifter (Martinez et al.'s simple baseline, MMPose's
ImagePoseLifting setting) on the synthetic 3-D sequences; ~8 minutes on 2 CPU cores
(a 45-second run on 100 sequences, 1 thread on a loaded machine, reached MPJPE 84 mm)."""
import os

_root = os.environ.get('FASTCODEC_DATA3D', 'data/synth3d')
model = dict(
    type='PoseLifter',
    backbone=dict(type='LiftingMLP', in_channels=34, channels=512, num_blocks=2, dropout=0.2),
    head=dict(type='TemporalRegressionHead', num_joints=17),
    test_cfg=dict(flip_test=True))
train_dataloader = dict(batch_size=256, num_workers=0, dataset=dict(
    type='MotionLiftingDataset', npz_file=os.path.join(_root, 'motion_train.npz'),
    seq_len=1, augment_flip=True))
val_dataloader = dict(batch_size=512, num_workers=0, dataset=dict(
    type='MotionLiftingDataset', npz_file=os.path.join(_root, 'motion_val.npz'),
    seq_len=1, frame_stride=4))
optimizer = dict(lr=2e-3, weight_decay=1e-4)
schedule = dict(max_iters=100000, max_minutes=8, warmup_iters=50, log_interval=20,
                checkpoint_interval=1000)
num_threads = 2
