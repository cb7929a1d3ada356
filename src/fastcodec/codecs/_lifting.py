"""Shared machinery of the 2D-to-3D pose-lifting codecs (ImagePoseLifting,
VideoPoseLifting, MotionBERTLabel).

These codecs are elementwise arithmetic on small arrays (a root subtraction, a
normalisation, a pinhole projection): a few flops per coordinate, no reductions, no
data-dependent control flow. MMPose's cost is per-sample Python work (a dozen small numpy
calls and a deep copy of the camera per sample); doing each of those numpy calls once
for the whole batch removes it, so vectorised numpy / torch is the right tool for
ImagePoseLifting and VideoPoseLifting (on the host they do not go through
``fastcodec.backends``). Torch CPU tensors are computed with torch ops; device arrays
(CuPy, torch CUDA tensors) through the dispatch's device backend (``DeviceNS``: the
same steps as the call's ``xp`` functions on the caller's stream, MotionBERTLabel's
kernels on the backend; no host copies, no synchronisation).

Two numpy habits matter at this size: numpy broadcasts small trailing axes (a
(B, 1, 1, 2) centre) slowly, so coordinates are processed as contiguous planes or
channel views ``x[..., j]``; and MMPose's float32-in-place steps with float64 operands
are reproduced with ``out=`` ufuncs (computed in float64, stored in float32) so results
match bit for bit. MotionBERTLabel's camera projection needs about twenty such passes
over the batch, about half of them float64: for numpy / torch-CPU float inputs its
encode runs one compiled pass instead (the ``motionbert_encode`` kernel,
csrc/include/fastcodec/lifting.h; on a device its CUDA kernels, csrc/cuda/lifting.cu),
bit-identical to the vectorised path it keeps for the other inputs
(tests/lifting/test_lifting_kernel.py).

Every function here works on a leading batch axis ``B``; the per-sample ``encode`` /
``decode`` of the codecs call them with ``B = 1``. Dtypes follow MMPose 1.3.2 under
NumPy 2 promotion rules (NEP 50): a result's dtype is what numpy gives for MMPose's
expression, and torch results are cast to the same dtype (torch's own promotion
differs, e.g. ``int / int`` is float32 there).
"""
from __future__ import annotations

import copy
import math
import operator
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from fastcodec import _backend
from fastcodec._arrays import (F32, F64, NUMPY, Call, float_of, is_torch, on_device, open_call,
                               torch_namespace, zero_of)
from fastcodec.codecs.base import BaseKeypointCodec


# ---- array namespaces -----------------------------------------------------------------
def namespace_of(x: Any, name: str = 'keypoints', codec: Any = None):
    """Where a lifting call computes: on the host with numpy, torch CPU tensors with
    torch ops; device arrays (CuPy, torch CUDA tensors) through the dispatch's device
    backend (``DeviceNS``) where ``codec.device_ready``, else torch tensors with torch
    ops on their device (the vectorised path) and other device arrays refused."""
    if is_torch(x) and (x.device.type == 'cpu' or not getattr(codec, 'device_ready', False)):
        return torch_namespace(x.device)
    if type(x) is not np.ndarray and on_device(x):
        # the dispatch's TypeError for a device without a backend, NotImplementedError
        # for a codec without device kernels
        return DeviceNS(open_call((x,), (name,), codec))
    call = open_call((x,), (name,))
    if call.X is not NUMPY:
        raise TypeError(f'{name}: the lifting codecs compute on numpy arrays and torch '
                        f'tensors, not on {type(x).__module__}.{type(x).__name__}')
    return NUMPY


class DeviceNS:
    """A device call's namespace for the lifting glue (``fastcodec._arrays.Call`` on a
    device backend): the operations of NumpyNS / TorchNS the lifting codecs use, as
    ``Call.xp`` functions (CuPy, on the caller's stream for torch callers), results
    handed back as the caller's kind by ``wrap``. Nothing here reads device memory on
    the host (no synchronisation)."""

    kind = 'device'
    is_torch = False

    def __init__(self, call: Call) -> None:
        self.call, self.xp, self.device = call, call.xp, call.X.device
        self.empty, self.wrap = call.empty, call.result

    def asarray(self, x: Any, name: str):
        """x on the device: device arrays as the call reads them (zero-copy); host
        values (a codec's statistics, camera numbers) copied over asynchronously on
        the call's stream."""
        if not on_device(x):
            x = self.xp.asarray(NUMPY.asarray(x, name))
        return self.call.array(x, name)

    @staticmethod
    def dtype(x) -> np.dtype:
        return x.dtype

    def cast(self, x, dtype):
        return x if x.dtype == dtype else self.xp.asarray(x, dtype=dtype)

    def copy(self, x):
        return self.xp.copy(x)

    def ones(self, shape, dtype=F32):
        return self.xp.ones(tuple(shape), dtype)

    def zeros(self, shape, dtype):
        return self.call.zeros(tuple(shape), dtype)

    def full(self, shape, value, dtype):
        return self.xp.full(tuple(shape), value, dtype)

    def cat(self, xs, axis):
        return self.xp.concatenate(xs, axis=axis)

    def weight(self, visible):
        """MMPose's ``np.where(visible > 0.5, 1., 0.).astype(np.float32)``."""
        return self.xp.asarray(self.xp.greater(visible, 0.5), dtype=F32)

    def where(self, cond, a, b):
        return self.xp.where(cond, a, b)

    def binop(self, op: str, a, b, out):
        """``out[...] = a <op> b`` as numpy computes it, stored in out's dtype."""
        return getattr(self.xp, op)(a, b, out=out, casting='unsafe')

    def planes(self, x):
        return [self.xp.array(x[..., j], order='C') for j in range(x.shape[-1])]  # copies

    def rdiv(self, scalar: float, x):
        return self.xp.divide(scalar, x)

    def take(self, x, index: List[int], axis: int):
        return self.xp.take(x, self.xp.asarray(index, dtype=np.int64), axis=axis)

    def permute(self, x, dims):
        return self.xp.transpose(x, dims)

    def expand(self, x, shape):
        return self.xp.broadcast_to(x, tuple(shape))

    def results(self, encoded: dict) -> dict:
        """An encode's device arrays as the caller's kind; flags, a camera's host
        extras and nested dicts' other values as they are."""
        return {k: (self.results(v) if isinstance(v, dict) else
                    self.wrap(v) if on_device(v) else v) for k, v in encoded.items()}


