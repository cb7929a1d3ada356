"""The top-down codecs and their ops on device arrays, end to end, without a GPU.

tests/fake_device.py simulates a CUDA device on the host: arrays that say they
live on cuda:0 and refuse to mix with host arrays (as CuPy does), a ``cupy`` module for
them, and the CUDA kernels run by the emulator behind the same launch code as on a GPU.
Each test gives a codec device arrays and checks that every result comes back as a
device array (no host round trip, no host constant mixed in) and matches the cpp
backend on the same host values within docs/design.md's CUDA parity contract (targets
1e-5, coordinates 2e-3 px, scores 1e-4; weights and other exact values equal).
What this cannot show (separate memory, streams, speed) is tests/gpu's.
"""
import numpy as np
import pytest

import fastcodec
from conftest import DEVICE_CODECS as CODECS, DEVICE_HEATMAP as HEATMAP
from conftest import device_test_keypoints, device_test_outputs
from fake_device import DeviceArray, device, install, to_host
from fastcodec._arrays import OnStream

TARGET_TOL, COORD_TOL, SCORE_TOL = 1e-5, 2e-3, 1e-4

# The arrays encode returns that are exact (weights): equal, not within a tolerance.
EXACT_KEYS = ('keypoint_weights',)


@pytest.fixture
def fake_cuda(monkeypatch):
    """The simulated device; after the test, no host-to-device copy blocked the host
    (codec constants go over asynchronously, on the call's stream)."""
    install(monkeypatch)
    import cupy   # the fake one
    yield
    assert cupy.blocking_copies == 0


keypoints = device_test_keypoints


def on_host(out):
    """Results of a device call as numpy arrays, after checking each is a device array."""
    if isinstance(out, dict):
        return {k: on_host(v) for k, v in out.items()}
    if isinstance(out, (tuple, list)):
        return type(out)(on_host(v) for v in out)
    if isinstance(out, np.ndarray):
        assert isinstance(out, DeviceArray), f'a {type(out).__name__} came back from a device call'
        return to_host(out)
    return out


def assert_matches(got, want, tol, exact=False):
    if isinstance(want, dict):
        assert got.keys() == want.keys()
        for k in want:
            assert_matches(got[k], want[k], tol, exact or k in EXACT_KEYS)
        return
    if want is None:        # SPR's keypoint scores without keypoint maps
        assert got is None
        return
    if isinstance(want, (tuple, list)):
        assert type(got) is type(want) and len(got) == len(want)
        for g, w in zip(got, want):
            assert_matches(g, w, tol, exact)
        return
    assert got.shape == want.shape and got.dtype == want.dtype
    if exact:
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=0, atol=tol)


@pytest.mark.parametrize('name', CODECS)
def test_encode_on_device(fake_cuda, name):
    codec = CODECS[name]()
    rng = np.random.default_rng(len(name))
    kps, vis = keypoints(rng, 3)
    with fastcodec.use_backend('cpp'):
        want = codec.batch_encode(kps, vis)
    got = on_host(codec.batch_encode(device(kps), device(vis)))
    assert_matches(got, want, TARGET_TOL)
    got1 = on_host(codec.encode(device(kps[0]), device(vis[0])))
    assert_matches(got1, {k: v[0] for k, v in want.items()}, TARGET_TOL)


@pytest.mark.parametrize('name', CODECS)
def test_decode_on_device(fake_cuda, name):
    codec = CODECS[name]()
    rng = np.random.default_rng(100 + len(name))
    outputs = device_test_outputs(codec, rng, 3)
    with fastcodec.use_backend('cpp'):
        want = codec.batch_decode(*outputs)
        want1 = codec.decode(*(o[0] for o in outputs))
    got = on_host(codec.batch_decode(*(device(o) for o in outputs)))
    got1 = on_host(codec.decode(*(device(o[0]) for o in outputs)))
    # bottom-up codecs (SPR) return one decode result per sample
    pairs = list(zip(got, want)) if isinstance(want, list) else [(got, want)]
    assert len(got) == len(want)
    for g, w in pairs + [(got1, want1)]:
        keypoints_got, scores_got = g
        keypoints_want, scores_want = w
        assert_matches(keypoints_got, keypoints_want, COORD_TOL)
        assert_matches(scores_got, scores_want, SCORE_TOL)


