"""The CUDA backend on a GPU, each case beside its baselines in the same run.

    pytest benchmarks/bench_cuda.py --benchmark-json RUN.json

Skipped without a CUDA device (and CuPy and torch with CUDA). Every case is timed with
CUDA events after a warm-up (NVRTC compilation and module load happen there), the
median of ROUNDS launches, for:

- ``fastcodec``: the cuda backend (fastcodec.backends.cuda.device) on torch tensors;
- ``copy``: a device-to-device copy of the bytes the op must read (decoders) or write
  (encoders): the card's bandwidth floor for this op;
- ``torch``: a straightforward pure-torch implementation of the same op, labelled as
  such (argmax, conv2d/conv1d blur, gathered Taylor/Newton step; a dense Gaussian
  cut to its window), the baseline a user would otherwise write;
- ``mmpose``: MMPose 1.3.2's codec on the CPU, per sample as its heads call it,
  including the device-to-host copy of the inputs (on a subset of the batch, scaled to
  the whole: MMPose is linear in the batch).

Targets (issue 14, H100/H200): DARK decode of 1024x17x64x48 within 3x of one read of
the heatmaps; MSRA encode of 1024x17x64x48 at >= 50% of the write bandwidth; SimCC
decode of 4096x17 within 3x of its read floor; every op >= 100x MMPose-on-CPU and
>= 3x the pure-torch baseline. The ratios land in each case's ``extra_info``.
"""
from __future__ import annotations

import statistics
import time

import numpy as np
import pytest

cupy = pytest.importorskip('cupy')
from _harness import cuda_device  # noqa: E402
torch = pytest.importorskip('torch')
pytestmark = pytest.mark.skipif(not cuda_device(), reason='no CUDA device')

WARMUP = 3
ROUNDS = 20
MMPOSE_SAMPLES = 16  # MMPose runs on this many samples; its time is scaled to the batch


def cuda_median_ms(fn, rounds=ROUNDS):
    """Median time of fn() on the current stream, by CUDA events, after a warm-up."""
    for _ in range(WARMUP):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(rounds):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def copy_ms(nbytes):
    src = torch.empty(nbytes, dtype=torch.uint8, device='cuda')
    dst = torch.empty_like(src)
    return cuda_median_ms(lambda: dst.copy_(src))


def record(benchmark, name, fn, floor_ms, torch_fn=None, mmpose_ms=None):
    """Times fn for pytest-benchmark (synchronised wall clock) and by CUDA events, and
    stores the ratios against the floor and the baselines."""
    ours = cuda_median_ms(fn)
    info = {'case': name, 'gpu': torch.cuda.get_device_name(), 'fastcodec_ms': ours,
            'copy_floor_ms': floor_ms, 'x_floor': ours / floor_ms}
    if torch_fn is not None:
        info['torch_ms'] = cuda_median_ms(torch_fn)
        info['speedup_vs_torch'] = info['torch_ms'] / ours
    if mmpose_ms is not None:
        info['mmpose_cpu_ms'] = mmpose_ms
        info['speedup_vs_mmpose'] = mmpose_ms / ours
    benchmark.extra_info.update(info)

    def synced():
        fn()
        torch.cuda.synchronize()
    benchmark.pedantic(synced, rounds=ROUNDS, warmup_rounds=WARMUP)


def mmpose_ms(codec, method, per_sample_args, batch):
    """MMPose on the CPU for `batch` samples (timed on MMPOSE_SAMPLES), each sample's
    device-to-host copy included."""
    start = time.perf_counter()
    for args in per_sample_args[:MMPOSE_SAMPLES]:
        getattr(codec, method)(*[a.cpu().numpy() if torch.is_tensor(a) else a for a in args])
    elapsed = time.perf_counter() - start
    return 1e3 * elapsed * batch / min(batch, MMPOSE_SAMPLES)


@pytest.fixture(scope='module')
def gpu():
    from fastcodec.backends.cuda import device
    return device


@pytest.fixture(scope='module')
def mmc():
    from fastcodec.mmpose_oracle import import_mmpose_codecs
    return import_mmpose_codecs()


# ---- inputs ---------------------------------------------------------------------------------
def network_heatmaps(B, K=17, H=64, W=48, seed=0):
    import fastcodec
    from fastcodec import _calls
    from fastcodec._arrays import open_call
    rng = np.random.default_rng(seed)
    kps = rng.uniform(0, 1, (B, 1, K, 2)) * [W * 4, H * 4]
    with fastcodec.use_backend('cpp'):
        heat, _ = _calls.encode_gaussian(open_call((kps,), ('keypoints',)), 'msra', kps,
                                         np.ones((B, 1, K)), np.array([2.0]), (4.0, 4.0), False,
                                         W, H)
    heat = 0.9 * heat + rng.normal(0, 0.01, heat.shape)
    return torch.from_numpy(heat.astype(np.float32)).cuda()


