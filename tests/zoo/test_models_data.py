"""Zoo data: the synthetic generator writes valid COCO, the dataset and transforms
move keypoints consistently with the image."""
import json
import os

import numpy as np
import pytest

pytest.importorskip('pycocotools')
torch = pytest.importorskip('torch')

from fastcodec.models.data import synth
from fastcodec.models.data.coco import CocoKeypointDataset
from fastcodec.models.data.meta_coco17 import COCO17, FLIP_PAIRS
from fastcodec.models.data.transforms import (GetBBoxCenterScale, RandomFlip, TopdownAffine,
                                    build_pipeline, get_warp_matrix)
from fastcodec.models.testing import tiny_dataset


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    return tiny_dataset(str(tmp_path_factory.mktemp('synth')), num_train=8, num_val=4)


def test_synthetic_json_loads_in_pycocotools(root):
    from pycocotools.coco import COCO
    for split, n in (('train', 8), ('val', 4)):
        path = os.path.join(root, 'annotations', f'person_keypoints_{split}.json')
        coco = COCO(path)
        assert len(coco.getImgIds()) == n
        assert coco.loadCats(1)[0]['keypoints'] == COCO17['keypoint_names']
        anns = coco.loadAnns(coco.getAnnIds())
        assert len(anns) >= n
        for img in coco.loadImgs(coco.getImgIds()):
            assert os.path.isfile(os.path.join(root, 'images', split, img['file_name']))
        for a in anns:
            k = np.asarray(a['keypoints']).reshape(17, 3)
            assert set(np.unique(k[:, 2])) <= {0, 1, 2}
            assert a['num_keypoints'] == int((k[:, 2] > 0).sum())
            assert np.all(k[k[:, 2] == 0, :2] == 0)
            lab = k[k[:, 2] > 0]
            assert np.all((lab[:, 0] >= 0) & (lab[:, 0] < 128) & (lab[:, 1] >= 0)
                          & (lab[:, 1] < 96))
            x, y, w, h = a['bbox']
            assert x >= 0 and y >= 0 and x + w <= 128 and y + h <= 96 and w > 0 and h > 0
            assert 0 < a['area'] <= w * h
            assert a['iscrowd'] == 0 and a['category_id'] == 1


def test_generator_is_deterministic_and_varied(tmp_path):
    a = synth.render_image(np.random.default_rng([3, 1]), 96, 80)
    b = synth.render_image(np.random.default_rng([3, 1]), 96, 80)
    c = synth.render_image(np.random.default_rng([3, 2]), 96, 80)
    assert np.array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


def test_generator_flags_hidden_and_cut_people():
    """Across images, some keypoints are hidden (v=1) and some fall outside (v=0)."""
    flags = []
    for i in range(20):
        _, people = synth.render_image(np.random.default_rng([0, i]), 160, 120)
        flags += [p['keypoints'][:, 2] for p in people]
    flags = np.concatenate(flags)
    assert (flags == 2).mean() > 0.4
    assert (flags == 1).any() and (flags == 0).any()


def test_skeleton_limb_lengths_and_left_side():
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = synth.sample_pose_params(rng)
        p['yaw'] = 0.0
        p['roll'] = 0.0
        j, _ = synth.skeleton_3d(p)
        for a, b, length in ((5, 7, 0.30), (7, 9, 0.26), (11, 13, 0.45), (13, 15, 0.43)):
            assert np.linalg.norm(j[a] - j[b]) == pytest.approx(length, rel=1e-6)
        # facing the camera, the left shoulder is at +x: on the image's right
        cam = synth.body_to_camera(j)
        assert cam[5, 0] > cam[6, 0]


