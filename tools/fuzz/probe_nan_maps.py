"""Decoders on maps holding NaN / +-Inf entries (MMPose: numpy's argmax picks the first
NaN; comparisons with NaN are False)."""
import sys
import numpy as np
import fastcodec
import harness as H
mmc = H.mmc
rng = np.random.default_rng(int(sys.argv[1]) if len(sys.argv) > 1 else 16)
CFGS = [('MSRAHeatmap', dict(input_size=(64, 64), heatmap_size=(16, 16), sigma=2.0)),
        ('MSRAHeatmap', dict(input_size=(64, 64), heatmap_size=(16, 16), sigma=2.0, unbiased=True)),
        ('UDPHeatmap', dict(input_size=(64, 64), heatmap_size=(16, 16))),
        ('UDPHeatmap', dict(input_size=(64, 64), heatmap_size=(16, 16), heatmap_type='combined')),
        ('MegviiHeatmap', dict(input_size=(64, 64), heatmap_size=(16, 16), kernel_size=5)),
        ('SimCCLabel', dict(input_size=(64, 64), sigma=2.0)),
        ('SimCCLabel', dict(input_size=(64, 64), sigma=2.0, decode_visibility=True)),
        ('SimCCLabel', dict(input_size=(64, 64), sigma=2.0, use_dark=True)),
        ('RegressionLabel', dict(input_size=(64, 64))),
        ('IntegralRegressionLabel', dict(input_size=(64, 64), heatmap_size=(16, 16), sigma=2.0))]
log = H.Log('nanmaps')
for trial in range(int(sys.argv[2]) if len(sys.argv) > 2 else 60):
    for name, cfg in CFGS:
        ref, fc = getattr(mmc, name)(**cfg), getattr(fastcodec, name)(**cfg)
        if name == 'SimCCLabel':
            shapes = [(1, 5, 128), (1, 5, 128)]
        elif name in ('RegressionLabel', 'IntegralRegressionLabel'):
            shapes = [(1, 5, 2)]
        else:
            shapes = [((15 if cfg.get('heatmap_type') == 'combined' else 5), 16, 16)]
        args = []
        for s in shapes:
            m = rng.random(s).astype(np.float32)
            bad = rng.random(s) < rng.choice([0.0, 0.01, 0.2])
            m[bad] = rng.choice([np.nan, np.inf, -np.inf], bad.sum())
            if name.endswith('Label') and name != 'SimCCLabel':
                m = m.astype(np.float32)
            args.append(m)
        label = f'{name}:' + ''.join(str(cfg.get(k, '')) for k in
                                     ('unbiased', 'heatmap_type', 'use_dark', 'decode_visibility'))
        H.check(log, label, ref.decode, fc.decode, H.tol_dec, str(cfg), args)
log.summary()