OPS = {
    'generate_gaussian_heatmaps': lambda k, v: fastcodec.ops.generate_gaussian_heatmaps(
        HEATMAP, k, v, 2.0),
    'generate_udp_gaussian_heatmaps': lambda k, v: fastcodec.ops.generate_udp_gaussian_heatmaps(
        HEATMAP, k, v, 2.0),
    'generate_unbiased_gaussian_heatmaps':
        lambda k, v: fastcodec.ops.generate_unbiased_gaussian_heatmaps(HEATMAP, k, v, 2.0),
    'generate_offset_heatmap': lambda k, v: fastcodec.ops.generate_offset_heatmap(
        HEATMAP, k, v, 0.0546875),
}


@pytest.mark.parametrize('name', OPS)
def test_encode_ops_on_device(fake_cuda, name):
    rng = np.random.default_rng(7)
    kps, vis = keypoints(rng, 1, N=2)
    kps, vis = kps[0] / 4, vis[0]
    with fastcodec.use_backend('cpp'):
        want = OPS[name](kps, vis)
    got = on_host(OPS[name](device(kps), device(vis)))
    assert_matches(got[0], want[0], TARGET_TOL)
    assert_matches(got[1], want[1], 0, exact=True)


def test_decode_ops_on_device(fake_cuda):
    rng = np.random.default_rng(8)
    heat = rng.random((17, 64, 48)).astype(np.float32)
    ops = fastcodec.ops
    with fastcodec.use_backend('cpp'):
        want_max = ops.get_heatmap_maximum(heat)
        want_blur = ops.gaussian_blur(heat.copy(), 11)
        want_dark = ops.refine_keypoints_dark(want_max[0][None].copy(), heat, 11)
    assert_matches(on_host(ops.get_heatmap_maximum(device(heat))), want_max, 0, exact=True)
    blurred = device(heat)
    assert ops.gaussian_blur(blurred, 11) is blurred        # in place, as on the host
    assert_matches(to_host(blurred), want_blur, TARGET_TOL)
    kps = device(want_max[0][None])
    assert ops.refine_keypoints_dark(kps, device(heat), 11) is kps
    assert_matches(to_host(kps), want_dark, COORD_TOL)
    sx, sy = (rng.random((2, 17, n)).astype(np.float32) for n in (384, 512))
    with fastcodec.use_backend('cpp'):
        want = ops.get_simcc_maximum(sx, sy)
        want_soft = ops.get_simcc_maximum(sx, sy, apply_softmax=True)
        want_refined = ops.refine_simcc_dark(want[0][..., 0].copy(), sx, 13)
    assert_matches(on_host(ops.get_simcc_maximum(device(sx), device(sy))), want, 0, exact=True)
    assert_matches(on_host(ops.get_simcc_maximum(device(sx), device(sy), apply_softmax=True)),
                   want_soft, SCORE_TOL)
    assert_matches(on_host(ops.refine_simcc_dark(device(want[0][..., 0]), device(sx), 13)),
                   want_refined, COORD_TOL)


