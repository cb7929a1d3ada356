"""ImagePoseLifting / VideoPoseLifting / MotionBERTLabel: bad input raises
ValueError/TypeError naming the argument and the expected vs received shape, before
computing; and each deviation from MMPose 1.3.2 listed in docs/deviations.md
("Lifting codecs")."""
import numpy as np
import pytest

import fastcodec

K = 17
KP = np.zeros((1, K, 2))
TARGET = np.ones((1, K, 3))
CAM = dict(w=1000, h=1002, f=np.ones((2, 1)), c=np.ones((2, 1)))
IMG = fastcodec.ImagePoseLifting(K)
VID = fastcodec.VideoPoseLifting(K)
MB = fastcodec.MotionBERTLabel(K)


@pytest.mark.parametrize('call,match', [
    # ImagePoseLifting
    (lambda: IMG.encode(np.zeros((K, 2)), None, TARGET), r'keypoints must have shape \(N, K, D\), got \(17, 2\)'),
    (lambda: IMG.encode(np.zeros((1, 1, K, 2)), None, TARGET), r'keypoints must have shape \(N, K, D\)'),
    (lambda: IMG.encode(np.zeros((1, K, 0)), None, TARGET), r'D >= 1'),
    (lambda: IMG.encode(KP, np.ones((1, K - 1)), TARGET), r'keypoints_visible must have shape \(N, K\) = \(1, 17\)'),
    (lambda: IMG.encode(KP, np.ones((K,)), TARGET), r'keypoints_visible must have shape'),
    (lambda: IMG.encode(KP), 'lifting_target is required'),
    (lambda: IMG.encode(KP, None, np.ones((K, 3))), r'lifting_target must have shape \(T, K, C\), got \(17, 3\)'),
    (lambda: IMG.encode(KP, None, TARGET, np.ones((1, K, 2))), r'lifting_target_visible must have shape \(T, K\)'),
    (lambda: fastcodec.ImagePoseLifting(K, root_index=5).encode(KP, None, np.ones((1, 4, 3))),
     r'expected K >= 6, got shape \(1, 4, 3\)'),
    (lambda: IMG.encode(KP, None, np.ones((2, K, 3))), 'do not broadcast'),
    (lambda: IMG.encode(np.zeros((1, 2, 2)), None, np.ones((1, 2, 3))), 'K >= 3 without lifting_target_visible'),
    (lambda: fastcodec.ImagePoseLifting(K, keypoints_mean=np.zeros((K, 2)), keypoints_std=np.ones((K, 2)))
     .encode(np.zeros((1, K, 3)), None, TARGET), 'keypoints_mean has shape'),
    (lambda: fastcodec.ImagePoseLifting(K, target_mean=np.zeros((K, 3)), target_std=np.ones((K, 3)))
     .encode(KP, None, np.ones((1, K, 2))), 'target_mean has shape'),
    (lambda: IMG.batch_encode(KP, None, TARGET), r'keypoints must have shape \(B, N, K, D\)'),
    (lambda: IMG.batch_encode(KP[None], None, np.ones((2, 1, K, 3))), 'batch size of keypoints'),
    (lambda: IMG.batch_encode(KP[None], np.ones((1, K)), TARGET[None]), r'keypoints_visible must have shape \(B, N, K\)'),
    (lambda: IMG.decode(np.zeros((K,))), r'encoded must have shape \(N, K, C\) or \(K, C\), got \(17,\)'),
    (lambda: IMG.batch_decode(np.zeros((K, 3))), r'batch_encoded must have shape \(B, N, K, C\)'),
    (lambda: IMG.batch_decode(np.zeros((2, 1, K, 3)), np.zeros((3, 3))), 'leading batch axis of 2'),
    (lambda: IMG.decode(np.zeros((1, K, 3)), np.zeros((2, 3))), 'do not broadcast'),
    (lambda: fastcodec.ImagePoseLifting(K, target_mean=np.zeros((K, 3)), target_std=np.ones((K, 3)))
     .decode(np.zeros((2, K, 3))), r'per-sample shape \(1, 17, 3\)'),
    (lambda: fastcodec.ImagePoseLifting(K, remove_root=True).decode(np.zeros((1, 2, 3)), np.zeros((2, 3))),
     'one root per sample'),
    (lambda: fastcodec.ImagePoseLifting(K, remove_root=True).decode(np.zeros((K - 1, 3)), np.zeros((1, 3))),
     r'per-sample shape \(N, K, C\)'),
    # VideoPoseLifting
    (lambda: VID.encode(KP, None, TARGET), r'camera_param must contain "w" and "h"'),
    (lambda: VID.encode(KP, None, TARGET, None, dict(w=10)), r'must contain "w" and "h"'),
    (lambda: fastcodec.VideoPoseLifting(K, normalize_camera=True).encode(KP, None, TARGET, None, dict(w=1, h=1)),
     r'must contain "f" and "c"'),
    (lambda: VID.encode(KP, None, TARGET, None, dict(CAM, f=np.ones(3))), r'camera_param\["f"\] must have shape \(2,\) or \(2, 1\), got \(3,\)'),
    (lambda: VID.encode(KP, None, TARGET, None, dict(w=np.ones(2), h=1)), r'camera_param\["w"\] must be a scalar'),
    (lambda: VID.encode(np.zeros((1, K, 3)), None, TARGET, None, CAM), r'\(x, y\)'),
    (lambda: VID.batch_encode(KP[None], None, TARGET[None], None, dict(w=np.ones(2), h=1)), r'camera_param\["w"\] must be a scalar or have shape \(1,\), got \(2,\)'),
    (lambda: VID.batch_encode(KP[None], None, TARGET[None], None, dict(w=1, h=1, f=np.ones((2, 2)), c=np.ones((1, 2)))),
     r'camera_param\["f"\] must have shape \(1, 2\) or \(1, 2, 1\)'),
    (lambda: VID.batch_encode(KP[None], None, TARGET[None], None, [CAM, CAM]), 'one dict per sample: expected 1, got 2'),
    (lambda: VID.batch_encode(np.zeros((2, 1, K, 2)), None, np.ones((2, 1, K, 3)), None, [CAM, dict(w=1, h=1)]),
     'same keys'),
    (lambda: VID.batch_encode(np.zeros((2, 1, K, 2)), None, np.ones((2, 1, K, 3)), None,
                              [CAM, dict(CAM, f=np.ones(2))]), r'"f" must have the same shape'),
    (lambda: VID.decode(np.zeros((1, K, 3, 1))), r'encoded must have shape'),
    # MotionBERTLabel
    (lambda: MB.encode(KP, None, TARGET), r'camera_param must contain "w" and "h"'),
    (lambda: MB.encode(np.zeros((1, K, 1)), None, TARGET, None, CAM), r'\(x, y\)'),
    (lambda: MB.encode(KP, None, np.ones((1, K, 2)), None, CAM), r'\(C = 3\)'),
    (lambda: fastcodec.MotionBERTLabel(K, mode='train').encode(KP, None, np.ones((1, K, 2)), None, dict(w=1, h=1)),
     r'\(C = 3\)'),
    (lambda: MB.encode(KP, None, TARGET, None, CAM, np.ones((1, 2))), r'factor must have shape \(T,\) or \(T, 1\), got \(1, 2\)'),
    (lambda: MB.encode(KP, None, TARGET, None, CAM, np.ones((0,))), r'factor must have shape'),
    (lambda: MB.encode(np.zeros((3, K, 2)), None, np.ones((3, K, 3)), None, dict(w=1, h=1), np.ones(2)),
     'do not broadcast'),
    (lambda: MB.batch_encode(KP[None], None, TARGET[None], None, dict(w=1, h=1), np.ones((1, 1, 2))),
     r'factor must have shape \(B, T\)'),
    (lambda: MB.batch_encode(np.zeros((2, 3, K, 2)), None, np.ones((2, 1, K, 3)), None, dict(w=1, h=1),
                             np.array([[0.0], [1.0]])), 'cannot be batched'),
    (lambda: MB.decode(np.zeros((2, K, 3)), np.ones(2)), 'w and h must have the same shape'),
    (lambda: MB.decode(np.zeros((2, K, 3)), np.ones(3), np.ones(3)), r'w and h must have shape \(2,\) or \(2, 1\)'),
    (lambda: MB.decode(np.zeros((2, K, 3)), None, None, np.ones(3)), 'factor must have 2 entries'),
    (lambda: MB.decode(np.zeros((2, K, 3)), None, None, np.ones(2)), 'do not broadcast'),
    (lambda: MB.batch_decode(np.zeros((2, 2, K, 3)), np.ones((3, 2)), np.ones((3, 2))), 'leading batch axis of 2'),
    (lambda: MB.decode(np.zeros((K, 3))), r'encoded must have shape \(N, K, C\), got \(17, 3\)'),
])
def test_shape_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize('call,match', [
    (lambda: IMG.encode(np.array([['a', 'b']]), None, TARGET), 'keypoints must hold real numbers'),
    (lambda: IMG.encode(KP, None, np.full((1, K, 3), 'x')), 'lifting_target must hold real numbers'),
    (lambda: VID.encode(KP, None, TARGET, None, [CAM]), 'camera_param must be a dict'),
    (lambda: VID.batch_encode(KP[None], None, TARGET[None], None, [1]), 'sequence of dicts'),
    (lambda: MB.batch_encode(KP[None], None, TARGET[None], None, 'camera'), 'camera_param must be a dict or a sequence'),
    (lambda: fastcodec.ImagePoseLifting('17'), 'num_keypoints must be an int'),
    (lambda: fastcodec.ImagePoseLifting(K, root_index=1.5), 'root_index must be an int or a list'),
    (lambda: fastcodec.MotionBERTLabel(K, root_index=[0]), 'root_index must be an int'),
])
def test_type_errors(call, match):
    with pytest.raises(TypeError, match=match):
        call()


