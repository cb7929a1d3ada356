"""The CUDA backend on real hardware: what the emulator cannot show.

Skipped without a CUDA device (and CuPy). Run on a GPU machine with
``pytest tests/gpu -q``. The same kernels and launch code as tests/cuda/test_cuda_emulator.py,
here compiled by NVRTC through CuPy and launched on the GPU: parity against the cpp
backend for torch and CuPy inputs, a non-default stream, empty batches, bad input
refused before a launch, and a CUDA-graph capture of a batch decode.
"""
import numpy as np
import pytest

cupy = pytest.importorskip('cupy')
try:
    _DEVICES = cupy.cuda.runtime.getDeviceCount()
except Exception:  # noqa: BLE001 - no driver: no device
    _DEVICES = 0
pytestmark = pytest.mark.skipif(_DEVICES == 0, reason='no CUDA device')

from conftest import CppFront  # noqa: E402
from fastcodec.backends.cuda import launch  # noqa: E402

if _DEVICES:
    from fastcodec.backends.cuda import device as gpu
else:
    gpu = None

cpp = CppFront()  # the reference: the cpp backend through the front
TARGET_TOL = 1e-5
COORD_TOL = 2e-3
SCORE_TOL = 1e-4


def _torch_cuda():
    torch = pytest.importorskip('torch')
    if not torch.cuda.is_available():
        pytest.skip('torch without CUDA')
    return torch


def _stream(stream: str, to_dev):
    """The context a test's calls run in: 'side', a non-default stream of the arrays'
    kind (CuPy's, or torch's current stream); 'default', none."""
    import contextlib
    if stream != 'side':
        return contextlib.nullcontext()
    if to_dev is cupy.asarray:
        return cupy.cuda.Stream(non_blocking=True)
    torch = _torch_cuda()
    return torch.cuda.stream(torch.cuda.Stream())


def _maps(seed=0, B=4, K=17, H=64, W=48, noise=0.02):
    rng = np.random.default_rng(seed)
    kps = rng.uniform(-8, 200, (B, 1, K, 2))
    heat, _ = cpp.encode_gaussian('msra', kps, np.ones((B, 1, K)), np.array([2.0]), (4.0, 4.0),
                                  False, W, H)
    heat = (heat + rng.normal(0, noise, heat.shape)).astype(np.float32)
    heat[0, 0] = 0.0
    return heat


# ---- kinds of arrays: CuPy and torch ----------------------------------------------------------
@pytest.fixture(params=['cupy', 'torch'])
def xp(request):
    """to_device(numpy) and to_host(device array) for one array kind."""
    if request.param == 'cupy':
        return cupy.asarray, cupy.asnumpy, lambda shape, dtype: cupy.empty(shape, dtype)
    torch = _torch_cuda()
    dtypes = {np.float32: torch.float32, np.float64: torch.float64, np.uint8: torch.uint8}
    return (lambda a: torch.from_numpy(np.ascontiguousarray(a)).cuda(),
            lambda t: t.cpu().numpy(),
            lambda shape, dtype: torch.empty(shape, dtype=dtypes[np.dtype(dtype).type],
                                             device='cuda'))


def test_decoders_match_cpp(xp):
    to_dev, to_host, empty = xp
    h = _maps()
    d = to_dev(h)
    locs, vals = empty((4, 17, 2), np.float32), empty((4, 17), np.float32)
    gpu.heatmap_maximum(d, locs, vals)
    ref = cpp.heatmap_maximum(h)
    np.testing.assert_array_equal(to_host(locs), ref[0])
    np.testing.assert_array_equal(to_host(vals), ref[1])
    for udp in (False, True):
        gpu.decode_dark(d, 11, udp, (4.0, 4.0), locs, vals)
        ref = cpp.decode_dark(h, 11, udp, (4.0, 4.0))
        np.testing.assert_allclose(to_host(locs), ref[0], atol=COORD_TOL, rtol=0)
        np.testing.assert_allclose(to_host(vals), ref[1], atol=SCORE_TOL, rtol=0)
    gpu.decode_megvii(to_dev(h * 255), 11, locs, vals)
    ref = cpp.decode_megvii(h * 255, 11)
    np.testing.assert_allclose(to_host(locs), ref[0], atol=COORD_TOL, rtol=0)
    np.testing.assert_allclose(to_host(vals), ref[1], atol=SCORE_TOL, rtol=0)