def test_the_simulation_catches_host_arrays(fake_cuda):
    """The harness fails a codec that mixes a host array into a device computation,
    computes on device arrays outside Call.xp, or hands a host array to a device
    kernel (what CuPy, a GPU, or a torch caller's stream would get wrong)."""
    import cupy   # the fake one
    d = device(np.ones(3))
    with pytest.raises(TypeError, match='host'):
        cupy.multiply(d, np.ones(3))
    with pytest.raises(TypeError, match='Call.xp'):
        d * d
    with pytest.raises(TypeError, match='Call.xp'):
        np.where(d > 0, d, 0)
    with pytest.raises(TypeError, match='Call.xp'):
        d[0] = 1
    with pytest.raises(TypeError, match='Call.xp'):
        d.astype(np.float32)
    from fastcodec import _backend
    kernels = _backend.kernels(fastcodec._arrays.Device('cuda', 0))
    with pytest.raises(TypeError, match='device kernel'):
        kernels.heatmap_maximum(np.ones((1, 4, 4), np.float32), device(np.empty((1, 2), np.float32)),
                                device(np.empty(1, np.float32)))


def test_on_stream_runs_each_function_on_the_stream():
    """A torch caller's device call: every CuPy function and kernel inside its stream."""
    log = []

    class Stream:
        def __enter__(self):
            log.append('enter')

        def __exit__(self, *exc):
            log.append('exit')

    module = type('M', (), dict(f=staticmethod(lambda x: log.append(x) or x), ndarray=np.ndarray,
                                pi=3.0))
    on = OnStream(module, Stream())
    assert on.f(5) == 5 and log == ['enter', 5, 'exit']
    assert on.ndarray is np.ndarray and on.pi == 3.0 and log == ['enter', 5, 'exit']


def test_mixed_devices_are_refused(fake_cuda):
    codec = CODECS['msra']()
    kps, vis = keypoints(np.random.default_rng(0), 1)
    with pytest.raises(TypeError, match='share a device'):
        codec.batch_encode(device(kps), vis)


def test_codecs_without_device_kernels_say_so(fake_cuda):
    """The codecs without CUDA kernels (EDPoseLabel: a few divisions on the host) refuse
    device arrays up front, saying so."""
    kps, vis = keypoints(np.random.default_rng(1), 1, N=2)
    with pytest.raises(NotImplementedError, match='no CUDA kernels yet'):
        fastcodec.EDPoseLabel().encode((64, 64), device(kps[0]), device(vis[0]))


# ---- DecoupledHeatmap (issue 15) ----------------------------------------------------------------
from conftest import DEVICE_DECOUPLED, decoupled_device_inputs, decoupled_device_outputs  # noqa: E402


def _seeded(fn, seed=0):
    """fn() under np.random.seed / random.seed (MMPose's draws), and the next value of
    each generator (equal for two calls that took the same draws)."""
    import random
    np.random.seed(seed)
    random.seed(seed)
    out = fn()
    return out, (np.random.random(), random.random())


@pytest.mark.parametrize('name, with_bbox, dtype', [
    ('decoupled', True, np.float32), ('decoupled', False, np.float64),
    ('decoupled_bbox_few', True, np.float64), ('decoupled_bbox_few', False, np.float32)])
def test_decoupled_encode_on_device(fake_cuda, name, with_bbox, dtype):
    """Global and instance heatmaps, weights and root coordinates on device arrays equal
    the cpp backend's under the same seeds of MMPose's generators (same draws, same
    instances), with one device-to-host copy per call (the instance selection)."""
    import cupy   # the fake one
    codec = DEVICE_DECOUPLED[name]()
    kps, vis, bbox = decoupled_device_inputs(np.random.default_rng(len(name)), 3, dtype=dtype)
    vis[2] = 0  # an image without instances: MMPose's empty outputs
    box = bbox if with_bbox else None
    with fastcodec.use_backend('cpp'):
        want, want_draws = _seeded(lambda: codec.batch_encode(kps, vis, box))
    dev_box = device(bbox) if with_bbox else None
    got, draws = _seeded(lambda: codec.batch_encode(device(kps), device(vis), dev_box))
    assert cupy.host_copies == 1
    assert draws == want_draws and len(got) == len(want) == 3
    assert len(want[0]['instance_coords']) and not len(want[2]['instance_coords'])
    for g, w in zip(on_host(got), want):
        assert_matches(g, w, TARGET_TOL)
        np.testing.assert_array_equal(g['instance_coords'], w['instance_coords'])
    with fastcodec.use_backend('cpp'):
        want1, _ = _seeded(lambda: codec.encode(kps[1], vis[1], None if box is None else box[1]))
    got1, _ = _seeded(lambda: codec.encode(device(kps[1]), device(vis[1]),
                                           None if box is None else device(bbox[1])))
    assert cupy.host_copies == 2
    assert_matches(on_host(got1), want1, TARGET_TOL)


