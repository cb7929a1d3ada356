"""The MMPose plug-in: every fastcodec codec builds through MMPose's KEYPOINT_CODECS
registry, MMPose's own head code decodes with it as with MMPose's codec, and the
documented config line switches a config's codecs."""
import importlib.util
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest
import torch

import fastcodec
from fastcodec.mmpose_oracle import import_mmpose_codecs

SIZE = dict(input_size=(192, 256), heatmap_size=(48, 64))
CONFIGS = {
    'MSRAHeatmap': [dict(SIZE, sigma=2.0), dict(SIZE, sigma=2.0, unbiased=True)],
    'UDPHeatmap': [dict(SIZE, sigma=2.0),
                   dict(SIZE, heatmap_type='combined', radius_factor=0.0546875)],
    'MegviiHeatmap': [dict(SIZE, kernel_size=11)],
    'SimCCLabel': [dict(input_size=(192, 256), sigma=(4.9, 5.66), simcc_split_ratio=2.0),
                   dict(input_size=(192, 256), sigma=6.0, simcc_split_ratio=2.0,
                        use_dark=True, decode_visibility=True)],
    'RegressionLabel': [dict(input_size=(192, 256))],
    'IntegralRegressionLabel': [dict(SIZE, sigma=2.0)],
    'SPR': [dict(input_size=(512, 512), heatmap_size=(128, 128)),
            dict(input_size=(512, 512), heatmap_size=(128, 128), sigma=(4, 2),
                 generate_keypoint_heatmaps=True)],
    'DecoupledHeatmap': [dict(input_size=(512, 512), heatmap_size=(128, 128))],
    'ImagePoseLifting': [dict(num_keypoints=17, root_index=0, remove_root=True)],
    'VideoPoseLifting': [dict(num_keypoints=17, zero_center=True, root_index=0,
                              remove_root=False)],
    'MotionBERTLabel': [dict(num_keypoints=17, root_index=0, mode='test')],
    'Hand3DHeatmap': [dict(), dict(sigma=2.5, joint_indices=[0, 4, 8])],
    'SimCC3DLabel': [dict(input_size=(288, 384, 288), sigma=(6., 6.93, 6.), root_index=(11, 12))],
    'EDPoseLabel': [dict(num_select=50, num_keypoints=17)],
    'YOLOXPoseAnnotationProcessor': [dict(expand_bbox=True, input_size=(640, 640))],
    'AssociativeEmbedding': [dict(input_size=(256, 256), heatmap_size=(64, 64), sigma=2,
                                  decode_keypoint_order=list(range(17)),
                                  decode_max_instances=30)],
}
# Codecs whose batch_decode MMPose's BaseHead calls (the others decode sample by sample).
BATCH_DECODED = ('MSRAHeatmap', 'UDPHeatmap', 'MegviiHeatmap', 'SimCCLabel',
                 'RegressionLabel', 'IntegralRegressionLabel')


@pytest.fixture(scope='module')
def mmpose():
    """MMPose's codecs module, registry and BaseHead, imported without mmcv, with the
    plug-in loaded."""
    codecs = import_mmpose_codecs()
    root = importlib.util.find_spec('mmpose.codecs').submodule_search_locations[0]
    root = root.rsplit('/', 1)[0]
    for name in ('mmpose.utils', 'mmpose.models', 'mmpose.models.heads'):
        if name not in sys.modules:     # bare packages: their __init__ imports mmcv
            package = types.ModuleType(name)
            package.__path__ = [root + '/' + name.split('.', 1)[1].replace('.', '/')]
            sys.modules[name] = package
    from mmpose.models.heads.base_head import BaseHead
    from mmpose.registry import KEYPOINT_CODECS
    import fastcodec.mmpose  # noqa: F401

    class Head(BaseHead):
        """The smallest MMPose head: predict hands the outputs to BaseHead.decode."""
        def __init__(self, decoder):
            super().__init__()
            self.decoder = decoder

        def forward(self, feats):
            return feats

        def predict(self, feats, batch_data_samples=None, test_cfg={}):
            return self.decode(feats)

        def loss(self, feats, batch_data_samples, train_cfg={}):
            return {}

    return types.SimpleNamespace(codecs=codecs, registry=KEYPOINT_CODECS, Head=Head)


