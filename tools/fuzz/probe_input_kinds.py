"""The same inputs as torch CPU tensors, non-contiguous views and Fortran-ordered
arrays: fastcodec's results (as numpy) must equal MMPose's on the numpy originals."""
import sys
import numpy as np, torch, fastcodec
import harness as H
import gen
mmc = H.mmc
CFGS = [('MSRAHeatmap', dict(input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0)),
        ('MSRAHeatmap', dict(input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0, unbiased=True)),
        ('UDPHeatmap', dict(input_size=(192, 256), heatmap_size=(48, 64))),
        ('UDPHeatmap', dict(input_size=(192, 256), heatmap_size=(48, 64), heatmap_type='combined')),
        ('MegviiHeatmap', dict(input_size=(192, 256), heatmap_size=(48, 64), kernel_size=11)),
        ('SimCCLabel', dict(input_size=(192, 256), sigma=(4.9, 5.66), use_dark=True)),
        ('RegressionLabel', dict(input_size=(192, 256))),
        ('IntegralRegressionLabel', dict(input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0))]
KINDS = ('torch', 'strided', 'fortran')


def as_kind(a, kind):
    if kind == 'torch':
        return torch.from_numpy(np.ascontiguousarray(a))
    if kind == 'strided':
        big = np.repeat(a[..., None], 2, axis=-1)  # every other element of a wider array
        return big[..., 0]
    return np.asfortranarray(a)


log = H.Log('kinds')
rng = np.random.default_rng(int(sys.argv[1]) if len(sys.argv) > 1 else 16)
for trial in range(int(sys.argv[2]) if len(sys.argv) > 2 else 40):
    for name, cfg in CFGS:
        ref, fc = getattr(mmc, name)(**cfg), getattr(fastcodec, name)(**cfg)
        N = 1 if name not in ('SimCCLabel', 'RegressionLabel') else 2
        kps = gen.cast(rng, gen.keypoints(rng, N, 17, cfg['input_size'], getattr(ref, 'scale_factor', (1, 1))),
                       ('float32', 'float64', 'int16', 'float16'))
        if not np.isfinite(kps.astype(np.float64)).all():
            continue
        vis = gen.visibility(rng, N, 17).astype(np.float32)
        want = ref.encode(kps.copy(), vis.copy())
        for kind in KINDS:
            for b in H.BACKENDS:
                with fastcodec.use_backend(b):
                    got, err = H.call(fc.encode, as_kind(kps, kind), as_kind(vis, kind))
                if err is not None:
                    log.record(f'{name}.encode:{kind}:raises', f'{b} {kps.dtype} {err!r:.200}')
                    continue
                for d in H.compare(want, {k: H.to_np(v) for k, v in got.items()},
                                   lambda p: 0.0 if 'weight' in p else H.TARGET):
                    log.record(f'{name}.encode:{kind}:{d.split(":")[0]}', f'{b} {kps.dtype} {d}')
            log.cases += 1
        if name == 'RegressionLabel':
            continue
        if name == 'SimCCLabel':
            dargs = (want['keypoint_x_labels'], want['keypoint_y_labels'])
        elif name == 'IntegralRegressionLabel':
            dargs = (want['keypoint_labels'],)
        else:
            dargs = (want['heatmaps'] + rng.normal(0, 0.01, want['heatmaps'].shape).astype(np.float32),)
        # decoders: the input kind must not change fastcodec's own numpy result (MMPose's
        # NaN and ill-conditioned DARK cases are the fuzzers' business)
        for kind in KINDS:
            for b in H.BACKENDS:
                with fastcodec.use_backend(b):
                    wdec = fc.decode(*[a.copy() for a in dargs])
                    got, err = H.call(fc.decode, *[as_kind(a, kind) for a in dargs])
                if err is not None:
                    log.record(f'{name}.decode:{kind}:raises', f'{b} {err!r:.200}')
                    continue
                got = tuple(H.to_np(g) if not isinstance(g, tuple) else tuple(H.to_np(x) for x in g) for g in got)
                for d in H.compare(wdec, got, 0.0):
                    log.record(f'{name}.decode:{kind}:{d.split(":")[0]}', f'{b} {d}')
            log.cases += 1
log.summary()