@pytest.mark.parametrize('make,match', [
    (lambda: fastcodec.ImagePoseLifting(0), 'num_keypoints must be positive'),
    (lambda: fastcodec.ImagePoseLifting(K, root_index=[]), 'root_index must not be empty'),
    (lambda: fastcodec.VideoPoseLifting(K, root_index=-1), 'root_index must be non-negative'),
    (lambda: fastcodec.ImagePoseLifting(K, keypoints_mean=np.zeros((K, 2))), 'keypoints_std is required'),
    (lambda: fastcodec.ImagePoseLifting(K, target_mean=np.zeros((K, 2))), 'target_std is required'),
    (lambda: fastcodec.ImagePoseLifting(K, keypoints_mean=np.zeros((K, 2)), keypoints_std=np.ones((K, 3))),
     r'keypoints_mean.shape \(1, 17, 2\) != keypoints_std.shape \(1, 17, 3\)'),
    (lambda: fastcodec.ImagePoseLifting(K, keypoints_mean=np.zeros(5), keypoints_std=np.ones(5)),
     r'must reshape to \(1, 17, -1\)'),
    (lambda: fastcodec.MotionBERTLabel(K, mode='eval'), 'Unsupported mode'),
    (lambda: fastcodec.MotionBERTLabel(K, mode=None), 'Unsupported mode'),
])
def test_constructor_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_torch_inputs_are_checked_too():
    torch = pytest.importorskip('torch')
    with pytest.raises(ValueError, match=r'keypoints must have shape \(B, N, K, D\)'):
        IMG.batch_encode(torch.zeros(1, K, 2), None, torch.ones(1, 1, K, 3))
    with pytest.raises(TypeError, match='real numbers'):
        IMG.batch_encode(torch.zeros(1, 1, K, 2, dtype=torch.complex64), None, torch.ones(1, 1, K, 3))