@pytest.mark.parametrize('kind', ['msra', 'unbiased', 'udp'])
def test_gaussian_encode_matches_cpp(xp, kind):
    to_dev, to_host, empty = xp
    rng = np.random.default_rng(1)
    kps = rng.uniform(-10, 200, (3, 2, 17, 2))
    vis = rng.choice([0.0, 1.0], (3, 2, 17))
    sigma = np.array([2.0, 3.0])
    heat, inside = empty((3, 17, 64, 48), np.float32), empty((3, 2, 17), np.uint8)
    gpu.encode_gaussian(kind, to_dev(kps), to_dev(vis), to_dev(sigma), (4.0, 4.0), False, heat,
                        inside)
    ref = cpp.encode_gaussian(kind, kps, vis, sigma, (4.0, 4.0), False, 48, 64)
    # device expf is not correctly rounded: within the contract, not bit-equal
    np.testing.assert_allclose(to_host(heat), ref[0], atol=TARGET_TOL, rtol=0)
    np.testing.assert_array_equal(to_host(inside), ref[1])


def test_simcc_decode_matches_cpp(xp):
    to_dev, to_host, empty = xp
    rng = np.random.default_rng(2)
    sx = rng.random((64, 384), dtype=np.float32)
    sy = rng.random((64, 512), dtype=np.float32)
    locs, vals, vis = empty((64, 2), np.float32), empty((64,), np.float32), empty((64,), np.float64)
    gpu.simcc_decode(to_dev(sx), to_dev(sy), 37, 37, 2.0, 150.0, (6.0, 6.0), locs, vals, vis)
    ref = cpp.simcc_decode(sx, sy, 37, 37, 2.0, True, 150.0, (6.0, 6.0))
    np.testing.assert_allclose(to_host(locs), ref[0], atol=COORD_TOL, rtol=0)
    np.testing.assert_allclose(to_host(vals), ref[1], atol=SCORE_TOL, rtol=0)
    np.testing.assert_allclose(to_host(vis), ref[2], atol=SCORE_TOL, rtol=0)


# ---- streams, empty batches, bad input, graphs ------------------------------------------------
def test_runs_on_the_callers_torch_stream():
    torch = _torch_cuda()
    h = _maps()
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        d = torch.from_numpy(h).cuda(non_blocking=True)  # produced on `stream`
        locs = torch.empty((4, 17, 2), device='cuda')
        vals = torch.empty((4, 17), device='cuda')
        gpu.decode_dark(d, 11, False, (4.0, 4.0), locs, vals)
        done = torch.cuda.Event()
        done.record(stream)
    done.synchronize()
    ref = cpp.decode_dark(h, 11, False, (4.0, 4.0))
    np.testing.assert_allclose(locs.cpu().numpy(), ref[0], atol=COORD_TOL, rtol=0)


def test_runs_on_the_callers_cupy_stream():
    h = _maps()
    stream = cupy.cuda.Stream(non_blocking=True)
    with stream:
        d = cupy.asarray(h)
        locs, vals = cupy.empty((4, 17, 2), np.float32), cupy.empty((4, 17), np.float32)
        gpu.heatmap_maximum(d, locs, vals)
    stream.synchronize()
    np.testing.assert_array_equal(cupy.asnumpy(locs), cpp.heatmap_maximum(h)[0])


