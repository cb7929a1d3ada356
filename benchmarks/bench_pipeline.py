"""The whole training data pipeline, MMPose 1.3.2's codec against fastcodec's.

    pytest benchmarks/bench_pipeline.py --benchmark-json RUN.json
    python benchmarks/bench_pipeline.py [--quick] [--json out.json]

Why: a codec that is 3-5x faster per sample need not make training faster. In a
top-down COCO-17 pipeline, reading and decoding the JPEG, the flip, the affine warp and
the normalisation cost most of a sample; GenerateTarget is about a tenth. This file
measures the end-to-end samples per second of a real data pipeline, and the share of
it that target generation takes, so users see where fastcodec changes the number and
where it does not.

The pipeline (plain numpy / OpenCV / torch, no MMPose pipeline classes) follows MMPose
1.x's training pipelines step by step:

* top-down: read the JPEG bytes from disk and ``cv2.imdecode`` them (BGR -> RGB);
  bbox (xyxy) -> center / scale with padding 1.25 (GetBBoxCenterScale); random
  horizontal flip of the whole image (p = 0.5, COCO-17 flip pairs); random bbox shift
  (p 0.3, 0.16), scale (0.5-1.5) and rotation (p 0.6, +-80 degrees), the box grown to
  the input aspect ratio (RandomBBoxTransform); ``cv2.warpAffine`` to the input size
  with MMPose's warp matrix (the UDP matrix for UDP codecs) and the keypoints moved by
  ``cv2.transform`` (TopdownAffine); GenerateTarget = ``codec.encode`` of the warped
  keypoints; ToTensor + normalise (ImageNet mean / std, float32 CHW); torch's
  ``default_collate`` in a ``DataLoader``.
* bottom-up (DEKR): the whole image warped to 512x512 with a random shift, scale
  ('short' side) and rotation (BottomupRandomAffine defaults), then a random flip of
  the warped image, ``SPR.encode`` of every person, normalise, collate.
  (BottomupGetHeatmapMask and RandomHalfBody are left out: no crowd regions here, and
  the half-body box is a few numpy calls.)

The codec object is the only difference between the two pipelines: MMPose 1.3.2's
class, or fastcodec's class of the same name with the same constructor arguments
(C++ backend). Every random draw comes from ``np.random.default_rng([SEED, index])``
inside ``__getitem__``, so sample ``index`` is the same for both and in any worker;
before timing, the targets of a few samples from both pipelines are asserted equal
within 1e-5.

Settings (the codec configs of MMPose's COCO configs):

* ``topdown_msra_dark``: MSRAHeatmap DARK (unbiased, sigma 2), 192x256 -> 48x64.
* ``topdown_udp``: UDPHeatmap gaussian, sigma 2, 192x256 -> 48x64, UDP warp.
* ``topdown_simcc``: SimCCLabel as RTMPose: 192x256, sigma (4.9, 5.66), split ratio
  2.0, normalize=False, use_dark=False.
* ``sapiens_udp_308``: Sapiens-scale top-down: 308 keypoints, UDPHeatmap gaussian,
  768x1024 input (W x H), 192x256 heatmaps, sigma 6, UDP warp, batch 8. The 308
  keypoints are synthesised from each person's COCO-17 keypoints: the 17 points plus
  291 points at evenly spaced fractions t = i / (n + 1) along the 19 COCO skeleton
  edges (15 per edge of the 8 left/right edge pairs, 17 on each of the 3 self-mirrored
  edges: hips, shoulders, eyes), each jittered by isotropic Gaussian noise of 2% of
  its edge's length (seeded by the annotation id); a point is labelled when both
  ends of its edge are (visibility = the smaller of the two). Flip indices map a point
  to the same fraction on the mirrored edge, so the flip is a proper involution.
* ``bottomup_dekr_spr``: DEKR's SPR codec (input 512x512, heatmaps 128x128, sigma
  (4, 2), minimal_diagonal_length 32 ** 0.5, generate_keypoint_heatmaps=True,
  decode_max_instances 30; dekr_hrnet-w32_8xb10-140e_coco-512x512.py), whole images
  with 1-6 people, batch 10 (the config's 8xb10).

For every setting x implementation x ``num_workers`` in (0, 1, 2): samples per second
over a fixed number of batches (the first ``max(1, workers)`` batches, which include
the workers' start, are excluded; the best of 4 rounds, each with a fresh DataLoader,
MMPose's and fastcodec's rounds of one (setting, workers) interleaved so that both see
the same load on a shared machine), and the target-generation share: every sample
carries the time of its ``encode`` call and of its whole ``__getitem__``; the share is
sum(encode) / sum(__getitem__) over the timed batches, per run (so per worker count;
collation and the loader's inter-process transfer are not in the denominator). OpenCV
runs single-threaded (``cv2.setNumThreads(0)``, as MMEngine sets it for training) and
torch on one thread in the main process too (as in a worker); fastcodec uses its
default thread policy (one thread inside a DataLoader worker). Collation is torch's
``default_collate``: it stacks the targets too (MMPose's ``pseudo_collate`` leaves
them to the model), which for Sapiens' 60 MB of heatmaps per sample is real work.

Also ``wholebody_dark_decode``: inference decode of one image with 20 people, 133
keypoints each (MSRAHeatmap unbiased, input 288x384, heatmaps 72x96, sigma 3,
blur_kernel_size 17), inputs = MMPose-encoded maps + N(0, 0.01) noise, float32: MMPose
decodes the 20 people one call each, fastcodec in one ``batch_decode``; time per image.

The synthetic data (``fastcodec.models.data.synth``: 640x480 COCO-format images, 1-6 people)
is written once into ``$FASTCODEC_BENCH_DATA`` (default: a folder in the temp
directory) and reused. Real COCO images are about as large; Sapiens' images are much
larger, which would make its JPEG decode dearer and the codec's share smaller.

``FASTCODEC_BENCH_QUICK=1`` (or ``--quick``) times fewer batches.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

import fastcodec as F


SEED = 20240613
WORKERS = (0, 1, 2)
QUICK = os.environ.get('FASTCODEC_BENCH_QUICK', '') not in ('', '0')
IMG_W, IMG_H, NUM_IMAGES, MAX_PEOPLE = 640, 480, 120, 6
MEAN = torch.tensor([123.675, 116.28, 103.53]).view(3, 1, 1)
STD = torch.tensor([58.395, 57.12, 57.375]).view(3, 1, 1)
ATOL_TARGET = 1e-5  # docs/design.md: targets within 1e-5 of MMPose

# COCO-17 meta (models/data/meta_coco17.py, copied so the file stands alone)
COCO_FLIP_PAIRS = [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)]
COCO_SKELETON = [(15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6),
                 (5, 7), (6, 8), (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4),
                 (3, 5), (4, 6)]


def flip_indices_from_pairs(k: int, pairs) -> List[int]:
    idx = list(range(k))
    for a, b in pairs:
        idx[a], idx[b] = b, a
    return idx


COCO_FLIP = flip_indices_from_pairs(17, COCO_FLIP_PAIRS)


# ---- settings -------------------------------------------------------------------------
@dataclass(frozen=True)
class Setting:
    name: str
    codec: str                      # class name, identical in MMPose and fastcodec
    args: Dict[str, Any] = field(hash=False)
    mode: str = 'topdown'           # 'topdown' | 'bottomup'
    num_keypoints: int = 17
    use_udp: bool = False           # UDP warp matrix (MMPose's use_udp=True)
    batch: int = 32
    batches: int = 6                # timed batches per round (full run)
    quick_batches: int = 3
    about: str = ''

    @property
    def input_size(self) -> Tuple[int, int]:
        return tuple(self.args['input_size'])


TD = dict(input_size=(192, 256), heatmap_size=(48, 64))
SETTINGS = [
    Setting('topdown_msra_dark', 'MSRAHeatmap', dict(TD, sigma=2.0, unbiased=True),
            about='COCO-17 top-down, MSRAHeatmap DARK, 192x256 -> 48x64'),
    Setting('topdown_udp', 'UDPHeatmap', dict(TD, sigma=2.0, heatmap_type='gaussian'),
            use_udp=True, about='COCO-17 top-down, UDPHeatmap gaussian, 192x256 -> 48x64'),
    Setting('topdown_simcc', 'SimCCLabel',
            dict(input_size=(192, 256), sigma=(4.9, 5.66), simcc_split_ratio=2.0,
                 normalize=False, use_dark=False),
            about='COCO-17 top-down, SimCCLabel as RTMPose, 192x256'),
    Setting('sapiens_udp_308', 'UDPHeatmap',
            dict(input_size=(768, 1024), heatmap_size=(192, 256), sigma=6.0,
                 heatmap_type='gaussian'),
            num_keypoints=308, use_udp=True, batch=8, batches=3, quick_batches=2,
            about='Sapiens-scale top-down, 308 keypoints, UDPHeatmap, 768x1024 -> 192x256'),
    Setting('bottomup_dekr_spr', 'SPR',
            dict(input_size=(512, 512), heatmap_size=(128, 128), sigma=(4, 2),
                 minimal_diagonal_length=32 ** 0.5, generate_keypoint_heatmaps=True,
                 decode_max_instances=30),
            mode='bottomup', batch=10, batches=4, quick_batches=2,
            about='bottom-up DEKR, SPR with keypoint heatmaps, 512x512 -> 128x128'),
]
SETTING_BY_NAME = {s.name: s for s in SETTINGS}


# ---- synthetic data -------------------------------------------------------------------
def data_dir() -> Path:
    root = os.environ.get('FASTCODEC_BENCH_DATA') or os.path.join(
        tempfile.gettempdir(), 'fastcodec_bench_pipeline')
    return Path(root) / f'synth_{IMG_W}x{IMG_H}_{NUM_IMAGES}_p{MAX_PEOPLE}_s{SEED}'


def ensure_data() -> Path:
    """Write the synthetic COCO-format set once (``fastcodec.models.data.synth``); its path."""
    out = data_dir()
    done = out / 'DONE'
    if not done.exists():
        from fastcodec.models.data.synth import write_split
        write_split(str(out), 'train', NUM_IMAGES, SEED, IMG_W, IMG_H, MAX_PEOPLE, 1)
        done.write_text('ok\n')
    return out


def wholebody_keypoints(kp17: np.ndarray, vis17: np.ndarray, seed) -> Tuple[np.ndarray, np.ndarray]:
    """COCO-17 (17, 2), (17,) -> 308 synthetic keypoints (see the module docstring)."""
    rng = np.random.default_rng(seed)
    pts, vis = [kp17], [vis17]
    for a, b, n in SAPIENS_EDGES:
        t = np.arange(1, n + 1)[:, None] / (n + 1)
        p = kp17[a] + t * (kp17[b] - kp17[a])
        p = p + rng.normal(0.0, 0.02 * np.linalg.norm(kp17[b] - kp17[a]) + 1e-6, p.shape)
        v = np.full(n, min(vis17[a], vis17[b]), np.float32)
        p[v == 0] = 0.0
        pts.append(p)
        vis.append(v)
    return (np.concatenate(pts).astype(np.float32), np.concatenate(vis).astype(np.float32))


def _sapiens_layout():
    """Edges with their point counts, and the 308-point flip indices."""
    mirror = {e: (COCO_FLIP[e[0]], COCO_FLIP[e[1]]) for e in COCO_SKELETON}
    edges, flip = [], list(COCO_FLIP)
    for a, b in COCO_SKELETON:
        fa, fb = mirror[(a, b)]
        self_mirrored = {fa, fb} == {a, b}
        edges.append((a, b, 17 if self_mirrored else 15))
    starts, s = {}, 17
    for a, b, n in edges:
        starts[(a, b)] = s
        s += n
    assert s == 308, s
    for a, b, n in edges:
        fa, fb = mirror[(a, b)]
        for i in range(n):
            if (fa, fb) in starts:       # same direction: same fraction
                j = starts[(fa, fb)] + i
            else:                        # reversed edge: fraction t -> 1 - t
                j = starts[(fb, fa)] + n - 1 - i
            flip.append(j)
    assert sorted(flip) == list(range(308)) and all(flip[flip[i]] == i for i in range(308))
    return edges, flip


SAPIENS_EDGES, SAPIENS_FLIP = _sapiens_layout()


def load_annotations(root: Path, mode: str, num_keypoints: int) -> List[dict]:
    """Samples as MMPose's CocoDataset reads them: top-down one per person (bbox
    xyxy clipped to the image), bottom-up one per image with every person."""
    with open(root / 'annotations' / 'person_keypoints_train.json') as f:
        coco = json.load(f)
    people: Dict[int, list] = {}
    for ann in coco['annotations']:
        if ann.get('num_keypoints', 0) < 1:
            continue
        kp = np.asarray(ann['keypoints'], np.float32).reshape(17, 3)
        xy, vis = kp[:, :2], np.minimum(1, kp[:, 2]).astype(np.float32)
        if num_keypoints == 308:
            xy, vis = wholebody_keypoints(xy, vis, [SEED, ann['id']])
        x, y, w, h = ann['bbox']
        people.setdefault(ann['image_id'], []).append(
            dict(bbox=np.array([x, y, x + w, y + h], np.float32), keypoints=xy,
                 visible=vis))
    samples = []
    for img in sorted(coco['images'], key=lambda i: i['id']):
        path = str(root / 'images' / 'train' / img['file_name'])
        ps = people.get(img['id'], [])
        for p in ps:
            p['bbox'] = np.clip(p['bbox'], 0, [img['width'] - 1, img['height'] - 1] * 2)
        ps = [p for p in ps if p['bbox'][2] > p['bbox'][0] and p['bbox'][3] > p['bbox'][1]]
        groups = [[p] for p in ps] if mode == 'topdown' else ([ps] if ps else [])
        for g in groups:
            samples.append(dict(img_path=path, bbox=np.stack([p['bbox'] for p in g]),
                                keypoints=np.stack([p['keypoints'] for p in g]),
                                keypoints_visible=np.stack([p['visible'] for p in g])))
    return samples


# ---- transforms (MMPose's geometry) ------------------------------------------------------
def _rotate_point(pt, rad):
    s, c = np.sin(rad), np.cos(rad)
    return np.array([pt[0] * c - pt[1] * s, pt[0] * s + pt[1] * c])


def get_warp_matrix(center, scale, rot, output_size) -> np.ndarray:
    """MMPose's get_warp_matrix (fix_aspect_ratio=True, no shift)."""
    dst_w, dst_h = output_size
    src_dir = _rotate_point(np.array([scale[0] * -0.5, 0.0]), np.deg2rad(rot))
    src = np.zeros((3, 2), np.float32)
    dst = np.zeros((3, 2), np.float32)
    src[0] = center
    src[1] = center + src_dir
    dst[0] = [dst_w * 0.5, dst_h * 0.5]
    dst[1] = [0.0, dst_h * 0.5]  # dst[0] + (-dst_w / 2, 0)
    for m in (src, dst):
        d = m[0] - m[1]
        m[2] = m[1] + np.array([-d[1], d[0]])
    return cv2.getAffineTransform(src, dst)