# ---- deviations from MMPose 1.3.2 (docs/deviations.md, "Lifting codecs") ----------------
def test_remove_root_with_root_index_beyond_frames(mmc):
    """MMPose deletes the root from a (T, K) target visibility along T: IndexError when
    root_index >= T. fastcodec removes keypoint root_index (the visibility is not
    returned by these codecs), as MMPose does for a (T, K, 1) visibility."""
    rng = np.random.default_rng(0)
    kps = rng.uniform(0, 1000, (1, K, 2))
    target = rng.normal(0, 1, (1, K, 3))
    tvis = rng.choice([0.0, 1.0], (1, K))
    for name, extra in (('ImagePoseLifting', ()), ('VideoPoseLifting', (CAM,))):
        ours = getattr(fastcodec, name)(K, root_index=4, remove_root=True)
        ref = getattr(mmc, name)(K, root_index=4, remove_root=True)
        with pytest.raises(IndexError):
            ref.encode(kps, None, target, tvis, *extra)
        got = ours.encode(kps, None, target, tvis, *extra)
        want = ref.encode(kps, None, target, tvis[..., None], *extra)
        assert got['lifting_target_weight'].shape == (1, K - 1)
        np.testing.assert_array_equal(got['lifting_target_weight'], want['lifting_target_weight'][..., 0])
        np.testing.assert_array_equal(got['lifting_target_label'], want['lifting_target_label'])