def is_device(X) -> bool:
    return X.kind == 'device'


# Elementwise logic and tests on any namespace's arrays (numpy, torch, device): torch
# through its operators, the others through their array module (a device array takes
# no operators: its operations must be queued on the call's stream).
def isfinite(X, x):
    return X.torch.isfinite(x) if X.is_torch else X.xp.isfinite(x)


def logical_or(X, a, b):
    return a | b if X.is_torch else X.xp.logical_or(a, b)


def logical_and_not(X, a, b):
    """a and not b."""
    return a & ~b if X.is_torch else X.xp.logical_and(a, X.xp.logical_not(b))


def equal(X, a, value):
    return a == value if X.is_torch else X.xp.equal(a, value)


_OPERATORS = dict(add=operator.add, subtract=operator.sub, multiply=operator.mul,
                  divide=operator.truediv)


def arith(X, op: str, a, b):
    """``a <op> b`` (op: 'add', 'subtract', 'multiply', 'divide') with numpy's (or
    torch's) promotion: the operator on numpy arrays and torch tensors, the array
    module's ufunc on device arrays."""
    return getattr(X.xp, op)(a, b) if is_device(X) else _OPERATORS[op](a, b)


def assign(X, view, value) -> None:
    """``view[...] = value``: on device arrays the array module's copyto."""
    if is_device(X):
        X.xp.copyto(view, value)
    else:
        view[...] = value


# ---- dtype rules ------------------------------------------------------------------------
def promote(*dtypes) -> np.dtype:
    """numpy's result dtype of an elementwise op between arrays of these dtypes."""
    return np.result_type(*dtypes)


def as_float(X, x):
    """Integers and booleans become float64 (where MMPose would crash or truncate)."""
    return x if X.dtype(x).kind == 'f' else X.cast(x, F64)


# ---- argument checks --------------------------------------------------------------------
def shape_str(shape) -> str:
    return str(tuple(int(s) for s in shape))


def check_ndim(x, name: str, ndim: int, layout: str) -> None:
    if x.ndim != ndim:
        raise ValueError(f'{name} must have shape {layout}, got {shape_str(x.shape)}')


def check_visible(vis, name: str, lead: Tuple[int, ...], layout: str) -> None:
    """A visibility array of shape ``lead`` or ``lead + (1,)``."""
    if tuple(vis.shape) != tuple(lead) and tuple(vis.shape) != tuple(lead) + (1,):
        raise ValueError(f'{name} must have shape {layout} = {shape_str(lead)} (or with a '
                         f'trailing 1), got {shape_str(vis.shape)}')


def check_root_index(root_index: Any, allow_list: bool) -> List[int]:
    """MMPose's root_index: an int (or, for ImagePoseLifting / VideoPoseLifting, a
    non-empty list of ints) as a list of non-negative ints."""
    items = root_index if (allow_list and isinstance(root_index, (list, tuple))) \
        else [root_index]
    if not items:
        raise ValueError('root_index must not be empty')
    out = []
    for r in items:
        if isinstance(r, bool) or not isinstance(r, (int, np.integer)):
            raise TypeError(f'root_index must be an int{" or a list of ints" if allow_list else ""}'
                            f', got {root_index!r}')
        if r < 0:
            raise ValueError(f'root_index must be non-negative, got {root_index!r}')
        out.append(int(r))
    return out


def check_num_keypoints(num_keypoints: Any) -> int:
    if isinstance(num_keypoints, bool) or not isinstance(num_keypoints, (int, np.integer)):
        raise TypeError(f'num_keypoints must be an int, got {num_keypoints!r}')
    if num_keypoints <= 0:
        raise ValueError(f'num_keypoints must be positive, got {num_keypoints}')
    return int(num_keypoints)


def broadcast_check(a_shape, b_shape, what: str) -> Tuple[int, ...]:
    try:
        return tuple(np.broadcast_shapes(tuple(a_shape), tuple(b_shape)))
    except ValueError:
        raise ValueError(f'{what}: shapes {shape_str(a_shape)} and {shape_str(b_shape)} do '
                         'not broadcast') from None


def per_sample(x, ndim: int):
    """A batched operand (B, *S) reshaped so that it broadcasts against a batched
    (B, ...) array of ``ndim`` dims exactly as S broadcasts per sample against its
    ``ndim - 1`` dims."""
    extra = ndim - x.ndim
    if extra < 0:
        raise ValueError(f'operand of shape {shape_str(x.shape[1:])} has more dims than '
                         f'the array it applies to ({ndim - 1})')
    return x.reshape((x.shape[0],) + (1,) * extra + tuple(x.shape[1:]))


