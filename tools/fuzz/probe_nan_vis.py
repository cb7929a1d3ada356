"""NaN / Inf / negative visibility in every keypoint encoder (MMPose: `vis < 0.5` is False
for NaN, so a NaN-visible keypoint is drawn and its weight is NaN)."""
import sys
import numpy as np, fastcodec
import harness as H
sys.path.insert(0, '../../tests')
from rtmpose3d_oracle import load_simcc3d_label  # noqa: F401 - puts the oracle on the path
mmc = H.mmc
kps = np.array([[[50.3, 60.7], [10.0, 20.0], [100.2, 30.1], [70.0, 70.0]]], np.float32)
vis = np.array([[np.nan, 1.0, np.inf, -np.inf]], np.float32)
cfgs = [('MSRAHeatmap', dict(input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0)),
        ('MSRAHeatmap', dict(input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0, unbiased=True)),
        ('UDPHeatmap', dict(input_size=(192, 256), heatmap_size=(48, 64))),
        ('UDPHeatmap', dict(input_size=(192, 256), heatmap_size=(48, 64), heatmap_type='combined')),
        ('MegviiHeatmap', dict(input_size=(192, 256), heatmap_size=(48, 64), kernel_size=11)),
        ('SimCCLabel', dict(input_size=(192, 256), sigma=(4.9, 5.66))),
        ('SimCCLabel', dict(input_size=(192, 256), smoothing_type='standard')),
        ('RegressionLabel', dict(input_size=(192, 256))),
        ('IntegralRegressionLabel', dict(input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0)),
        ('SPR', dict(input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0)),
        ('AssociativeEmbedding', dict(input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0,
                                      decode_keypoint_order=[0, 1, 2, 3])),
        ('DecoupledHeatmap', dict(input_size=(192, 256), heatmap_size=(48, 64)))]
log = H.Log('nanvis')
for name, cfg in cfgs:
    ref, fc = getattr(mmc, name)(**cfg), getattr(fastcodec, name)(**cfg)
    H.check(log, f'{name}{sorted(cfg)[-1:]}.encode', ref.encode, fc.encode,
            lambda p: 0.0 if 'weight' in p else H.TARGET, name, (kps, vis))
log.summary()
