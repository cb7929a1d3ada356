"""batch_encode / batch_decode: one call equals the per-sample results; torch in, torch out."""
import numpy as np
import pytest
import torch

import fastcodec
from conftest import adversarial_keypoints, perturb

CODECS = [
    dict(type='MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2),
    dict(type='MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2, unbiased=True),
    dict(type='UDPHeatmap', input_size=(192, 256), heatmap_size=(48, 64)),
    dict(type='UDPHeatmap', input_size=(192, 256), heatmap_size=(48, 64), heatmap_type='combined'),
    dict(type='MegviiHeatmap', input_size=(192, 256), heatmap_size=(48, 64), kernel_size=11),
]


@pytest.mark.parametrize('cfg', CODECS, ids=lambda c: c['type'] + str(len(c)))
def test_batch_equals_per_sample(backend, cfg):
    codec = fastcodec.build(cfg)
    rng = np.random.default_rng(0)
    B = 6
    kps = np.stack([adversarial_keypoints(rng, cfg['input_size'], codec.scale_factor) for _ in range(B)])
    vis = rng.choice([0.0, 1.0, 2.0], (B, 1, 17))
    batch = codec.batch_encode(kps, vis)
    for b in range(B):
        one = codec.encode(kps[b], vis[b])
        for key in one:
            np.testing.assert_array_equal(batch[key][b], one[key])
    maps = perturb(rng, batch['heatmaps'], 'noisy')
    keypoints, scores = codec.batch_decode(maps)
    assert keypoints.shape == (B, 1, 17, 2) and scores.shape == (B, 1, 17)
    for b, (kp_b, score_b) in enumerate(zip(keypoints, scores)):
        kp, score = codec.decode(maps[b])
        np.testing.assert_array_equal(kp_b, kp)
        np.testing.assert_array_equal(score_b, score)


@pytest.mark.parametrize('cfg', CODECS, ids=lambda c: c['type'] + str(len(c)))
def test_torch_in_torch_out(cfg):
    codec = fastcodec.build(cfg)
    rng = np.random.default_rng(1)
    kps = rng.uniform(0, 190, (3, 1, 17, 2)).astype(np.float32)
    enc_t = codec.batch_encode(torch.from_numpy(kps))
    enc_n = codec.batch_encode(kps)
    for key in enc_n:
        assert isinstance(enc_t[key], torch.Tensor)
        np.testing.assert_array_equal(enc_t[key].numpy(), enc_n[key])
    maps = torch.from_numpy(enc_n['heatmaps'])
    kp_t, score_t = codec.batch_decode(maps)
    kp_n, score_n = codec.batch_decode(enc_n['heatmaps'])
    assert isinstance(kp_t, torch.Tensor) and isinstance(score_t, torch.Tensor)
    np.testing.assert_array_equal(kp_t.numpy(), kp_n)
    one_t = codec.decode(maps[0])
    assert isinstance(one_t[0], torch.Tensor)


def test_threads_do_not_change_results():
    codec = fastcodec.MSRAHeatmap((192, 256), (48, 64), 2.0, unbiased=True)
    rng = np.random.default_rng(2)
    maps = perturb(rng, codec.batch_encode(rng.uniform(0, 190, (32, 1, 17, 2)))['heatmaps'], 'noisy')
    fastcodec.set_num_threads(1)
    try:
        one = codec.batch_decode(maps)
    finally:
        fastcodec.set_num_threads(0)
    many = codec.batch_decode(maps)
    np.testing.assert_array_equal(one[0], many[0])