def test_decoupled_private_generator_on_device(fake_cuda):
    """rng= (a seed): the same draws on the device as on the CPU, so the same targets."""
    codec = DEVICE_DECOUPLED['decoupled_bbox_few']()
    kps, vis, bbox = decoupled_device_inputs(np.random.default_rng(3), 2)
    with fastcodec.use_backend('cpp'):
        want = codec.batch_encode(kps, vis, bbox, rng=11)
    got = on_host(codec.batch_encode(device(kps), device(vis), device(bbox), rng=11))
    for g, w in zip(got, want):
        assert_matches(g, w, TARGET_TOL)
        np.testing.assert_array_equal(g['instance_coords'], w['instance_coords'])


def test_decoupled_device_refuses_huge_boxes(fake_cuda):
    """Sigmas above MAX_SIGMA are refused on the device too (checked at its one copy)."""
    codec = DEVICE_DECOUPLED['decoupled']()
    kps, vis, bbox = decoupled_device_inputs(np.random.default_rng(4), 1)
    bbox[0, 0] *= 1e6
    with pytest.raises(ValueError, match='sigmas above'):
        codec.batch_encode(device(kps), device(vis), device(bbox))


def test_decoupled_decode_on_device(fake_cuda):
    codec = DEVICE_DECOUPLED['decoupled']()
    maps, scores = decoupled_device_outputs(np.random.default_rng(5), 3)
    with fastcodec.use_backend('cpp'):
        want, want1 = codec.batch_decode(maps, scores), codec.decode(maps[0], scores[0])
    got = on_host(codec.batch_decode(device(maps), device(scores)))
    got1 = on_host(codec.decode(device(maps[0]), device(scores[0])))
    for g, w in ((got, want), (got1, want1)):
        assert_matches(g[0], w[0], COORD_TOL)
        assert_matches(g[1], w[1], SCORE_TOL)
    empty = on_host(codec.decode(device(maps[0, :0]), device(scores[0, :0])))
    assert empty[0].shape == (0, 17, 2) and empty[1].shape == (0, 17)


# ---- SPR (issue 15) ----------------------------------------------------------------------
SPR_NAMES = ['spr', 'spr_keypoint_maps', 'spr_auto_sigma']


def spr_crowd(codec, rng, B=3, N=5):
    """Several people per image (overlapping windows, a non-finite keypoint, invisible
    ones), and their targets from the cpp backend."""
    w, h = codec.input_size
    centres = rng.uniform(0.3, 0.7, (B, 1, 1, 2)) * [w, h]
    kps = centres + rng.normal(0, 1, (B, N, 17, 2)) * rng.uniform(5, 40, (B, N, 1, 1))
    kps[0, 1, 3] = np.nan
    vis = rng.choice([0.0, 1.0, 1.0, 2.0], (B, N, 17))
    with fastcodec.use_backend('cpp'):
        return kps, vis, codec.batch_encode(kps, vis)