# ---- shared steps -------------------------------------------------------------------------
def target_weights(X, lifting_target, lifting_target_visible, with_trajectory: bool = True):
    """MMPose's (lifting_target_visible, lifting_target_weight, trajectory_weights) for
    a batched target (B, T, K, C): without visibility, float32 ones (B, T, K) for the
    first two and ``1 / lifting_target[:, 2]`` per sample (shape (B, T, C): MMPose
    indexes keypoint 2, not coordinate 2); with it, float32 ``visible > 0.5`` for
    both weights. ``with_trajectory=False`` (MotionBERTLabel, which has no trajectory
    weights, so takes any K) gives None for the third."""
    if lifting_target_visible is None:
        visible = X.ones(lifting_target.shape[:-1])
        if not with_trajectory:
            return visible, visible, None
        third = lifting_target[:, :, 2]
        trajectory = X.rdiv(1.0, X.cast(third, float_of(X.dtype(third))))
        return visible, visible, trajectory
    weight = X.weight(lifting_target_visible)
    return lifting_target_visible, weight, weight


def root_mean(X, lifting_target, root_index: List[int], dtype: np.dtype):
    """The mean of the root keypoints (B, T, C) as ``np.mean(..., axis=-2)`` with the
    accumulator ``dtype``: the same sequential float adds, then one division."""
    acc = X.cast(lifting_target[:, :, root_index[0]], dtype)
    for r in root_index[1:]:
        acc = arith(X, 'add', acc, X.cast(lifting_target[:, :, r], dtype))
    return arith(X, 'divide', acc, len(root_index)) if len(root_index) > 1 else X.copy(acc)


def delete_keypoint(X, x, index: int, axis: int):
    keep = [i for i in range(x.shape[axis]) if i != index]
    return X.take(x, keep, axis)


def insert_root(X, keypoints, root, index: int):
    """``np.insert(keypoints, [index], root, axis=1)`` per sample: keypoints
    (B, N, K, C), root batched and already padded by ``per_sample`` to 4 dims with
    size 1 on the keypoint axis."""
    B, N, K, C = keypoints.shape
    check_insert(root, keypoints.shape, index)
    values = X.expand(X.cast(root, X.dtype(keypoints)), (B, N, 1, C))
    return X.cat([keypoints[:, :, :index], values, keypoints[:, :, index:]], 2)


def concat_visibility(X, labels, visible):
    """``np.concatenate((labels, visible[..., None]), axis=2)`` per sample, with
    numpy's dtype promotion; labels (B, N, K, D), visible (B, N, K) or (B, N, K, 1).
    Copied channel by channel (numpy concatenates small trailing axes slowly)."""
    if visible.ndim == 4:
        visible = visible[..., 0]
    dtype = promote(X.dtype(labels), X.dtype(visible))
    if is_device(X):           # no item assignment on device arrays
        return X.cat([X.cast(labels, dtype), X.cast(visible, dtype)[..., None]], -1)
    D = labels.shape[-1]
    out = X.empty(labels.shape[:-1] + (D + 1,), dtype)
    for j in range(D):
        out[..., j] = labels[..., j]
    out[..., D] = visible
    return out


def reshape_keypoints(X, labels):
    """(B, N, K, D) -> (B, K * D, N): MMPose's ``transpose(1, 2, 0).reshape(-1, N)``."""
    B, N, K, D = labels.shape
    return X.permute(labels, (0, 2, 3, 1)).reshape(B, K * D, N)


def decode_root(X, keypoints, target_root, remove_root: bool, root_index: List[int]):
    """Image/VideoPoseLifting's decode tail: add the batched root (B, *S) to keypoints
    (B, N, K, C) (or (B, K, C), as MMPose's regression heads decode) and, with
    ``remove_root`` and one root index, insert it back at that index (4-D only)."""
    if target_root is None or _size(target_root) == 0:
        return X.copy(keypoints)   # decode never returns (a view of) its input
    if target_root.shape[0] != keypoints.shape[0]:
        raise ValueError(f'target_root must have a leading batch axis of {keypoints.shape[0]}, '
                         f'got shape {shape_str(target_root.shape)}')
    root = per_sample(target_root, keypoints.ndim)
    shape = broadcast_check(keypoints.shape, root.shape, 'encoded + target_root')
    dtype = promote(X.dtype(keypoints), X.dtype(root))
    insert = remove_root and len(root_index) == 1
    if keypoints.ndim == 4 and shape == tuple(keypoints.shape) and \
            _size(keypoints) >= _CHANNEL_PLANES_MIN:
        return _add_root_by_channel(X, keypoints, root, dtype,
                                    root_index[0] if insert else None)
    keypoints = arith(X, 'add', X.cast(keypoints, dtype), X.cast(root, dtype))
    if insert:
        if keypoints.ndim != 4:
            raise ValueError('re-inserting the removed root needs encoded of per-sample '
                             f'shape (N, K, C), got {shape_str(keypoints.shape[1:])}')
        keypoints = insert_root(X, keypoints, root, root_index[0])
    return keypoints


# Below this many elements one broadcast expression beats a loop over channel planes
# (a single sample: the loop's per-call cost dominates).
_CHANNEL_PLANES_MIN = 4096


