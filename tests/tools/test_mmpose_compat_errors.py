"""What MMPose's own codec tests (tests/test_codecs of MMPose 1.3.2) check that is not
parity of numbers: where MMPose asserts, fastcodec raises one error that is both a
ValueError and an AssertionError and carries MMPose's wording; inputs MMPose reshapes
are accepted alike. (tools/run_mmpose_codec_tests.py runs MMPose's suite itself.)"""
import random

import numpy as np
import pytest

import fastcodec
from fastcodec.errors import MMPoseCheckError, mmpose_check_error


def test_error_class_is_both():
    err = mmpose_check_error('keypoints must be (1, K, 2)', 'only support single-instance')
    assert isinstance(err, ValueError) and isinstance(err, AssertionError)
    assert 'keypoints must be (1, K, 2)' in str(err) and 'only support single-instance' in str(err)


@pytest.mark.parametrize('cfg', [
    dict(type='MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0),
    dict(type='MegviiHeatmap', input_size=(192, 256), heatmap_size=(48, 64), kernel_size=11),
    dict(type='UDPHeatmap', input_size=(192, 256), heatmap_size=(48, 64)),
    dict(type='IntegralRegressionLabel', input_size=(192, 256), heatmap_size=(48, 64),
         sigma=2.0),
])
@pytest.mark.parametrize('batched', [False, True])
def test_single_instance_assertion(mmc, cfg, batched):
    codec = fastcodec.build(cfg)
    kps = np.random.default_rng(0).uniform(0, 192, (2, 17, 2))
    name = cfg['type']
    # MMPose's own message for the same input (its MSRAHeatmap asserts for Integral...)
    with pytest.raises(AssertionError) as theirs:
        mmc.__dict__[name](**{k: v for k, v in cfg.items() if k != 'type'}).encode(kps)
    with pytest.raises(MMPoseCheckError) as ours:
        if batched:
            codec.batch_encode(kps[None])
        else:
            codec.encode(kps, np.ones((2, 17)))
    assert isinstance(ours.value, ValueError) and isinstance(ours.value, AssertionError)
    assert 'N = 2' in str(ours.value)
    assert 'only support single-instance keypoint encoding' in str(ours.value)
    assert str(theirs.value).split(' only')[0] in ('MSRAHeatmap', name)


def test_udp_invalid_heatmap_type_wording(mmc):
    with pytest.raises(ValueError, match='invalid `heatmap_type`') as ours:
        fastcodec.UDPHeatmap((192, 256), (48, 64), heatmap_type='invalid')
    assert "'invalid'" in str(ours.value)
    with pytest.raises(ValueError, match='invalid `heatmap_type`'):
        mmc.UDPHeatmap((192, 256), (48, 64), heatmap_type='invalid')


@pytest.mark.parametrize('sigma', [4, (4,), [4.0]])
def test_spr_keypoint_heatmaps_need_two_sigmas(mmc, sigma):
    with pytest.raises(AssertionError):
        mmc.SPR((512, 512), (128, 128), sigma=sigma, generate_keypoint_heatmaps=True)
    with pytest.raises(MMPoseCheckError, match='sigma for keypoints must be given') as ours:
        fastcodec.SPR((512, 512), (128, 128), sigma=sigma, generate_keypoint_heatmaps=True)
    assert isinstance(ours.value, ValueError) and 'got 1' in str(ours.value)
    fastcodec.SPR((512, 512), (128, 128), sigma=sigma)  # one sigma is fine without them


def _boxes(kps):
    lo, hi = kps.min(axis=1), kps.max(axis=1)
    return np.stack([lo[:, 0], lo[:, 1], lo[:, 0], hi[:, 1], hi[:, 0], lo[:, 1], hi[:, 0],
                     hi[:, 1]], axis=1)


@pytest.mark.parametrize('shape', [(3, 8), (3, 4, 2), (6, 2, 2), (24,), (2, 12), (3, 2, 4)])
def test_decoupled_bbox_any_shape_with_8_values_per_instance(mmc, shape):
    rng = np.random.default_rng(1)
    kps = rng.uniform(60, 450, (3, 17, 2))
    vis = np.ones((3, 17), np.float32)
    box = _boxes(kps).reshape(shape)
    cfg = dict(input_size=(512, 512), heatmap_size=(128, 128))
    random.seed(0)
    np.random.seed(0)
    theirs = mmc.DecoupledHeatmap(**cfg).encode(kps, vis, bbox=box.copy())
    random.seed(0)
    np.random.seed(0)
    ours = fastcodec.DecoupledHeatmap(**cfg).encode(kps, vis, bbox=box)
    assert set(ours) == set(theirs)
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], atol=1e-5, err_msg=key)
    # the batched call keeps its batch axis and reshapes the rest alike
    random.seed(0)
    np.random.seed(0)
    batched = fastcodec.DecoupledHeatmap(**cfg).batch_encode(kps[None], vis[None],
                                                             bbox=box[None])
    np.testing.assert_allclose(batched[0]['heatmaps'], theirs['heatmaps'], atol=1e-5)