def test_empty_batches():
    d = cupy.zeros((0, 17, 64, 48), np.float32)
    locs, vals = cupy.empty((0, 17, 2), np.float32), cupy.empty((0, 17), np.float32)
    gpu.decode_dark(d, 11, False, (1.0, 1.0), locs, vals)
    gpu.decode_dark(d, 11, True, (1.0, 1.0), locs, vals)
    heat = cupy.empty((0, 17, 64, 48), np.float32)
    gpu.encode_gaussian('msra', cupy.zeros((0, 1, 17, 2)), cupy.zeros((0, 1, 17)),
                        cupy.ones(1), (4.0, 4.0), False, heat, cupy.empty((0, 1, 17), np.uint8))


def test_bad_input_is_refused_before_a_launch(monkeypatch):
    calls = []
    monkeypatch.setattr(gpu._CupyLauncher, 'launch', lambda self, *a: calls.append(a))
    d = cupy.zeros((2, 3, 8, 8), np.float32)
    locs, vals = cupy.empty((2, 3, 2), np.float32), cupy.empty((2, 3), np.float32)
    with pytest.raises(TypeError):
        gpu.heatmap_maximum(d.astype(np.float64), locs, vals)
    with pytest.raises(ValueError):
        gpu.heatmap_maximum(cupy.zeros((2, 3, 8, 16), np.float32)[..., ::2], locs, vals)
    with pytest.raises(TypeError):
        gpu.heatmap_maximum(np.zeros((2, 3, 8, 8), np.float32), locs, vals)  # host memory
    with pytest.raises(ValueError):
        gpu.decode_dark(d, 4, False, (1.0, 1.0), locs, vals)
    assert calls == []


def test_batch_decode_is_capturable_in_a_cuda_graph():
    """decode_dark (DARK) allocates nothing and never synchronises: a torch CUDA graph
    captures it, and replays give the same results."""
    torch = _torch_cuda()
    h = torch.from_numpy(_maps()).cuda()
    locs = torch.empty((4, 17, 2), device='cuda')
    vals = torch.empty((4, 17), device='cuda')
    gpu.decode_dark(h, 11, False, (4.0, 4.0), locs, vals)  # compile and load outside capture
    torch.cuda.synchronize()
    expected = locs.clone()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        gpu.decode_dark(h, 11, False, (4.0, 4.0), locs, vals)
    locs.zero_()
    graph.replay()
    torch.cuda.synchronize()
    assert torch.equal(locs, expected)


def test_every_kernel_loads():
    for name in launch.SIGNATURES:
        assert gpu._kernels._launcher._function(name) is not None


# ---- the codecs end to end on device arrays ---------------------------------------------------
def _flat(out):
    if isinstance(out, dict):
        return [out[k] for k in sorted(out)]
    flat = []
    for v in out:
        if v is not None:       # SPR's keypoint scores without keypoint maps
            flat.extend(_flat(v) if isinstance(v, (tuple, list)) else [v])
    return flat


def _decoded(out):
    """(keypoint arrays, score arrays) of a batch decode; a bottom-up codec (SPR)
    returns one (keypoints, scores) result per sample."""
    if isinstance(out, list):
        return [s[0] for s in out], [a for s in out for a in _flat(s[1:])]
    keypoints, *scores = _flat(out)
    return [keypoints], scores