@pytest.mark.parametrize('name', SPR_NAMES)
def test_spr_crowd_decode_on_device(fake_cuda, monkeypatch, name):
    """A batch decode with a varying instance count per sample: device arrays matching
    cpp, and nothing read back from the device but the instance counts, once, on the
    call's stream (xp.asnumpy; tolist would read on CuPy's current stream)."""
    codec = CODECS[name]()
    rng = np.random.default_rng(31)
    _, _, want = spr_crowd(codec, rng)
    heat = (want['heatmaps'] + 0.01 * rng.random(want['heatmaps'].shape)).astype(np.float32)
    disp = (want['displacements'] + rng.normal(0, 0.5, want['displacements'].shape)
            ).astype(np.float32)
    with fastcodec.use_backend('cpp'):
        want_decoded = codec.batch_decode(heat, disp)
    read_back = []
    real_get = DeviceArray.get
    monkeypatch.setattr(DeviceArray, 'get', lambda self: read_back.append(self.shape) or real_get(self))
    monkeypatch.setattr(DeviceArray, 'tolist', lambda self: pytest.fail('tolist off the stream'))
    got_decoded = on_host(codec.batch_decode(device(heat), device(disp)))
    assert read_back == [(3,)]              # the counts, once per batch
    assert len({len(k) for k, _ in want_decoded}) > 1      # counts differ per sample
    assert type(got_decoded) is list and len(got_decoded) == 3
    for (k_got, s_got), (k_want, s_want) in zip(got_decoded, want_decoded):
        assert_matches(k_got, k_want, COORD_TOL)
        assert_matches(s_got, s_want, SCORE_TOL)


@pytest.mark.parametrize('name', SPR_NAMES)
def test_spr_crowd_encode_on_device(fake_cuda, name):
    codec = CODECS[name]()
    kps, vis, want = spr_crowd(codec, np.random.default_rng(31))
    got = on_host(codec.batch_encode(device(kps), device(vis)))
    assert_matches(got, want, TARGET_TOL)
    for key in ('heatmap_weights', 'displacements', 'displacement_weights'):
        np.testing.assert_array_equal(got[key], want[key])   # no transcendental: exact


# ---- lifting (issue 15): the lifting codecs on device arrays ---------------------------------
from conftest import DEVICE_LIFTING_CODECS as LIFTING  # noqa: E402
from conftest import device_lifting_inputs, device_lifting_outputs  # noqa: E402


def _on_device(args):
    return tuple({k: device(v) for k, v in a.items()} if isinstance(a, dict) else
                 None if a is None else device(a) for a in args)


def _sample(args, b):
    return tuple({k: v[b] for k, v in a.items()} if isinstance(a, dict) else
                 None if a is None else a[b] for a in args)


def _assert_lifting(got, want):
    assert got.keys() == want.keys()
    for key in want:
        if isinstance(want[key], dict):            # the normalised camera
            _assert_lifting(got[key], want[key])
        elif isinstance(want[key], np.ndarray):    # weights, visibilities: exact
            assert_matches(got[key], want[key], TARGET_TOL,
                           'weight' in key or 'visible' in key)
        else:
            assert got[key] == want[key], key


# camera f, c: MotionBERTLabel projects with them (or not), VideoPoseLifting normalises
# them (normalize_camera), ImagePoseLifting has no camera
LIFTING_CASES = [(name, project) for name in LIFTING
                 for project in ((True, False) if name.startswith('motionbert') else
                                 (name == 'video_camera',))]


@pytest.mark.parametrize('name, project', LIFTING_CASES,
                         ids=[f'{n}-{"camera" if p else "no-camera"}' for n, p in LIFTING_CASES])
@pytest.mark.parametrize('dtype', [np.float32, np.float64], ids=['f32', 'f64'])
def test_lifting_encode_on_device(fake_cuda, name, project, dtype):
    """batch_encode and encode on device arrays (camera dicts of device arrays too)
    against cpp; a non-finite 2D keypoint and target root are zeroed on the device
    without reading anything back."""
    codec = LIFTING[name]()
    rng = np.random.default_rng(len(name) + project)
    args = device_lifting_inputs(codec, rng, 3, project=project, dtype=dtype)
    args[0][1, 0, 3] = np.nan
    args[2][2, 0, codec.root_index if isinstance(codec.root_index, int) else 0, 2] = np.inf
    with fastcodec.use_backend('cpp'):
        want = codec.batch_encode(*args)
        want1 = codec.encode(*_sample(args, 1))
    _assert_lifting(on_host(codec.batch_encode(*_on_device(args))), want)
    _assert_lifting(on_host(codec.encode(*_on_device(_sample(args, 1)))), want1)
    assert np.isfinite(want['lifting_target_label']).all()   # the masks applied