@pytest.mark.parametrize('shape', [(2, 8), (3, 7), (25,), (3, 4, 3)])
def test_decoupled_bbox_wrong_value_count(shape):
    kps = np.zeros((3, 17, 2))
    with pytest.raises(ValueError, match='8 values per instance'):
        fastcodec.DecoupledHeatmap((512, 512), (128, 128)).encode(kps, bbox=np.zeros(shape))
    with pytest.raises(ValueError, match='8 values per instance'):
        fastcodec.DecoupledHeatmap((512, 512), (128, 128)).batch_encode(
            kps[None], bbox=np.zeros((1,) + shape))


# ---- AssociativeEmbedding ----------------------------------------------------------------

def _ae(**kw):
    return dict(input_size=(64, 64), heatmap_size=(16, 16), decode_keypoint_order=[0, 1],
                **kw)


@pytest.mark.parametrize('kernel', [4, 0])
def test_ae_even_nms_kernel(mmc, kernel):
    import torch
    heat = torch.rand(1, 2, 16, 16)
    with pytest.raises(AssertionError, match='kernel_size should be an odd integer') as theirs:
        mmc.AssociativeEmbedding(**_ae(decode_nms_kernel=kernel)).batch_decode(heat, heat)
    with pytest.raises(MMPoseCheckError) as ours:
        fastcodec.AssociativeEmbedding(**_ae(decode_nms_kernel=kernel))
    assert 'decode_nms_kernel' in str(ours.value) and str(theirs.value) in str(ours.value)


def test_ae_even_blur_kernel(mmc):
    import torch
    heat = torch.rand(1, 2, 16, 16)
    with pytest.raises(AssertionError):
        mmc.AssociativeEmbedding(**_ae(use_udp=True, decode_gaussian_kernel=4)).batch_decode(
            heat, heat)
    with pytest.raises(MMPoseCheckError, match='decode_gaussian_kernel must be an odd'):
        fastcodec.AssociativeEmbedding(**_ae(use_udp=True, decode_gaussian_kernel=4))
    with pytest.raises(ValueError) as big:  # beyond the blur's limit: not MMPose's check
        fastcodec.AssociativeEmbedding(**_ae(decode_gaussian_kernel=257))
    assert not isinstance(big.value, AssertionError)


def test_ae_keypoint_order_length(mmc):
    import torch
    heat = torch.rand(1, 3, 16, 16)
    with pytest.raises(AssertionError):
        mmc.AssociativeEmbedding(**_ae()).batch_decode(heat, heat)
    with pytest.raises(MMPoseCheckError, match='decode_keypoint_order has 2 entries') as ours:
        fastcodec.AssociativeEmbedding(**_ae()).batch_decode(heat.numpy(), heat.numpy())
    assert 'K = 3' in str(ours.value) and 'len(keypoint_order) == K' in str(ours.value)


@pytest.mark.parametrize('tag_shape', [(2, 2, 16, 16), (1, 2, 16, 8)])
def test_ae_mismatched_tags(mmc, tag_shape):
    import torch
    heat, tags = torch.rand(1, 2, 16, 16), torch.rand(*tag_shape)
    with pytest.raises(AssertionError, match='Mismatched shapes of heatmap'):
        mmc.AssociativeEmbedding(**_ae()).batch_decode(heat, tags)
    with pytest.raises(MMPoseCheckError, match='Mismatched shapes of heatmap') as ours:
        fastcodec.AssociativeEmbedding(**_ae()).batch_decode(heat.numpy(), tags.numpy())
    assert str(tag_shape) in str(ours.value)
    with pytest.raises(ValueError) as channels:  # 3 tag channels for K = 2: not an assertion
        fastcodec.AssociativeEmbedding(**_ae()).batch_decode(heat.numpy(),
                                                            np.zeros((1, 3, 16, 16), np.float32))
    assert not isinstance(channels.value, AssertionError)
