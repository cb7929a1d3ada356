"""Arrays in accelerator memory (CuPy, Numba device arrays, anything exposing
``__cuda_array_interface__`` or a device DLPack) get a TypeError naming the missing
cuda backend from every codec, before any conversion or kernel."""
import numpy as np
import pytest

import fastcodec
from fastcodec._arrays import on_device

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
    'AssociativeEmbedding': dict(input_size=(512, 512), heatmap_size=(128, 128),
                                 decode_keypoint_order=list(range(17))),
}
DECODE_ARGS = {'SimCCLabel': 2, 'SPR': 2, 'DecoupledHeatmap': 2, 'AssociativeEmbedding': 2}


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
        codec.encode(stand_in())
    with pytest.raises(TypeError, match='cuda backend'):
        codec.decode(*[stand_in() for _ in range(DECODE_ARGS.get(name, 1))])
