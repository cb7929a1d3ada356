"""EDPoseLabel and YOLOXPoseAnnotationProcessor against MMPose 1.3.2: vectorised numpy
codecs (no kernels), so every output is compared exactly, keys, shapes and dtypes
included; batched calls against the per-sample loop; bad input."""
import numpy as np
import pytest

import fastcodec


def boxes(rng, n, dtype, size=600):
    return np.sort(rng.uniform(0, size, (n, 2, 2)), axis=1).transpose(0, 2, 1).reshape(n, 4) \
        .astype(dtype)


def same(got, ref, key=''):
    if ref is None:
        assert got is None, key
        return
    assert np.shape(got) == np.shape(ref) and np.asarray(got).dtype == np.asarray(ref).dtype, key
    np.testing.assert_array_equal(got, ref, err_msg=key)


# ---- EDPoseLabel ---------------------------------------------------------------------
@pytest.mark.parametrize('dtype', [np.float32, np.float64, np.int64])
@pytest.mark.parametrize('present', ['all', 'no_area', 'no_boxes'])
def test_edpose_encode_matches_mmpose(mmc, dtype, present):
    rng = np.random.default_rng(0)
    kps = rng.uniform(-10, 650, (4, 17, 2)).astype(dtype)
    vis = rng.choice([0.0, 1.0], (4, 17)) if present == 'all' else None
    area = None if present == 'no_area' else rng.uniform(1, 5e4, 4).astype(dtype)
    box = None if present == 'no_boxes' else boxes(rng, 4, dtype)
    theirs = mmc.EDPoseLabel().encode((640, 480), kps, vis, area, box)
    ours = fastcodec.EDPoseLabel().encode((640, 480), kps, vis, area, box)
    assert list(ours) == list(theirs)
    for key in theirs:
        same(ours[key], theirs[key], key)
    batch = fastcodec.EDPoseLabel().batch_encode(
        [(640, 480)], kps[None], None if vis is None else vis[None],
        None if area is None else area[None], None if box is None else box[None])
    for key in theirs:
        same(None if batch[key] is None else batch[key][0], theirs[key], key)


def test_edpose_batch_encode_per_image_sizes():
    rng = np.random.default_rng(1)
    shapes = np.array([[640, 480], [320, 200]])
    kps, area = rng.uniform(0, 600, (2, 3, 17, 2)), rng.uniform(1, 1e4, (2, 3)).astype(np.float32)
    box = np.stack([boxes(rng, 3, np.float64) for _ in range(2)])
    codec = fastcodec.EDPoseLabel()
    batch = codec.batch_encode(shapes, kps, None, area, box)
    for b in range(2):
        one = codec.encode(tuple(shapes[b]), kps[b], None, area[b], box[b])
        for key in one:
            same(batch[key][b], one[key], key)


@pytest.mark.parametrize('logits_kind', ['random', 'ties'])
@pytest.mark.parametrize('num_select', [5, 100, 2000])
def test_edpose_decode_matches_mmpose(mmc, logits_kind, num_select):
    rng = np.random.default_rng(2)
    Q, C, K = 300, 2, 17
    logits = rng.random((Q, C)) if logits_kind == 'random' else rng.choice([0.2, 0.5], (Q, C))
    pred_boxes, pred_kpts = rng.random((Q, 4)), rng.random((Q, 3 * K))
    shapes = np.array([480, 640])
    theirs = mmc.EDPoseLabel(num_select, K).decode(shapes, logits, pred_boxes, pred_kpts)
    ours = fastcodec.EDPoseLabel(num_select, K).decode(shapes, logits, pred_boxes, pred_kpts)
    for got, ref in zip(ours, theirs):
        same(got, ref)
    batch = fastcodec.EDPoseLabel(num_select, K).batch_decode(
        np.stack([shapes, shapes[::-1]]), np.stack([logits, logits[::-1]]),
        np.stack([pred_boxes, pred_boxes[::-1]]), np.stack([pred_kpts, pred_kpts[::-1]]))
    for got, ref in zip(batch, theirs):
        same(got[0], ref)
    again = mmc.EDPoseLabel(num_select, K).decode(shapes[::-1], logits[::-1], pred_boxes[::-1],
                                                  pred_kpts[::-1])
    for got, ref in zip(batch, again):
        same(got[1], ref)