@pytest.mark.parametrize('name', LIFTING)
def test_lifting_decode_on_device(fake_cuda, name):
    codec = LIFTING[name]()
    rng = np.random.default_rng(200 + len(name))
    outputs = device_lifting_outputs(codec, rng, 3)
    cases = [outputs, outputs[:1]]
    if isinstance(codec, fastcodec.MotionBERTLabel):
        cases.append((outputs[0], None, None, outputs[3]))
    for args in cases:
        with fastcodec.use_backend('cpp'):
            want = codec.batch_decode(*args)
            want1 = codec.decode(*_sample(args, 2))
        for got, w in ((codec.batch_decode(*_on_device(args)), want),
                       (codec.decode(*_on_device(_sample(args, 2))), want1)):
            got = on_host(got)
            assert_matches(got[0], w[0], COORD_TOL)
            assert_matches(got[1], w[1], SCORE_TOL, exact=True)


def test_motionbert_on_device_refuses_what_its_kernels_do_not_round(fake_cuda):
    codec = LIFTING['motionbert']()
    args = list(device_lifting_inputs(codec, np.random.default_rng(4), 2))
    args[0] = args[0].astype(np.float16)
    with pytest.raises(TypeError, match='float32 / float64'):
        codec.batch_encode(*_on_device(args))


# ---- Hand3DHeatmap and SimCC3DLabel (issue 16) ------------------------------------------------
HAND3D = dict(image_size=[96, 80], heatmap_size=[24, 20, 16], heatmap3d_depth_bound=300.0)
HAND_AUX = dict(rel_root_depth=np.float32(30.0), rel_root_valid=1.0,
                hand_type=np.array([[1, 0]]), hand_type_valid=np.array([1]))


def _hand_keypoints(rng, B, N, K=21):
    """(B, N, K, 3) keypoints inside and outside the image, depths in and out of range."""
    kps = np.concatenate([rng.uniform(-0.2, 1.2, (B, N, K, 1)) * 96,
                          rng.uniform(-0.2, 1.2, (B, N, K, 1)) * 80,
                          rng.uniform(-0.6, 0.6, (B, N, K, 1)) * 300], axis=-1)
    return kps.astype(np.float32), rng.choice([0.0, 1.0], (B, N, K)).astype(np.float32)


@pytest.mark.parametrize('cfg', [dict(), dict(sigma=(1.5, 3.0), use_different_joint_weights=True,
                                              max_bound=255)],
                         ids=['defaults', 'per-instance-sigma'])
def test_hand3d_encode_on_device(fake_cuda, cfg):
    """The volumes and weights are built on the device and equal cpp's bit for bit (the
    emulator runs libm's exp); the root depth and hand type come from the host values."""
    codec = fastcodec.Hand3DHeatmap(**HAND3D, **cfg)
    kps, vis = _hand_keypoints(np.random.default_rng(21), 2, 2)
    jw = np.linspace(0.5, 1.5, 21)
    with fastcodec.use_backend('cpp'):
        want = codec.batch_encode(kps, vis, jw, np.array([30.0, -20.0], np.float32),
                                  np.ones(2), np.array([[1, 0], [0, 1]]), np.ones(2))
        want1 = codec.encode(kps[1], vis[1], jw, **HAND_AUX)
    got = codec.batch_encode(device(kps), device(vis), device(jw),
                             np.array([30.0, -20.0], np.float32), np.ones(2),
                             np.array([[1, 0], [0, 1]]), np.ones(2))
    got1 = codec.encode(device(kps[1]), device(vis[1]), device(jw), **HAND_AUX)
    for g, w in ((got, want), (got1, want1)):
        assert g.keys() == w.keys()
        for key in ('heatmaps', 'keypoint_weights'):
            assert_matches(on_host(g[key]), w[key], 0, exact=True)
        for key in set(w) - {'heatmaps', 'keypoint_weights'}:
            np.testing.assert_array_equal(g[key], w[key], err_msg=key)
    assert want['heatmaps'].any() and (want['keypoint_weights'] == 0).any()