@pytest.mark.parametrize('stream', ['default', 'side'])
@pytest.mark.parametrize('name', sorted(__import__('conftest').DEVICE_CODECS))
def test_codecs_end_to_end(xp, name, stream):
    """encode / batch_encode / decode / batch_decode of each top-down codec on device
    arrays: the same kind back, on the device, matching the cpp backend (targets 1e-5,
    coordinates 2e-3 px, scores 1e-4), on the default stream and inside a side stream
    (torch.cuda.stream / a CuPy stream)."""
    from conftest import DEVICE_CODECS, device_test_keypoints, device_test_outputs
    import fastcodec
    to_dev, to_host, _ = xp
    codec = DEVICE_CODECS[name]()
    rng = np.random.default_rng(len(name))
    kps, vis = device_test_keypoints(rng, 3)
    outputs = device_test_outputs(codec, rng, 3)
    with fastcodec.use_backend('cpp'):
        want_encoded = _flat(codec.batch_encode(kps, vis))
        want_keypoints, want_scores = _decoded(codec.batch_decode(*outputs))
    with _stream(stream, to_dev):
        # the copies back run on the same stream: ordered after the call
        encoded = [to_host(a) for a in _flat(codec.batch_encode(to_dev(kps), to_dev(vis)))]
        keypoints, scores = _decoded(codec.batch_decode(*(to_dev(o) for o in outputs)))
        keypoints, scores = [to_host(a) for a in keypoints], [to_host(a) for a in scores]
    assert len(keypoints) == len(want_keypoints)
    for got, want, tol in ([(g, w, TARGET_TOL) for g, w in zip(encoded, want_encoded)]
                           + [(g, w, COORD_TOL) for g, w in zip(keypoints, want_keypoints)]
                           + [(g, w, SCORE_TOL) for g, w in zip(scores, want_scores)]):
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, atol=tol, rtol=0)
    assert len(encoded) == len(want_encoded) and len(scores) == len(want_scores)


# ---- DecoupledHeatmap (issue 15) ------------------------------------------------------------------
def test_instance_kernels_match_cpp(xp):
    """Roots, root visibility and diagonals equal cpp's bit for bit (correctly rounded
    arithmetic only); the sigmas are CUDA's pow, within 4 ulp of libm's (the targets'
    contract holds for that: tests/cuda/test_cuda_emulator.py)."""
    to_dev, to_host, empty = xp
    rng = np.random.default_rng(20)
    for dtype in (np.float32, np.float64):
        kps = rng.uniform(-50, 200, (500, 17, 2)).astype(dtype)
        kps[0, 0] = np.nan
        vis = rng.choice([0.0, 1.0, 2.0], (500, 17))
        vis[1] = 0
        out = empty((500, 2), np.float32), empty((500,), np.float32), empty((500,), np.float32)
        gpu.instance_geometry(to_dev(kps), to_dev(vis), True, *out)
        for got, want in zip(out, cpp.instance_geometry(kps, vis, True)):
            np.testing.assert_array_equal(to_host(got), want)
        h, w = (np.ascontiguousarray(rng.uniform(0, 200, 500).astype(dtype)) for _ in range(2))
        sig = empty((500,), np.float32)
        gpu.instance_sigmas(to_dev(h), to_dev(w), 0.7, sig)
        want = cpp.instance_sigmas(h, w, 0.7)
        ulps = np.abs(to_host(sig).view(np.int32) - want.view(np.int32))
        assert ulps.max() <= 4


@pytest.mark.parametrize('name', sorted(__import__('conftest').DEVICE_DECOUPLED))
def test_decoupled_end_to_end(xp, name):
    """batch_encode (under MMPose's seeded draws) and batch_decode on device arrays
    match the cpp backend: targets 1e-5, weights and root coordinates equal,
    coordinates 2e-3 px, scores 1e-4."""
    import random
    import fastcodec
    from conftest import DEVICE_DECOUPLED, decoupled_device_inputs, decoupled_device_outputs
    to_dev, to_host, _ = xp
    codec = DEVICE_DECOUPLED[name]()
    rng = np.random.default_rng(len(name))
    kps, vis, bbox = decoupled_device_inputs(rng, 3)
    maps, scores = decoupled_device_outputs(rng, 3)

    def seeded(fn):
        np.random.seed(0)
        random.seed(0)
        return fn()
    with fastcodec.use_backend('cpp'):
        want = seeded(lambda: codec.batch_encode(kps, vis, bbox))
        want_decoded = codec.batch_decode(maps, scores)
    got = seeded(lambda: codec.batch_encode(to_dev(kps), to_dev(vis), to_dev(bbox)))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.keys() == w.keys()
        for key in w:
            a = to_host(g[key])
            assert a.shape == w[key].shape and a.dtype == w[key].dtype, key
            tol = 0 if key in ('keypoint_weights', 'instance_coords') else TARGET_TOL
            np.testing.assert_allclose(a, w[key], atol=tol, rtol=0, err_msg=key)
    decoded = codec.batch_decode(to_dev(maps), to_dev(scores))
    for g, w, tol in zip(decoded, want_decoded, (COORD_TOL, SCORE_TOL)):
        np.testing.assert_allclose(to_host(g), w, atol=tol, rtol=0)


