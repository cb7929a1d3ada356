"""Hand3DHeatmap, SimCC3DLabel, EDPoseLabel, YOLOXPoseAnnotationProcessor vs MMPose."""
import sys
import numpy as np
import fastcodec
import harness as H
import gen

mmc = H.mmc
sys.path.insert(0, '../../tests')
from rtmpose3d_oracle import load_simcc3d_label  # noqa: E402
SimCC3D = load_simcc3d_label()


def tol_enc(path):
    return 0.0 if 'weight' in path or 'labels' in path and 'bbox' in path else H.TARGET


def tol_dec(path):
    """SimCC3D: (keypoints, keypoints_simcc, scores)."""
    return H.COORD if path.endswith('[0]') or path.endswith('[1]') else H.SCORE


def tol_hand3d(path):
    """(keypoints, scores, rel_root_depth, hand_type)."""
    return H.COORD if path.endswith('[0]') or path.endswith('[2]') else H.SCORE


def hand3d(rng, log, i, seed):
    W, Hh, D = [int(v) for v in rng.choice([8, 16, 32, 64], 3)]
    img = [int(v) for v in rng.choice([64, 128, 256, 100], 2)]
    cfg = dict(image_size=img, heatmap_size=[W, Hh, D], sigma=int(rng.choice([1, 2, 3])),
               heatmap3d_depth_bound=float(rng.choice([400.0, 100.0])),
               root_heatmap_size=int(rng.choice([64, 32])), depth_size=int(rng.choice([64, 32])),
               root_depth_bound=float(rng.choice([400.0, 200.0])),
               max_bound=float(rng.choice([1.0, 255.0, 0.5])))
    if rng.random() < 0.2:
        cfg['use_different_joint_weights'] = True
    if rng.random() < 0.2:
        cfg['joint_indices'] = [0, 2]
    K = int(rng.choice([3, 21, 42]))
    N = 1
    kps = gen.keypoints(rng, N, K, img, D=3)
    kps[..., 2] = rng.uniform(-250, 250, (N, K)) * (rng.random((N, K)) < 0.9) + \
        np.round(rng.uniform(-4, 4, (N, K))) * cfg['heatmap3d_depth_bound'] / D
    kps = gen.cast(rng, kps, ('float32', 'float32', 'float64'))
    vis = gen.visibility(rng, N, K).astype(np.float32)
    args = (kps, vis, rng.uniform(0, 1, K).astype(np.float32), np.float32(rng.uniform(-500, 500)),
            np.float32(1.0), np.array([[1, 0]]), np.array([1]), None, None)
    ctx = f'seed={seed} i={i} Hand3D cfg={cfg} K={K} {kps.dtype}'
    try:
        ref, fc = mmc.Hand3DHeatmap(**cfg), fastcodec.Hand3DHeatmap(**cfg)
    except Exception as e:
        log.record('Hand3D:ctor', f'{ctx}: {e!r:.200}')
        return
    log.payload = dict(cfg=cfg, args=args)
    want = H.check(log, 'Hand3D.encode', ref.encode, fc.encode, tol_enc, ctx, args)
    Kd = want['keypoint_weights'].shape[-1] if want is not None else K
    heat = gen.maps(rng, (Kd * D, Hh, W), want['heatmaps'] if want is not None else None).reshape(Kd, D, Hh, W)
    dargs = (heat, np.array([rng.uniform(0, 64)], np.float32), rng.uniform(-1, 1, (1, 2)).astype(np.float32))
    log.payload = dict(cfg=cfg, dargs=dargs)
    H.check(log, 'Hand3D.decode', ref.decode, fc.decode, tol_hand3d, ctx, dargs)


def simcc3d(rng, log, i, seed):
    w, h, d = [int(v) for v in rng.choice([64, 192, 256, 288, 17], 3)]
    cfg = dict(input_size=(w, h, d),
               sigma=tuple(float(v) for v in rng.choice([4.9, 5.66, 6.0, 1.0, 0.5], 3)),
               simcc_split_ratio=float(rng.choice([2.0, 1.0, 2.5])),
               normalize=bool(rng.random() < 0.5), use_dark=bool(rng.random() < 0.3),
               root_index=tuple(int(v) for v in rng.choice([0, 1, 2], int(rng.integers(1, 3)), replace=False)),
               z_range=[None, 2.1744869, 1.0][int(rng.integers(3))])
    try:
        ref = SimCC3D(**cfg)
    except Exception as e:
        log.record('SimCC3D:ctor-ref-raises', f'{cfg}: {e!r:.200}')
        return
    try:
        fc = fastcodec.SimCC3DLabel(**cfg)
    except Exception as e:
        log.record('SimCC3D:ctor-fc-raises', f'{cfg}: {e!r:.200}')
        return
    K = int(rng.choice([3, 17, 133]))
    N = 1
    kps = gen.keypoints(rng, N, K, (w, h)).astype(rng.choice([np.float32, np.float64]))
    k3d = np.concatenate([kps, rng.uniform(-1.5, 1.5, (N, K, 1)).astype(kps.dtype)], -1)
    vis = gen.visibility(rng, N, K).astype(np.float32)
    args = (kps, k3d, vis) if rng.random() < 0.7 else (kps, None, vis)
    ctx = f'seed={seed} i={i} SimCC3D cfg={cfg} K={K} {kps.dtype} k3d={args[1] is not None}'
    log.payload = dict(cfg=cfg, args=args)
    want = H.check(log, 'SimCC3D.encode', ref.encode, fc.encode, tol_enc, ctx, args)
    if want is None:
        return
    xs = [gen.maps(rng, want[f'keypoint_{a}_labels'].shape[:-1] + (1, want[f'keypoint_{a}_labels'].shape[-1]),
                   want[f'keypoint_{a}_labels'][..., None, :])[..., 0, :] for a in 'xyz']
    log.payload = dict(cfg=cfg, xs=xs)
    H.check(log, 'SimCC3D.decode', ref.decode, fc.decode, tol_dec, ctx, tuple(xs))