def test_hand3d_decode_on_device(fake_cuda):
    codec = fastcodec.Hand3DHeatmap(**HAND3D)
    rng = np.random.default_rng(22)
    heat = rng.normal(0, 1, (2, 21, 16, 20, 24)).astype(np.float32)
    heat[0, 3] = -np.abs(heat[0, 3])            # a volume whose maximum is <= 0
    root, hand = rng.uniform(0, 64, (2, 1)), rng.normal(0, 1, (2, 2))
    with fastcodec.use_backend('cpp'):
        want = codec.batch_decode(heat, root, hand)
        want1 = codec.decode(heat[1], root[1], hand[1])
    for got, w in ((codec.batch_decode(device(heat), root, hand), want),
                   (codec.decode(device(heat[1]), root[1], hand[1]), want1)):
        assert_matches(on_host(got[0]), w[0], 0, exact=True)
        assert_matches(on_host(got[1]), w[1], 0, exact=True)
        np.testing.assert_array_equal(got[2], w[2])
        np.testing.assert_array_equal(got[3], w[3])
    assert (want[0][0, 0, 3] != -1).any()      # the -1 locations were converted as MMPose does


SIMCC3D = dict(input_size=(96, 128, 80), sigma=(4.0, 4.5, 3.5), simcc_split_ratio=2.0,
               root_index=(1, 2))


@pytest.mark.parametrize('with_3d', [False, True], ids=['2d', '3d'])
def test_simcc3d_encode_on_device(fake_cuda, with_3d):
    codec = fastcodec.SimCC3DLabel(**SIMCC3D)
    rng = np.random.default_rng(23 + with_3d)
    kps = (rng.uniform(-0.2, 1.2, (2, 2, 17, 2)) * [96, 128]).astype(np.float32)
    k3d = rng.normal(0, 0.6, (2, 2, 17, 3)).astype(np.float32) if with_3d else None
    vis = rng.choice([0.0, 0.5, 1.0], (2, 2, 17)).astype(np.float32)
    with fastcodec.use_backend('cpp'):
        want = codec.batch_encode(kps, k3d, vis)
        want1 = codec.encode(kps[1], None if k3d is None else k3d[1], vis[1])
    got = codec.batch_encode(device(kps), None if k3d is None else device(k3d), device(vis))
    got1 = codec.encode(device(kps[1]), None if k3d is None else device(k3d[1]), device(vis[1]))
    for g, w in ((got, want), (got1, want1)):
        assert list(g) == list(w)
        for key, value in w.items():
            if key == 'with_z_label' or not isinstance(value, np.ndarray):
                # MMPose's flags, and the placeholders of a sample without 3-D keypoints
                assert type(g[key]) is type(value) and np.array_equal(g[key], value), key
            else:   # labels within the target tolerance; weights and depths exactly
                assert_matches(on_host(g[key]), value, TARGET_TOL,
                               exact=not key.endswith('_labels'))