def test_configs_cover_every_codec():
    assert set(CONFIGS) == set(fastcodec.CODECS)


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_registry_builds_fastcodec(mmpose, name):
    for args in CONFIGS[name]:
        codec = mmpose.registry.build(dict(type=name, **args))
        assert isinstance(codec, fastcodec.CODECS[name])
        assert type(codec).__name__ == name
        # SimCC3DLabel: MMPose's is in projects/rtmpose3d, outside mmpose.codecs
        theirs = getattr(mmpose.codecs, name, None)
        assert theirs is None or not isinstance(codec, theirs)


def head_outputs(name, args, rng):
    """A batch of 3 network outputs as MMPose's heads hand them to the decoder."""
    if name == 'SimCCLabel':
        w, h = (int(s * 2.0) for s in args['input_size'])
        return (torch.from_numpy(rng.normal(0, 1, (3, 17, w)).astype(np.float32)),
                torch.from_numpy(rng.normal(0, 1, (3, 17, h)).astype(np.float32)))
    if name in ('RegressionLabel', 'IntegralRegressionLabel'):
        # RegressionHead / DSNTHead: (B, K, 2) coordinates unsqueezed to (B, 1, K, 2)
        return torch.from_numpy(rng.uniform(0, 1, (3, 1, 17, 2)).astype(np.float32))
    w, h = args['heatmap_size']
    channels = 51 if args.get('heatmap_type') == 'combined' else 17
    maps = rng.uniform(0, 1, (3, channels, h, w)) ** 8
    return torch.from_numpy(maps.astype(np.float32))


@pytest.mark.parametrize('name', sorted(BATCH_DECODED))
def test_mmpose_head_decodes_alike(mmpose, name):
    rng = np.random.default_rng(5)
    for args in CONFIGS[name]:
        ours = mmpose.registry.build(dict(type=name, **args))
        assert ours.support_batch_decoding
        reference = getattr(mmpose.codecs, name)(**args)
        outputs = head_outputs(name, args, rng)
        got, want = mmpose.Head(ours).predict(outputs), mmpose.Head(reference).predict(outputs)
        assert len(got) == len(want) == 3
        for g, w in zip(got, want):
            assert isinstance(g.keypoints, np.ndarray)
            assert g.keypoints.shape == w.keypoints.shape
            np.testing.assert_allclose(g.keypoints, w.keypoints, rtol=0, atol=2e-3)
            np.testing.assert_allclose(g.keypoint_scores, w.keypoint_scores, rtol=0, atol=1e-4)
            assert ('keypoints_visible' in g) == ('keypoints_visible' in w)
            if 'keypoints_visible' in w:
                np.testing.assert_allclose(g.keypoints_visible, w.keypoints_visible,
                                           rtol=0, atol=1e-4)


@pytest.fixture
def device_copies(monkeypatch):
    """The simulated CUDA device installed; the list of device arrays copied to the host
    (``DeviceArray.get``) during the test."""
    import fake_device
    fake_device.install(monkeypatch)
    copied = []
    real_get = fake_device.DeviceArray.get
    monkeypatch.setattr(fake_device.DeviceArray, 'get',
                        lambda self: copied.append(self) or real_get(self))
    return copied


@pytest.mark.parametrize('name', sorted(BATCH_DECODED))
def test_mmpose_head_decodes_device_outputs_on_the_device(mmpose, device_copies, name):
    """Network outputs on a (simulated) CUDA device: the registered codec decodes them
    there, in one batched call, and only the decoded keypoints and scores come back to
    the host (as MMPose's numpy results), equal to the host decode within the CUDA
    parity contract."""
    import fake_device
    copied = device_copies
    rng = np.random.default_rng(6)
    for args in CONFIGS[name]:
        ours = mmpose.registry.build(dict(type=name, **args))
        outputs = head_outputs(name, args, rng)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        want = mmpose.Head(ours).predict(outputs if len(outputs) > 1 else outputs[0])
        on_device = tuple(fake_device.device(o.numpy()) for o in outputs)
        copied.clear()
        got = mmpose.Head(ours).predict(on_device if len(on_device) > 1 else on_device[0])
        # what came to the host: the decoded arrays, not the network's outputs
        assert copied and not any(c is o for c in copied for o in on_device)
        for g, w in zip(got, want):
            assert isinstance(g.keypoints, np.ndarray) and g.keypoints.shape == w.keypoints.shape
            np.testing.assert_allclose(g.keypoints, w.keypoints, rtol=0, atol=2e-3)
            np.testing.assert_allclose(g.keypoint_scores, w.keypoint_scores, rtol=0, atol=1e-4)