def _add_root_by_channel(X, keypoints, root, dtype, index: Optional[int]):
    """keypoints (B, N, K, C) + root (B, a, b, 1 or C), channel by channel into one
    array, with the root inserted at ``index`` (None: no insertion)."""
    B, N, K, C = keypoints.shape
    if index is not None:
        check_insert(root, (B, N, K, C), index)
    out = X.empty((B, N, K + (index is not None), C), dtype)
    for j in range(C):
        rj = root[..., j if root.shape[-1] == C else 0]
        if index is None:
            X.binop('add', keypoints[..., j], rj, out[..., j])
            continue
        X.binop('add', keypoints[:, :, :index, j], rj, out[:, :, :index, j])
        assign(X, out[:, :, index:index + 1, j], X.expand(X.cast(rj, dtype), (B, N, 1)))
        X.binop('add', keypoints[:, :, index:, j], rj, out[:, :, index + 1:, j])
    return out


def check_insert(root, shape, index: int) -> None:
    B, N, K, C = shape
    if index > K:
        raise ValueError(f'root_index {index} is out of range for encoded with '
                         f'{K} keypoints (expected <= {K})')
    if root.shape[2] != 1:
        raise ValueError(f'target_root must hold one root per sample to insert, got '
                         f'per-sample shape {shape_str(root.shape[1:])}')
    broadcast_check(root.shape, (B, N, 1, C), 'target_root')


def _size(x) -> int:
    return math.prod(x.shape)


# ---- non-finite keypoints ------------------------------------------------------------
# fastcodec's rule, not MMPose's (docs/deviations.md): a keypoint with a NaN or Inf
# coordinate gives finite targets. MMPose passes it through (NaN labels, weight 1, and
# a NaN root makes every root-relative label of its frame NaN); in a loss `NaN * 0` is
# still NaN, so one bad annotation would poison a batch. Every path (the batched numpy /
# torch one, the per-sample fast path, the compiled MotionBERT pass) computes MMPose's
# numbers first and then zeroes what a non-finite keypoint touched, here, once: finite
# inputs are untouched (bit-for-bit parity), and host arrays are checked before any
# mask is built. On a torch device the masks are applied unconditionally (testing them
# would synchronise).


def non_finite(X, x):
    """(..., C) -> bool mask (...) of the rows holding a NaN or Inf, or None where x is a
    host array whose values are all finite (nothing to do)."""
    test = may_test(X)
    # A finite sum (of squares, on numpy: np.vdot is the cheapest reduction of a small
    # array) has finite terms: NaN and Inf propagate, and an overflow only costs the
    # exact test below.
    if test and (X.dtype(x).kind != 'f' or (bool(X.torch.isfinite(x.sum())) if X.is_torch
                                            else math.isfinite(np.vdot(x, x)))):
        return None
    if X.is_torch:
        mask = ~X.torch.isfinite(x).all(-1)
    else:
        mask = X.xp.logical_not(X.xp.all(X.xp.isfinite(x), axis=-1))
    return None if test and not bool(mask.any()) else mask


def may_test(X) -> bool:
    """Whether the masks may be tested before use: arrays in host memory (testing an
    array on a device would synchronise with it)."""
    return X.device.type == 'cpu'


def zero_where(X, mask, x):
    """x with 0 (in x's dtype) where ``mask`` (which broadcasts against x's leading dims;
    x may have one more trailing axis) is True; x itself where mask is None."""
    if mask is None:
        return x
    if mask.ndim < x.ndim:
        mask = mask.reshape(tuple(mask.shape) + (1,) * (x.ndim - mask.ndim))
    if X.is_torch:
        return x.masked_fill(mask, 0)
    return X.xp.where(mask, zero_of(X.xp, x.dtype), x)


def target_masks(X, lifting_target, root_index: Optional[List[int]]):
    """For a batched target (B, T, K, C): (bad (B, T, K): the non-finite keypoints,
    root (B, T): frames whose root (any of root_index; None: no root) is non-finite),
    or None where the target is finite."""
    bad = non_finite(X, lifting_target)
    if bad is None:
        return None
    if not root_index:
        return bad, None
    root = bad[:, :, root_index[0]]
    for r in root_index[1:]:
        root = logical_or(X, root, bad[:, :, r])
    return bad, root


def finite_keypoint_labels(X, encoded: dict, keypoints, labels_key: str, visible_key: str,
                           reshaped: bool) -> None:
    """Zero, in ``encoded``, the keypoint labels (every channel, the concatenated
    visibility included) and the visibility of the non-finite input keypoints
    (B, N, K, D); ``reshaped``: the labels have MMPose's (B, K * D', N) layout."""
    bad = non_finite(X, keypoints)
    if bad is None:
        return
    labels = encoded[labels_key]
    if reshaped:                                  # (B, N, K) -> (B, K * D', N)
        B, N, K = bad.shape
        D = labels.shape[1] // K if K else 0
        rows = X.expand(X.permute(bad, (0, 2, 1)).reshape(B, K, 1, N), (B, K, D, N))
        encoded[labels_key] = zero_where(X, rows.reshape(B, K * D, N), labels)
    else:
        encoded[labels_key] = zero_where(X, bad, labels)
    encoded[visible_key] = zero_where(X, bad, encoded[visible_key])


def finite_trajectory(X, trajectory, weight_bad, given_visible: bool):
    """trajectory_weights with the non-finite keypoints' weights: with a target
    visibility MMPose's trajectory weights are the weights (zeroed where weight_bad);
    without, ``1 / lifting_target[:, 2]`` (B, T, C), zeroed where keypoint 2 is."""
    if given_visible:
        return zero_where(X, weight_bad, trajectory)
    return zero_where(X, weight_bad[:, :, 2], trajectory)


