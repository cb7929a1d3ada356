"""Quick VideoPose3D-style lifter: a 27-frame temporal convolution network on 2-D
COCO-17 keypoint sequences from ``python -m models.data.synth DIR --mode 3d``, encoded
by fastcodec's VideoPoseLifting codec (root = hip midpoint, targets in metres); MPJPE
loss on root-relative 3-D poses; ~8 minutes on 2 CPU cores."""
import os

_root = os.environ.get('FASTCODEC_DATA3D', 'data/synth3d')
codec = dict(type='VideoPoseLifting', num_keypoints=17, zero_center=True, root_index=[11, 12],
             reshape_keypoints=False)
model = dict(
    type='PoseLifter',
    backbone=dict(type='TCN', in_channels=34, stem_channels=256, kernel_sizes=(3, 3, 3),
                  dropout=0.1, use_stride_conv=True),
    head=dict(type='TemporalRegressionHead', num_joints=17, codec=codec),
    test_cfg=dict(flip_test=True))
train_dataloader = dict(batch_size=128, num_workers=0, dataset=dict(
    type='MotionLiftingDataset', npz_file=os.path.join(_root, 'motion_train.npz'),
    codec=codec, seq_len=27, augment_flip=True))
val_dataloader = dict(batch_size=512, num_workers=0, dataset=dict(
    type='MotionLiftingDataset', npz_file=os.path.join(_root, 'motion_val.npz'),
    codec=codec, seq_len=27, frame_stride=4))
optimizer = dict(lr=2e-3, weight_decay=1e-4)
schedule = dict(max_iters=100000, max_minutes=10, warmup_iters=50, log_interval=20,
                checkpoint_interval=1000)
num_threads = 2
