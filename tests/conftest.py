"""Shared fixtures: the MMPose 1.3.2 oracle, backends, and input generators."""
import os

import numpy as np
import pytest

import fastcodec
from fastcodec.mmpose_oracle import import_mmpose_codecs  # noqa: F401 (tests import it)


@pytest.fixture(scope='session')
def mmc():
    return import_mmpose_codecs()


@pytest.fixture(scope='session')
def mmu(mmc):
    import mmpose.codecs.utils as utils
    return utils


CPU_BACKENDS = [b for b in ('cpp', 'numba') if b in fastcodec.available_backends()]
# The CUDA kernels run on the host (csrc/cuda/emulator.h), on host arrays.
EMULATOR = [b for b in ('cuda-emulator',) if b in fastcodec.available_backends()]

# A test (or module, via pytestmark) marked `EMULATED` runs on EMULATOR too, besides
# every CPU backend; `EMULATED(keep=lambda params: ...)` keeps only the emulated cases whose
# parameters (callspec.params) satisfy the predicate (the subset that keeps the suite
# fast), deselecting the others.
EMULATED = pytest.mark.emulated
# FASTCODEC_TEST_ALL_EMULATED=1 keeps every emulated case (a longer run, e.g. before a release).
ALL_EMULATED = os.environ.get('FASTCODEC_TEST_ALL_EMULATED') == '1'


def pytest_configure(config):
    config.addinivalue_line('markers', 'emulated(keep=None): also run the test on the '
                            'cuda-emulator backend (the cases keep(params) accepts)')


def pytest_generate_tests(metafunc):
    if 'backend' in metafunc.fixturenames:
        emulated = metafunc.definition.get_closest_marker('emulated') is not None
        metafunc.parametrize('backend', CPU_BACKENDS + (EMULATOR if emulated else []),
                             indirect=True)