# ---- pure-torch baselines (labelled: what a user would write) -------------------------------
def torch_dark_decode(h, ksize=11):
    """Pure torch: argmax, conv2d Gaussian blur (OpenCV's taps), rescale, the DARK
    Taylor step from gathered neighbours."""
    B, K, H, W = h.shape
    flat = h.reshape(B * K, H * W)
    vals, idx = flat.max(dim=1)
    x, y = (idx % W).float(), (idx // W).float()
    sigma = 0.3 * ((ksize - 1) * 0.5 - 1) + 0.8
    t = torch.arange(ksize, device=h.device, dtype=torch.float32) - ksize // 2
    g = torch.exp(-t * t / (2 * sigma * sigma))
    g = g / g.sum()
    kern = (g[:, None] * g[None, :])[None, None]
    blurred = torch.nn.functional.conv2d(h.reshape(B * K, 1, H, W), kern, padding=ksize // 2)
    bmax = blurred.reshape(B * K, -1).amax(dim=1).clamp_min(1e-12)
    logm = torch.log(torch.clamp(blurred[:, 0] * (vals / bmax)[:, None, None], min=1e-10))
    xi = x.long().clamp(2, W - 3)
    yi = y.long().clamp(2, H - 3)
    r = torch.arange(B * K, device=h.device)

    def L(dx, dy):
        return logm[r, yi + dy, xi + dx]
    dx = 0.5 * (L(1, 0) - L(-1, 0))
    dy = 0.5 * (L(0, 1) - L(0, -1))
    dxx = 0.25 * (L(2, 0) - 2 * L(0, 0) + L(-2, 0))
    dxy = 0.25 * (L(1, 1) - L(1, -1) - L(-1, 1) + L(-1, -1))
    dyy = 0.25 * (L(0, 2) - 2 * L(0, 0) + L(0, -2))
    det = dxx * dyy - dxy * dxy
    ok = det != 0
    det = torch.where(ok, det, torch.ones_like(det))
    ox = torch.where(ok, -(dyy * dx - dxy * dy) / det, torch.zeros_like(det))
    oy = torch.where(ok, -(-dxy * dx + dxx * dy) / det, torch.zeros_like(det))
    return torch.stack([x + ox, y + oy], dim=-1).reshape(B, K, 2), vals.reshape(B, K)


def torch_msra_encode(kps, W=48, H=64, sigma=2.0):
    """Pure torch: a dense Gaussian per keypoint, cut to MMPose's 3-sigma window."""
    mu = torch.floor(kps / 4.0 + 0.5)  # (B, K, 2)
    xs = torch.arange(W, device=kps.device, dtype=torch.float32)
    ys = torch.arange(H, device=kps.device, dtype=torch.float32)
    dx = xs[None, None, None, :] - mu[..., 0, None, None]
    dy = ys[None, None, :, None] - mu[..., 1, None, None]
    g = torch.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma))
    inside = (dx.abs() <= 3 * sigma) & (dy.abs() <= 3 * sigma)
    return torch.where(inside, g, torch.zeros_like(g))


