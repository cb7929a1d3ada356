"""The array front and the per-device dispatch. Arrays in accelerator memory (CuPy, Numba device arrays, anything exposing
``__cuda_array_interface__`` or a device DLPack) get a TypeError naming the missing
cuda backend from every codec, before any conversion or kernel."""
import sys

import numpy as np
import pytest

import fastcodec
from fastcodec._arrays import on_device
from fake_device import automatic_dispatch


@pytest.fixture(autouse=True)
def _dispatch_by_device(monkeypatch):
    automatic_dispatch(monkeypatch)

CONFIGS = {
    'MSRAHeatmap': dict(input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0),
    'UDPHeatmap': dict(input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0),
    'MegviiHeatmap': dict(input_size=(192, 256), heatmap_size=(48, 64), kernel_size=11),
    'SimCCLabel': dict(input_size=(192, 256), sigma=(4.9, 5.66), simcc_split_ratio=2.0),
    'RegressionLabel': dict(input_size=(192, 256)),
    'IntegralRegressionLabel': dict(input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0),
    'SPR': dict(input_size=(512, 512), heatmap_size=(128, 128)),
    'DecoupledHeatmap': dict(input_size=(512, 512), heatmap_size=(128, 128)),
    'ImagePoseLifting': dict(num_keypoints=17, root_index=0),
    'VideoPoseLifting': dict(num_keypoints=17, root_index=0),
    'MotionBERTLabel': dict(num_keypoints=17, root_index=0),
    'Hand3DHeatmap': dict(),
    'SimCC3DLabel': dict(input_size=(288, 384, 288)),
    'EDPoseLabel': dict(),
    'YOLOXPoseAnnotationProcessor': dict(expand_bbox=True),
    'AssociativeEmbedding': dict(input_size=(512, 512), heatmap_size=(128, 128),
                                 decode_keypoint_order=list(range(17))),
}
DECODE_ARGS = {'SimCCLabel': 2, 'SPR': 2, 'DecoupledHeatmap': 2, 'Hand3DHeatmap': 3,
               'SimCC3DLabel': 3, 'EDPoseLabel': 4, 'AssociativeEmbedding': 2}
# encode's arguments besides the device array, for codecs that need more than keypoints
ENCODE_ARGS = {
    'Hand3DHeatmap': lambda a: (a, None, None, 0.0, 1.0, np.array([[1, 0]]), np.array([1])),
    'EDPoseLabel': lambda a: ((640, 480), a),
    'YOLOXPoseAnnotationProcessor': lambda a: (a, np.ones((1, 17)), np.zeros((1, 4))),
}
NO_DECODE = ('YOLOXPoseAnnotationProcessor',)  # its decode reads nothing (returns None)


class CudaArray:
    """A stand-in for a CuPy array: only the CUDA array interface."""
    @property
    def __cuda_array_interface__(self):
        return dict(shape=(1, 17, 2), typestr='<f4', data=(0, False), version=3)


class DLPackOnDevice:
    """A stand-in for a DLPack producer in CUDA memory (device type 2)."""
    def __dlpack_device__(self):
        return (2, 0)


def test_configs_cover_every_codec():
    assert set(CONFIGS) == set(fastcodec.CODECS)


def test_device_detection():
    assert on_device(CudaArray()) and on_device(DLPackOnDevice())
    assert not on_device(np.zeros(3)) and not on_device([1.0, 2.0])
    torch = pytest.importorskip('torch')
    assert not on_device(torch.zeros(3).numpy())


@pytest.mark.parametrize('stand_in', [CudaArray, DLPackOnDevice])
@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_every_codec_names_the_missing_cuda_backend(name, stand_in):
    codec = fastcodec.build(dict(type=name, **CONFIGS[name]))
    with pytest.raises(TypeError, match='cuda backend'):
        codec.encode(*ENCODE_ARGS.get(name, lambda a: (a,))(stand_in()))
    if name in NO_DECODE:
        return
    with pytest.raises(TypeError, match='cuda backend'):
        codec.decode(*[stand_in() for _ in range(DECODE_ARGS.get(name, 1))])


# ---- the array front: devices, namespaces, results as the caller's kind ----------------
def test_device_of_reports_where_arrays_live():
    from fastcodec._arrays import CPU, Device, device_of
    assert device_of(np.zeros(2)) == CPU and device_of([1.0]) == CPU
    assert device_of(CudaArray()) == Device('cuda', None)
    assert device_of(DLPackOnDevice()) == Device('cuda', 0)
    torch = pytest.importorskip('torch')
    assert device_of(torch.zeros(2)) == CPU
    assert device_of(torch.zeros(2, device='meta')) == Device('meta', None)


def test_arrays_of_one_call_share_a_device():
    codec = fastcodec.MSRAHeatmap((192, 256), (48, 64), 2.0)
    with pytest.raises(TypeError, match='share a device'):
        codec.encode(np.zeros((1, 17, 2)), CudaArray())