def get_udp_warp_matrix(center, scale, rot, output_size) -> np.ndarray:
    """MMPose's get_udp_warp_matrix (its float32 / float64 mix kept)."""
    input_size = center * 2
    r = np.deg2rad(rot)
    sx = (output_size[0] - 1) / scale[0]
    sy = (output_size[1] - 1) / scale[1]
    c, s = math.cos(r), math.sin(r)
    m = np.zeros((2, 3), np.float32)
    m[0, 0], m[0, 1] = c * sx, -s * sx
    m[0, 2] = sx * (-0.5 * input_size[0] * c + 0.5 * input_size[1] * s + 0.5 * scale[0])
    m[1, 0], m[1, 1] = s * sy, c * sy
    m[1, 2] = sy * (-0.5 * input_size[0] * s - 0.5 * input_size[1] * c + 0.5 * scale[1])
    return m


def fix_aspect_ratio(wh: np.ndarray, aspect: float) -> np.ndarray:
    w, h = float(wh[0]), float(wh[1])
    return np.array([w, w / aspect] if w > h * aspect else [h * aspect, h], np.float32)


def _trunc(rng, size=None):
    """A standard normal clipped to [-1, 1] (MMPose draws truncated normals)."""
    return np.clip(rng.standard_normal(size), -1.0, 1.0)