def test_spr_decodes_sample_by_sample_like_mmpose(mmpose):
    """SPR keeps MMPose's per-sample decode (support_batch_decoding False), with
    MMPose's signature and torch results."""
    import fastcodec.mmpose as plugin
    assert set(plugin.BATCH_DECODED) == set(BATCH_DECODED) | {'AssociativeEmbedding'}
    assert 'SPR' not in plugin.BATCH_DECODED
    rng = np.random.default_rng(0)
    for args in CONFIGS['SPR']:
        ours = mmpose.registry.build(dict(type='SPR', **args))
        reference = mmpose.codecs.SPR(**args)
        assert not ours.support_batch_decoding and not reference.support_batch_decoding
        C = 18 if args.get('generate_keypoint_heatmaps') else 1
        heat = torch.from_numpy(rng.uniform(0, 1, (C, 128, 128)).astype(np.float32))
        disp = torch.from_numpy(rng.normal(0, 3, (34, 128, 128)).astype(np.float32))
        got, want = ours.decode(heat, disp), reference.decode(heat, disp)
        assert isinstance(got[0], torch.Tensor) and got[0].shape == want[0].shape
        torch.testing.assert_close(got[0], want[0], rtol=0, atol=2e-3)
        torch.testing.assert_close(got[1][0], want[1][0], rtol=0, atol=1e-4)
        assert (got[1][1] is None) == (want[1][1] is None)


@pytest.mark.parametrize('name', ['ImagePoseLifting', 'VideoPoseLifting', 'MotionBERTLabel'])
def test_lifting_heads_decode_like_mmpose(mmpose, name):
    """MMPose's lifting heads pass (coordinates (B, K, 3), target_root or empty w, h,
    factor); BaseHead.decode splits them into (1, K, 3) samples for decode."""
    rng = np.random.default_rng(3)
    (args,) = CONFIGS[name]
    ours = mmpose.registry.build(dict(type=name, **args))
    reference = getattr(mmpose.codecs, name)(**args)
    assert not ours.support_batch_decoding and not reference.support_batch_decoding
    K = 16 if args.get('remove_root') else 17
    coords = torch.from_numpy(rng.normal(0, 1, (3, K, 3)).astype(np.float32))
    if name == 'MotionBERTLabel':
        empty = torch.empty((3, 0))
        outputs = (coords, empty, empty, empty)
    else:
        outputs = (coords, torch.from_numpy(rng.normal(0, 1, (3, 1, 3)).astype(np.float32)))
    got, want = mmpose.Head(ours).predict(outputs), mmpose.Head(reference).predict(outputs)
    assert len(got) == len(want) == 3
    for g, w in zip(got, want):
        assert isinstance(g.keypoints, np.ndarray) and g.keypoints.shape == w.keypoints.shape
        np.testing.assert_allclose(g.keypoints, w.keypoints, rtol=0, atol=1e-5)
        np.testing.assert_array_equal(g.keypoint_scores, w.keypoint_scores)


