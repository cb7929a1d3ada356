"""SimCCLabel, RegressionLabel, IntegralRegressionLabel vs MMPose 1.3.2."""
import sys
import numpy as np
import fastcodec
import harness as H
import gen

mmc = H.mmc

tol_enc, tol_dec = H.tol_enc, H.tol_dec


def rand_cfg(rng):
    kind = rng.choice(['SimCCLabel', 'SimCCLabel', 'RegressionLabel', 'IntegralRegressionLabel'])
    w, h = [int(v) for v in rng.choice([1, 3, 8, 17, 64, 192, 256, 288, 100], size=2)]
    if rng.random() < 0.4:
        w, h = 192, 256
    cfg = dict(type=kind, input_size=(w, h))
    if kind == 'SimCCLabel':
        st = str(rng.choice(['gaussian', 'gaussian', 'standard']))
        cfg['smoothing_type'] = st
        s = rng.choice([6.0, 4.9, 5.66, 0.5, 1.0, 2.0, 0.79, 0.81, 12.0, 3])
        if rng.random() < 0.4:
            s = (float(rng.choice([4.9, 6.93, 0.9, 2.0])), float(rng.choice([5.66, 7.5, 1.2, 3.0])))
        cfg['sigma'] = s if isinstance(s, tuple) else (float(s) if rng.random() < 0.7 else int(max(1, s)))
        cfg['simcc_split_ratio'] = float(rng.choice([2.0, 1.0, 3.0, 1.5, 2.5]))
        if st == 'standard':
            cfg['label_smooth_weight'] = float(rng.choice([0.0, 0.1, 0.5, 1.0]))
        cfg['normalize'] = bool(rng.random() < 0.6)
        cfg['use_dark'] = bool(rng.random() < 0.4)
        cfg['decode_visibility'] = bool(rng.random() < 0.3)
        if cfg['decode_visibility']:
            cfg['decode_beta'] = float(rng.choice([150.0, 1.0, 20.0]))
    elif kind == 'IntegralRegressionLabel':
        W, Hh = [int(v) for v in rng.choice([1, 3, 8, 48, 64, 13], size=2)]
        cfg['heatmap_size'] = (W, Hh)
        cfg['sigma'] = float(rng.choice([2.0, 1.0, 0.5, 3.0]))
        cfg['blur_kernel_size'] = int(rng.choice([11, 3, 5, 17]))
        cfg['unbiased'] = bool(rng.random() < 0.4)
        cfg['normalize'] = bool(rng.random() < 0.7)
    return cfg


def build(cfg):
    c = dict(cfg)
    t = c.pop('type')
    return getattr(mmc, t)(**c), getattr(fastcodec, t)(**c)


def main(seed, n):
    rng = np.random.default_rng(seed)
    log = H.Log('simcc-reg')
    for i in range(n):
        cfg = rand_cfg(rng)
        ref = fc = None
        try:
            ref, fc = build(cfg)
        except Exception as e:
            try:
                c = dict(cfg); t = c.pop('type'); getattr(mmc, t)(**c)
                ok_ref = True
            except Exception:
                ok_ref = False
            log.record(f"{cfg['type']}:ctor ref_ok={ok_ref}", f'{cfg}: {e!r:.300}')
            continue
        K = int(rng.choice([1, 2, 5, 17]))
        N = 1 if cfg['type'] == 'IntegralRegressionLabel' or rng.random() < 0.5 else int(rng.choice([0, 2, 3]))
        kps = gen.keypoints(rng, N, K, cfg['input_size'])
        kps = gen.cast(rng, kps)
        vis = gen.visibility(rng, N, K)
        vis = gen.vis_cast(rng, vis) if rng.random() < 0.3 else vis.astype(np.float32)
        args = (kps,) if rng.random() < 0.1 else (kps, vis)
        log.payload = dict(cfg=cfg, args=args)
        ctx = f'seed={seed} i={i} cfg={cfg} N={N} K={K} kps.dtype={kps.dtype} vis.dtype={vis.dtype}'
        nonfinite = ':nonfinite-kps(documented)' if not np.isfinite(kps.astype(np.float64)).all() else ''
        want = H.check(log, f"{cfg['type']}.encode{nonfinite}", ref.encode, fc.encode, tol_enc, ctx, args)
        if cfg['type'] == 'SimCCLabel':
            if cfg['smoothing_type'] != 'gaussian':
                Wx, Wy = (int(cfg['input_size'][0] * cfg['simcc_split_ratio']),
                          int(cfg['input_size'][1] * cfg['simcc_split_ratio']))
            else:
                Wx, Wy = want['keypoint_x_labels'].shape[-1], want['keypoint_y_labels'].shape[-1] \
                    if want is not None else (10, 10)
            Nd = max(N, 1)
            bx = want['keypoint_x_labels'] if want is not None and cfg['smoothing_type'] == 'gaussian' and N == Nd else None
            by = want['keypoint_y_labels'] if bx is not None else None
            sx = gen.maps(rng, (Nd, K, 1, Wx), None if bx is None else bx[:, :, None])[:, :, 0]
            sy = gen.maps(rng, (Nd, K, 1, Wy), None if by is None else by[:, :, None])[:, :, 0]
            if rng.random() < 0.2:
                sx, sy = sx.astype(np.float64), sy.astype(np.float64)
            log.payload = dict(cfg=cfg, args=args, sx=sx, sy=sy)
            H.check(log, f"SimCCLabel.decode:dark={cfg['use_dark']}:vis={cfg['decode_visibility']}",
                    lambda: ref.decode(sx.copy(), sy.copy()), lambda: fc.decode(sx.copy(), sy.copy()),
                    tol_dec, ctx + f' sx.dtype={sx.dtype}')
        elif cfg['type'] == 'RegressionLabel':
            Nd = max(N, 1)
            lab = rng.uniform(-0.5, 1.5, (Nd, K, int(rng.choice([2, 4]))))
            if rng.random() < 0.5:
                lab = lab.astype(np.float32)
            H.check(log, 'RegressionLabel.decode', ref.decode, fc.decode, tol_dec, ctx + f' lab {lab.shape} {lab.dtype}', (lab,))
        else:
            W, Hh = cfg['heatmap_size']
            base = want['heatmaps'] if want is not None else None
            m = gen.maps(rng, (K, Hh, W), base)
            if rng.random() < 0.5:
                m = np.abs(m)
                m /= max(m.sum((-1, -2), keepdims=True).max(), 1e-6)
            H.check(log, 'IntegralRegressionLabel.decode', ref.decode, fc.decode, tol_dec, ctx, (m,))
    log.summary()


if __name__ == '__main__':
    main(int(sys.argv[1]), int(sys.argv[2]))