class PipelineDataset(Dataset):
    """One setting's training pipeline around ``codec``; ``__getitem__`` returns the
    collatable sample plus ``time_encode`` / ``time_sample`` (seconds)."""

    def __init__(self, setting: Setting, samples: List[dict], codec, indices: np.ndarray):
        self.setting, self.samples, self.codec = setting, samples, codec
        self.indices = indices  # the fixed sample order (a position -> a sample)
        self.flip = SAPIENS_FLIP if setting.num_keypoints == 308 else COCO_FLIP

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, pos: int) -> dict:
        t0 = time.perf_counter()
        index = int(self.indices[pos])
        s = self.samples[index]
        rng = np.random.default_rng([SEED, index])
        img = cv2.imdecode(np.fromfile(s['img_path'], np.uint8), cv2.IMREAD_COLOR)
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        kps = s['keypoints'].copy()          # (N, K, 2) float32
        vis = s['keypoints_visible'].copy()  # (N, K) float32
        if self.setting.mode == 'topdown':
            img, kps, vis = self._topdown(rng, img, s['bbox'][0], kps, vis)
        else:
            img, kps, vis = self._bottomup(rng, img, kps, vis)
        t1 = time.perf_counter()
        encoded = self.codec.encode(kps, vis)  # GenerateTarget
        t2 = time.perf_counter()
        out = {k: torch.from_numpy(np.asarray(v)) for k, v in encoded.items()
               if isinstance(v, np.ndarray)}
        inputs = torch.from_numpy(img).permute(2, 0, 1).float()  # ToTensor + normalise
        out['inputs'] = inputs.sub_(MEAN).div_(STD).contiguous()
        t3 = time.perf_counter()
        out['time_encode'] = t2 - t1
        out['time_sample'] = t3 - t0
        return out

    def _topdown(self, rng, img, bbox, kps, vis):
        w_in, h_in = self.setting.input_size
        center = (bbox[:2] + bbox[2:]) * 0.5          # GetBBoxCenterScale(padding=1.25)
        scale = (bbox[2:] - bbox[:2]) * 1.25
        if rng.random() < 0.5:                        # RandomFlip (whole image)
            w = img.shape[1]
            img = cv2.flip(img, 1)
            center = np.array([w - 1 - center[0], center[1]], np.float32)
            kps = kps[:, self.flip]
            kps[..., 0] = w - 1 - kps[..., 0]
            vis = vis[:, self.flip]
        if rng.random() < 0.3:                        # RandomBBoxTransform (defaults)
            center = center + _trunc(rng, 2) * 0.16 * scale
        scale = scale * (_trunc(rng) * 0.5 + 1.0)
        rot = _trunc(rng) * 80.0 if rng.random() < 0.6 else 0.0
        scale = fix_aspect_ratio(scale, w_in / h_in)  # TopdownAffine
        if self.setting.use_udp:
            m = get_udp_warp_matrix(center, scale, rot, (w_in, h_in))
        else:
            m = get_warp_matrix(center, scale, rot, (w_in, h_in))
        img = cv2.warpAffine(img, m, (w_in, h_in), flags=cv2.INTER_LINEAR)
        kps = cv2.transform(np.ascontiguousarray(kps, np.float32), m)
        return img, kps, vis

    def _bottomup(self, rng, img, kps, vis):
        w_in, h_in = self.setting.input_size
        img_h, img_w = img.shape[:2]                  # BottomupRandomAffine (defaults)
        offset = _trunc(rng, 2) * 0.2 * [img_w, img_h]
        scale = (0.75 + 0.75 * (_trunc(rng) + 1) / 2) * np.array([img_w, img_h])
        rot = _trunc(rng) * 30.0
        w, h = scale                                  # 'short' aspect fix
        aspect = w_in / h_in
        scale = np.array([h * aspect, h] if w > h * aspect else [w, w / aspect])
        center = np.array([img_w / 2, img_h / 2]) + offset
        m = get_warp_matrix(center, scale, rot, (w_in, h_in))
        img = cv2.warpAffine(img, m, (w_in, h_in), flags=cv2.INTER_LINEAR)
        kps = cv2.transform(np.ascontiguousarray(kps, np.float32), m)
        if rng.random() < 0.5:                        # RandomFlip (the warped image)
            img = cv2.flip(img, 1)
            kps = kps[:, self.flip]
            kps[..., 0] = w_in - 1 - kps[..., 0]
            vis = vis[:, self.flip]
        return img, kps, vis