def finite_rooted_targets(X, encoded: dict, lifting_target, root_index: Optional[List[int]],
                          visible_given: bool, image: bool) -> None:
    """Image / VideoPoseLifting: zero, in ``encoded``, the target labels and weights of
    the non-finite target keypoints and of every keypoint of a frame whose root (mean)
    is non-finite (``root_index`` None: no root subtracted), the trajectory weights
    that follow them, and the non-finite roots (``target_root``). ``image``:
    ImagePoseLifting's labels broadcast MMPose's ``target - root[None]`` (T = 1 in
    practice)."""
    masks = target_masks(X, lifting_target, root_index)
    if masks is None:
        return
    bad, root = masks
    weight_bad = label_bad = bad
    if root is not None:
        weight_bad = logical_or(X, bad, root[:, :, None])
        label_bad = logical_or(X, bad, root[:, None]) if image else weight_bad
        encoded['target_root'] = zero_where(X, root, encoded['target_root'])
    trajectory_bad = weight_bad
    if encoded.get('target_root_removed'):
        r = root_index[0]
        label_bad = delete_keypoint(X, label_bad, r, 2)
        weight_bad = delete_keypoint(X, weight_bad, r, 2)
    encoded['lifting_target_label'] = zero_where(X, label_bad, encoded['lifting_target_label'])
    encoded['lifting_target_weight'] = zero_where(X, weight_bad,
                                                  encoded['lifting_target_weight'])
    encoded['trajectory_weights'] = finite_trajectory(X, encoded['trajectory_weights'],
                                                      trajectory_bad, visible_given)


def finite_batch(X, encoded: dict, kp, lt, fix, *args) -> None:
    """The batched paths' non-finite pass, ``fix(X, encoded, keypoints, target, *args)``,
    skipped where kp and lt are ``fast_float`` numpy arrays whose values are all
    finite: one backend pass over both (on the pool for a large batch), where
    ``non_finite``'s tests would read each array once more."""
    if fast_float(kp) and fast_float(lt) and _backend.host_kernels().all_finite(kp, lt):
        return
    fix(X, encoded, kp, lt, *args)


def finite_sample(encoded: dict, kp: np.ndarray, lt: np.ndarray, fix, *args) -> dict:
    """The fast path's per-sample results through a codec's batched ``fix(X, encoded,
    keypoints, target, *args)`` (on a batch of one); ``encoded`` itself where kp and lt
    are finite (one cheap check each)."""
    # kp, lt: float32 / float64 numpy arrays (fast_float); non_finite's test, in the
    # backend (a numpy reduction costs 1 us per array here)
    if _backend.host_kernels().all_finite(kp, lt):
        return encoded
    arrays = {k for k, v in encoded.items() if isinstance(v, np.ndarray)}
    batched = {k: (v[None] if k in arrays else v) for k, v in encoded.items()}
    fix(NUMPY, batched, kp[None], lt[None], *args)
    return {k: (v[0] if k in arrays else v) for k, v in batched.items()}


# ---- camera parameters ----------------------------------------------------------------
CAMERA_LAYOUT = ('camera_param: a dict {"w": (B,) or scalar, "h": (B,) or scalar, '
                 '"f": (B, 2) or (B, 2, 1), "c": (B, 2) or (B, 2, 1), ...}, or a '
                 'sequence of B per-sample dicts')


class Camera:
    """Batched camera parameters: w, h (B,) arrays; f, c (B, *S) with S = (2,) or
    (2, 1), or None where absent; ``extras`` are the other keys, passed through."""

    def __init__(self, w, h, f, c, extras: Dict[str, Any]) -> None:
        self.w, self.h, self.f, self.c, self.extras = w, h, f, c, extras


def batch_camera(X, camera_param: Any, B: int, need_fc: bool, name: str = 'camera_param'
                 ) -> Camera:
    """Parse a batched ``camera_param`` (see CAMERA_LAYOUT) for B samples."""
    if camera_param is None:
        camera_param = {}
    if isinstance(camera_param, Mapping):
        items = dict(camera_param)
        for key in ('w', 'h'):
            if key not in items:
                raise ValueError(f'{name} must contain "w" and "h" (MMPose asserts it); '
                                 f'got keys {sorted(items)}')
        w = _camera_scalar(X, items.pop('w'), B, f'{name}["w"]')
        h = _camera_scalar(X, items.pop('h'), B, f'{name}["h"]')
        f = c = None
        if 'f' in items and 'c' in items:
            f = _camera_pair(X, items.pop('f'), B, f'{name}["f"]')
            c = _camera_pair(X, items.pop('c'), B, f'{name}["c"]')
        elif need_fc:
            raise ValueError(f'{name} must contain "f" and "c" with normalize_camera=True; '
                             f'got keys {sorted(camera_param)}')
        return Camera(w, h, f, c, items)
    if isinstance(camera_param, (list, tuple)):
        if len(camera_param) != B:
            raise ValueError(f'{name} must hold one dict per sample: expected {B}, got '
                             f'{len(camera_param)}')
        if not all(isinstance(p, Mapping) for p in camera_param):
            raise TypeError(f'{name} must be a sequence of dicts; {CAMERA_LAYOUT}')
        stacked: Dict[str, Any] = {}
        keys = [set(p) for p in camera_param]
        if B and any(k != keys[0] for k in keys):
            raise ValueError(f'{name}: every per-sample dict must have the same keys; got '
                             f'{sorted(keys[0])} and {sorted(next(k for k in keys if k != keys[0]))}')
        for key in (keys[0] if B else ()):
            values = [p[key] for p in camera_param]
            if key in ('w', 'h', 'f', 'c'):
                # Tensors are stacked on their device (no host copy), the rest by numpy.
                arrays = [X.asarray(v, f'{name}[{key!r}]') if is_torch(v) else np.asarray(v)
                          for v in values]
                shapes = {tuple(a.shape) for a in arrays}
                if len(shapes) > 1:
                    raise ValueError(f'{name}: "{key}" must have the same shape in every '
                                     f'sample, got {sorted(shapes)}')
                if any(is_torch(a) for a in arrays):
                    stacked[key] = X.torch.stack([X.asarray(a, key) for a in arrays]) \
                        if X.is_torch else np.stack([X.asarray(a, key) for a in arrays])
                else:
                    stacked[key] = np.stack(arrays)
            else:
                stacked[key] = values
        if B == 0:
            stacked = {'w': np.zeros(0), 'h': np.zeros(0)}
            if need_fc:
                stacked.update(f=np.zeros((0, 2)), c=np.zeros((0, 2)))
        return batch_camera(X, stacked, B, need_fc, name)
    raise TypeError(f'{name} must be a dict or a sequence of dicts, got '
                    f'{type(camera_param).__name__}; {CAMERA_LAYOUT}')


