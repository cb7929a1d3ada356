"""Scan Megvii encode on small maps: every impulse pixel, several kernel sizes."""
import numpy as np, fastcodec
from harness import mmc
bad = {}
for ks in (3, 5, 7, 9, 11, 15):
    for W in (1, 2, 3, 5, 8, 16, 20, 33):
        for H in (1, 2, 3, 5, 8, 16):
            cfg = dict(input_size=(W, H), heatmap_size=(W, H), kernel_size=ks)
            ref, fc = mmc.MegviiHeatmap(**cfg), fastcodec.MegviiHeatmap(**cfg)
            xs, ys = np.meshgrid(np.arange(W), np.arange(H))
            kps = np.stack([xs.ravel(), ys.ravel()], -1)[None].astype(np.float32) + 0.25
            vis = np.ones(kps.shape[:2], np.float32)
            want = ref.encode(kps, vis)['heatmaps']
            for b in ('cpp', 'numba'):
                with fastcodec.use_backend(b):
                    got = fc.encode(kps, vis)['heatmaps']
                d = np.abs(got - want).max()
                if d > 1e-5:
                    bad.setdefault((b, ks), []).append((W, H, float(d)))
for k, v in bad.items():
    print(k, v)
