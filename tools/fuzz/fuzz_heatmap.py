"""MSRAHeatmap, MegviiHeatmap, UDPHeatmap: encode and decode vs MMPose 1.3.2."""
import sys
import numpy as np
import fastcodec
import harness as H
import gen

mmc = H.mmc

tol_enc, tol_dec = H.tol_enc, H.tol_dec


def rand_cfg(rng):
    kind = rng.choice(['MSRAHeatmap', 'MSRAHeatmap', 'MegviiHeatmap', 'UDPHeatmap', 'UDPHeatmap'])
    W, Hh = [int(v) for v in rng.choice([1, 2, 3, 5, 8, 13, 16, 24, 48, 64, 72, 96], size=2)]
    if rng.random() < 0.4:
        W, Hh = 48, 64
    f = rng.choice([1, 2, 4, 3.3, 4])
    inp = (int(max(1, round(W * f))), int(max(1, round(Hh * rng.choice([f, 4, 2.5])))))
    cfg = dict(type=kind, input_size=inp, heatmap_size=(W, Hh))
    if kind == 'MSRAHeatmap':
        cfg['sigma'] = float(rng.choice([2.0, 3.0, 1.5, 0.3, 0.5, 1.0, 2.5, 6.0, 0.75]))
        if rng.random() < 0.3:
            cfg['sigma'] = int(rng.choice([1, 2, 3]))
        cfg['unbiased'] = bool(rng.random() < 0.5)
        cfg['blur_kernel_size'] = int(rng.choice([11, 17, 3, 5, 1, 7, 9, 13, 21]))
    elif kind == 'MegviiHeatmap':
        cfg['kernel_size'] = int(rng.choice([11, 15, 5, 3, 7, 9, 17, 23, 1]))
    else:
        t = rng.choice(['gaussian', 'combined'])
        cfg['heatmap_type'] = str(t)
        if t == 'gaussian':
            cfg['sigma'] = float(rng.choice([2.0, 3.0, 1.5, 0.5, 1.0, 4.0, 0.3]))
        else:
            cfg['radius_factor'] = float(rng.choice([0.0546875, 0.1, 0.02, 0.3, 0.01]))
        cfg['blur_kernel_size'] = int(rng.choice([11, 17, 3, 5, 1, 7, 9, 13]))
    return cfg


def build(cfg):
    c = dict(cfg)
    t = c.pop('type')
    return getattr(mmc, t)(**c), getattr(fastcodec, t)(**c)


def unstable(ref, m, want, rng):
    """MMPose's own keypoints move by > 1e-3 under 1e-6..1e-5 relative perturbations."""
    moved = np.zeros(want.shape[:-1], bool)
    for s in (1e-6, 1e-5, 1e-5):
        nudged = (m * (1 + s * rng.standard_normal(m.shape))).astype(np.float32)
        again = ref.decode(nudged)[0]
        with np.errstate(invalid='ignore'):
            moved |= ~(np.abs(again - want) <= 1e-3).all(-1)
    return moved


def main(seed, n):
    rng = np.random.default_rng(seed)
    log = H.Log('heatmap')
    dec_log = H.Log('heatmap-decode')
    for i in range(n):
        cfg = rand_cfg(rng)
        try:
            ref, fc = build(cfg)
        except Exception as e:
            try:
                c = dict(cfg); t = c.pop('type'); getattr(fastcodec, t)(**c)
                log.record(f'ctor-fc-ok {type(e).__name__}', f'{cfg} mmpose raised {e!r}')
            except Exception:
                pass
            continue
        K = int(rng.choice([1, 2, 5, 17]))
        N = 1
        kps = gen.keypoints(rng, N, K, cfg['input_size'], ref.scale_factor)
        kps = gen.cast(rng, kps)
        vis = gen.visibility(rng, N, K)
        vis = gen.vis_cast(rng, vis) if rng.random() < 0.3 else vis.astype(np.float32)
        args = (kps,) if rng.random() < 0.1 and cfg['type'] != 'MegviiHeatmap' else (kps, vis)
        log.payload = dec_log.payload = dict(cfg=cfg, args=args)
        ctx = f'seed={seed} i={i} cfg={cfg} kps.dtype={kps.dtype} vis.dtype={vis.dtype}'
        nonfinite = ':nonfinite-kps(documented)' if not np.isfinite(kps.astype(np.float64)).all() else ''
        want = H.check(log, f"{cfg['type']}.encode{nonfinite}", ref.encode, fc.encode, tol_enc, ctx, args)
        # decode
        base = want['heatmaps'] if want is not None else None
        shape = base.shape if base is not None else (K, cfg['heatmap_size'][1], cfg['heatmap_size'][0])
        m = gen.maps(rng, shape, base)
        dec_log.payload = dict(cfg=cfg, args=args, m=m)
        wdec, werr = H.call(lambda: ref.decode(m.copy()))
        for b in H.BACKENDS:
            with fastcodec.use_backend(b):
                got, gerr = H.call(lambda: fc.decode(m.copy()))
            if (werr is None) != (gerr is None):
                if cfg.get('blur_kernel_size') == 1 or cfg.get('kernel_size') == 1:
                    continue  # documented: gaussian_blur(.., 1)
                dec_log.record(f"{cfg['type']}.decode:raise ref={type(werr).__name__} fc={type(gerr).__name__}",
                               f'{ctx} [{b}] {werr!r:.200} / {gerr!r:.200}')
                continue
            if werr is not None:
                continue
            wk, ws = wdec
            gk, gs = got
            # documented: MMPose NaN where the blurred max is 0 -> fastcodec finite
            refnan = np.isnan(wk).any(-1) | np.isnan(ws)
            if cfg['type'] == 'MegviiHeatmap' or cfg.get('unbiased') or cfg['type'] == 'UDPHeatmap':
                ok = refnan & np.isfinite(gk).all(-1) & np.isfinite(gs)
            else:
                ok = np.zeros_like(refnan)
            diffs = H.compare((wk, ws), (gk, gs), tol_dec, 'dec')
            if diffs:
                bad = ~ok
                with np.errstate(invalid='ignore'):
                    badk = bad & ~(np.abs(gk - wk) <= H.COORD).all(-1) & ~(np.isnan(gk) & np.isnan(wk)).all(-1)
                    bads = bad & ~(np.abs(gs - ws) <= H.SCORE) & ~(np.isnan(gs) & np.isnan(ws))
                if (cfg.get('unbiased') or cfg['type'] == 'UDPHeatmap') and badk.any():
                    badk &= ~unstable(ref, m, wk, rng)
                dtype_diffs = [d for d in diffs if 'dtype' in d or 'shape' in d]
                if badk.any() or bads.any() or dtype_diffs:
                    kk = np.argwhere(badk | bads)
                    j = tuple(kk[0]) if len(kk) else None
                    msg = (f'{ctx} [{b}] {diffs} first bad {j}: ' + (
                        f'fc {gk[j]} {gs[j]} ref {wk[j]} {ws[j]} map-kind max {m[j[1]].max()} min {m[j[1]].min()}'
                        if j else ''))
                    dec_log.record(f"{cfg['type']}.decode:{'unb' if cfg.get('unbiased') else cfg.get('heatmap_type', '')}:{'k' if badk.any() else ''}{'s' if bads.any() else ''}{'dt' if dtype_diffs else ''}", msg)
        dec_log.cases += 1
    log.summary()
    dec_log.summary()


if __name__ == '__main__':
    main(int(sys.argv[1]), int(sys.argv[2]))