# ---- SPR (issue 15) ---------------------------------------------------------------------------
def test_spr_kernels_match_cpp(xp):
    """SPR's displacement targets and its decode (NMS, torch's CPU top-k order on both
    of its paths, read-out, rescoring) on the GPU against the cpp backend. No
    transcendental function is involved, so the GPU is expected to be bit-identical;
    the test holds it to the contract (and exact counts and root scores: copied values
    in the same order)."""
    to_dev, to_host, empty = xp
    rng = np.random.default_rng(3)
    B, N, K, H, W = 3, 6, 5, 40, 48
    roots = rng.uniform(0, 1, (B, N, 2)).astype(np.float32) * [W, H]
    roots = roots.astype(np.float32)
    roots_visible = rng.choice([0.0, 1.0, 2.0], (B, N)).astype(np.float32)
    diagonals = rng.uniform(2, 40, (B, N)).astype(np.float32)
    kps = roots[:, :, None].astype(np.float64) + rng.normal(0, 6, (B, N, K, 2))
    vis = rng.choice([0.0, 1.0, 2.0], (B, N, K))
    args = (kps, vis, roots, roots_visible, diagonals, 3.0, True)
    disp, wts = (to_dev(np.zeros((B, 2 * K, H, W), np.float32)) for _ in range(2))
    gpu.spr_encode_displacements(*(to_dev(a) if isinstance(a, np.ndarray) else a for a in args),
                                 disp, wts)
    ref = cpp.spr_encode_displacements(*args, W, H)
    np.testing.assert_allclose(to_host(disp), ref[0], atol=TARGET_TOL, rtol=0)
    np.testing.assert_array_equal(to_host(wts), ref[1])
    for M, levels in ((30, 2), (30, 0), (40, 3)):     # 40 * 64 > 40 * 48: nth_element
        heat = (rng.integers(0, levels + 1, (B, K + 1, H, W)) / max(levels, 1)).astype(np.float32)
        if levels == 0:
            heat = rng.uniform(-0.1, 1, (B, K + 1, H, W)).astype(np.float32)
        fields = rng.normal(0, 4, (B, 2 * K, H, W)).astype(np.float32)
        points, root_scores = empty((B, M, K, 2), np.float32), empty((B, M), np.float32)
        scores, counts = empty((B, M, K), np.float32), to_dev(np.zeros(B, np.int64))
        gpu.spr_decode(to_dev(heat), to_dev(fields), 5, -1.0, (4.0, 4.0), points, root_scores,
                       scores, counts)
        ref = cpp.spr_decode(heat, fields, 5, M, -1.0, True, (4.0, 4.0))
        np.testing.assert_array_equal(to_host(counts), ref[3])
        np.testing.assert_array_equal(to_host(root_scores), ref[1])
        np.testing.assert_allclose(to_host(points), ref[0], atol=COORD_TOL, rtol=0)
        np.testing.assert_allclose(to_host(scores), ref[2], atol=SCORE_TOL, rtol=0)