@pytest.mark.parametrize('kind', ['numpy', 'torch', 'list', 'dlpack'])
def test_results_come_back_as_the_callers_kind(kind):
    torch = pytest.importorskip('torch')
    kps = np.random.default_rng(0).uniform(0, 190, (1, 17, 2)).astype(np.float32)
    make = dict(numpy=lambda a: a, torch=torch.from_numpy, list=lambda a: a.tolist(),
                dlpack=lambda a: _HostDLPack(a))[kind]
    codec = fastcodec.MSRAHeatmap((192, 256), (48, 64), 2.0)
    out = codec.encode(make(kps))
    want = codec.encode(kps)
    assert isinstance(out['heatmaps'], torch.Tensor if kind == 'torch' else np.ndarray)
    np.testing.assert_array_equal(np.asarray(out['heatmaps']), want['heatmaps'])
    keypoints, _ = codec.decode(make(want['heatmaps']))
    assert isinstance(keypoints, torch.Tensor if kind == 'torch' else np.ndarray)


@pytest.mark.parametrize('kind', ['numpy', 'torch', 'list', 'numpy+list'])
@pytest.mark.parametrize('codec_name', ['MSRAHeatmap', 'RegressionLabel', 'SimCCLabel'])
def test_encode_inputs_are_read_and_checked_alike_on_every_path(kind, codec_name):
    """open_keypoints takes numpy arrays on a path of their own: every other kind of
    input must give the same results and the same errors."""
    torch = pytest.importorskip('torch')
    kps = np.random.default_rng(1).uniform(0, 190, (1, 17, 2))
    vis = (np.arange(17) % 3 != 0).astype(np.float32)[None]
    make_kps, make_vis = dict(
        numpy=(np.asarray, np.asarray), torch=(torch.from_numpy, torch.from_numpy),
        list=(np.ndarray.tolist, np.ndarray.tolist),
        # numpy keypoints with a list visibility leave the numpy path
        **{'numpy+list': (np.asarray, np.ndarray.tolist)})[kind]
    codec = getattr(fastcodec, codec_name)(**CONFIGS[codec_name])
    got, want = codec.encode(make_kps(kps), make_vis(vis)), codec.encode(kps, vis)
    assert set(got) == set(want)
    for key in want:
        np.testing.assert_array_equal(np.asarray(got[key]), want[key])
    for key in want:  # no visibility: MMPose's float32 ones
        np.testing.assert_array_equal(np.asarray(codec.encode(make_kps(kps))[key]),
                                      codec.encode(kps, np.ones((1, 17), np.float32))[key])
    with pytest.raises(ValueError, match=r'keypoints_visible must have shape \(1, 17\)'):
        codec.encode(make_kps(kps), make_vis(vis[:, :16]))
    with pytest.raises(ValueError, match=r'keypoints must have shape \(N, K, 2\)'):
        codec.encode(make_kps(kps[0]), make_vis(vis))
    with pytest.raises(ValueError, match=r'keypoints must have shape \(B, N, K, 2\)'):
        codec.batch_encode(make_kps(kps), make_vis(vis))
    if kind != 'torch':  # torch has no complex-to-real question: numpy's own check
        with pytest.raises(TypeError, match='keypoints_visible must hold real numbers'):
            codec.encode(kps, vis.astype(np.complex64))


class _HostDLPack:
    """A DLPack producer in host memory that is not a numpy array."""
    def __init__(self, array):
        self.array = array

    def __dlpack__(self, **kwargs):
        return self.array.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self.array.__dlpack_device__()


def test_torch_cpu_tensors_cross_the_boundary_without_copies():
    torch = pytest.importorskip('torch')
    from fastcodec._arrays import open_call
    t = torch.zeros(2, 3)
    call = open_call((t,), ('t',))
    assert np.shares_memory(call.array(t, 't'), t.numpy())
    out = call.empty((4,), np.float32)
    assert np.shares_memory(call.result(out).numpy(), out)


# ---- per-device dispatch ---------------------------------------------------------------
def test_a_selected_backend_is_checked_against_the_arrays_device():
    codec = fastcodec.MSRAHeatmap((192, 256), (48, 64), 2.0)
    for name in ('cpp', 'numba'):
        with fastcodec.use_backend(name):
            with pytest.raises(TypeError, match=f"backend '{name}' runs on cpu arrays"):
                codec.decode(CudaArray())


def test_a_registered_device_backend_is_chosen_for_its_arrays(monkeypatch):
    """A backend registered for a device type is what the dispatch returns for arrays
    on that device (here a stand-in module for 'cuda'), and only for them."""
    import types
    from fastcodec import _backend
    from fastcodec._arrays import CPU, Device
    fake = types.ModuleType('fake_cuda_backend')
    monkeypatch.setitem(sys.modules, 'fake_cuda_backend', fake)
    monkeypatch.setattr(_backend, 'BACKENDS', dict(_backend.BACKENDS))
    monkeypatch.setattr(_backend, 'AUTOMATIC', dict(_backend.AUTOMATIC, cuda=()))
    monkeypatch.setattr(_backend, '_missing', {})
    monkeypatch.setattr(_backend, '_loaded', dict(_backend._loaded))
    _backend.register_backend('fake-cuda', 'cuda', 'fake_cuda_backend')
    assert _backend.kernels(Device('cuda', 0)) is fake
    assert _backend.kernels(CPU) is not fake
    assert 'fake-cuda' in fastcodec.available_backends()
    with fastcodec.use_backend('fake-cuda'):
        assert _backend.kernels(Device('cuda', 1)) is fake
        with pytest.raises(TypeError, match='runs on cuda arrays'):
            _backend.kernels(CPU)
