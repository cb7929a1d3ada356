"""Quick DEKR-style bottom-up model: ResNet-18 (half width, first three stages: stride
16, as the quick top-down configs) + DEKRHead (two deconvolutions to 1/4 of the input,
heatmap branch of root + 17 keypoint maps, per-keypoint grouped displacement branch),
SPR codec, 160x128 input (the synthetic 320x240 images fit with their aspect kept),
40x32 heatmaps; ~12 minutes on 2 CPU cores (schedule.max_minutes). Bottom-up: one
sample per image, every person in it."""
from fastcodec.models.configs._base import bottomup_pipelines, coco_split

input_size = (160, 128)
codec = dict(type='SPR', input_size=input_size, heatmap_size=(40, 32), sigma=(2.0, 1.0),
             minimal_diagonal_length=2.0, generate_keypoint_heatmaps=True,
             decode_max_instances=30)
model = dict(
    type='BottomupPoseEstimator',
    backbone=dict(type='ResNet', depth=18, base_channels=32, out_indices=(2,)),
    head=dict(type='DEKRHead', num_keypoints=17, codec=codec,
              deconv_out_channels=(128, 64), deconv_kernel_sizes=(4, 4),
              num_heatmap_filters=32, num_displacement_filters_per_keypoint=8),
    test_cfg=dict(flip_test=True, channels_last=True))
# The synthetic people stand nearly upright: lighter rotation than MMPose's 30 degrees.
_train, _val = bottomup_pipelines(input_size, codec, rotate_factor=15.0, max_instances=8)
train_dataloader = dict(batch_size=16, num_workers=1,
                        dataset=coco_split('train', _train, mode='bottomup'))
val_dataloader = dict(batch_size=16, num_workers=1,
                      dataset=coco_split('val', _val, mode='bottomup'))
optimizer = dict(lr=2e-3, weight_decay=1e-4)
schedule = dict(max_iters=100000, max_minutes=12, warmup_iters=100, log_interval=10,
                checkpoint_interval=500)
num_threads = 2