def test_missing_lifting_target(mmc):
    with pytest.raises(AttributeError):
        mmc.ImagePoseLifting(K).encode(KP)              # a list has no .shape
    with pytest.raises(ValueError, match='lifting_target is required'):
        IMG.encode(KP)


def test_additional_encode_keys_stay_on_the_instance(mmc):
    before = set(mmc.ImagePoseLifting.auxiliary_encode_keys)
    try:
        mmc.ImagePoseLifting(K, additional_encode_keys=['extra_key'])
        assert 'extra_key' in mmc.ImagePoseLifting.auxiliary_encode_keys   # class-wide in MMPose
    finally:
        mmc.ImagePoseLifting.auxiliary_encode_keys.clear()
        mmc.ImagePoseLifting.auxiliary_encode_keys.update(before)
    codec = fastcodec.ImagePoseLifting(K, additional_encode_keys=['extra_key'])
    assert 'extra_key' in codec.auxiliary_encode_keys
    assert 'extra_key' not in fastcodec.ImagePoseLifting.auxiliary_encode_keys
    assert 'extra_key' not in fastcodec.ImagePoseLifting(K).auxiliary_encode_keys


def test_integer_targets_compute_in_float64(mmc):
    """MMPose subtracts the float root in place from an integer copy (UFuncTypeError);
    fastcodec computes in float64, as ImagePoseLifting's out-of-place MMPose code does."""
    rng = np.random.default_rng(1)
    kps = rng.uniform(0, 1000, (3, K, 2))
    target = rng.integers(-500, 500, (3, K, 3))
    target[..., 2] += 5000
    with pytest.raises(TypeError):
        mmc.VideoPoseLifting(K).encode(kps, None, target, None, CAM)
    got = VID.encode(kps, None, target, None, CAM)
    want = mmc.VideoPoseLifting(K).encode(kps, None, target.astype(np.float64), None, CAM)
    np.testing.assert_array_equal(got['lifting_target_label'], want['lifting_target_label'])
    with pytest.raises(TypeError):
        mmc.MotionBERTLabel(K).encode(kps, None, target, None, CAM)
    got = MB.encode(kps, None, target, None, CAM)
    want = mmc.MotionBERTLabel(K).encode(kps, None, target.astype(np.float64), None, CAM)
    np.testing.assert_array_equal(got['lifting_target_label'], want['lifting_target_label'])
    enc = np.arange(2 * K * 3).reshape(2, K, 3)
    with pytest.raises(TypeError):
        mmc.MotionBERTLabel(K).decode(enc)                # in-place /= 1000. on integers
    got, _ = MB.decode(enc)
    want, _ = mmc.MotionBERTLabel(K).decode(enc.astype(np.float64))
    np.testing.assert_array_equal(got, want)


def test_negative_root_index_rejected(mmc):
    mmc.VideoPoseLifting(K, root_index=-1)                 # MMPose: numpy's negative indexing
    with pytest.raises(ValueError, match='non-negative'):
        fastcodec.VideoPoseLifting(K, root_index=-1)