def _camera_scalar(X, value, B: int, name: str):
    arr = X.asarray(value, name)
    if arr.ndim == 0:
        return X.expand(arr.reshape(1), (B,))
    if tuple(arr.shape) != (B,):
        raise ValueError(f'{name} must be a scalar or have shape ({B},), got '
                         f'{shape_str(arr.shape)}')
    return arr


def _camera_pair(X, value, B: int, name: str):
    arr = X.asarray(value, name)
    if tuple(arr.shape) not in ((B, 2), (B, 2, 1)):
        raise ValueError(f'{name} must have shape ({B}, 2) or ({B}, 2, 1), got '
                         f'{shape_str(arr.shape)}')
    return arr


def sample_camera(camera_param: Any, name: str = 'camera_param') -> Optional[dict]:
    """A per-sample camera dict as the batched dict of B = 1 (values gain an axis)."""
    if camera_param is None:
        return None
    if not isinstance(camera_param, Mapping):
        raise TypeError(f'{name} must be a dict, got {type(camera_param).__name__}')
    out = {}
    for key, value in camera_param.items():
        if key in ('w', 'h', 'f', 'c'):
            arr = np.asarray(value.detach().cpu() if is_torch(value) else value)
            if key in ('f', 'c') and arr.shape not in ((2,), (2, 1)):
                raise ValueError(f'{name}["{key}"] must have shape (2,) or (2, 1), got '
                                 f'{shape_str(arr.shape)}')
            if key in ('w', 'h') and arr.ndim != 0:
                raise ValueError(f'{name}["{key}"] must be a scalar, got shape '
                                 f'{shape_str(arr.shape)}')
            out[key] = arr[None]
        else:
            out[key] = value
    return out


_ATOMIC = (int, float, str, bool, type(None))


def deepcopy_camera(camera_param: Mapping, skip: Sequence[str] = ()) -> dict:
    """``copy.deepcopy(dict(camera_param))`` with None at the keys in ``skip`` (the
    caller replaces them): numpy arrays by ``.copy()`` and immutable scalars as they are, which
    is what deepcopy does to them, minus its bookkeeping (two keys holding one array
    get two copies)."""
    out = {}
    for key, value in camera_param.items():
        if key in skip:
            out[key] = None              # keeps the key's place
            continue
        t = type(value)
        out[key] = value.copy() if t is np.ndarray and value.dtype.kind != 'O' else \
            value if t in _ATOMIC else copy.deepcopy(value)
    return out


def first(out: dict, keep: Sequence[str] = ()) -> dict:
    """Per-sample results from batched ones: every array loses its batch axis; the
    keys in ``keep`` (flags, indices) pass through."""
    return {key: (value if key in keep else value[0]) for key, value in out.items()}


# ---- per-sample numpy fast path ---------------------------------------------------------
# MMPose's data pipeline calls ``encode`` / ``decode`` once per sample, where the batched
# machinery above (namespaces, dtype promotion tables, B = 1 reshapes) costs more than
# the arithmetic. For numpy float32 / float64 arrays of the usual shapes the codecs
# therefore compute one sample with plain numpy expressions, MMPose's own float steps
# (tests/lifting/test_lifting_fast_path.py: equal to the batched path bit for bit, and to MMPose).
# The fast path only decides with cheap tests (types, dtypes, shapes) whether it applies;
# anything else, including every bad input, goes through the batched path, which raises
# the errors naming the argument. Tests switch it off to compare both.
SAMPLE_FAST_PATH = True


_ONES: Dict[Tuple[int, ...], np.ndarray] = {}


def np_ones(shape: Tuple[int, ...]) -> np.ndarray:
    """``np.ones(shape, np.float32)``, a fresh array, copied from a cached one (a
    quarter of np.ones's cost at these sizes)."""
    ones = _ONES.get(shape)
    if ones is None:
        if len(_ONES) >= 256:
            _ONES.clear()
        ones = _ONES[shape] = np.ones(shape, F32)
    return ones.copy()


_FAST_FLOATS = (F32, F64)


def fast_float(x) -> bool:
    """A numpy float32 / float64 array in native byte order (the fast path's operands;
    the compiled passes take native float32 / float64 only)."""
    return type(x) is np.ndarray and x.dtype in _FAST_FLOATS


def fast_real(x) -> bool:
    """A numpy array of real numbers (visibilities may be any of these)."""
    return type(x) is np.ndarray and x.dtype.kind in 'biuf'


