"""The ``fastcodec`` command: ``fastcodec demo`` and ``fastcodec info``."""
from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from importlib import resources
from typing import Callable, List, Optional

import numpy as np

import fastcodec
from fastcodec.mmpose_oracle import import_mmpose_codecs

DEMO_CODECS = [
    dict(type='MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0),
    dict(type='MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0,
         unbiased=True),
    dict(type='UDPHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0),
    dict(type='UDPHeatmap', input_size=(192, 256), heatmap_size=(48, 64),
         heatmap_type='combined'),
    dict(type='MegviiHeatmap', input_size=(192, 256), heatmap_size=(48, 64), kernel_size=11),
    dict(type='SimCCLabel', input_size=(192, 256), sigma=(4.9, 5.66), simcc_split_ratio=2.0),
    dict(type='SimCCLabel', input_size=(192, 256), sigma=(4.9, 5.66), simcc_split_ratio=2.0,
         use_dark=True),
    dict(type='RegressionLabel', input_size=(192, 256)),
    dict(type='IntegralRegressionLabel', input_size=(192, 256), heatmap_size=(48, 64),
         sigma=2.0),
    dict(type='SPR', input_size=(192, 256), heatmap_size=(48, 64), sigma=(2.0, 1.0),
         generate_keypoint_heatmaps=True),
    dict(type='DecoupledHeatmap', input_size=(192, 256), heatmap_size=(48, 64)),
    dict(type='AssociativeEmbedding', input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0,
         decode_keypoint_order=list(range(17))),
    dict(type='ImagePoseLifting', num_keypoints=17, root_index=0),
    dict(type='VideoPoseLifting', num_keypoints=17, zero_center=True, root_index=0),
    dict(type='MotionBERTLabel', num_keypoints=17, root_index=0, mode='train'),
]
LIFTING = ('ImagePoseLifting', 'VideoPoseLifting', 'MotionBERTLabel')
CAMERA = dict(w=192, h=256)


def lifting_target(kps: np.ndarray) -> np.ndarray:
    """A 3-D target for the 2-D sample: its x, y and a made-up depth per keypoint."""
    depth = 1000 + 10 * np.arange(kps.shape[1], dtype=np.float32)
    return np.concatenate([kps, depth[None, :, None]], axis=-1)


def encode_inputs(cfg: dict, kps: np.ndarray, vis: np.ndarray) -> tuple:
    """encode's arguments (positional, keyword) and what decode should give back."""
    if cfg['type'] not in LIFTING:
        return (kps, vis), {}, kps
    target = lifting_target(kps)
    expected = target - target[:, :1] if cfg['type'] == 'MotionBERTLabel' else target
    camera = {} if cfg['type'] == 'ImagePoseLifting' else dict(camera_param=CAMERA)
    return (kps, vis, target), camera, expected


def model_output(cfg: dict, encoded: dict) -> tuple:
    """What a model trained on this codec's targets would output: decode's arguments."""
    if cfg['type'] == 'SimCCLabel':
        return encoded['keypoint_x_labels'], encoded['keypoint_y_labels']
    if cfg['type'] in ('RegressionLabel', 'IntegralRegressionLabel'):
        return (encoded['keypoint_labels'],)
    if cfg['type'] == 'SPR':
        return encoded['heatmaps'], encoded['displacements']
    if cfg['type'] == 'MotionBERTLabel':  # root-relative, scaled back by w and h
        return (encoded['lifting_target_label'], np.array([CAMERA['w']], np.float64),
                np.array([CAMERA['h']], np.float64))
    if cfg['type'] in LIFTING:
        return encoded['lifting_target_label'], encoded['target_root']
    if cfg['type'] == 'DecoupledHeatmap':  # the instance maps, every root scored 1
        maps = encoded['instance_heatmaps']
        m, k = len(encoded['instance_coords']), len(encoded['keypoint_weights'][0])
        return maps.reshape(m, k, *maps.shape[1:]), np.ones((m, 1), np.float32)
    if cfg['type'] == 'AssociativeEmbedding':  # one tag map per keypoint, tag 1 on the person
        heatmaps = encoded['heatmaps']
        tags = np.zeros_like(heatmaps)
        for n, k in zip(*np.nonzero(encoded['keypoint_indices'][..., 1])):
            tags[k].reshape(-1)[encoded['keypoint_indices'][n, k, 0]] = n + 1
        return heatmaps, tags
    return (encoded['heatmaps'],)


def load_sample():
    text = resources.files('fastcodec').joinpath('data/sample_annotation.json').read_text()
    sample = json.loads(text)
    kps = np.asarray(sample['keypoints'], np.float32)
    return kps[None, :, :2], kps[None, :, 2], sample


def median_us(fn: Callable[[], object], repeat: int = 30) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e6)


def mmpose_codecs_or_none():
    """MMPose 1.3.2's codecs when installed (imported without mmcv), else None."""
    try:
        return import_mmpose_codecs()
    except Exception:  # noqa: BLE001 - any broken install means "not available"
        return None


def label(cfg: dict) -> str:
    extra = [f'{k}={v}' for k, v in cfg.items()
             if k not in ('type', 'input_size', 'heatmap_size', 'sigma', 'num_keypoints',
                          'root_index', 'decode_keypoint_order')]
    return cfg['type'] + (f"({', '.join(extra)})" if extra else '')


def demo(out_png: str) -> int:
    kps, vis, sample = load_sample()
    mmc = mmpose_codecs_or_none()
    print(f'fastcodec {fastcodec.__version__}; backends: {fastcodec.available_backends()}; '
          f"MMPose: {'1.3.2 found' if mmc else 'not installed (pip install mmpose==1.3.2 --no-deps)'}")
    print(f"sample: {len(sample['keypoint_names'])} keypoints, input {sample['input_size']}\n")
    header = f"{'codec':52s} {'round-trip err px':>17s} {'encode us':>10s} {'decode us':>10s}"
    if mmc:
        header += f" {'MMPose enc us':>13s} {'MMPose dec us':>13s} {'speed-up e/d':>13s}"
    print(header)
    panels = []
    for cfg in DEMO_CODECS:
        codec = fastcodec.build(cfg)
        enc_args, enc_kwargs, expected = encode_inputs(cfg, kps, vis)
        encoded = codec.encode(*enc_args, **enc_kwargs)
        outputs = model_output(cfg, encoded)
        decoded = codec.decode(*outputs)[0]
        shown = vis[0] > 0.5
        err = np.linalg.norm(decoded[0][shown] - expected[0][shown], axis=-1).max()
        enc_us = median_us(lambda: codec.encode(*enc_args, **enc_kwargs))
        dec_us = median_us(lambda: codec.decode(*outputs))
        row = f'{label(cfg):52s} {err:17.3f} {enc_us:10.1f} {dec_us:10.1f}'
        if mmc:
            args = {k: v for k, v in cfg.items() if k != 'type'}
            ref = getattr(mmc, cfg['type'])(**args)
            m_enc = median_us(lambda: ref.encode(*enc_args, **enc_kwargs))
            # MMPose's DARK decoders overwrite their input: decode copies. Its 0/0 on
            # the maps of invisible keypoints warns (fastcodec: docs/deviations.md).
            copies = [o.copy() for o in outputs]
            if cfg['type'] in ('SPR', 'AssociativeEmbedding'):  # torch tensors only
                import torch
                copies = [torch.from_numpy(o) for o in copies]
            if cfg['type'] == 'AssociativeEmbedding':  # decode raises: batch_decode
                copies = [c[None] for c in copies]
                ref.decode = ref.batch_decode
            with np.errstate(invalid='ignore', divide='ignore'), warnings.catch_warnings():
                warnings.simplefilter('ignore')  # torch's meshgrid / grid_sample notices
                m_dec = median_us(lambda: ref.decode(*[c.clone() if hasattr(c, 'clone')
                                                       else c.copy() for c in copies]))
            row += f' {m_enc:13.1f} {m_dec:13.1f} {m_enc / enc_us:6.1f}/{m_dec / dec_us:<6.1f}'
        print(row)
        if 'heatmaps' in encoded:
            heatmaps = encoded['heatmaps']
            panels.append(heatmaps[::3].max(0) if cfg.get('heatmap_type') == 'combined'
                          else heatmaps.max(0))
    write_png(out_png, panels)
    print(f'\nheatmaps (max over keypoints, one panel per heatmap codec) written to {out_png}')
    return 0


def write_png(path: str, panels: List[np.ndarray]) -> None:
    import cv2  # opencv-python: the [demo] extra
    tiles = []
    for p in panels:
        p = (p - p.min()) / max(float(p.max() - p.min()), 1e-12)
        tile = cv2.applyColorMap((p * 255).astype(np.uint8), cv2.COLORMAP_JET)
        tiles.append(cv2.resize(tile, (p.shape[1] * 4, p.shape[0] * 4),
                                interpolation=cv2.INTER_NEAREST))
    cv2.imwrite(path, np.concatenate(tiles, axis=1))


def info() -> int:
    print(f'fastcodec {fastcodec.__version__}')
    print(f'backends: {fastcodec.available_backends()}; threads: {fastcodec.get_num_threads()}')
    print(f'codecs: {sorted(fastcodec.CODECS)}')
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog='fastcodec', description=__doc__)
    sub = parser.add_subparsers(dest='command', required=True)
    p_demo = sub.add_parser('demo', help='encode/decode a bundled sample with every codec')
    p_demo.add_argument('--out', default='fastcodec_demo.png', help='PNG of the heatmaps')
    sub.add_parser('info', help='version, backends, codecs')
    args = parser.parse_args(argv)
    return demo(args.out) if args.command == 'demo' else info()


if __name__ == '__main__':
    sys.exit(main())
