"""Decoders on one-row / one-column maps (OpenCV skips that axis' blur pass)."""
import numpy as np, fastcodec
import harness as H
mmc = H.mmc
rng = np.random.default_rng(1616)
bad = {}
n = 0
for trial in range(150):
    W, Hh = [(1, int(rng.integers(1, 40))), (int(rng.integers(1, 40)), 1)][trial % 2]
    kind = trial % 3
    if kind == 0:
        cfg = dict(input_size=(4 * W, 4 * Hh), heatmap_size=(W, Hh), sigma=2.0, unbiased=True, blur_kernel_size=int(rng.choice([3, 11, 17])))
        ref, fc = mmc.MSRAHeatmap(**cfg), fastcodec.MSRAHeatmap(**cfg); C = 5
    elif kind == 1:
        cfg = dict(input_size=(4 * W, 4 * Hh), heatmap_size=(W, Hh), kernel_size=int(rng.choice([3, 11, 17])))
        ref, fc = mmc.MegviiHeatmap(**cfg), fastcodec.MegviiHeatmap(**cfg); C = 5
    else:
        cfg = dict(input_size=(4 * W, 4 * Hh), heatmap_size=(W, Hh), sigma=2.0)
        ref, fc = mmc.MSRAHeatmap(**cfg), fastcodec.MSRAHeatmap(**cfg); C = 5
    m = rng.random((C, Hh, W)).astype(np.float32)
    want = ref.decode(m.copy())
    for b in H.BACKENDS:
        with fastcodec.use_backend(b):
            got = fc.decode(m.copy())
        for d in H.compare(want, got, lambda p: H.COORD if p.endswith('[0]') else H.SCORE):
            bad.setdefault((kind, b), []).append((cfg, d[:200]))
    n += 1
print(n, 'cases')
for k, v in bad.items():
    print(k, len(v), v[:2])
