"""DEKR recipe at MMPose's size (dekr_hrnet-w32_8xb10-140e_coco-512x512) on a ResNet-50:
SPR codec 512x512 input, 128x128 heatmaps, sigma (4, 2), minimal diagonal sqrt(32),
root + keypoint heatmaps; KeypointMSELoss + SoftWeightSmoothL1Loss (beta 1/9, weight
0.002); flip test with heatmap shift; nearby-joints NMS 0.05. For a GPU; point
FASTCODEC_DATA at a COCO-format set.

Differences from MMPose's config: ResNet-50 + three deconvolutions instead of HRNet-W32
(no ImageNet weights loaded), grouped residual blocks instead of the adaptive
(deformable) ones, no rescore net, AdamW + cosine instead of Adam + steps, and the val
resize is BottomupResize 'fit' to 512x512 (MMPose: 'expand' to a multiple of 32)."""
from fastcodec.models.configs._base import bottomup_pipelines, coco_split

input_size = (512, 512)
codec = dict(type='SPR', input_size=input_size, heatmap_size=(128, 128), sigma=(4, 2),
             minimal_diagonal_length=32 ** 0.5, generate_keypoint_heatmaps=True,
             decode_max_instances=30)
model = dict(
    type='BottomupPoseEstimator',
    backbone=dict(type='ResNet', depth=50),
    head=dict(type='DEKRHead', num_keypoints=17, codec=codec,
              deconv_out_channels=(256, 256, 256), deconv_kernel_sizes=(4, 4, 4),
              num_heatmap_filters=32, num_displacement_filters_per_keypoint=15,
              displacement_loss_weight=0.002, displacement_beta=1 / 9,
              shift_heatmap=True, nms_dist_thr=0.05, max_num_people=30),
    test_cfg=dict(flip_test=True))
_train, _val = bottomup_pipelines(input_size, codec, max_instances=30, cache=False)
train_dataloader = dict(batch_size=10, num_workers=4,
                        dataset=coco_split('train', _train, mode='bottomup'))
val_dataloader = dict(batch_size=1, num_workers=2,
                      dataset=coco_split('val', _val, mode='bottomup'))
optimizer = dict(lr=1e-3, weight_decay=1e-4)
schedule = dict(max_iters=140000, warmup_iters=500, log_interval=50, checkpoint_interval=5000)