def test_ae_batch_decodes_like_mmpose(mmpose):
    """AssociativeEmbeddingHead calls batch_decode(heatmaps, tags) with torch tensors and
    unpacks three lists (keypoints, scores, instance scores) that it zips per sample;
    its module needs mmcv, so the contract is checked on the codecs directly."""
    rng = np.random.default_rng(6)
    (args,) = CONFIGS['AssociativeEmbedding']
    ours = mmpose.registry.build(dict(type='AssociativeEmbedding', **args))
    reference = mmpose.codecs.AssociativeEmbedding(**args)
    assert ours.support_batch_decoding and reference.support_batch_decoding
    heat = torch.from_numpy((rng.uniform(0, 1, (2, 17, 64, 64)) ** 8).astype(np.float32))
    tags = torch.from_numpy(rng.integers(0, 4, (2, 17, 64, 64)).astype(np.float32))
    got, want = ours.batch_decode(heat, tags), reference.batch_decode(heat, tags)
    assert len(got) == len(want) == 3
    for g_part, w_part in zip(got, want):
        assert isinstance(g_part, list) and len(g_part) == len(w_part) == 2
        for g, w in zip(g_part, w_part):
            assert isinstance(g, np.ndarray) and g.shape == w.shape and g.dtype == w.dtype
            np.testing.assert_allclose(g, w, rtol=0, atol=2e-3)


def test_ae_decodes_device_outputs_on_the_device(mmpose, device_copies):
    """AssociativeEmbeddingHead's outputs on a (simulated) CUDA device: the registered
    codec decodes them there (the CUDA kernels) and copies only its results to the
    host, MMPose's three lists of numpy arrays, equal to the host decode."""
    import fake_device
    import cupy   # the simulated device's (installed by device_copies)
    rng = np.random.default_rng(7)
    (args,) = CONFIGS['AssociativeEmbedding']
    ours = mmpose.registry.build(dict(type='AssociativeEmbedding', **args))
    heat = (rng.uniform(0, 1, (2, 17, 64, 64)) ** 8).astype(np.float32)
    tags = rng.integers(0, 4, (2, 17, 64, 64)).astype(np.float32)
    want = ours.batch_decode(torch.from_numpy(heat), torch.from_numpy(tags))
    copies = cupy.host_copies
    on_device = fake_device.device(heat), fake_device.device(tags)
    got = ours.batch_decode(*on_device)
    # what came to the host: the four result arrays, once each, not the network's outputs
    assert cupy.host_copies - copies == len(device_copies) == 4
    assert not any(c is o for c in device_copies for o in on_device)
    for g_part, w_part in zip(got, want):
        assert isinstance(g_part, list) and len(g_part) == len(w_part) == 2
        for g, w in zip(g_part, w_part):
            assert type(g) is np.ndarray
            np.testing.assert_array_equal(g, w)


def test_cid_head_decodes_like_mmpose(mmpose):
    """CIDHead passes (instance_heatmaps (N, K, H, W), instance_scores (N, 1)) to
    BaseHead.decode, which decodes MMPose's codec one (1, K, H, W) slice at a time and
    the registered codec in one batched call, with the same per-instance results."""
    rng = np.random.default_rng(4)
    (args,) = CONFIGS['DecoupledHeatmap']
    ours = mmpose.registry.build(dict(type='DecoupledHeatmap', **args))
    reference = mmpose.codecs.DecoupledHeatmap(**args)
    assert ours.support_batch_decoding and not reference.support_batch_decoding
    maps = torch.from_numpy((rng.uniform(0, 1, (4, 17, 128, 128)) ** 8).astype(np.float32))
    outputs = (maps, torch.from_numpy(rng.uniform(0, 1, (4, 1)).astype(np.float32)))
    got, want = mmpose.Head(ours).predict(outputs), mmpose.Head(reference).predict(outputs)
    assert len(got) == len(want) == 4
    for g, w in zip(got, want):
        assert isinstance(g.keypoints, np.ndarray) and g.keypoints.shape == w.keypoints.shape
        np.testing.assert_allclose(g.keypoints, w.keypoints, rtol=0, atol=2e-3)
        np.testing.assert_allclose(g.keypoint_scores, w.keypoint_scores, rtol=0, atol=1e-4)