def torch_simcc_decode(sx, sy, ksize=37, ratio=2.0):
    """Pure torch: argmax per axis, min of the maxima, then 1-D DARK: conv1d Gaussian
    blur (OpenCV's taps), rescale to the raw maximum, log of the clipped values, the
    Newton step from the five gathered samples around each maximum."""
    sigma = 0.3 * ((ksize - 1) * 0.5 - 1) + 0.8
    t = torch.arange(ksize, device=sx.device, dtype=torch.float32) - ksize // 2
    g = torch.exp(-t * t / (2 * sigma * sigma))
    g = (g / g.sum())[None, None]
    out, vals = [], []
    for v in (sx, sy):
        raw, idx = v.max(dim=1)
        b = torch.nn.functional.conv1d(v[:, None], g, padding=ksize // 2)[:, 0]
        b = b * (raw / b.amax(dim=1).clamp_min(1e-12))[:, None]
        logb = torch.log(b.clamp(1e-3, 50.0))
        logb = torch.nn.functional.pad(logb[:, None], (2, 2), mode='replicate')[:, 0]
        p = (idx + 2)[:, None] + torch.arange(-2, 3, device=v.device)[None]
        d = logb.gather(1, p)
        dx = 0.5 * (d[:, 3] - d[:, 1])
        dxx = 1e-9 + 0.25 * (d[:, 4] - 2 * d[:, 2] + d[:, 0])
        out.append(idx.float() - dx / dxx)
        vals.append(raw)
    return torch.stack(out, dim=-1) / ratio, torch.minimum(*vals)


# ---- cases ---------------------------------------------------------------------------------
def test_dark_decode_1024(benchmark, gpu, mmc):
    h = network_heatmaps(1024)
    locs = torch.empty((1024, 17, 2), device='cuda')
    vals = torch.empty((1024, 17), device='cuda')
    codec = mmc.MSRAHeatmap(input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0,
                            unbiased=True)
    per_sample = [(h[i],) for i in range(MMPOSE_SAMPLES)]
    record(benchmark, 'dark_decode_1024x17x64x48',
           lambda: gpu.decode_dark(h, 11, False, (4.0, 4.0), locs, vals),
           copy_ms(h.numel() * 4), lambda: torch_dark_decode(h),
           mmpose_ms(codec, 'decode', per_sample, 1024))


def test_msra_encode_1024(benchmark, gpu, mmc):
    rng = np.random.default_rng(1)
    kps_np = rng.uniform(0, 1, (1024, 1, 17, 2)) * [192, 256]
    kps = torch.from_numpy(kps_np).cuda()
    vis = torch.ones((1024, 1, 17), dtype=torch.float64, device='cuda')
    sigma = torch.tensor([2.0], dtype=torch.float64, device='cuda')
    heat = torch.empty((1024, 17, 64, 48), device='cuda')
    inside = torch.empty((1024, 1, 17), dtype=torch.uint8, device='cuda')
    codec = mmc.MSRAHeatmap(input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0)
    per_sample = [(kps_np[i], np.ones((1, 17))) for i in range(MMPOSE_SAMPLES)]
    record(benchmark, 'msra_encode_1024x17x64x48',
           lambda: gpu.encode_gaussian('msra', kps, vis, sigma, (4.0, 4.0), False, heat, inside),
           copy_ms(heat.numel() * 4), lambda: torch_msra_encode(kps[:, 0].float()),
           mmpose_ms(codec, 'encode', per_sample, 1024))


def test_simcc_decode_4096(benchmark, gpu, mmc):
    rng = np.random.default_rng(2)
    R = 4096 * 17
    sx = torch.from_numpy(rng.random((R, 384), dtype=np.float32)).cuda()
    sy = torch.from_numpy(rng.random((R, 512), dtype=np.float32)).cuda()
    locs = torch.empty((R, 2), device='cuda')
    vals = torch.empty((R,), device='cuda')
    vis = torch.empty((0,), dtype=torch.float64, device='cuda')
    codec = mmc.SimCCLabel(input_size=(192, 256), smoothing_type='gaussian', sigma=6.0,
                           simcc_split_ratio=2.0, use_dark=True)
    per_sample = [(sx[17 * i:17 * (i + 1)][None], sy[17 * i:17 * (i + 1)][None])
                  for i in range(MMPOSE_SAMPLES)]
    record(benchmark, 'simcc_dark_decode_4096x17',
           lambda: gpu.simcc_decode(sx, sy, 37, 37, 2.0, 150.0, (6.0, 6.0), locs, vals, vis),
           copy_ms((sx.numel() + sy.numel()) * 4), lambda: torch_simcc_decode(sx, sy),
           mmpose_ms(codec, 'decode', per_sample, 4096))


# ---- DecoupledHeatmap (issue 15) ----------------------------------------------------------------
def test_decoupled_encode_64x10(benchmark, mmc):
    """DecoupledHeatmap batch_encode of 64 images x 10 people, 17 keypoints, 512 x 512
    images to 128 x 128 maps, on torch CUDA tensors: the whole call (instance kernels,
    global and instance heatmaps, its one device-to-host copy and the host's instance
    selection with MMPose's draws). Floor: a device copy of the bytes it writes."""
    import fastcodec
    rng = np.random.default_rng(3)
    B, N, K = 64, 10, 17
    centres = rng.uniform(40, 472, (B, N, 1, 2))
    kps_np = (centres + rng.normal(0, rng.uniform(10, 60, (B, N, 1, 1)), (B, N, K, 2))
              ).astype(np.float32)
    vis_np = rng.choice([0.0, 1.0, 1.0, 1.0], (B, N, K)).astype(np.float32)
    kps, vis = torch.from_numpy(kps_np).cuda(), torch.from_numpy(vis_np).cuda()
    codec = fastcodec.DecoupledHeatmap((512, 512), (128, 128))
    encoded = codec.batch_encode(kps, vis)
    maps = sum(e['heatmaps'].numel() + e['instance_heatmaps'].numel() for e in encoded)
    reference = mmc.DecoupledHeatmap(input_size=(512, 512), heatmap_size=(128, 128))
    per_sample = [(kps_np[i], vis_np[i]) for i in range(MMPOSE_SAMPLES)]
    record(benchmark, 'decoupled_encode_64x10x17_128x128',
           lambda: codec.batch_encode(kps, vis), copy_ms(maps * 4),
           mmpose_ms=mmpose_ms(reference, 'encode', per_sample, B))


# ---- SPR (issue 15) ----------------------------------------------------------------------------
def spr_people(B=64, N=10, K=17, size=512, seed=3):
    """B images of N people each (keypoints in a 512 x 512 input), as a DEKR batch."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0.15, 0.85, (B, N, 1, 2)) * size
    kps = centres + rng.normal(0, 1, (B, N, K, 2)) * rng.uniform(10, 60, (B, N, 1, 1))
    vis = (rng.random((B, N, K)) > 0.15).astype(np.float32)
    return kps, vis


def test_spr_encode_64x10(benchmark, mmc):
    """SPR encode of 64 images x 10 people at 128 x 128 (keypoint maps on): the whole
    batch_encode on torch tensors (instance geometry, root and keypoint Gaussians,
    weights, displacement fields). No pure-torch baseline: MMPose's encode is numpy."""
    import fastcodec
    cfg = dict(input_size=(512, 512), heatmap_size=(128, 128), sigma=(4, 2),
               generate_keypoint_heatmaps=True)
    codec = fastcodec.SPR(**cfg)
    kps_np, vis_np = spr_people()
    kps, vis = torch.from_numpy(kps_np).cuda(), torch.from_numpy(vis_np).cuda()
    out_bytes = 64 * (18 * 2 + 34 * 2) * 128 * 128 * 4   # heatmaps, weights, displacements x2
    per_sample = [(kps_np[i], vis_np[i]) for i in range(MMPOSE_SAMPLES)]
    record(benchmark, 'spr_encode_64x10x128x128', lambda: codec.batch_encode(kps, vis),
           copy_ms(out_bytes), None, mmpose_ms(mmc.SPR(**cfg), 'encode', per_sample, 64))


def test_spr_decode_64(benchmark, mmc):
    """SPR batch_decode of 64 DEKR outputs at 128 x 128 (root NMS, top-30, read-out,
    keypoint rescoring), its one host synchronisation (the counts) included; the torch
    baseline is MMPose's own decode (torch ops) on the GPU, per sample."""
    import fastcodec
    cfg = dict(input_size=(512, 512), heatmap_size=(128, 128), sigma=(4, 2),
               generate_keypoint_heatmaps=True)
    codec, ref = fastcodec.SPR(**cfg), mmc.SPR(**cfg)
    kps_np, vis_np = spr_people(seed=4)
    with fastcodec.use_backend('cpp'):
        enc = codec.batch_encode(kps_np, vis_np)
    rng = np.random.default_rng(5)
    heat = torch.from_numpy((enc['heatmaps'] + rng.normal(0, 0.01, enc['heatmaps'].shape))
                            .astype(np.float32)).cuda()
    disp = torch.from_numpy((enc['displacements'] + rng.normal(0, 0.5, enc['displacements'].shape))
                            .astype(np.float32)).cuda()
    start = time.perf_counter()   # MMPose on the CPU takes tensors: copied per sample
    for i in range(MMPOSE_SAMPLES):
        ref.decode(heat[i].cpu(), disp[i].cpu())
    mmpose_cpu_ms = 1e3 * (time.perf_counter() - start) * 64 / MMPOSE_SAMPLES
    record(benchmark, 'spr_decode_64x128x128', lambda: codec.batch_decode(heat, disp),
           copy_ms((heat.numel() + disp.numel()) * 4),
           lambda: [ref.decode(heat[i], disp[i]) for i in range(64)], mmpose_cpu_ms)


# ---- AssociativeEmbedding (issue 16): batch decode of 16 images -------------------------------
def test_ae_decode_16(benchmark, mmc):
    """AssociativeEmbedding batch_decode of 16 HigherHRNet outputs at 128 x 128 (10
    people, top-30, MMPose's COCO config: bench_associative_embedding's decode_ae
    inputs), its results copied to the host (numpy lists, as MMPose returns them); the
    torch baseline is MMPose's own batch_decode on the GPU tensors (torch NMS and top-k,
    then numpy and munkres on the host)."""
    import fastcodec
    from bench_associative_embedding import AE, case_inputs
    inputs = case_inputs('decode_ae')
    heat = inputs['heatmaps'].repeat(16, 1, 1, 1).cuda()
    tags = inputs['tags'].repeat(16, 1, 1, 1).cuda()
    codec, ref = fastcodec.AssociativeEmbedding(**AE), mmc.AssociativeEmbedding(**AE)
    start = time.perf_counter()   # MMPose on the CPU, the maps copied there first
    ref.batch_decode(heat.cpu(), tags.cpu())
    mmpose_cpu_ms = 1e3 * (time.perf_counter() - start)
    record(benchmark, 'ae_decode_16x128x128', lambda: codec.batch_decode(heat, tags),
           copy_ms((heat.numel() + tags.numel()) * 4), lambda: ref.batch_decode(heat, tags),
           mmpose_cpu_ms)


# ---- lifting (issue 15): batch lifting encode of 4096 sequences --------------------------------
def lifting_batch(B=4096, T=27, K=17, seed=3):
    """MotionBERT-like inputs on the GPU: keypoints (B, T, K, 2), camera-space targets
    (B, T, K, 3), their visibility, a camera dict of (B,) / (B, 2, 1) tensors; and the
    same on the host for MMPose."""
    rng = np.random.default_rng(seed)
    kps = rng.uniform(0, 1000, (B, T, K, 2)).astype(np.float32)
    target = rng.normal(0, 300, (B, T, K, 3))
    target[..., 2] += rng.uniform(3000, 6000, (B, T, 1))
    target = target.astype(np.float32)
    vis = np.ones((B, T, K), np.float32)
    cam = dict(w=np.full(B, 1000.0), h=np.full(B, 1002.0), f=rng.uniform(500, 1500, (B, 2, 1)),
               c=rng.uniform(200, 800, (B, 2, 1)))
    dev = [torch.from_numpy(a).cuda() for a in (kps, vis, target, vis)]
    dev.append({k: torch.from_numpy(v).cuda() for k, v in cam.items()})
    host = [(kps[i], vis[i], target[i], vis[i], {k: v[i] for k, v in cam.items()})
            for i in range(MMPOSE_SAMPLES)]
    return dev, host


def torch_op_path(codec, *args):
    """The codec's former device path (issue 14: torch ops on the tensors' device, the
    lifting codecs' vectorised implementation), the 'torch' baseline of these cases."""
    cls = type(codec)
    cls.device_ready = False
    try:
        return codec.batch_encode(*args)
    finally:
        del cls.device_ready          # back to the class hierarchy's True


def test_motionbert_encode_4096(benchmark, mmc):
    """MotionBERTLabel.batch_encode on torch CUDA tensors (the motionbert_encode
    kernels, the camera constants and non-finite masks in device glue), beside its
    former torch-op path and MMPose per sample on the CPU."""
    import fastcodec
    dev, host = lifting_batch()
    codec = fastcodec.MotionBERTLabel(17, mode='train', concat_vis=True)
    kps, vis, target = dev[0], dev[1], dev[2]
    # read: keypoints, target, both visibilities; written: labels (x, y, visibility),
    # target label, weights
    nbytes = 4 * (kps.numel() * 5 // 2 + 2 * target.numel() + 3 * vis.numel())
    record(benchmark, 'motionbert_train_encode_4096x27x17', lambda: codec.batch_encode(*dev),
           copy_ms(nbytes), lambda: torch_op_path(codec, *dev),
           mmpose_ms(mmc.MotionBERTLabel(17, mode='train', concat_vis=True), 'encode', host,
                     4096))


def test_video_lifting_encode_4096(benchmark, mmc):
    """VideoPoseLifting.batch_encode on torch CUDA tensors (elementwise glue on the
    device, no kernel of its own), beside its former torch-op path and MMPose."""
    import fastcodec
    dev, host = lifting_batch()
    codec = fastcodec.VideoPoseLifting(17, normalize_camera=True)
    nbytes = 4 * 2 * (dev[0].numel() + dev[2].numel() + dev[1].numel())  # read and written
    record(benchmark, 'video_lifting_encode_4096x27x17', lambda: codec.batch_encode(*dev),
           copy_ms(nbytes), lambda: torch_op_path(codec, *dev),
           mmpose_ms(mmc.VideoPoseLifting(17, normalize_camera=True), 'encode', host, 4096))