def test_motion_sequences(tmp_path):
    path = synth.write_motion(str(tmp_path / 'm.npz'), 2, 30, seed=0)
    d = np.load(path)
    assert d['keypoints_3d'].shape == (2, 30, 17, 3)
    assert d['keypoints_2d'].shape == (2, 30, 17, 2)
    kp3, f, c = d['keypoints_3d'][0], d['f'][0], d['c'][0]
    proj = kp3[..., :2] / kp3[..., 2:] * f + c
    np.testing.assert_allclose(proj, d['keypoints_2d'][0], rtol=1e-4, atol=1e-2)
    steps = np.linalg.norm(np.diff(kp3, axis=0), axis=-1)
    assert steps.max() < 100  # mm per frame at 50 fps (5 m/s): smooth motion
    assert np.all(kp3[..., 2] > 1000)


def test_topdown_dataset_samples(root):
    ds = CocoKeypointDataset(os.path.join(root, 'annotations', 'person_keypoints_train.json'),
                             os.path.join(root, 'images', 'train'))
    with open(os.path.join(root, 'annotations', 'person_keypoints_train.json')) as f:
        anns = [a for a in json.load(f)['annotations'] if a['num_keypoints'] > 0]
    assert len(ds) == len(anns)
    s = ds[0]
    assert s['keypoints'].shape == (1, 17, 2) and s['keypoints_visible'].shape == (1, 17)
    assert s['bbox'].shape == (1, 4)
    bu = CocoKeypointDataset(os.path.join(root, 'annotations', 'person_keypoints_train.json'),
                             os.path.join(root, 'images', 'train'), mode='bottomup')
    assert sum(len(b['bbox']) for b in bu.samples) == len(anns)


def _dot_image():
    img = np.zeros((90, 120, 3), np.uint8)
    img[40, 70] = 255
    return img


@pytest.mark.parametrize('use_udp', [False, True])
@pytest.mark.parametrize('rot', [0.0, 30.0])
def test_topdown_affine_moves_keypoints_with_the_image(use_udp, rot):
    """The bright pixel lands where TopdownAffine sends its keypoint."""
    res = dict(img=_dot_image(), bbox=np.array([[40, 20, 100, 70]], np.float32),
               keypoints=np.array([[[70.0, 40.0]]], np.float32),
               keypoints_visible=np.ones((1, 1), np.float32),
               bbox_rotation=np.array([rot], np.float32))
    res = GetBBoxCenterScale(1.0)(res)
    res = TopdownAffine((96, 128), use_udp=use_udp)(res)
    img = res['img'].astype(np.float64).sum(-1)
    ys, xs = np.mgrid[:img.shape[0], :img.shape[1]]
    cy, cx = (img * ys).sum() / img.sum(), (img * xs).sum() / img.sum()
    kx, ky = res['keypoints'][0, 0]
    assert abs(kx - cx) < 0.6 and abs(ky - cy) < 0.6


def test_warp_matrix_inverse():
    m = get_warp_matrix(np.array([50.0, 40.0]), np.array([60.0, 80.0]), 25.0, (96, 128))
    inv = get_warp_matrix(np.array([50.0, 40.0]), np.array([60.0, 80.0]), 25.0, (96, 128),
                          inv=True)
    p = np.array([33.0, 47.0])
    q = m[:, :2] @ p + m[:, 2]
    np.testing.assert_allclose(inv[:, :2] @ q + inv[:, 2], p, atol=1e-3)


def test_random_flip_swaps_sides_and_is_an_involution():
    rng = np.random.default_rng(0)
    kps = rng.uniform(0, 100, (1, 17, 2)).astype(np.float32)
    res = dict(img=rng.integers(0, 255, (60, 100, 3), dtype=np.uint8), keypoints=kps.copy(),
               keypoints_visible=np.ones((1, 17), np.float32),
               bbox_center=np.array([[30.0, 20.0]], np.float32),
               flip_indices=COCO17['flip_indices'])
    img0 = res['img'].copy()
    flip = RandomFlip(prob=1.0)
    once = flip(dict(res))
    a, b = FLIP_PAIRS[0]
    assert once['keypoints'][0, a, 0] == pytest.approx(99 - kps[0, b, 0])
    assert once['bbox_center'][0, 0] == pytest.approx(100 - 30 - 1)
    twice = flip(dict(once))
    np.testing.assert_allclose(twice['keypoints'], kps, atol=1e-5)
    assert np.array_equal(twice['img'], img0)