# ---- codecs and the loader ---------------------------------------------------------------
IMPLS = ('mmpose', 'cpp')


def make_codec(setting: Setting, impl: str):
    if impl == 'mmpose':
        from _harness import mmpose_codecs
        return getattr(mmpose_codecs(), setting.codec)(**setting.args)
    return getattr(F, setting.codec)(**setting.args)


_SAMPLES: Dict[Tuple[str, int], List[dict]] = {}


def samples_for(setting: Setting) -> List[dict]:
    key = (setting.mode, setting.num_keypoints)
    if key not in _SAMPLES:
        _SAMPLES[key] = load_annotations(ensure_data(), *key)
    return _SAMPLES[key]


def sample_order(n_samples: int, count: int) -> np.ndarray:
    """The same fixed pseudo-random order of ``count`` sample indices for every run."""
    rng = np.random.default_rng(SEED)
    reps = -(-count // n_samples)
    return np.concatenate([rng.permutation(n_samples) for _ in range(reps)])[:count]


class _Backend:
    """Run fastcodec on ``name`` (module-global, so forked workers inherit it),
    OpenCV single-threaded as MMEngine does for training, and torch on one thread as
    in a DataLoader worker (with 0 workers torch's OpenMP team would otherwise spin
    against the other cores' jobs: 3-10x slower rounds on a busy 2-core machine);
    restore all after."""

    def __init__(self, name: Optional[str]):
        self.name = name

    def __enter__(self):
        self.cv_threads, self.torch_threads = cv2.getNumThreads(), torch.get_num_threads()
        cv2.setNumThreads(0)
        torch.set_num_threads(1)
        if self.name:
            F.set_backend(self.name)

    def __exit__(self, *exc):
        cv2.setNumThreads(self.cv_threads)
        torch.set_num_threads(self.torch_threads)
        if self.name:
            F.set_backend(None)


def check_parity(setting: Setting, n: int = 4) -> float:
    """Assert that the pipeline's targets agree between MMPose and fastcodec for the
    first ``n`` samples; returns the largest difference."""
    samples = samples_for(setting)
    order = sample_order(len(samples), n)
    datasets = {impl: PipelineDataset(setting, samples, make_codec(setting, impl), order)
                for impl in IMPLS}
    worst = 0.0
    with _Backend('cpp'):
        for pos in range(n):
            ref, ours = datasets['mmpose'][pos], datasets['cpp'][pos]
            assert torch.equal(ref['inputs'], ours['inputs'])
            keys = [k for k in ref if k not in ('inputs', 'time_encode', 'time_sample')]
            assert keys and sorted(keys) == sorted(
                k for k in ours if k not in ('inputs', 'time_encode', 'time_sample'))
            for k in keys:
                a, b = ref[k].double().numpy(), ours[k].double().numpy()
                assert a.shape == b.shape, (setting.name, k, a.shape, b.shape)
                diff = float(np.abs(a - b).max(initial=0.0))
                assert diff <= ATOL_TARGET, f'{setting.name} sample {pos}: {k} differs by {diff}'
                worst = max(worst, diff)
    return worst


Timer = Callable[..., Any]  # benchmark.pedantic-like: timer(target, setup=, rounds=)


def simple_pedantic(target, setup, rounds: int = 1, iterations: int = 1,
                    warmup_rounds: int = 0):
    """pytest-benchmark's ``pedantic`` for script mode (the setup is not timed)."""
    for _ in range(warmup_rounds + rounds):
        args, kwargs = setup() if setup else ((), {})
        target(*args, **kwargs)


def rounds_for(quick: bool) -> int:
    """Rounds of each implementation per test (each test interleaves as many of the
    other's): a (setting, workers) pair gets 2 x this many rounds of each."""
    return 1 if quick else 2


class Runner:
    """Rounds of one (setting, impl, workers): ``setup`` starts a fresh DataLoader and
    pulls the warm-up batches (not timed), ``target`` pulls the timed batches and
    appends {wall, encode, sample} (seconds) to ``rounds``."""

    def __init__(self, setting: Setting, impl: str, workers: int, quick: bool,
                 rounds: Optional[List[dict]] = None):
        self.setting, self.impl, self.workers = setting, impl, workers
        self.batches = setting.quick_batches if quick else setting.batches
        self.warm = max(1, workers)
        samples = samples_for(setting)
        order = sample_order(len(samples), (self.warm + self.batches) * setting.batch)
        self.dataset = PipelineDataset(setting, samples, make_codec(setting, impl), order)
        self.rounds = [] if rounds is None else rounds
        self._it = None

    def setup(self):
        self._it = None  # the last round's workers exit here
        loader = DataLoader(self.dataset, batch_size=self.setting.batch, shuffle=False,
                            num_workers=self.workers, drop_last=True)
        it = iter(loader)
        for _ in range(self.warm):
            next(it)
        self._it = it
        return (it,), {}

    def target(self, it):
        t0 = time.perf_counter()
        enc = tot = 0.0
        for _ in range(self.batches):
            batch = next(it)
            enc += float(batch['time_encode'].sum())
            tot += float(batch['time_sample'].sum())
        self.rounds.append(dict(wall=time.perf_counter() - t0, encode=enc, sample=tot))

    def round(self):
        args, _ = self.setup()
        self.target(*args)
        self._it = None

    def summary(self) -> dict:
        rs, n = self.rounds, self.batches * self.setting.batch
        enc, tot = sum(r['encode'] for r in rs), sum(r['sample'] for r in rs)
        return dict(case='pipeline', setting=self.setting.name, impl=self.impl,
                    workers=self.workers, batch=self.setting.batch, batches=self.batches,
                    samples=n, rounds=len(rs),
                    samples_per_s=n / min(r['wall'] for r in rs),
                    samples_per_s_median=n / statistics.median(r['wall'] for r in rs),
                    target_generation_share=enc / tot,
                    encode_ms_per_sample=1e3 * enc / (n * len(rs)),
                    pipeline_ms_per_sample=1e3 * tot / (n * len(rs)),
                    num_threads=F.get_num_threads(), about=self.setting.about)


def measure_pipeline(setting: Setting, impl: str, workers: int, quick: bool,
                     pedantic: Timer = simple_pedantic, rounds: int = 1,
                     store: Optional[Dict[str, List[dict]]] = None) -> Dict[str, dict]:
    """``rounds`` rounds of ``impl`` timed by ``pedantic`` (pytest-benchmark's, or a
    plain loop), each preceded, in its untimed setup, by a round of the other
    implementation: on a shared machine both then see the same load. ``store``
    ({impl: rounds}) accumulates rounds across calls. Returns {impl: summary};
    samples_per_s is from an implementation's fastest round (other jobs can only slow
    a round down), samples_per_s_median from the median; shares sum over all rounds."""
    store = {} if store is None else store
    runners = {i: Runner(setting, i, workers, quick, store.setdefault(i, []))
               for i in IMPLS}
    this, other = runners[impl], runners[next(i for i in IMPLS if i != impl)]

    def setup():
        other.round()
        return this.setup()

    with _Backend('cpp'):  # MMPose's codec never calls fastcodec
        pedantic(this.target, setup=setup, rounds=rounds, iterations=1)
        this._it = None
    return {i: r.summary() for i, r in runners.items()}


# ---- whole-body inference decode ----------------------------------------------------------
WB_ARGS = dict(input_size=(288, 384), heatmap_size=(72, 96), sigma=3.0, unbiased=True,
               blur_kernel_size=17)
WB_PEOPLE, WB_K = 20, 133


def wholebody_inputs() -> np.ndarray:
    """(20, 133, 96, 72) float32: MMPose-encoded maps of random keypoints + noise."""
    from _harness import mmpose_codecs
    rng = np.random.default_rng([SEED, 133])
    codec = mmpose_codecs().MSRAHeatmap(**WB_ARGS)
    w, h = WB_ARGS['input_size']
    kps = rng.uniform(0.0, 1.0, (WB_PEOPLE, 1, WB_K, 2)) * [w - 1, h - 1]
    maps = np.stack([codec.encode(k, np.ones((1, WB_K), np.float32))['heatmaps'] for k in kps])
    maps = maps + rng.normal(0.0, 0.01, maps.shape)
    return np.ascontiguousarray(maps, np.float32)


def wholebody_call(impl: str, maps: np.ndarray) -> Callable[[], Any]:
    if impl == 'mmpose':
        from _harness import mmpose_codecs
        codec = mmpose_codecs().MSRAHeatmap(**WB_ARGS)
        return lambda: [codec.decode(m) for m in maps]
    codec = F.MSRAHeatmap(**WB_ARGS)
    return lambda: codec.batch_decode(maps)


def wholebody_parity(maps: np.ndarray) -> None:
    ref = wholebody_call('mmpose', maps)()
    with _Backend('cpp'):
        kp, sc = wholebody_call('cpp', maps)()
    kp_ref = np.stack([r[0] for r in ref])
    sc_ref = np.stack([r[1] for r in ref])
    assert np.abs(np.asarray(kp) - kp_ref).max() <= 2e-3
    assert np.abs(np.asarray(sc) - sc_ref).max() <= 1e-4


# ---- the report -----------------------------------------------------------------------
def _fmt(x: Optional[float], spec: str) -> str:
    return '—' if x is None else format(x, spec)


def pipeline_markdown(benchmarks: List[dict]) -> str:
    """The pytest-benchmark JSON's ``benchmarks`` entries from this file -> Markdown:
    one row per (setting, workers) with both implementations' samples/s, the gain
    (fastcodec / MMPose), the speed-up of the encode call inside the pipeline (MMPose's
    / fastcodec's mean encode time per sample), each one's target-generation share,
    and the bound 1 / (1 - MMPose's share): the gain if target generation cost
    nothing. Then the whole-body decode (ms per image). Entries from other files are
    ignored."""
    rows: Dict[Tuple[str, int], Dict[str, dict]] = {}
    decode: Dict[str, Dict[str, dict]] = {}
    for b in benchmarks:
        e = b.get('extra_info') or {}
        if e.get('case') == 'pipeline':
            rows.setdefault((e['setting'], int(e['workers'])), {})[e['impl']] = e
        elif e.get('case') == 'pipeline_decode':
            decode.setdefault(e['setting'], {})[e['impl']] = e
    order = {s.name: i for i, s in enumerate(SETTINGS)}
    out = ['| setting | workers | MMPose samples/s | fastcodec samples/s | gain | '
           'encode speed-up | target gen. share (MMPose) | target gen. share (fastcodec) | '
           'bound 1/(1-share) |',
           '|---|---:|---:|---:|---:|---:|---:|---:|---:|']
    for (name, workers) in sorted(rows, key=lambda k: (order.get(k[0], 99), k[0], k[1])):
        r = rows[(name, workers)]
        m, f = r.get('mmpose'), next((r[i] for i in r if i != 'mmpose'), None)
        ms = m and m['samples_per_s']
        fs = f and f['samples_per_s']
        share_m = m and m['target_generation_share']
        share_f = f and f['target_generation_share']
        gain = fs / ms if ms and fs else None
        enc = (m['encode_ms_per_sample'] / f['encode_ms_per_sample']
               if m and f and f['encode_ms_per_sample'] > 0 else None)
        bound = 1.0 / (1.0 - share_m) if share_m is not None and share_m < 1 else None
        out.append(f'| {name} | {workers} | {_fmt(ms, ".0f")} | {_fmt(fs, ".0f")} | '
                   f'{_fmt(gain, ".2f")}x | {_fmt(enc, ".1f")}x | '
                   f'{_fmt(share_m and 100 * share_m, ".1f")}% | '
                   f'{_fmt(share_f and 100 * share_f, ".1f")}% | {_fmt(bound, ".2f")}x |')
    if decode:
        out += ['', '| decode case (fastest round) | MMPose ms/image | fastcodec ms/image | '
                'speed-up |',
                '|---|---:|---:|---:|']
        for name, r in decode.items():
            m, f = r.get('mmpose'), next((r[i] for i in r if i != 'mmpose'), None)
            mt, ft = m and m['ms_per_image'], f and f['ms_per_image']
            out.append(f'| {name} | {_fmt(mt, ".2f")} | {_fmt(ft, ".2f")} | '
                       f'{_fmt(mt / ft if mt and ft else None, ".1f")}x |')
    return '\n'.join(out)


# ---- pytest -----------------------------------------------------------------------------
try:
    import pytest
except ImportError:  # pragma: no cover - script mode without pytest
    pytest = None

if pytest is not None:
    @pytest.fixture(scope='module')
    def pipeline_data():
        """Generate (or reuse) the synthetic set once for the module."""
        from _harness import mmpose_codecs
        mmpose_codecs()  # skip the module when the oracle is missing
        return ensure_data()

    _checked: Dict[str, float] = {}
    _pairs: Dict[Tuple[str, int], dict] = {}

    # impl varies fastest: MMPose and fastcodec of one (setting, workers) run back to back
    @pytest.mark.filterwarnings('ignore::DeprecationWarning')
    @pytest.mark.parametrize('impl', IMPLS)
    @pytest.mark.parametrize('workers', WORKERS)
    @pytest.mark.parametrize('setting', SETTINGS, ids=[s.name for s in SETTINGS])
    def test_pipeline(benchmark, pipeline_data, setting: Setting, impl: str, workers: int):
        if setting.name not in _checked:  # apples to apples: same targets, before timing
            _checked[setting.name] = check_parity(setting)
        benchmark.group = f'pipeline_{setting.name}_w{workers}'
        pair = _pairs.setdefault((setting.name, workers), dict(rounds={}, extra={}))
        summaries = measure_pipeline(setting, impl, workers, QUICK, benchmark.pedantic,
                                     rounds=rounds_for(QUICK), store=pair['rounds'])
        pair['extra'][impl] = benchmark.extra_info
        for i, extra in pair['extra'].items():  # the pair's first entry gets these rounds too
            extra.update(summaries[i], target=None, max_target_diff=_checked[setting.name])

    @pytest.mark.filterwarnings('ignore::DeprecationWarning')
    @pytest.mark.parametrize('impl', IMPLS)
    def test_wholebody_decode(benchmark, impl: str):
        maps = _wholebody_maps()
        benchmark.group = 'pipeline_wholebody_dark_decode'
        call = wholebody_call(impl, maps)
        with _Backend(None if impl == 'mmpose' else impl):
            benchmark.pedantic(call, rounds=3 if QUICK else 5, iterations=1, warmup_rounds=1)
        benchmark.extra_info.update(
            case='pipeline_decode', setting='wholebody_dark_decode_20x133', impl=impl,
            target=None, people=WB_PEOPLE, num_keypoints=WB_K,
            ms_per_image=1e3 * benchmark.stats.stats.min,
            ms_per_image_median=1e3 * benchmark.stats.stats.median,
            num_threads=F.get_num_threads())


_WB_MAPS: List[np.ndarray] = []


def _wholebody_maps() -> np.ndarray:
    if not _WB_MAPS:
        maps = wholebody_inputs()
        wholebody_parity(maps)
        _WB_MAPS.append(maps)
    return _WB_MAPS[0]


# ---- script -----------------------------------------------------------------------------
def run_all(quick: bool) -> List[dict]:
    """Every case, as pytest-benchmark-like entries ({'group', 'extra_info'})."""
    entries = []
    for setting in SETTINGS:
        check_parity(setting)
        for workers in WORKERS:
            store: Dict[str, List[dict]] = {}
            for impl in IMPLS:
                summaries = measure_pipeline(setting, impl, workers, quick,
                                             rounds=rounds_for(quick), store=store)
            for impl, r in summaries.items():
                entries.append(dict(group=f'pipeline_{setting.name}_w{workers}', extra_info=r))
                print(f'{setting.name} w{workers} {impl}: {r["samples_per_s"]:.1f} samples/s, '
                      f'share {100 * r["target_generation_share"]:.1f}%', file=sys.stderr)
    maps = _wholebody_maps()
    for impl in IMPLS:
        call = wholebody_call(impl, maps)
        times = []
        with _Backend(None if impl == 'mmpose' else impl):
            call()
            for _ in range(3 if quick else 5):
                t0 = time.perf_counter()
                call()
                times.append(time.perf_counter() - t0)
        entries.append(dict(group='pipeline_wholebody_dark_decode', extra_info=dict(
            case='pipeline_decode', setting='wholebody_dark_decode_20x133', impl=impl,
            people=WB_PEOPLE, num_keypoints=WB_K,
            ms_per_image=1e3 * min(times), ms_per_image_median=1e3 * statistics.median(times))))
    return entries


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[1])
    ap.add_argument('--quick', action='store_true', help='fewer timed batches')
    ap.add_argument('--json', help='write {"benchmarks": [...]} here')
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    entries = run_all(args.quick or QUICK)
    print(pipeline_markdown(entries))
    print(f'\n({time.perf_counter() - t0:.0f} s)', file=sys.stderr)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(benchmarks=entries), f, indent=1)
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
