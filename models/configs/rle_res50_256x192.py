"""DeepPose-style regression with RLE (MMPose td-reg_res50_rle-8xb64-210e_coco-256x192):
ResNet-50, global pooling + linear to (x, y, sigma_x, sigma_y), RegressionLabel."""
from fastcodec.models.configs._base import coco_split, topdown_pipelines

input_size = (192, 256)
codec = dict(type='RegressionLabel', input_size=input_size)
model = dict(
    type='TopdownPoseEstimator',
    backbone=dict(type='ResNet', depth=50),
    head=dict(type='RegressionHead', out_channels=17, codec=codec, loss='rle'),
    test_cfg=dict(flip_test=True))
_train, _val = topdown_pipelines(input_size, codec)
train_dataloader = dict(batch_size=64, num_workers=4, dataset=coco_split('train', _train))
val_dataloader = dict(batch_size=64, num_workers=2, dataset=coco_split('val', _val))
optimizer = dict(lr=1e-3, weight_decay=1e-4)
schedule = dict(max_iters=40000, warmup_iters=500, log_interval=50, checkpoint_interval=2000)