def test_edpose_bad_input():
    codec = fastcodec.EDPoseLabel(10, 17)
    with pytest.raises(TypeError, match='num_select'):
        fastcodec.EDPoseLabel(num_select=2.5)
    with pytest.raises(ValueError, match='num_keypoints'):
        fastcodec.EDPoseLabel(num_keypoints=-1)
    with pytest.raises(ValueError, match=r'pred_logits.*\(Q, C\)'):
        codec.decode(np.array([480, 640]), np.zeros(300), np.zeros((300, 4)), np.zeros((300, 51)))
    with pytest.raises(ValueError, match='pred_boxes'):
        codec.decode(np.array([480, 640]), np.zeros((300, 1)), np.zeros((299, 4)),
                     np.zeros((300, 51)))
    with pytest.raises(ValueError, match='pred_keypoints'):
        codec.decode(np.array([480, 640]), np.zeros((300, 1)), np.zeros((300, 4)),
                     np.zeros((300, 20)))
    with pytest.raises(ValueError, match='bboxes'):
        codec.encode((640, 480), np.zeros((2, 17, 2)), bboxes=np.zeros((2, 5)))
    with pytest.raises(ValueError, match='img_shape'):
        codec.batch_encode(np.zeros((3, 2)), np.zeros((2, 1, 17, 2)))


# ---- YOLOXPoseAnnotationProcessor ----------------------------------------------------
@pytest.mark.parametrize('dtype', [np.float32, np.float64, np.int64])
@pytest.mark.parametrize('vis_dims', [2, 3])
def test_yolox_matches_mmpose(mmc, dtype, vis_dims):
    rng = np.random.default_rng(3)
    kps = rng.uniform(-50, 700, (5, 17, 2)).astype(dtype)
    vis = rng.choice([0, 1, 2], (5, 17)).astype(np.float32)
    vis[4] = 0  # an instance without visible keypoints keeps its box
    if vis_dims == 3:
        vis = np.repeat(vis[..., None], 2, axis=-1)
    box = boxes(rng, 5, dtype)
    ids = [1, 2, 1, 3, 1]
    theirs = mmc.YOLOXPoseAnnotationProcessor(expand_bbox=True).encode(kps, vis, box.copy(), ids)
    ours = fastcodec.YOLOXPoseAnnotationProcessor(expand_bbox=True).encode(kps, vis, box, ids)
    assert list(ours) == list(theirs)
    for key in theirs:
        same(ours[key], theirs[key], key)
    assert not np.array_equal(ours['bbox'], box)  # expanded, into a new array
    batch = fastcodec.YOLOXPoseAnnotationProcessor(expand_bbox=True).batch_encode(
        kps[None], vis[None] if vis_dims == 2 else vis[None, ..., 0], box[None], ids)
    same(batch['bbox'][0], theirs['bbox'])


def test_yolox_options(mmc):
    kps, vis, box = np.zeros((1, 3, 2)), np.ones((1, 3)), np.array([[1.0, 1, 2, 2]])
    for expand in (False, True):
        for ids in (None, [4]):
            for b in (None, box):
                theirs = mmc.YOLOXPoseAnnotationProcessor(expand).encode(kps, vis, b, ids)
                ours = fastcodec.YOLOXPoseAnnotationProcessor(expand).encode(kps, vis, b, ids)
                assert list(ours) == list(theirs)
                for key in theirs:
                    same(ours[key], theirs[key], key)
    assert fastcodec.YOLOXPoseAnnotationProcessor().decode(dict()) is None


def test_yolox_bad_input():
    codec = fastcodec.YOLOXPoseAnnotationProcessor(expand_bbox=True)
    with pytest.raises(ValueError, match='bbox'):
        codec.encode(np.zeros((2, 3, 2)), np.ones((2, 3)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match='keypoints_visible'):
        codec.encode(np.zeros((2, 3, 2)), np.ones((2, 4)), np.zeros((2, 4)))
    with pytest.raises(TypeError, match='keypoints_visible'):
        codec.encode(np.zeros((2, 3, 2)), None, np.zeros((2, 4)))


@pytest.mark.parametrize('name', ['Hand3DHeatmap', 'EDPoseLabel', 'YOLOXPoseAnnotationProcessor'])
def test_class_attributes_match_mmpose(mmc, name):
    ours, theirs = getattr(fastcodec, name), getattr(mmc, name)
    for attr in ('auxiliary_encode_keys', 'label_mapping_table', 'instance_mapping_table',
                 'field_mapping_table'):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