def fast_visible(vis, lead: Tuple[int, int]) -> bool:
    """None, or a real array of shape ``lead`` or ``lead + (1,)``."""
    if vis is None:
        return True
    if type(vis) is not np.ndarray or vis.dtype.kind not in 'biuf':
        return False
    s = vis.shape
    return s == lead or (len(s) == 3 and s[2] == 1 and s[:2] == lead)


# The per-sample helpers below are the batched ones on a batch of one (x[None]), run
# on numpy directly: one definition of each MMPose step.


def np_target_weights(lt, ltv, with_trajectory: bool = True):
    """``target_weights`` for one numpy sample: (lifting_target_weight,
    trajectory_weights or None)."""
    _, weight, trajectory = target_weights(NUMPY, lt[None], None if ltv is None else ltv[None],
                                           with_trajectory)
    return weight[0], None if trajectory is None else trajectory[0]


def np_root_mean(lt, root_index: List[int], dtype):
    """``root_mean`` for one numpy sample (T, K, C) -> (T, C) in ``dtype``."""
    return root_mean(NUMPY, lt[None], root_index, dtype)[0]


def np_delete_keypoint(x, index: int):
    """``delete_keypoint`` along the keypoint axis of one sample (T, K, ...)."""
    return delete_keypoint(NUMPY, x, index, 1)


def np_concat_visibility(labels, vis):
    """``concat_visibility`` for one sample: labels (N, K, D), vis (N, K) or (N, K, 1)."""
    return concat_visibility(NUMPY, labels[None], vis[None])[0]


def np_scalar(value) -> Optional[float]:
    """A camera "w" / "h" the batched path would read as a real scalar, as an exact
    float; None for anything else (the batched path checks it)."""
    t = type(value)
    if t is int:
        return float(value) if -2 ** 53 <= value <= 2 ** 53 else None
    if t is float or t is np.float64 or t is np.float32 or t is np.int64 or t is np.int32:
        return float(value)
    if t is np.ndarray and value.ndim == 0 and value.dtype.kind in 'iuf':
        return float(value)
    return None


def np_camera_pairs(camera_param: dict) -> bool:
    """The per-sample camera's "f" / "c", where present, are real arrays of shape (2,)
    or (2, 1) (else the batched path checks them)."""
    for key in ('f', 'c'):
        if key in camera_param:
            v = camera_param[key]
            if type(v) is not np.ndarray or v.dtype.kind not in 'iuf' or \
                    v.shape not in ((2,), (2, 1)):
                return False
    return True


# ---- the common codec surface ------------------------------------------------------------
FLAG_KEYS = ('target_root_removed', 'target_root_index', 'camera_param')


class Inputs:
    """Checked encode inputs with a batch axis: keypoints (B, N, K, D), visibility
    (B, N, K) / (B, N, K, 1) or None, lifting_target (B, T, K', C), its visibility
    (B, T, K') / (B, T, K', 1) or None, and the namespace X of the results."""

    def __init__(self, keypoints, keypoints_visible, lifting_target, lifting_target_visible,
                 batched: bool, min_target_keypoints: int = 1, codec: Any = None) -> None:
        X = self.X = namespace_of(keypoints, 'keypoints', codec)
        pre = 'B, ' if batched else ''
        kp = X.asarray(keypoints, 'keypoints')
        check_ndim(kp, 'keypoints', 3 + batched, f'({pre}N, K, D)')
        if kp.shape[-1] == 0:
            raise ValueError(f'keypoints must have D >= 1 coordinates, got shape '
                             f'{shape_str(kp.shape)}')
        vis = None
        if keypoints_visible is not None:
            vis = X.asarray(keypoints_visible, 'keypoints_visible')
            check_visible(vis, 'keypoints_visible', kp.shape[:-1], f'({pre}N, K)')
        if lifting_target is None:
            raise ValueError('lifting_target is required: a (T, K, C) array per sample '
                             '(MMPose fails with an AttributeError on None)')
        lt = X.asarray(lifting_target, 'lifting_target')
        check_ndim(lt, 'lifting_target', 3 + batched, f'({pre}T, K, C)')
        if batched and lt.shape[0] != kp.shape[0]:
            raise ValueError(f'lifting_target must have the batch size of keypoints '
                             f'({kp.shape[0]}), got shape {shape_str(lt.shape)}')
        if lt.shape[-2] < min_target_keypoints:
            raise ValueError(f'lifting_target must have more keypoints than the largest '
                             f'root index ({min_target_keypoints - 1}): expected K >= '
                             f'{min_target_keypoints}, got shape {shape_str(lt.shape)}')
        ltv = None
        if lifting_target_visible is not None:
            ltv = X.asarray(lifting_target_visible, 'lifting_target_visible')
            check_visible(ltv, 'lifting_target_visible', lt.shape[:-1], f'({pre}T, K)')
        if not batched:
            kp, lt = kp[None], lt[None]
            vis = None if vis is None else vis[None]
            ltv = None if ltv is None else ltv[None]
        self.keypoints, self.visible, self.target, self.target_visible = kp, vis, lt, ltv
        self.batched = batched