def test_custom_imports_line_switches_a_config(tmp_path):
    """The README's line, in a fresh interpreter: MMPose's Config imports the plug-in
    and its registry then builds fastcodec's class."""
    config = tmp_path / 'config.py'
    config.write_text(textwrap.dedent('''
        custom_imports = dict(imports=['fastcodec.mmpose'], allow_failed_imports=False)
        codec = dict(type='MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64),
                     sigma=2)
    '''))
    script = textwrap.dedent(f'''
        from fastcodec.mmpose_oracle import import_mmpose_codecs
        import_mmpose_codecs()          # MMPose without mmcv, as everywhere in the tests
        from mmengine.config import Config
        from mmpose.registry import KEYPOINT_CODECS
        cfg = Config.fromfile({str(config)!r})
        codec = KEYPOINT_CODECS.build(cfg.codec)
        print(type(codec).__mro__[1].__module__)
    ''')
    out = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-1] == 'fastcodec.codecs.msra_heatmap'


# ---- DecoupledHeatmap (issue 15) ------------------------------------------------------------------
def test_cid_head_decodes_device_outputs_on_the_device(mmpose, device_copies):
    """CIDHead's outputs on a (simulated) CUDA device: all instances decode there in one
    call; only the decoded keypoints and scores come to the host, equal to MMPose's
    per-instance host decode within the parity contract."""
    import fake_device
    copied = device_copies
    rng = np.random.default_rng(7)
    (args,) = CONFIGS['DecoupledHeatmap']
    ours = mmpose.registry.build(dict(type='DecoupledHeatmap', **args))
    reference = mmpose.codecs.DecoupledHeatmap(**args)
    maps = (rng.uniform(0, 1, (4, 17, 128, 128)) ** 8).astype(np.float32)
    scores = rng.uniform(0, 1, (4, 1)).astype(np.float32)
    want = mmpose.Head(reference).predict((torch.from_numpy(maps), torch.from_numpy(scores)))
    on_device = (fake_device.device(maps), fake_device.device(scores))
    got = mmpose.Head(ours).predict(on_device)
    assert len(copied) == 2 and not any(c is o for c in copied for o in on_device)
    assert [c.shape for c in copied] == [(4, 17, 2), (4, 17)]
    assert len(got) == len(want) == 4
    for g, w in zip(got, want):
        assert isinstance(g.keypoints, np.ndarray) and g.keypoints.shape == w.keypoints.shape
        np.testing.assert_allclose(g.keypoints, w.keypoints, rtol=0, atol=2e-3)
        np.testing.assert_allclose(g.keypoint_scores, w.keypoint_scores, rtol=0, atol=1e-4)


# ---- SPR (issue 15) ----------------------------------------------------------------------
def test_spr_decodes_device_outputs_on_the_device(mmpose, device_copies):
    """DEKRHead decodes sample by sample, ``decoder.decode(heatmaps[b], displacements[b])``
    on the network's own tensors. On a (simulated) CUDA device the registered SPR decodes
    each sample there and returns device arrays of the caller's kind (as MMPose's torch
    decode returns CUDA tensors): no map or field is copied to the host, only each
    sample's instance count (on the call's stream). Equal to the host decode within the CUDA
    parity contract."""
    import fake_device
    copied = device_copies
    rng = np.random.default_rng(7)
    for args in CONFIGS['SPR']:
        ours = mmpose.registry.build(dict(type='SPR', **args))
        assert ours.device_ready and not ours.support_batch_decoding
        C = 18 if args.get('generate_keypoint_heatmaps') else 1
        heat = (rng.uniform(0, 1, (2, C, 128, 128)) ** 8).astype(np.float32)
        disp = rng.normal(0, 3, (2, 34, 128, 128)).astype(np.float32)
        on_device = fake_device.device(heat), fake_device.device(disp)
        for b in range(2):
            want = ours.decode(heat[b], disp[b])
            kps, (roots, scores) = ours.decode(on_device[0][b], on_device[1][b])
            assert [c.shape for c in copied] == [(1,)]     # its instance count, only
            copied.clear()
            assert isinstance(kps, fake_device.DeviceArray) and len(kps) == len(want[0]) > 0
            np.testing.assert_allclose(fake_device.to_host(kps), want[0], rtol=0, atol=2e-3)
            np.testing.assert_allclose(fake_device.to_host(roots), want[1][0], rtol=0, atol=1e-4)
            assert (scores is None) == (want[1][1] is None)
            if scores is not None:
                np.testing.assert_allclose(fake_device.to_host(scores), want[1][1], rtol=0,
                                           atol=1e-4)
