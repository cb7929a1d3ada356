"""Shared parts of the configs: synthetic-COCO data paths and MMPose's top-down and
bottom-up pipelines."""
import os

from fastcodec.models.data.meta_coco17 import COCO17

DATA_ROOT = os.environ.get('FASTCODEC_DATA', 'data/synth')


def topdown_pipelines(input_size, codec, flip=True, half_body=True, bbox_transform=True,
                      use_udp=False, cache=True, rotate_factor=40.0):
    """(train, val) pipelines: MMPose's RTMPose/SimpleBaseline top-down recipe."""
    train = [dict(type='LoadImage', cache=cache), dict(type='GetBBoxCenterScale')]
    if flip:
        train.append(dict(type='RandomFlip', prob=0.5))
    if half_body:
        train.append(dict(type='RandomHalfBody', upper_body_ids=COCO17['upper_body_ids'],
                          lower_body_ids=COCO17['lower_body_ids']))
    if bbox_transform:
        train.append(dict(type='RandomBBoxTransform', scale_factor=(0.75, 1.25),
                          rotate_factor=rotate_factor))
    train += [dict(type='TopdownAffine', input_size=input_size, use_udp=use_udp),
              dict(type='GenerateTarget', encoder=codec), dict(type='PackPoseInputs')]
    val = [dict(type='LoadImage', cache=cache), dict(type='GetBBoxCenterScale'),
           dict(type='TopdownAffine', input_size=input_size, use_udp=use_udp),
           dict(type='PackPoseInputs')]
    return train, val


def coco_split(split, pipeline, data_root=None, mode='topdown'):
    """Dataset config of a split; bottom-up val keeps the images without people."""
    root = data_root or DATA_ROOT
    cfg = dict(ann_file=os.path.join(root, 'annotations', f'person_keypoints_{split}.json'),
               img_dir=os.path.join(root, 'images', split), pipeline=pipeline, mode=mode)
    if mode == 'bottomup' and split == 'val':
        cfg['skip_empty'] = False
    return cfg


def bottomup_pipelines(input_size, codec, augment=True, flip=True, max_instances=30,
                       cache=True, scale_factor=(0.75, 1.5), rotate_factor=30.0,
                       shift_factor=0.2):
    """(train, val) pipelines of MMPose's DEKR recipe: BottomupRandomAffine (or, without
    ``augment``, the val BottomupResize), RandomFlip, multi-instance GenerateTarget,
    PackPoseInputs padding to ``max_instances``; val: BottomupResize to ``input_size``
    (fit, the aspect kept)."""
    if augment:
        train = [dict(type='LoadImage', cache=cache),
                 dict(type='BottomupRandomAffine', input_size=input_size,
                      shift_factor=shift_factor, scale_factor=scale_factor,
                      rotate_factor=rotate_factor)]
        if flip:
            train.append(dict(type='RandomFlip', prob=0.5))
    else:
        train = [dict(type='LoadImage', cache=cache),
                 dict(type='BottomupResize', input_size=input_size)]
    train += [dict(type='GenerateTarget', encoder=codec, multi_instance=True),
              dict(type='PackPoseInputs', max_instances=max_instances)]
    val = [dict(type='LoadImage', cache=cache), dict(type='BottomupResize', input_size=input_size),
           dict(type='PackPoseInputs', max_instances=max_instances)]
    return train, val
