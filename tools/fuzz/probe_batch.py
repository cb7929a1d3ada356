"""batch_encode / batch_decode of the top-down codecs against a loop of MMPose's
per-sample encode / decode, stacked."""
import sys
import numpy as np, fastcodec
import harness as H
import gen
from fuzz_heatmap import rand_cfg as heat_cfg
from fuzz_simcc_reg import rand_cfg as simcc_cfg
mmc = H.mmc
seed = int(sys.argv[1]) if len(sys.argv) > 1 else 16
rng = np.random.default_rng(seed)
log = H.Log('batch')
for i in range(int(sys.argv[2]) if len(sys.argv) > 2 else 100):
    cfg = heat_cfg(rng) if i % 2 else simcc_cfg(rng)
    c = dict(cfg); t = c.pop('type')
    try:
        ref, fc = getattr(mmc, t)(**c), getattr(fastcodec, t)(**c)
    except Exception:
        continue
    B, K = int(rng.integers(1, 4)), int(rng.choice([1, 5, 17]))
    N = 1 if t in ('MSRAHeatmap', 'UDPHeatmap', 'MegviiHeatmap', 'IntegralRegressionLabel') else int(rng.integers(1, 3))
    kps = np.stack([gen.keypoints(rng, N, K, cfg['input_size'], getattr(ref, 'scale_factor', (1, 1))) for _ in range(B)])
    kps = gen.cast(rng, kps, ('float32', 'float64', 'int16'))
    vis = np.stack([gen.visibility(rng, N, K) for _ in range(B)]).astype(np.float32)
    per = [ref.encode(kps[b].copy(), vis[b].copy()) for b in range(B)]
    want = {k: np.stack([p[k] for p in per]) for k in per[0]}
    ctx = f'seed={seed} i={i} {cfg} B={B} N={N} K={K} {kps.dtype}'
    for b in H.BACKENDS:
        with fastcodec.use_backend(b):
            got, err = H.call(fc.batch_encode, kps, vis)
        if err is not None:
            log.record(f'{t}.batch_encode:raises', f'{ctx} [{b}] {err!r:.200}')
            continue
        for d in H.compare(want, got, lambda p: 0.0 if 'weight' in p else H.TARGET):
            log.record(f'{t}.batch_encode:{d.split(":")[0]}', f'{ctx} [{b}] {d}')
    log.cases += 1
    # decode the encoded targets (+ noise) of the whole batch
    if t == 'SimCCLabel':
        args = [want['keypoint_x_labels'], want['keypoint_y_labels']]
        if cfg['smoothing_type'] != 'gaussian':
            continue
    elif t == 'RegressionLabel':
        args = [want['keypoint_labels']]
    elif t == 'IntegralRegressionLabel':
        args = [want['keypoint_labels']]
    else:
        args = [want['heatmaps']]
    args = [(a + rng.normal(0, 1e-3, a.shape)).astype(np.float32) for a in args]
    per, errs = [], None
    try:
        per = [ref.decode(*[a[b].copy() for a in args]) for b in range(B)]
    except Exception as e:
        errs = e
    for b in H.BACKENDS:
        with fastcodec.use_backend(b):
            got, err = H.call(fc.batch_decode, *args)
        if (err is None) != (errs is None):
            log.record(f'{t}.batch_decode:raise ref={type(errs).__name__} fc={type(err).__name__}', f'{ctx} [{b}] {errs!r:.150} {err!r:.150}')
            continue
        if err is not None:
            continue
        for j, p in enumerate(per):
            one = tuple(g[j] if not isinstance(g, tuple) else tuple(x[j] for x in g) for g in got)
            refp = tuple(np.asarray(x) if not isinstance(x, tuple) else x for x in p)
            # decode of N = 1 heatmaps: MMPose (1, K, 2); the batch (B, 1, K, 2)
            diffs = H.compare(refp, one, lambda q: H.COORD if q.endswith('[0]') else H.SCORE)
            refnan = any(np.isnan(np.asarray(x, dtype=float)).any() for x in refp if not isinstance(x, tuple))
            for d in diffs:
                if refnan and 'NaN' in d:
                    continue
                log.record(f'{t}.batch_decode:{d.split(":")[0]}:{d.split(":")[1].split()[0]}', f'{ctx} [{b}] sample {j} {d}')
    log.cases += 1
log.summary()