def test_pipeline_generates_codec_targets(root):
    codec = dict(type='MSRAHeatmap', input_size=(48, 64), heatmap_size=(12, 16), sigma=2)
    pipe = build_pipeline([dict(type='LoadImage'), dict(type='GetBBoxCenterScale'),
                           dict(type='TopdownAffine', input_size=(48, 64)),
                           dict(type='GenerateTarget', encoder=codec),
                           dict(type='PackPoseInputs')])
    ds = CocoKeypointDataset(os.path.join(root, 'annotations', 'person_keypoints_train.json'),
                             os.path.join(root, 'images', 'train'), pipe)
    s = ds[0]
    assert tuple(s['inputs'].shape) == (3, 64, 48) and s['inputs'].dtype == torch.uint8
    hm = s['targets']['heatmaps']
    assert hm.shape == (17, 16, 12)
    w = s['targets']['keypoint_weights'][0]
    for k in np.flatnonzero(w > 0):  # each target peaks at its keypoint / 4
        y, x = np.unravel_index(hm[k].argmax(), hm[k].shape)
        kx, ky = s['keypoints'][0, k] / 4
        assert abs(x - kx) <= 0.5 + 1e-4 and abs(y - ky) <= 0.5 + 1e-4


@pytest.mark.parametrize('train_mode', [True, False])
def test_bottomup_pipeline_moves_every_instance(root, train_mode):
    aug = (dict(type='BottomupRandomAffine', input_size=(128, 128)) if train_mode
           else dict(type='BottomupResize', input_size=(128, 128)))
    pipe = build_pipeline([dict(type='LoadImage'), aug,
                           dict(type='PackPoseInputs', max_instances=4)])
    ds = CocoKeypointDataset(os.path.join(root, 'annotations', 'person_keypoints_train.json'),
                             os.path.join(root, 'images', 'train'), pipe, mode='bottomup')
    raw = CocoKeypointDataset(os.path.join(root, 'annotations', 'person_keypoints_train.json'),
                              os.path.join(root, 'images', 'train'), mode='bottomup')
    from fastcodec.models.config import collate
    batch = collate([ds[i] for i in range(3)])
    assert tuple(batch['inputs'].shape) == (3, 3, 128, 128)
    assert batch['keypoints'].shape == (3, 4, 17, 2)
    for i in range(3):
        n = int(batch['num_instances'][i])
        assert n == min(4, len(raw.samples[i]['bbox']))
        assert float(batch['keypoints_visible'][i, n:].sum()) == 0
        # input pixels -> image pixels with the estimator's formula recovers the truth
        c, s = batch['input_center'][i].numpy(), batch['input_scale'][i].numpy()
        kp = batch['keypoints'][i, :n].numpy()
        vis = raw.samples[i]['keypoints_visible'][:n] > 0
        if not train_mode:  # no rotation: the linear inverse is exact
            back = kp / 128.0 * s + c - 0.5 * s
            np.testing.assert_allclose(back[vis], raw.samples[i]['keypoints'][:n][vis],
                                       atol=0.05)


def test_generate_target_multi_instance():
    from fastcodec.models.data.transforms import GenerateTarget
    kps = np.random.default_rng(0).uniform(0, 60, (3, 17, 2)).astype(np.float32)
    res = dict(keypoints=kps, keypoints_visible=np.ones((3, 17), np.float32))
    cfg = dict(type='RegressionLabel', input_size=(64, 64))
    one = GenerateTarget(cfg)(dict(res))['targets']
    many = GenerateTarget(cfg, multi_instance=True)(dict(res))['targets']
    assert one['keypoint_labels'].shape == (1, 17, 2)
    assert many['keypoint_labels'].shape == (3, 17, 2)
    np.testing.assert_allclose(many['keypoint_labels'], kps / 64, rtol=1e-6)
