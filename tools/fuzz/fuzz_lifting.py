"""ImagePoseLifting, VideoPoseLifting, MotionBERTLabel vs MMPose 1.3.2 (finite inputs)."""
import sys
import numpy as np
import fastcodec
import harness as H

mmc = H.mmc


def tol(path):
    return H.TARGET


def main(seed, n):
    rng = np.random.default_rng(seed)
    log = H.Log('lifting')
    for i in range(n):
        kind = str(rng.choice(['ImagePoseLifting', 'VideoPoseLifting', 'MotionBERTLabel']))
        K = int(rng.choice([1, 2, 3, 17]))
        N = int(rng.choice([1, 1, 2, 3, 27]))  # frames / instances
        T = N if kind != 'ImagePoseLifting' else int(rng.choice([1, N]))
        dt = np.dtype(rng.choice(['float32', 'float32', 'float64']))
        tdt = np.dtype(rng.choice(['float32', 'float64']))
        cfg = dict(num_keypoints=K)
        root = int(rng.integers(0, K))
        if kind == 'ImagePoseLifting':
            cfg['root_index'] = root if rng.random() < 0.7 else sorted(set(rng.integers(0, K, 2).tolist()))
            cfg['reshape_keypoints'] = bool(rng.random() < 0.5)
        elif kind == 'VideoPoseLifting':
            cfg['root_index'] = root if rng.random() < 0.8 else [root]
            cfg['zero_center'] = bool(rng.random() < 0.6)
            cfg['reshape_keypoints'] = bool(rng.random() < 0.5)
            cfg['normalize_camera'] = bool(rng.random() < 0.4)
        else:
            cfg['root_index'] = root
            cfg['rootrel'] = bool(rng.random() < 0.5)
            cfg['mode'] = str(rng.choice(['train', 'test']))
        cfg['remove_root'] = bool(rng.random() < 0.4)
        cfg['save_index'] = bool(rng.random() < 0.5)
        cfg['concat_vis'] = bool(rng.random() < 0.4)
        C = 2
        kps = (rng.uniform(-50, 1050, (N, K, C))).astype(dt)
        if rng.random() < 0.2:
            kps = np.round(kps)
        vis = rng.choice([0.0, 1.0, 0.5, 0.7], (N, K)).astype(np.float32)
        target = np.concatenate([rng.uniform(-1, 1, (T, K, 2)), rng.uniform(0.5, 6, (T, K, 1))], -1).astype(tdt)
        if kind == 'ImagePoseLifting' and rng.random() < 0.3:
            Kr = K - 1 if cfg['remove_root'] and isinstance(cfg['root_index'], int) else K
            cfg['keypoints_mean'] = rng.normal(500, 10, (1, K, C)).astype(np.float32)
            cfg['keypoints_std'] = rng.uniform(50, 100, (1, K, C)).astype(np.float32)
            cfg['target_mean'] = rng.normal(0, 1, (T, Kr, 3)).astype(np.float32)
            cfg['target_std'] = rng.uniform(0.5, 1, (T, Kr, 3)).astype(np.float32)
        kw = {}
        tv = None
        r = rng.random()
        if r < 0.3:
            tv = rng.choice([0.0, 1.0, 0.6], (T, K)).astype(np.float32)
        elif r < 0.45:
            tv = rng.choice([0.0, 1.0], (T, K, 1)).astype(np.float32)
        if kind != 'ImagePoseLifting' and rng.random() < 0.7:
            cam = dict(w=int(rng.choice([1000, 1920, 640])), h=int(rng.choice([1000, 1080, 480])))
            if kind == 'VideoPoseLifting' or rng.random() < 0.5:
                cam.update(f=rng.uniform(500, 1500, (2, 1)).astype(np.float32),
                           c=rng.uniform(300, 700, (2, 1)).astype(np.float32))
            kw['camera_param'] = cam
        if kind == 'MotionBERTLabel' and rng.random() < 0.2:
            kw['factor'] = rng.uniform(0.5, 2, (T,)).astype(np.float32)
        args = (kps, vis, target, tv)
        ctx = f'seed={seed} i={i} {kind} cfg={ {k: (v if not isinstance(v, np.ndarray) else v.shape) for k, v in cfg.items()} } N={N} T={T} K={K} {dt} {tdt} tv={None if tv is None else tv.shape} kw={list(kw)}'
        log.payload = dict(kind=kind, cfg=cfg, args=args, kw=kw)
        try:
            ref, fc = getattr(mmc, kind)(**cfg), getattr(fastcodec, kind)(**cfg)
        except Exception as e:
            log.record(f'{kind}:ctor', f'{ctx}: {e!r:.200}')
            continue
        H.check(log, f'{kind}.encode', ref.encode, fc.encode, tol, ctx, args, kw)
        # decode
        Kd = K - 1 if cfg['remove_root'] else K
        enc = rng.normal(0, 1, (N, Kd, 3)).astype(rng.choice([np.float32, np.float64]))
        if kind == 'MotionBERTLabel':
            dargs = (enc,)
            if rng.random() < 0.6:
                dargs = (enc, np.array([cam['w']] * N if 'camera_param' in kw and False else rng.choice([1000, 1920], N), np.float64),
                         np.array(rng.choice([1000, 1080], N), np.float64))
        else:
            troot = rng.normal(0, 1, (N, 3)).astype(np.float32) if rng.random() < 0.6 else None
            dargs = (enc, troot)
        log.payload = dict(kind=kind, cfg=cfg, dargs=dargs)
        H.check(log, f'{kind}.decode', ref.decode, fc.decode,
                lambda p: H.COORD, ctx + f' dec {[None if a is None else (a.shape, a.dtype) for a in dargs]}', dargs)
    log.summary()


if __name__ == '__main__':
    main(int(sys.argv[1]), int(sys.argv[2]))
