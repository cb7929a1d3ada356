"""SimpleBaseline + DARK (MMPose td-hm_res50_dark-8xb64-210e_coco-256x192): unbiased
MSRAHeatmap encoding and Taylor-refined decoding."""
from fastcodec.models.configs._base import coco_split, topdown_pipelines

input_size = (192, 256)
codec = dict(type='MSRAHeatmap', input_size=input_size, heatmap_size=(48, 64), sigma=2,
             unbiased=True, blur_kernel_size=11)
model = dict(
    type='TopdownPoseEstimator',
    backbone=dict(type='ResNet', depth=50),
    head=dict(type='HeatmapHead', out_channels=17, codec=codec),
    test_cfg=dict(flip_test=True))
_train, _val = topdown_pipelines(input_size, codec)
train_dataloader = dict(batch_size=64, num_workers=4, dataset=coco_split('train', _train))
val_dataloader = dict(batch_size=64, num_workers=2, dataset=coco_split('val', _val))
optimizer = dict(lr=5e-4, weight_decay=1e-4)
schedule = dict(max_iters=40000, warmup_iters=500, log_interval=50, checkpoint_interval=2000)