def test_two_dimensional_keypoints_rejected(mmc):
    """MMPose takes (K, D) keypoints with a default visibility of shape (K, D)."""
    enc = mmc.ImagePoseLifting(K).encode(np.zeros((K, 2)), None, TARGET)
    assert enc['keypoint_labels_visible'].shape == (K, 2)
    with pytest.raises(ValueError, match=r'\(N, K, D\)'):
        IMG.encode(np.zeros((K, 2)), None, TARGET)


def test_empty_instances_with_reshape(mmc):
    kps = np.zeros((0, K, 2))
    with pytest.raises(ValueError):
        mmc.ImagePoseLifting(K).encode(kps, None, TARGET)   # reshape(-1, 0)
    assert IMG.encode(kps, None, TARGET)['keypoint_labels'].shape == (K * 2, 0)


def test_reinsert_root_into_2d_outputs(mmc):
    """MMPose's np.insert on a (K - 1, C) output inserts along C: a (K - 1, 2C) array."""
    out = np.zeros((K - 1, 3), np.float32)
    root = np.ones((1, 3), np.float32)
    assert mmc.ImagePoseLifting(K, remove_root=True).decode(out, root)[0].shape == (K - 1, 6)
    with pytest.raises(ValueError, match='re-inserting the removed root'):
        fastcodec.ImagePoseLifting(K, remove_root=True).decode(out, root)



def test_reinsert_one_root_per_instance(mmc):
    """(N, C) roots against an (N, K - 1, C) output: MMPose broadcasts the add and the
    np.insert into a meaningless shape ((3, 6, 3) here); fastcodec asks for one root.
    Found by tools/fuzz."""
    out = np.zeros((3, 1, 3), np.float32)
    roots = np.arange(9, dtype=np.float32).reshape(3, 3)
    ref = mmc.ImagePoseLifting(2, remove_root=True).decode(out.copy(), roots.copy())[0]
    assert ref.shape == (3, 6, 3)
    with pytest.raises(ValueError, match='target_root'):
        fastcodec.ImagePoseLifting(2, remove_root=True).decode(out, roots)

def test_batched_factor_dtype_is_promoted(mmc):
    """Per sample the factor is the given one (its dtype) unless it starts with 0;
    a batch mixes both, so its dtype is the promotion of the two."""
    rng = np.random.default_rng(2)
    kps = rng.uniform(0, 1000, (2, 4, K, 2)).astype(np.float32)
    target = rng.normal(0, 300, (2, 4, K, 3)).astype(np.float32)
    target[..., 2] += 5000
    factor = np.array([[0.0, 1, 2, 3], [2.0, 2, 2, 2]])      # float64; sample 0 computed
    cam = dict(w=1000, h=1000)
    per = [MB.encode(kps[b], None, target[b], None, cam, factor[b]) for b in range(2)]
    assert per[0]['factor'].dtype == np.float32 and per[1]['factor'].dtype == np.float64
    assert mmc.MotionBERTLabel(K).encode(kps[1], None, target[1], None, cam, factor[1])['factor'].dtype == np.float64
    got = MB.batch_encode(kps, None, target, None, cam, factor)
    assert got['factor'].dtype == np.float64
    for b in range(2):
        np.testing.assert_array_equal(got['factor'][b], per[b]['factor'])
        np.testing.assert_allclose(got['lifting_target_label'][b], per[b]['lifting_target_label'],
                                   rtol=0, atol=1e-5)


def test_numpy_scalar_width_is_a_python_number(mmc):
    """MMPose divides float32 keypoints by a numpy int64 ``w`` in float64; fastcodec
    treats ``w`` as a Python number (float32 division): at most an ulp apart."""
    rng = np.random.default_rng(3)
    kps = rng.uniform(0, 1000, (9, K, 2)).astype(np.float32)
    target = rng.normal(0, 300, (9, K, 3)).astype(np.float32)
    cam = dict(w=np.int64(1000), h=np.int64(1002))
    got = MB.encode(kps, None, target, None, cam)['keypoint_labels']
    want = mmc.MotionBERTLabel(K).encode(kps, None, target, None, cam)['keypoint_labels']
    np.testing.assert_allclose(got, want, rtol=0, atol=2.5e-7)
    same = MB.encode(kps, None, target, None, dict(w=1000, h=1002))['keypoint_labels']
    np.testing.assert_array_equal(got, same)
