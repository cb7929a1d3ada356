"""Build zoo models from MMPose-like config dicts."""
from __future__ import annotations

import copy

from fastcodec.models.backbones import ResNet
from fastcodec.models.backbones.tcn import TCN, LiftingMLP
from fastcodec.models.estimator import BottomupPoseEstimator, TopdownPoseEstimator
from fastcodec.models.lifter import PoseLifter, TemporalRegressionHead
from fastcodec.models.heads import DEKRHead, HeatmapHead, IntegralRegressionHead, RegressionHead, RTMCCHead

BACKBONES = dict(ResNet=ResNet, TCN=TCN, LiftingMLP=LiftingMLP)
HEADS = dict(HeatmapHead=HeatmapHead, DEKRHead=DEKRHead, RTMCCHead=RTMCCHead,
             RegressionHead=RegressionHead,
             IntegralRegressionHead=IntegralRegressionHead,
             TemporalRegressionHead=TemporalRegressionHead)
ESTIMATORS = dict(TopdownPoseEstimator=TopdownPoseEstimator, PoseLifter=PoseLifter,
                  BottomupPoseEstimator=BottomupPoseEstimator)


def _pop_type(cfg, table, what):
    cfg = copy.deepcopy(dict(cfg))
    typ = cfg.pop('type')
    if typ not in table:
        raise ValueError(f'unknown {what} {typ!r}; known: {sorted(table)}')
    return table[typ], cfg


def build_model(cfg: dict):
    """dict(type='TopdownPoseEstimator', backbone=dict(type='ResNet', ...),
    head=dict(type='HeatmapHead', codec=dict(type='MSRAHeatmap', ...), ...),
    test_cfg=dict(flip_test=True), data_preprocessor=dict(mean=..., std=...)).
    The head's in_channels defaults to the backbone's output channels."""
    est_cls, cfg = _pop_type(cfg, ESTIMATORS, 'estimator')
    bb_cls, bb_cfg = _pop_type(cfg.pop('backbone'), BACKBONES, 'backbone')
    backbone = bb_cls(**bb_cfg)
    head_cls, head_cfg = _pop_type(cfg.pop('head'), HEADS, 'head')
    head_cfg.setdefault('in_channels', backbone.channels)
    head = head_cls(**head_cfg)
    kwargs = {} if est_cls is PoseLifter else dict(cfg.pop('data_preprocessor', {}))
    kwargs.update(cfg.pop('test_cfg', {}))
    kwargs.update(cfg)
    return est_cls(backbone, head, **kwargs)
