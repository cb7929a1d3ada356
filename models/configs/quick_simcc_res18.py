"""Quick RTMPose-style SimCC model: ResNet-18 (half width, first three stages: stride 16)
+ RTMCC head, SimCCLabel (split ratio 2), KL-divergence loss, 96x128 input; a
14.5-minute budget on 2 CPU cores. The stride-16 6x8 feature map gives the head
RTMPose-t's 48 positions per keypoint (its 256x192 input ends at 8x6).

Measured on the synthetic set (2026-11-22, 2 cores, nothing else running): AP 0.541
(AP@.5 0.865, AP@.75 0.584; 10574 iterations in 14.5 minutes). Batch 8: the SimCC
head's progress is per update rather than per sample here (the same budget at batch 16
gave 0.488, at batch 32 0.30); a head on a deconvolved 24x32 map instead trained to
AP 0.004.
"""
from fastcodec.models.configs._base import coco_split, topdown_pipelines

input_size = (96, 128)
codec = dict(type='SimCCLabel', input_size=input_size, sigma=(3.0, 3.5),
             simcc_split_ratio=2.0, normalize=False, use_dark=False)
model = dict(
    type='TopdownPoseEstimator',
    backbone=dict(type='ResNet', depth=18, base_channels=32, out_indices=(2,)),
    head=dict(type='RTMCCHead', out_channels=17, input_size=input_size,
              in_featuremap_size=(6, 8), codec=codec, final_layer_kernel_size=3,
              hidden_dims=256, s=128, expansion_factor=2),
    test_cfg=dict(flip_test=True, channels_last=True))
# The synthetic people stand nearly upright and val uses whole-person boxes: light
# rotation, no half-body crops.
_train, _val = topdown_pipelines(input_size, codec, half_body=False, rotate_factor=20.0)
train_dataloader = dict(batch_size=8, num_workers=1, dataset=coco_split('train', _train))
val_dataloader = dict(batch_size=64, num_workers=1, dataset=coco_split('val', _val))
optimizer = dict(lr=2e-3, weight_decay=0.05)
schedule = dict(max_iters=100000, max_minutes=14.5, warmup_iters=100, log_interval=10,
                checkpoint_interval=500)
num_threads = 2
