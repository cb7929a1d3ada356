"""Integral regression / DSNT (MMPose ipr_res50_dsnt-8xb64-210e_coco-256x256 at 256x192):
ResNet-50, deconvolutions to 48x64 heatmaps, soft-argmax, SmoothL1 + JS loss on
IntegralRegressionLabel targets."""
from fastcodec.models.configs._base import coco_split, topdown_pipelines

input_size = (192, 256)
codec = dict(type='IntegralRegressionLabel', input_size=input_size, heatmap_size=(48, 64),
             sigma=2.0, normalize=True)
model = dict(
    type='TopdownPoseEstimator',
    backbone=dict(type='ResNet', depth=50),
    head=dict(type='IntegralRegressionHead', out_channels=17, codec=codec, loss='dsnt'),
    test_cfg=dict(flip_test=True))
_train, _val = topdown_pipelines(input_size, codec)
train_dataloader = dict(batch_size=64, num_workers=4, dataset=coco_split('train', _train))
val_dataloader = dict(batch_size=64, num_workers=2, dataset=coco_split('val', _val))
optimizer = dict(lr=5e-4, weight_decay=1e-4)
schedule = dict(max_iters=40000, warmup_iters=500, log_interval=50, checkpoint_interval=2000)