# ---- lifting (issue 15): the lifting codecs on device arrays -----------------------------------
@pytest.mark.parametrize('stream', ['default', 'side'])
@pytest.mark.parametrize('name', sorted(__import__('conftest').DEVICE_LIFTING_CODECS))
def test_lifting_end_to_end(xp, name, stream):
    """batch_encode / batch_decode of each lifting codec on device arrays (camera dicts
    of device arrays too, non-finite keypoints zeroed on the device): the same kind
    back, matching the cpp backend (targets 1e-5, coordinates 2e-3 px, weights and
    scores exact), on the default stream and inside a side stream."""
    from conftest import DEVICE_LIFTING_CODECS, device_lifting_inputs, device_lifting_outputs
    import fastcodec
    to_dev, to_host, _ = xp
    codec = DEVICE_LIFTING_CODECS[name]()
    rng = np.random.default_rng(len(name))
    args = device_lifting_inputs(codec, rng, 3)
    args[0][1, 0, 3] = np.nan
    args[2][2, 0, codec.root_index if isinstance(codec.root_index, int) else 0, 2] = np.inf
    outputs = device_lifting_outputs(codec, rng, 3)
    with fastcodec.use_backend('cpp'):
        want = codec.batch_encode(*args)
        want_decoded = codec.batch_decode(*outputs)
    dev = [{k: to_dev(v) for k, v in a.items()} if isinstance(a, dict) else to_dev(a)
           for a in args]
    with _stream(stream, to_dev):
        got = codec.batch_encode(*dev)
        got = {k: ({c: to_host(v) if not isinstance(v, (list, str)) else v
                    for c, v in got[k].items()} if isinstance(got[k], dict) else
                   to_host(got[k]) if not isinstance(got[k], (bool, int)) else got[k])
               for k in got}
        decoded = [to_host(a) for a in codec.batch_decode(*(to_dev(o) for o in outputs))]
    assert got.keys() == want.keys()
    for key in want:
        if not isinstance(want[key], np.ndarray):
            continue
        tol = 0 if 'weight' in key or 'visible' in key else TARGET_TOL
        assert got[key].shape == want[key].shape and got[key].dtype == want[key].dtype, key
        np.testing.assert_allclose(got[key], want[key], atol=tol, rtol=0, err_msg=key)
    np.testing.assert_allclose(decoded[0], want_decoded[0], atol=COORD_TOL, rtol=0)
    np.testing.assert_array_equal(decoded[1], want_decoded[1])