def pytest_collection_modifyitems(config, items):
    kept, dropped = [], []
    for item in items:
        params = getattr(getattr(item, 'callspec', None), 'params', {})
        mark = item.get_closest_marker('emulated')
        keep = (params.get('backend') not in EMULATOR or mark is None or ALL_EMULATED
                or mark.kwargs.get('keep', lambda _: True)(params))
        (kept if keep else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture
def backend(request):
    with fastcodec.use_backend(request.param):
        yield request.param


class CppFront:
    """The cpp backend as the codecs call it, for comparing another backend's kernels
    with it: ``CppFront().encode_gaussian(kind, ..., f32, W, H)`` is
    fastcodec._calls.encode_gaussian on a cpp host call (the front allocates and
    returns the outputs; the encoders take the map size W, H there); the in-place
    kernels (refine_*, normalize_heatmaps) are the cpp backend's own."""

    def __getattr__(self, name):
        from fastcodec import _backend, _calls
        front = getattr(_calls, name, None)
        if front is None:
            return getattr(_backend._import('cpp'), name)

        def call(*args):
            with fastcodec.use_backend('cpp'):
                return front(host_call(), *args)
        return call


# ---- NVRTC (CUDA's run-time compiler: no GPU needed) ------------------------------------
def load_nvrtc():
    """(cupy_backends' NVRTC bindings, '') with libnvrtc from the nvidia-cuda-nvrtc-cu12
    wheel preloaded, or (None, why) when either is missing. Both wheels are in the
    `test` extra, so in CI (CI=true) a missing NVRTC fails the NVRTC tests instead of
    skipping them."""
    import ctypes
    import glob
    import os
    try:
        import nvidia.cuda_nvrtc  # the wheel holding libnvrtc.so.12
        libdirs = [os.path.join(p, 'lib') for p in nvidia.cuda_nvrtc.__path__]
        libs = [f for d in libdirs for f in glob.glob(os.path.join(d, 'libnvrtc.so*'))
                if 'builtins' not in f]
        for f in sorted(libs):
            ctypes.CDLL(f, mode=ctypes.RTLD_GLOBAL)
    except ImportError:
        pass  # a system CUDA may still provide libnvrtc
    try:
        from cupy_backends.cuda.libs import nvrtc
        nvrtc.getVersion()
    except Exception as exc:  # ImportError, or the library failing to load
        why = f'NVRTC unavailable (pip install nvidia-cuda-nvrtc-cu12 cupy-cuda12x): {exc}'
        if os.environ.get('CI') == 'true':
            raise RuntimeError(f'{why}; the test extra installs it, so CI must run these tests')
        return None, why
    return nvrtc, ''


# ---- inputs -------------------------------------------------------------------------
def host_call():
    """A front call on host arrays (fastcodec._arrays.Call): the kernels of the backend
    selected now, outputs allocated as numpy arrays. Tests call kernels through
    fastcodec._calls with it, as the codecs do."""
    from fastcodec._arrays import open_call
    return open_call((np.empty(0),), ('x',))


def adversarial_keypoints(rng, input_size, scale_factor, n=1, k=17):
    """(n, k, 2) keypoints mixing: uniform inside, borders, outside, exact .5
    heatmap-pixel boundaries (before and after scaling), and far outside."""
    w, h = input_size
    kps = rng.uniform(0, 1, (n, k, 2)) * [w, h]
    kind = rng.integers(0, 6, (n, k))
    border = rng.choice([0.0, 1.0], (n, k, 2)) * [w - 1, h - 1]
    kps[kind == 1] = border[kind == 1]
    kps[kind == 2] = (rng.uniform(-0.3, 1.3, (n, k, 2)) * [w, h])[kind == 2]
    halves = (rng.integers(-2, 70, (n, k, 2)) + 0.5) * np.asarray(scale_factor, np.float64)
    kps[kind == 3] = halves[kind == 3]
    kps[kind == 4] = (rng.integers(-3, 70, (n, k, 2)) * np.asarray(scale_factor, np.float64))[kind == 4]
    kps[kind == 5] = (rng.uniform(-3, 3, (n, k, 2)) * [w, h])[kind == 5]
    return kps


def adversarial_visibility(rng, n=1, k=17):
    return rng.choice([0.0, 0.49, 0.5, 1.0, 2.0], (n, k))


HEATMAP_KINDS = ('clean', 'noisy', 'negative', 'rescaled', 'plateau', 'shifted')


def perturb(rng, heatmaps, kind, noise=0.05):
    """Model outputs (heatmaps or SimCC vectors) as a model might emit them, from clean
    encoded targets; `noise` is the standard deviation of the 'noisy' kind."""
    h = heatmaps.astype(np.float32)
    if kind == 'noisy':
        h = h + rng.normal(0, noise, h.shape).astype(np.float32)
    elif kind == 'negative':
        h = h - np.float32(0.3)
    elif kind == 'rescaled':
        h = h * np.float32(rng.choice([1e-3, 7.5, 120.0]))
    elif kind == 'plateau':
        h = np.round(h * 4) / np.float32(4)
    elif kind == 'shifted':
        h = np.roll(h, 1, axis=-1) * np.float32(0.6) + h * np.float32(0.4)
    return np.ascontiguousarray(h, dtype=np.float32)


# ---- shared by the parity tests of several codec families ----------------------------
def build_both(mmc, cfg):
    args = {k: v for k, v in cfg.items() if k != 'type'}
    return fastcodec.build(cfg), getattr(mmc, cfg['type'])(**args)


def assert_decoded_close(ours, ref, stable=None):
    (kp, score), (kp_ref, score_ref) = ours, ref
    assert kp.shape == kp_ref.shape and kp.dtype == kp_ref.dtype
    assert score.shape == score_ref.shape and score.dtype == score_ref.dtype
    defined = np.isfinite(kp_ref).all(-1) & np.isfinite(score_ref)
    # MMPose's NaN results are replaced by defined values (docs/deviations.md).
    assert np.isfinite(kp[~defined]).all() and np.isfinite(score[~defined]).all()
    close = defined if stable is None else defined & stable
    np.testing.assert_allclose(kp[close], kp_ref[close], rtol=0, atol=2e-3)
    np.testing.assert_allclose(score[defined], score_ref[defined], rtol=0, atol=1e-4)


# ---- the top-down codecs on device arrays (tests/cuda/test_device_front.py, tests/gpu) ----
DEVICE_INPUT, DEVICE_HEATMAP = (192, 256), (48, 64)
DEVICE_CODECS = {
    'msra': lambda: fastcodec.MSRAHeatmap(DEVICE_INPUT, DEVICE_HEATMAP, sigma=2.0),
    'dark': lambda: fastcodec.MSRAHeatmap(DEVICE_INPUT, DEVICE_HEATMAP, sigma=2.0,
                                          unbiased=True),
    'udp': lambda: fastcodec.UDPHeatmap(DEVICE_INPUT, DEVICE_HEATMAP, sigma=2.0),
    'udp_combined': lambda: fastcodec.UDPHeatmap(DEVICE_INPUT, DEVICE_HEATMAP,
                                                 heatmap_type='combined'),
    'megvii': lambda: fastcodec.MegviiHeatmap(DEVICE_INPUT, DEVICE_HEATMAP, kernel_size=11),
    'simcc': lambda: fastcodec.SimCCLabel(DEVICE_INPUT, 'gaussian', (4.9, 5.66), 2.0),
    'simcc_dark_vis': lambda: fastcodec.SimCCLabel(DEVICE_INPUT, 'gaussian', 6.0, 2.0,
                                                   use_dark=True, decode_visibility=True),
    'simcc_standard': lambda: fastcodec.SimCCLabel(DEVICE_INPUT, 'standard', 2.0, 2.0,
                                                   label_smooth_weight=0.1),
    'regression': lambda: fastcodec.RegressionLabel(DEVICE_INPUT),
    'integral': lambda: fastcodec.IntegralRegressionLabel(DEVICE_INPUT, DEVICE_HEATMAP,
                                                          sigma=2.0),
}


def device_test_keypoints(rng, B, N=1, K=17):
    """Keypoints (B, N, K, 2) over and around the input image, visibility (B, N, K)."""
    kps = rng.uniform(-10, 200, (B, N, K, 2))
    kps[..., 1] *= 256 / 200
    vis = (rng.random((B, N, K)) > 0.2).astype(np.float32)
    return kps, vis


def device_test_outputs(codec, rng, B):
    """Model-like outputs of B samples for a DEVICE_CODECS codec, host arrays: its own
    targets (encoded on the host) plus noise."""
    kps, vis = device_test_keypoints(rng, B)
    encoded = codec.batch_encode(kps, vis)
    if isinstance(codec, fastcodec.SPR):      # SPR (issue 15): maps and displacement fields
        return tuple((encoded[k] + noise * rng.standard_normal(encoded[k].shape)).astype(np.float32)
                     for k, noise in (('heatmaps', 0.02), ('displacements', 0.5)))
    if isinstance(codec, fastcodec.SimCCLabel):
        return tuple(np.ascontiguousarray(encoded[k] + 0.01 * rng.random(encoded[k].shape),
                                          np.float32)[:, 0]
                     for k in ('keypoint_x_labels', 'keypoint_y_labels'))
    if isinstance(codec, (fastcodec.RegressionLabel, fastcodec.IntegralRegressionLabel)):
        labels = encoded['keypoint_labels']
        return ((labels + 0.001 * rng.standard_normal(labels.shape)).astype(np.float32),)
    heat = encoded['heatmaps']
    return ((heat + 0.02 * rng.random(heat.shape)).astype(np.float32),)


# ---- DecoupledHeatmap on device arrays (issue 15; tests/cuda/test_device_front.py, tests/gpu) ----
# Not in DEVICE_CODECS: its encode draws random numbers and returns one dict per image, and
# it needs several instances per image, which the top-down tests' inputs do not give.
DEVICE_DECOUPLED = {
    'decoupled': lambda: fastcodec.DecoupledHeatmap((256, 256), (64, 64)),
    'decoupled_bbox_few': lambda: fastcodec.DecoupledHeatmap(
        (256, 256), (64, 64), root_type='bbox_center', heatmap_min_overlap=0.5,
        encode_max_instances=2),
}


def decoupled_device_inputs(rng, B, N=6, K=17, dtype=np.float32):
    """DecoupledHeatmap inputs, host arrays: keypoints (B, N, K, 2) of N people on a
    256 x 256 image (some outside it), visibility (B, N, K) float32 with an instance
    without visible keypoints and one with a single one, and bbox (B, N, 8) corners
    around each person's keypoints."""
    centres = rng.uniform(-10, 266, (B, N, 1, 2))
    kps = (centres + rng.normal(0, rng.uniform(2, 30, (B, N, 1, 1)), (B, N, K, 2))).astype(dtype)
    kps[:, 1] = kps[:, 0]  # equal roots: the jitter's deduplication
    vis = rng.choice([0.0, 1.0, 1.0, 1.0], (B, N, K)).astype(np.float32)
    vis[:, 2] = 0
    vis[:, 3] = 0
    vis[:, 3, 4] = 1
    lo, hi = kps.min(axis=2), kps.max(axis=2)
    bbox = np.stack([lo[..., 0], lo[..., 1], lo[..., 0], hi[..., 1], hi[..., 0], lo[..., 1],
                     hi[..., 0], hi[..., 1]], axis=-1)
    return kps, vis, bbox


def decoupled_device_outputs(rng, B, N=4, K=17, W=64, H=64):
    """Network-like DecoupledHeatmap outputs, host arrays: instance heatmaps
    (B, N, K, H, W) float32 (peaks plus noise) and instance scores (B, N, 1) float32."""
    yy, xx = np.mgrid[:H, :W]
    peaks = rng.uniform(0, [W, H], (B, N, K, 1, 1, 2))
    maps = np.exp(-((xx - peaks[..., 0]) ** 2 + (yy - peaks[..., 1]) ** 2) / 8.0)
    maps = (maps + rng.normal(0, 0.02, maps.shape)).astype(np.float32)
    return maps, rng.uniform(0, 1, (B, N, 1)).astype(np.float32)


# ---- SPR on device arrays (issue 15) -----------------------------------------------------
DEVICE_CODECS.update({
    'spr': lambda: fastcodec.SPR((256, 256), (64, 64), decode_thr=0.05),
    'spr_keypoint_maps': lambda: fastcodec.SPR((192, 256), (48, 64), sigma=(3, 1.5),
                                               generate_keypoint_heatmaps=True,
                                               root_type='bbox_center', decode_thr=0.05),
    # automatic sigmas: the keypoint sigma sqrt(48 * 64) / 32 // 2 is 0, no keypoint maps
    'spr_auto_sigma': lambda: fastcodec.SPR((192, 256), (48, 64), generate_keypoint_heatmaps=True,
                                            decode_thr=0.05),
})


# ---- lifting (issue 15): the lifting codecs on device arrays (tests/cuda, tests/gpu) ---------
DEVICE_LIFTING_CODECS = {
    'motionbert': lambda: fastcodec.MotionBERTLabel(17),
    'motionbert_train_vis': lambda: fastcodec.MotionBERTLabel(17, root_index=2, mode='train',
                                                              concat_vis=True, rootrel=True),
    'image': lambda: fastcodec.ImagePoseLifting(17, root_index=[0, 3]),
    'image_stats': lambda: fastcodec.ImagePoseLifting(
        17, remove_root=True, save_index=True, concat_vis=True,
        keypoints_mean=np.linspace(0, 500, 34), keypoints_std=np.linspace(50, 150, 34),
        target_mean=np.linspace(-0.1, 0.1, 48), target_std=np.linspace(0.1, 1, 48)),
    'video': lambda: fastcodec.VideoPoseLifting(17, remove_root=True, concat_vis=True),
    'video_camera': lambda: fastcodec.VideoPoseLifting(17, root_index=3, normalize_camera=True,
                                                       reshape_keypoints=False),
}


def device_lifting_inputs(codec, rng, B, T=9, K=17, project=True, dtype=np.float32):
    """A lifting codec's batch_encode arguments for B samples, host arrays: keypoints
    (B, T, K, 2) (one instance with ImagePoseLifting's statistics), visibility,
    camera-space targets (B, T, K, 3) (T = 1 for ImagePoseLifting) and their
    visibility; VideoPoseLifting and MotionBERTLabel: a camera dict of (B,) / (B, 2, 1)
    arrays (without f, c where not ``project``); MotionBERTLabel: factors (B, T) with
    sample 0 taking the computed one."""
    image = isinstance(codec, fastcodec.ImagePoseLifting)
    N = 1 if image and codec.keypoints_mean is not None else T
    T = 1 if image else T
    kps = rng.uniform(-50, 1500, (B, N, K, 2)).astype(dtype)
    vis = rng.choice([0.0, 0.5, 1.0], (B, N, K)).astype(np.float32)
    target = rng.normal(0, 300, (B, T, K, 3))
    target[..., 2] += rng.uniform(3000, 6000, (B, T, 1))
    tvis = rng.choice([0.0, 0.49, 0.51, 1.0], (B, T, K)).astype(np.float32)
    args = (kps, vis, target.astype(dtype), tvis)
    if image:
        return args
    cam = dict(w=rng.integers(200, 1500, B).astype(np.float64),
               h=rng.integers(200, 1500, B).astype(np.float64))
    if project:
        cam.update(f=rng.uniform(500, 1500, (B, 2, 1)), c=rng.uniform(200, 800, (B, 2, 1)))
    if isinstance(codec, fastcodec.VideoPoseLifting):
        return args + (cam,)
    factor = rng.uniform(0.5, 4, (B, T)).astype(np.float32)
    factor[0, 0] = 0
    return args + (cam, factor)


def device_lifting_outputs(codec, rng, B, T=9, K=17, dtype=np.float32):
    """A lifting codec's batch_decode arguments: outputs (B, T, K', 3) and, for Image /
    VideoPoseLifting, the target root (B, 1, 3); MotionBERTLabel: w, h (B, T), factor
    (B, T, 1)."""
    if not isinstance(codec, fastcodec.MotionBERTLabel):
        K -= codec.remove_root and len(codec.root_index) == 1
        T = 1 if getattr(codec, 'target_mean', None) is not None else T
        return (rng.normal(0, 1, (B, T, K, 3)).astype(dtype),
                rng.normal(0, 1, (B, 1, 3)).astype(np.float32))
    w = rng.integers(200, 1500, (B, T)).astype(np.float64)
    return (rng.normal(0, 1, (B, T, K, 3)).astype(dtype), w,
            rng.integers(200, 1500, (B, T)).astype(np.float64),
            rng.uniform(0.5, 4, (B, T, 1)).astype(np.float32))


# ---- AssociativeEmbedding (issue 16) ----------------------------------------------------
def people_maps(rng, B, H, W, N, L=1, K=17, noise=0.02, missing=0.15):
    """Network-like outputs: per image N people, a Gaussian peak per keypoint (some
    missing), a per-person tag around each keypoint, noise in both."""
    yy, xx = np.mgrid[:H, :W]
    heat = np.zeros((B, K, H, W), np.float32)
    tags = rng.normal(0, 0.3, (B, L * K, H, W)).astype(np.float32)
    for b in range(B):
        for n in range(N):
            t = rng.uniform(-4, 4, L)
            for k in range(K):
                if rng.random() < missing:
                    continue
                x, y = rng.integers(0, W), rng.integers(0, H)
                peak = np.exp(-((xx - x)**2 + (yy - y)**2) / 8.0) * rng.uniform(0.3, 1.0)
                heat[b, k] = np.maximum(heat[b, k], peak)
                for l in range(L):
                    tags[b, l * K + k, max(0, y - 2):y + 3, max(0, x - 2):x + 3] = \
                        t[l] + rng.normal(0, 0.15)
    heat += rng.normal(0, noise, heat.shape).astype(np.float32)
    return heat, tags