class LiftingCodec(BaseKeypointCodec):
    """What the three lifting codecs share: MMPose's mapping tables, N instances per
    sample, and the per-sample calls as the batched ones with B = 1."""

    instance_mapping_table = dict(
        lifting_target='lifting_target',
        lifting_target_visible='lifting_target_visible',
    )
    label_mapping_table = dict(
        trajectory_weights='trajectory_weights',
        lifting_target_label='lifting_target_label',
        lifting_target_weight='lifting_target_weight')
    single_instance = False
    # CuPy arrays and torch CUDA tensors run on the cuda backend (DeviceNS)
    device_ready = True

    @property
    def support_batch_decoding(self) -> bool:
        return True

    def _decode_inputs(self, encoded, batched: bool, name: str, allow_2d: bool = False):
        X = namespace_of(encoded, name, self)
        enc = X.asarray(encoded, name)
        if not (allow_2d and enc.ndim == 2 + batched):
            check_ndim(enc, name, 3 + batched, ('(B, N, K, C)' if batched else '(N, K, C)')
                       + (' or (B, K, C)' if batched else ' or (K, C)') * allow_2d)
        enc = as_float(X, enc)
        return X, (enc if batched else enc[None])

    @staticmethod
    def _batched_operand(X, value, name: str, batched: bool, B: int):
        """An optional decode operand: per sample as given, batched with a leading B."""
        if value is None:
            return None
        arr = X.asarray(value, name)
        if not batched:
            return arr[None]
        if arr.ndim == 0 or arr.shape[0] != B:
            raise ValueError(f'{name} must have a leading batch axis of {B}, got shape '
                             f'{shape_str(arr.shape)}')
        return arr


class RootedLiftingCodec(LiftingCodec):
    """Image and VideoPoseLifting's decode: de-normalise the outputs (a hook), add the
    target root back and, with ``remove_root``, re-insert it. The leading per-sample
    axis is N instances (ImagePoseLifting) or T frames (VideoPoseLifting)."""

    def decode(self, encoded: np.ndarray, target_root: Optional[np.ndarray] = None
               ) -> Tuple[np.ndarray, np.ndarray]:
        """encoded (N, K', C), target_root (T, C) or None -> keypoints (N, K, C),
        scores (N, K) float32."""
        if SAMPLE_FAST_PATH and type(encoded) is np.ndarray and encoded.dtype in _FAST_FLOATS:
            out = self._decode_sample(encoded, target_root)
            if out is not None:
                return out
        keypoints, scores = self._decode(encoded, target_root, False)
        return keypoints[0], scores[0]

    def _decode_sample(self, encoded, target_root):
        """decode's numpy fast path (see SAMPLE_FAST_PATH): MMPose's expressions on
        encoded (N, K', C) or (K', C) float32 / float64, target_root None or a numpy
        array that broadcasts; None where the batched path must decide."""
        ndim = encoded.ndim
        if ndim != 3 and ndim != 2:
            return None
        if self._has_stats:
            keypoints = self._denormalise_sample(encoded)
            if keypoints is None:
                return None
        else:
            keypoints = encoded
        if target_root is None:
            if keypoints is encoded:
                keypoints = encoded.copy()   # decode never returns (a view of) its input
        elif type(target_root) is not np.ndarray or target_root.dtype.kind not in 'biuf' \
                or target_root.ndim > ndim:
            return None
        elif target_root.size == 0:
            if keypoints is encoded:
                keypoints = encoded.copy()
        elif self.remove_root and len(self.root_index) == 1:
            keypoints = self._insert_root_sample(keypoints, target_root)
            if keypoints is None:
                return None
        else:
            try:
                keypoints = keypoints + target_root
            except ValueError:           # shapes that do not broadcast: named there
                return None
        return keypoints, np_ones(keypoints.shape[:-1])

    def _insert_root_sample(self, keypoints, root):
        """``np.insert(keypoints + root, [r], root, axis=1)`` for one root per sample
        (root (C,), (1, C), (1,) or (1, 1)), written into one array (float keypoints:
        ``root`` cast to their dtype equals ``-0.0 + root`` in it)."""
        r = self.root_index[0]
        if keypoints.ndim != 3 or root.ndim > 2 or (root.ndim == 2 and root.shape[0] != 1):
            return None
        N, K, C = keypoints.shape
        if r > K or (root.shape[-1] != C and root.shape[-1] != 1):
            return None
        dtype = keypoints.dtype if root.dtype == keypoints.dtype else \
            np.result_type(keypoints, root)
        # The keypoints around -0.0 at r (x + -0.0 == x for every x), then one add.
        out = np.empty((N, K + 1, C), dtype)
        if r:
            out[:, :r] = keypoints[:, :r]
        if r < K:
            out[:, r + 1:] = keypoints[:, r:]
        out[:, r] = -0.0
        out += root
        return out

    # Whether decode de-normalises (ImagePoseLifting's target_mean / target_std).
    _has_stats = False

    def _denormalise_sample(self, encoded):
        """``_denormalise`` for one numpy sample; None where the batched path must
        decide (shapes)."""
        return encoded

    def batch_decode(self, batch_encoded: Any, target_root: Optional[Any] = None
                     ) -> Tuple[Any, Any]:
        """batch_encoded (B, N, K', C), target_root (B, T, C) or (B, C) or None ->
        keypoints (B, N, K, C), scores (B, N, K) float32."""
        return self._decode(batch_encoded, target_root, True)

    def _decode(self, encoded, target_root, batched: bool):
        name = 'batch_encoded' if batched else 'encoded'
        X, kp = self._decode_inputs(encoded, batched, name, True)
        root = self._batched_operand(X, target_root, 'target_root', batched, kp.shape[0])
        kp = decode_root(X, self._denormalise(X, kp, name), root, self.remove_root,
                         self.root_index)
        return X.wrap(kp), X.wrap(X.ones(kp.shape[:-1]))

    def _denormalise(self, X, keypoints, name: str):
        """The outputs in target units (the input itself when there is nothing to do;
        decode_root never modifies it)."""
        return keypoints