# ---- Hand3DHeatmap and SimCC3DLabel (issue 16) -----------------------------------------------------
def test_3d_codecs_end_to_end(xp):
    """Hand3DHeatmap's volumes and SimCC3DLabel's labels built on the device, and both
    decoded there, against the cpp backend. The volumes take the separable product
    unless it lies near a float32 rounding boundary (hand3d.h), then CUDA's exp, which
    is within 1 ulp but not correctly rounded: a voxel may differ by one float32 ulp."""
    import fastcodec
    to_dev, to_host, _ = xp
    rng = np.random.default_rng(30)
    hand = fastcodec.Hand3DHeatmap(max_bound=255, sigma=2.5)
    kps = np.concatenate([rng.uniform(0, 256, (4, 1, 42, 2)),
                          rng.uniform(-200, 200, (4, 1, 42, 1))], axis=-1).astype(np.float32)
    vis = np.ones((4, 1, 42), np.float32)
    with fastcodec.use_backend('cpp'):
        want = hand.batch_encode(kps, vis)
    got = hand.batch_encode(to_dev(kps), to_dev(vis))
    heat = to_host(got['heatmaps'])
    assert heat.dtype == np.float32 and heat.shape == want['heatmaps'].shape
    assert np.abs(heat.view(np.int32) - want['heatmaps'].view(np.int32)).max() <= 1
    np.testing.assert_array_equal(to_host(got['keypoint_weights']), want['keypoint_weights'])
    volumes = want['heatmaps'].reshape(4, 42, 64, 64, 64)
    with fastcodec.use_backend('cpp'):
        want_decoded = hand.batch_decode(volumes, np.ones((4, 1)), np.ones((4, 2)))
    decoded = hand.batch_decode(to_dev(volumes), np.ones((4, 1)), np.ones((4, 2)))
    np.testing.assert_array_equal(to_host(decoded[0]), want_decoded[0])
    np.testing.assert_array_equal(to_host(decoded[1]), want_decoded[1])

    simcc = fastcodec.SimCC3DLabel((288, 384, 288), (6.0, 6.93, 6.0), 2.0, root_index=(11, 12))
    kps2 = rng.uniform(0, 288, (4, 1, 133, 2)).astype(np.float32)
    k3d = rng.normal(0, 0.5, (4, 1, 133, 3)).astype(np.float32)
    vis2 = np.ones((4, 1, 133), np.float32)
    with fastcodec.use_backend('cpp'):
        want = simcc.batch_encode(kps2, k3d, vis2)
    got = simcc.batch_encode(to_dev(kps2), to_dev(k3d), to_dev(vis2))
    for key in ('keypoint_x_labels', 'keypoint_y_labels', 'keypoint_z_labels'):
        np.testing.assert_allclose(to_host(got[key]), want[key], atol=TARGET_TOL, rtol=0)
    np.testing.assert_array_equal(to_host(got['keypoint_weights']), want['keypoint_weights'])
    labels = [np.ascontiguousarray(want[f'keypoint_{a}_labels'][:, 0]) for a in 'xyz']
    with fastcodec.use_backend('cpp'):
        want_decoded = simcc.batch_decode(*labels)
    decoded = simcc.batch_decode(*(to_dev(v) for v in labels))
    np.testing.assert_allclose(to_host(decoded[0]), want_decoded[0], atol=COORD_TOL, rtol=0)
    np.testing.assert_allclose(to_host(decoded[2]), want_decoded[2], atol=SCORE_TOL, rtol=0)


# ---- AssociativeEmbedding (issue 16) -------------------------------------------------------------
@pytest.mark.parametrize('use_udp', [False, True], ids=['msra', 'udp'])
def test_associative_embedding_end_to_end(xp, use_udp):
    """AssociativeEmbedding encoded and decoded on the device against the cpp backend: the
    decode's grouping is exact arithmetic and munkres, so the same groups in the same
    order; coordinates and scores within the contract (CUDA's logf in DARK-UDP)."""
    import fastcodec
    from conftest import people_maps
    to_dev, to_host, _ = xp
    order = [0, 1, 2, 3, 4, 5, 6, 11, 12, 7, 8, 9, 10, 13, 14, 15, 16]
    codec = fastcodec.AssociativeEmbedding((512, 512), (128, 128), use_udp=use_udp,
                                           decode_keypoint_order=order)
    rng = np.random.default_rng(31)
    kps = rng.uniform(-10, 520, (3, 10, 17, 2)).astype(np.float32)
    vis = rng.choice([0.0, 1.0, 2.0], (3, 10, 17)).astype(np.float32)
    with fastcodec.use_backend('cpp'):
        want = codec.batch_encode(kps, vis)
    got = codec.batch_encode(to_dev(kps), to_dev(vis))
    np.testing.assert_allclose(to_host(got['heatmaps']), want['heatmaps'], atol=TARGET_TOL, rtol=0)
    for key in ('keypoint_indices', 'keypoint_weights'):
        np.testing.assert_array_equal(to_host(got[key]), want[key])
    heat, tags = people_maps(rng, B=4, H=128, W=128, N=10)
    with fastcodec.use_backend('cpp'):
        want = codec.batch_decode(heat, tags)
    got = codec.batch_decode(to_dev(heat), to_dev(tags))
    for parts, ref, tol in zip(got, want, (COORD_TOL, SCORE_TOL, SCORE_TOL)):
        assert [p.shape for p in parts] == [r.shape for r in ref]
        for p, r in zip(parts, ref):
            assert type(p) is np.ndarray
            np.testing.assert_allclose(p, r, atol=tol, rtol=0)
