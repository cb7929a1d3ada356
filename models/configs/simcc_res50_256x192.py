"""RTMPose-style SimCC on ResNet-50 (RTMCC head, SimCCLabel sigma (4.9, 5.66), split
ratio 2, KL loss), 256x192 input, AdamW 4e-3 as RTMPose."""
from fastcodec.models.configs._base import coco_split, topdown_pipelines

input_size = (192, 256)
codec = dict(type='SimCCLabel', input_size=input_size, sigma=(4.9, 5.66),
             simcc_split_ratio=2.0, normalize=False, use_dark=False)
model = dict(
    type='TopdownPoseEstimator',
    backbone=dict(type='ResNet', depth=50),
    head=dict(type='RTMCCHead', out_channels=17, input_size=input_size,
              in_featuremap_size=(6, 8), codec=codec),
    test_cfg=dict(flip_test=True))
_train, _val = topdown_pipelines(input_size, codec)
train_dataloader = dict(batch_size=64, num_workers=4, dataset=coco_split('train', _train))
val_dataloader = dict(batch_size=64, num_workers=2, dataset=coco_split('val', _val))
optimizer = dict(lr=4e-3, weight_decay=0.05)
schedule = dict(max_iters=40000, warmup_iters=1000, log_interval=50, checkpoint_interval=2000)