def edpose(rng, log, i, seed):
    K = int(rng.choice([1, 14, 17]))
    cfg = dict(num_select=int(rng.choice([1, 5, 100, 300])), num_keypoints=K)
    ref, fc = mmc.EDPoseLabel(**cfg), fastcodec.EDPoseLabel(**cfg)
    N = int(rng.choice([0, 1, 3]))
    img = (int(rng.choice([640, 1333, 7])), int(rng.choice([480, 800, 3])))
    kps = gen.keypoints(rng, N, K, img).astype(rng.choice([np.float32, np.float64]))
    vis = gen.visibility(rng, N, K).astype(np.float32)
    area = rng.uniform(0, 1e5, N).astype(rng.choice([np.float32, np.float64]))
    lo = rng.uniform(0, 300, (N, 2)); box = np.concatenate([lo, lo + rng.uniform(0, 300, (N, 2))], -1).astype(np.float32)
    args = (img, kps, vis if rng.random() < 0.8 else None, area if rng.random() < 0.8 else None,
            box if rng.random() < 0.8 else None)
    ctx = f'seed={seed} i={i} EDPose cfg={cfg} N={N} img={img}'
    log.payload = dict(cfg=cfg, args=args)
    H.check(log, 'EDPose.encode', ref.encode, fc.encode, lambda p: 0.0, ctx, args)
    Q, C = int(rng.choice([1, 10, 100, 900])), int(rng.choice([1, 2]))
    logits = rng.uniform(0, 1, (Q, C)).astype(np.float32)
    if rng.random() < 0.3:
        logits = np.round(logits * 4) / 4
    boxes = rng.uniform(0, 1, (Q, 4)).astype(np.float32)
    pk = rng.uniform(0, 1, (Q, 3 * K)).astype(np.float32)
    shp = np.array([img[1], img[0]])
    log.payload = dict(cfg=cfg, dargs=(shp, logits, boxes, pk))
    H.check(log, 'EDPose.decode', ref.decode, fc.decode, lambda p: 0.0, ctx + f' Q={Q} C={C}', (shp, logits, boxes, pk))


def yolox(rng, log, i, seed):
    cfg = dict(expand_bbox=bool(rng.random() < 0.8))
    ref, fc = mmc.YOLOXPoseAnnotationProcessor(**cfg), fastcodec.YOLOXPoseAnnotationProcessor(**cfg)
    N, K = int(rng.choice([0, 1, 3])), int(rng.choice([1, 17]))
    kps = gen.cast(rng, gen.keypoints(rng, N, K, (640, 480)), ('float32', 'float64', 'int64', 'float16'))
    vis = rng.choice([0.0, 1.0, 2.0, 0.5], (N, K)).astype(rng.choice([np.float32, np.int64]))
    if rng.random() < 0.3:
        vis = vis[..., None]
    lo = rng.uniform(0, 300, (N, 2)); box = np.concatenate([lo, lo + rng.uniform(0, 300, (N, 2))], -1)
    box = box.astype(rng.choice([np.float32, np.float64]))
    cat = list(rng.integers(1, 3, N))
    args = (kps, vis, box, cat if rng.random() < 0.8 else None)
    ctx = f'seed={seed} i={i} YOLOX cfg={cfg} N={N} K={K} {kps.dtype} {vis.dtype}{vis.shape} {box.dtype}'
    log.payload = dict(cfg=cfg, args=args)
    H.check(log, 'YOLOX.encode', ref.encode, fc.encode, lambda p: 0.0, ctx, args)


def main(seed, n, only=None):
    rng = np.random.default_rng(seed)
    log = H.Log('misc')
    fns = dict(hand3d=hand3d, simcc3d=simcc3d, edpose=edpose, yolox=yolox)
    for i in range(n):
        name = str(rng.choice(list(fns)))
        if only and name != only:
            continue
        fns[name](rng, log, i, seed)
    log.summary()


if __name__ == '__main__':
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None)