@pytest.mark.parametrize('use_dark', [False, True], ids=['argmax', 'dark'])
def test_simcc3d_decode_on_device(fake_cuda, use_dark):
    codec = fastcodec.SimCC3DLabel(**SIMCC3D, use_dark=use_dark)
    rng = np.random.default_rng(25)
    kps = (rng.uniform(0, 1, (3, 1, 17, 2)) * [96, 128]).astype(np.float32)
    k3d = rng.normal(0, 0.6, (3, 1, 17, 3)).astype(np.float32)
    with fastcodec.use_backend('cpp'):
        enc = codec.batch_encode(kps, k3d, np.ones((3, 1, 17), np.float32))
    x, y, z = (labels + rng.normal(0, 0.02, labels.shape).astype(np.float32)
               for labels in (enc[f'keypoint_{a}_labels'][:, 0] for a in 'xyz'))
    x[0, 4] = -1.0  # a row whose maximum is <= 0
    y[0, 4] = -1.0
    with fastcodec.use_backend('cpp'):
        want = codec.batch_decode(x, y, z)
        want1 = codec.decode(x[2], y[2], z[2])
    for got, w in ((codec.batch_decode(device(x), device(y), device(z)), want),
                   (codec.decode(device(x[2]), device(y[2]), device(z[2])), want1)):
        got = on_host(got)
        assert_matches(got[0], w[0], COORD_TOL)
        assert_matches(got[1], w[1], COORD_TOL)
        assert_matches(got[2], w[2], SCORE_TOL)
    assert want[2][0, 0, 4] <= 0     # the row whose locations are -1 before conversion


# ---- AssociativeEmbedding (issue 16) ------------------------------------------------------
AE_ORDER = [0, 1, 2, 3, 4, 5, 6, 11, 12, 7, 8, 9, 10, 13, 14, 15, 16]


@pytest.mark.parametrize('use_udp', [False, True], ids=['msra', 'udp'])
def test_ae_encode_on_device(fake_cuda, use_udp):
    """Heatmaps, keypoint indices and weights built on the device, equal to cpp's; the
    indices of keypoints that are NaN or beyond int64 as numpy gives them on x86."""
    codec = fastcodec.AssociativeEmbedding((256, 192), (64, 48), use_udp=use_udp)
    kps, vis = keypoints(np.random.default_rng(41), 2, N=3)
    kps[0, 0, :3] = [[np.nan, 5.0], [1e30, -1e30], [np.inf, 3.0]]
    with fastcodec.use_backend('cpp'):
        want = codec.batch_encode(kps, vis)
        want1 = codec.encode(kps[1], vis[1])
    for got, w in ((codec.batch_encode(device(kps), device(vis)), want),
                   (codec.encode(device(kps[1]), device(vis[1])), want1)):
        got = on_host(got)
        assert got.keys() == w.keys()
        assert_matches(got['heatmaps'], w['heatmaps'], TARGET_TOL)
        for key in ('keypoint_indices', 'keypoint_weights'):
            assert_matches(got[key], w[key], 0, exact=True)
    assert (want['keypoint_indices'][0, 0, :3, 0] < 0).all()


@pytest.mark.parametrize('use_udp', [False, True], ids=['msra', 'udp'])
def test_ae_decode_on_device(fake_cuda, use_udp):
    """The decode runs on the device; its results come back as numpy arrays (as MMPose's
    do), equal to cpp's (the emulator's math is libm's)."""
    import cupy
    from conftest import people_maps
    codec = fastcodec.AssociativeEmbedding((160, 128), (40, 32), use_udp=use_udp,
                                           decode_keypoint_order=AE_ORDER)
    heat, tags = people_maps(np.random.default_rng(42), B=3, H=32, W=40, N=4, L=2)
    with fastcodec.use_backend('cpp'):
        want = codec.batch_decode(heat, tags)
        want1 = codec.decode(heat[2], tags[2])
    copies = cupy.host_copies
    got = codec.batch_decode(device(heat), device(tags))
    assert cupy.host_copies - copies == 4          # the results, after the decode
    got1 = codec.decode(device(heat[2]), device(tags[2]))
    for g, w in ((got, want), ([[a] for a in got1], [[a] for a in want1])):
        for parts, ref in zip(g, w):
            for a, b in zip(parts, ref):
                assert type(a) is np.ndarray and not isinstance(a, DeviceArray)
                assert_matches(a, b, 0, exact=True)
    assert sum(len(k) for k in want[0]) >= 9
