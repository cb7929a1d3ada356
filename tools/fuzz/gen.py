"""Random inputs for the fuzzers."""
import numpy as np


def keypoints(rng, N, K, size, scale=(1.0, 1.0), D=2):
    """(N, K, D) float64 keypoints in input pixels for an image of size (w, h): a mix of
    inside, outside, borders, (heatmap) pixel centres and half pixels, huge and tiny."""
    w, h = size
    kind = rng.integers(0, 9, size=(N, K))
    u = rng.uniform(0, 1, size=(N, K, D))
    lim = np.array([w, h] + [max(w, h)] * (D - 2), np.float64)
    sc = np.array(list(scale) + [1.0] * (D - 2))
    out = u * lim
    out = np.where(kind[..., None] == 1, (u * 1.6 - 0.3) * lim, out)  # around / outside
    out = np.where(kind[..., None] == 2,
                   np.round(u * lim / sc) * sc, out)  # heatmap pixel centres
    out = np.where(kind[..., None] == 3, (np.floor(u * lim / sc) + 0.5) * sc, out)  # halves
    border = rng.choice([0.0, 1.0], size=(N, K, D)) * (lim - rng.choice([0, 1e-3, 1], size=(N, K, D)))
    out = np.where(kind[..., None] == 4, border, out)
    out = np.where(kind[..., None] == 5, (u - 0.5) * rng.choice([1e3, 1e6, 1e9]), out)
    out = np.where(kind[..., None] == 6, (u - 0.5) * 1e-6, out)
    out = np.where(kind[..., None] == 7, np.round(u * lim), out)  # integer input pixels
    # exact half-way in heatmap pixels minus half a heatmap pixel (rounding boundary)
    out = np.where(kind[..., None] == 8, (np.floor(u * lim / sc) + 0.5) * sc - 0.5 * sc, out)
    return out


def visibility(rng, N, K):
    kind = rng.integers(0, 6, size=(N, K))
    v = np.choose(kind, [np.ones((N, K)), np.zeros((N, K)), np.full((N, K), 0.5),
                         rng.uniform(0, 1, (N, K)), np.full((N, K), 0.4999999),
                         rng.choice([2.0, 1.0], size=(N, K))])
    return v


def cast(rng, kps, choices=('float32', 'float32', 'float64', 'float16', 'int64', 'int16', 'int32')):
    dt = np.dtype(rng.choice(choices))
    if dt.kind in 'iu':
        info = np.iinfo(dt)
        return np.clip(np.round(kps), info.min, info.max).astype(dt)
    with np.errstate(over='ignore'):
        return kps.astype(dt)


def vis_cast(rng, v):
    dt = np.dtype(rng.choice(['float32', 'float32', 'float64', 'int64', 'bool', 'float16']))
    if dt.kind in 'ib':
        return np.round(v).astype(dt)
    return v.astype(dt)


def maps(rng, shape, base=None):
    """Decoder input maps of shape (..., H, W): encoded + noise, random, flat, constant,
    negative, quantised (ties), sparse peaks."""
    kind = rng.integers(0, 8)
    if base is not None and kind < 3:
        noise = rng.choice([0.0, 1e-3, 0.05])
        m = base + noise * rng.standard_normal(shape)
    elif kind == 3:
        m = rng.uniform(-1, 1, shape)
    elif kind == 4:
        m = np.full(shape, rng.choice([0.0, 1.0, -1.0, 0.3]))
    elif kind == 5:
        m = -rng.uniform(0, 1, shape)
    elif kind == 6:
        m = np.round(rng.uniform(0, 1, shape) * rng.choice([2, 4])) / 4
    else:
        m = np.zeros(shape)
        flat = m.reshape(-1, shape[-2] * shape[-1])
        for r in flat:
            for _ in range(rng.integers(1, 4)):
                r[rng.integers(0, r.size)] = rng.uniform(0.1, 1)
    return m.astype(np.float32)
