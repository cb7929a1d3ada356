"""Tiny datasets and configs for the zoo's tests and smoke runs."""
from __future__ import annotations

import os
from typing import Dict, Optional

from fastcodec.models.data.synth import generate

TINY_INPUT = (64, 64)
TINY_HEATMAP = (16, 16)

# One head config per zoo top-down model family, at the tiny input size.
TINY_CODECS = dict(
    msra=dict(type='MSRAHeatmap', input_size=TINY_INPUT, heatmap_size=TINY_HEATMAP, sigma=2),
    dark=dict(type='MSRAHeatmap', input_size=TINY_INPUT, heatmap_size=TINY_HEATMAP, sigma=2,
              unbiased=True),
    udp=dict(type='UDPHeatmap', input_size=TINY_INPUT, heatmap_size=TINY_HEATMAP, sigma=2),
    udp_combined=dict(type='UDPHeatmap', input_size=TINY_INPUT, heatmap_size=TINY_HEATMAP,
                      heatmap_type='combined'),
    megvii=dict(type='MegviiHeatmap', input_size=TINY_INPUT, heatmap_size=TINY_HEATMAP,
                kernel_size=5),
    simcc=dict(type='SimCCLabel', input_size=TINY_INPUT, sigma=(2.0, 2.0),
               simcc_split_ratio=2.0, normalize=False),
    rle=dict(type='RegressionLabel', input_size=TINY_INPUT),
    dsnt=dict(type='IntegralRegressionLabel', input_size=TINY_INPUT, heatmap_size=TINY_HEATMAP,
              sigma=2.0, normalize=True),
    # bottom-up (DEKRHead): root + keypoint heatmaps and displacement fields
    dekr=dict(type='SPR', input_size=TINY_INPUT, heatmap_size=TINY_HEATMAP, sigma=(2.0, 1.0),
              generate_keypoint_heatmaps=True, minimal_diagonal_length=2.0),
)


def tiny_dataset(root: str, num_train: int = 6, num_val: int = 3, seed: int = 0) -> str:
    """Generate (once) a tiny synthetic COCO set under ``root``; returns root."""
    if not os.path.exists(os.path.join(root, 'annotations', 'person_keypoints_val.json')):
        generate(root, num_train, num_val, seed=seed, width=128, height=96, max_people=2)
    return root


def tiny_config(data_root: str, kind: str = 'msra', augment: bool = False,
                depth: int = 18, base_channels: int = 8, batch_size: int = 8,
                max_iters: int = 20, lr: float = 1e-3, extra: Optional[Dict] = None) -> Dict:
    """A complete train/eval config dict (what load_config returns) for a tiny model."""
    from fastcodec.models.configs._base import coco_split, topdown_pipelines
    codec = TINY_CODECS[kind]
    if kind == 'dekr':
        return _tiny_bottomup_config(data_root, codec, augment, depth, base_channels,
                                     batch_size, max_iters, lr, extra)
    if kind == 'simcc':
        head = dict(type='RTMCCHead', out_channels=17, input_size=TINY_INPUT,
                    in_featuremap_size=(TINY_INPUT[0] // 32, TINY_INPUT[1] // 32),
                    codec=codec, final_layer_kernel_size=3, hidden_dims=32, s=16)
    elif kind == 'rle':
        head = dict(type='RegressionHead', out_channels=17, codec=codec, loss='rle')
    elif kind == 'dsnt':
        head = dict(type='IntegralRegressionHead', out_channels=17, codec=codec,
                    deconv_out_channels=(16, 16, 16))
    else:
        head = dict(type='HeatmapHead', out_channels=17, codec=codec,
                    deconv_out_channels=(16, 16, 16))
    use_udp = codec['type'] == 'UDPHeatmap'
    train, val = topdown_pipelines(TINY_INPUT, codec, flip=augment, half_body=augment,
                                   bbox_transform=augment, use_udp=use_udp)
    cfg = dict(
        config_path=os.path.join(data_root, f'tiny_{kind}.py'),
        model=dict(type='TopdownPoseEstimator',
                   backbone=dict(type='ResNet', depth=depth, base_channels=base_channels),
                   head=head, test_cfg=dict(flip_test=True)),
        train_dataloader=dict(batch_size=batch_size, num_workers=0,
                              dataset=coco_split('train', train, data_root)),
        val_dataloader=dict(batch_size=16, num_workers=0,
                            dataset=coco_split('val', val, data_root)),
        optimizer=dict(lr=lr, weight_decay=0.0),
        schedule=dict(max_iters=max_iters, warmup_iters=0, log_interval=1, min_lr_ratio=1.0),
        seed=0)
    cfg.update(extra or {})
    return cfg


def _tiny_bottomup_config(data_root, codec, augment, depth, base_channels, batch_size,
                          max_iters, lr, extra):
    """tiny_config's 'dekr' kind: a BottomupPoseEstimator + DEKRHead on whole images
    (one sample per image, so the batch is at most 4 for the 6-image tiny train set)."""
    from fastcodec.models.configs._base import bottomup_pipelines, coco_split
    train, val = bottomup_pipelines(TINY_INPUT, codec, augment=augment, max_instances=4,
                                    cache=False)
    head = dict(type='DEKRHead', num_keypoints=17, codec=codec,
                deconv_out_channels=(16, 16, 16), num_heatmap_filters=16,
                num_displacement_filters_per_keypoint=2)
    cfg = dict(
        config_path=os.path.join(data_root, 'tiny_dekr.py'),
        model=dict(type='BottomupPoseEstimator',
                   backbone=dict(type='ResNet', depth=depth, base_channels=base_channels),
                   head=head, test_cfg=dict(flip_test=True)),
        train_dataloader=dict(batch_size=min(batch_size, 4), num_workers=0,
                              dataset=coco_split('train', train, data_root, 'bottomup')),
        val_dataloader=dict(batch_size=4, num_workers=0,
                            dataset=coco_split('val', val, data_root, 'bottomup')),
        optimizer=dict(lr=lr, weight_decay=0.0),
        schedule=dict(max_iters=max_iters, warmup_iters=0, log_interval=1, min_lr_ratio=1.0),
        seed=0)
    cfg.update(extra or {})
    return cfg
