"""AssociativeEmbedding's decode: the CUDA kernels (run by the cuda-emulator backend)
against the cpp backend, bit for bit, on random configurations (maps down to one pixel
a side, top-k up to every pixel, both top-k paths, UDP, instance limits) and maps
(people, noise, plateaus, all negative; NaN and Inf in maps and tags).

    ../../.venv/bin/python fuzz_ae_cuda.py SEED N
"""
import pathlib
import sys

import numpy as np

import fastcodec

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / 'tests'))
from conftest import people_maps  # noqa: E402


def random_config(rng, K, H, W):
    udp = bool(rng.random() < 0.4) and H >= 2 and W >= 2
    topk = min(H * W, int(rng.choice([0, 1, 3, 10, 30, H * W, max(1, H * W // 64)])))
    return dict(input_size=(4 * W, 4 * H), heatmap_size=(W, H), use_udp=udp,
                decode_keypoint_order=[int(v) for v in rng.permutation(K)],
                decode_nms_kernel=int(rng.choice([1, 3, 5, 7, 45])),
                decode_gaussian_kernel=int(rng.choice([1, 3, 5])),
                decode_keypoint_thr=float(rng.choice([-1.0, 0.0, 0.1, 0.5])),
                decode_tag_thr=float(rng.choice([0.5, 1.0, 3.0])), decode_topk=topk,
                decode_center_shift=float(rng.choice([0.0, 0.5])),
                decode_max_instances=rng.choice([None, 0, 1, 3, -1, -5, 100]))


def random_maps(rng, kind, B, K, L, H, W):
    if kind == 'people':
        heat, tags = people_maps(rng, B, H, W, int(rng.integers(1, 6)), L=L, K=K)
    else:
        heat = rng.normal(0, 1, (B, K, H, W)).astype(np.float32)
        if kind == 'plateaus':
            heat = np.round(heat * 2) / np.float32(2)
        elif kind == 'negative':
            heat = -np.abs(heat)
        tags = np.round(rng.normal(0, 2, (B, L * K, H, W))).astype(np.float32)
    if rng.random() < 0.15:
        at = tuple(int(rng.integers(0, n)) for n in heat.shape)
        heat[at] = rng.choice([np.nan, np.inf, -np.inf])
    if rng.random() < 0.1:
        tags[tuple(int(rng.integers(0, n)) for n in tags.shape)] = np.nan
    return heat, tags


def main(seed, n):
    rng = np.random.default_rng(seed)
    mismatches = 0
    for i in range(n):
        B, K, L = (int(rng.choice(c)) for c in ([1, 2, 3], [1, 2, 3, 5, 17], [1, 1, 2, 3]))
        H, W = (int(v) for v in rng.choice([1, 2, 3, 5, 8, 16, 33], 2))
        cfg = random_config(rng, K, H, W)
        kind = str(rng.choice(['people', 'noise', 'plateaus', 'negative']))
        heat, tags = random_maps(rng, kind, B, K, L, H, W)
        codec = fastcodec.AssociativeEmbedding(**cfg)
        results = []
        for backend in ('cpp', 'cuda-emulator'):
            with fastcodec.use_backend(backend):
                results.append(codec.batch_decode(heat.copy(), tags.copy()))
        same = all(x.shape == y.shape and np.array_equal(x, y, equal_nan=True)
                   for a, b in zip(*results) for x, y in zip(a, b))
        if not same:
            mismatches += 1
            print(f'MISMATCH seed {seed} case {i}: {kind} maps {(B, K, L, H, W)}, {cfg}')
    print(f'{n} cases, {mismatches} mismatches')


if __name__ == '__main__':
    main(int(sys.argv[1]), int(sys.argv[2]))
