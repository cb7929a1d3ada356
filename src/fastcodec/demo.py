"""``fastcodec demo``: every codec of :mod:`fastcodec.examples` encodes the bundled
sample and decodes its own targets; prints round-trip errors and timings (beside
MMPose 1.3.2's when installed) and draws one titled panel per codec config.

Panels: the sample's skeleton (input-image pixels) under the codec's targets (the
maximum over keypoint channels of a heatmap codec, AssociativeEmbedding's included; for
Hand3DHeatmap the maximum over keypoints and depth, a projection of the volumes along
depth; the 1-D x and y label profiles of SimCC and SimCC3D along the panel's bottom and
left edges, SimCC3D's depth profile along the top; nothing under the coordinate
codecs), the true keypoints as green circles and the decoded ones as red crosses, and
boxes where the codec has them (EDPoseLabel: given green, decoded red; the YOLOX
processor: given dashed, expanded solid); a lifting codec's panel is the 3-D skeleton of
its target and of its decoded result. The title names the codec with its options and the
largest round-trip error over the visible keypoints (nan for a codec that does not
decode). Hand3DHeatmap's striped windows are MMPose's targets: a window reaches
3 sigma = 7.5 voxels either side of its centre in whole steps, so around a centre on a
whole voxel every step falls on a half voxel, which numpy rounds half to even: every
other row is skipped.
"""
from __future__ import annotations

import copy
import textwrap
import time
import warnings
from typing import Any, Callable, Dict, List

import numpy as np

import fastcodec
from fastcodec.examples import (CONFIGS, COCO17_SKELETON, ENCODE_ONLY, LIFTING,
                                decoded_keypoints, encode_inputs, label, load_sample,
                                mmpose_decoder, model_output)

TRUE_STYLE = dict(marker='o', s=22, facecolors='none', edgecolors='#2ca02c', linewidths=1.2)
DECODED_STYLE = dict(marker='x', s=20, c='#d62728', linewidths=1.2)


def median_us(fn: Callable[[], object], repeat: int = 30) -> float:
    """Median time of ``fn`` in microseconds over ``repeat`` calls after one warm-up."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e6)


def round_trip(cfg: Dict[str, Any], kps: np.ndarray, vis: np.ndarray) -> Dict[str, Any]:
    """Encode the sample, decode the targets; the results and the largest error."""
    codec = fastcodec.build(cfg)
    enc_args, enc_kwargs, expected = encode_inputs(cfg, kps, vis)
    encoded = codec.encode(*enc_args, **enc_kwargs)
    outputs = model_output(cfg, encoded)
    result = None if cfg['type'] in ENCODE_ONLY else codec.decode(*outputs)
    decoded = decoded_keypoints(cfg, result)
    err = float('nan')
    if decoded is not None:
        decoded = np.asarray(decoded)[0]
        shown = vis[0] > 0.5
        err = float(np.linalg.norm(decoded[shown] - expected[0][shown], axis=-1).max())
    return dict(codec=codec, enc_args=enc_args, enc_kwargs=enc_kwargs, encoded=encoded,
                outputs=outputs, result=result, decoded=decoded,
                expected=None if expected is None else expected[0], error=err)


def mmpose_times(mmc: Any, cfg: Dict[str, Any], r: Dict[str, Any]) -> tuple:
    """MMPose's encode and decode times (us) on the same inputs."""
    ref = getattr(mmc, cfg['type'])(**{k: v for k, v in cfg.items() if k != 'type'})
    args = copy.deepcopy(r['enc_args'])  # MMPose's YOLOX processor expands bbox in place
    m_enc = median_us(lambda: ref.encode(*args, **r['enc_kwargs']))
    decode = mmpose_decoder(cfg, ref)
    # Its 0/0 on the maps of invisible keypoints warns (fastcodec: docs/deviations.md).
    with np.errstate(invalid='ignore', divide='ignore'), warnings.catch_warnings():
        warnings.simplefilter('ignore')  # torch's meshgrid / grid_sample notices
        m_dec = median_us(lambda: decode(r['outputs']))
    return m_enc, m_dec


# ---- the picture ----------------------------------------------------------------------
def target_map(cfg: Dict[str, Any], encoded: dict):
    """The 2-D map drawn under a heatmap codec's panel, or None: the maximum over the
    channels (Hand3DHeatmap's K * D channels: over keypoints and depth)."""
    if 'heatmaps' not in encoded:
        return None
    maps = np.asarray(encoded['heatmaps'])
    if cfg.get('heatmap_type') == 'combined':   # UDP combined: the mask channels
        maps = maps[::3]
    return maps.max(0)


def boxes(cfg: Dict[str, Any], r: Dict[str, Any]) -> List[tuple]:
    """(box x1y1x2y2, colour, line style) of the boxes a panel shows."""
    if cfg['type'] == 'EDPoseLabel':  # the given box, and the decoded one
        return [(r['enc_args'][4][0], '#2ca02c', '-'),
                (np.asarray(r['result'][0])[0], '#d62728', '--')]
    if cfg['type'] == 'YOLOXPoseAnnotationProcessor':  # given, and expanded to the keypoints
        return [(r['enc_args'][2][0], '#1f77b4', '--'),
                (np.asarray(r['encoded']['bbox'])[0], '#d62728', '-')]
    return []


def draw_profiles(ax, encoded: dict, w: float, h: float, axes: str) -> None:
    """SimCC's 1-D labels, the maximum over keypoints: x along the bottom edge, y along
    the left, z (SimCC3D's depth bins, scaled to the panel's width) along the top."""
    for axis in axes:
        lab = np.asarray(encoded[f'keypoint_{axis}_labels'])[0].max(0)
        lab = lab / max(float(lab.max()), 1e-12)
        if axis == 'y':
            ys = (np.arange(lab.size) + 0.5) * h / lab.size
            ax.fill_betweenx(ys, 0, 0.25 * w * lab, color='#1f77b4', alpha=0.6, linewidth=0)
            continue
        xs = (np.arange(lab.size) + 0.5) * w / lab.size
        edge, sign, color = (h, -1, '#1f77b4') if axis == 'x' else (0, 1, '#ff7f0e')
        ax.fill_between(xs, edge, edge + sign * 0.25 * h * lab, color=color, alpha=0.6,
                        linewidth=0)


def draw_skeleton(ax, kps: np.ndarray, vis: np.ndarray) -> None:
    for a, b in COCO17_SKELETON:
        if vis[a] > 0.5 and vis[b] > 0.5:
            ax.plot(kps[[a, b], 0], kps[[a, b], 1], color='white', linewidth=2.4, alpha=0.8)
            ax.plot(kps[[a, b], 0], kps[[a, b], 1], color='#444444', linewidth=1.0)


def draw_2d(ax, cfg, r, kps, vis, size) -> None:
    from matplotlib.patches import Rectangle
    w, h = size
    shown = vis > 0.5
    ax.set_facecolor('#f4f4f4')
    heat = target_map(cfg, r['encoded'])
    if heat is not None:
        ax.imshow(heat, extent=(0, w, h, 0), cmap='magma', interpolation='nearest',
                  vmin=0, vmax=max(float(heat.max()), 1e-12))
    draw_skeleton(ax, kps, vis)
    if cfg['type'] in ('SimCCLabel', 'SimCC3DLabel'):
        draw_profiles(ax, r['encoded'], w, h, 'xy' if cfg['type'] == 'SimCCLabel' else 'xyz')
    for box, color, style in boxes(cfg, r):
        ax.add_patch(Rectangle(box[:2], box[2] - box[0], box[3] - box[1], fill=False,
                               edgecolor=color, linestyle=style, linewidth=1.4))
    ax.scatter(kps[shown, 0], kps[shown, 1], **TRUE_STYLE)
    if r['decoded'] is not None:
        ax.scatter(r['decoded'][shown, 0], r['decoded'][shown, 1], **DECODED_STYLE)
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)
    ax.set_xticks([])
    ax.set_yticks([])


def draw_3d(ax, r, vis) -> None:
    shown = vis > 0.5
    for pts, color, style in ((r['expected'], '#2ca02c', '-'), (r['decoded'], '#d62728', '--')):
        for a, b in COCO17_SKELETON:
            if shown[a] and shown[b]:   # image x, depth, image y (up)
                ax.plot(pts[[a, b], 0], pts[[a, b], 2], -pts[[a, b], 1], color=color,
                        linestyle=style, linewidth=1.2)
    ax.scatter(r['expected'][shown, 0], r['expected'][shown, 2], -r['expected'][shown, 1],
               color='#2ca02c', s=10)
    ax.scatter(r['decoded'][shown, 0], r['decoded'][shown, 2], -r['decoded'][shown, 1],
               color='#d62728', marker='x', s=14)
    ax.set_xticklabels([])
    ax.set_yticklabels([])
    ax.set_zticklabels([])
    ax.view_init(elev=12, azim=-70)


def write_figure(path: str, results: List[tuple], kps: np.ndarray, vis: np.ndarray,
                 size) -> List[str]:
    """One titled panel per (config, round-trip result); returns the panel titles."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    cols = 5
    rows = -(-len(results) // cols)
    fig = plt.figure(figsize=(3.0 * cols, 3.9 * rows + 0.8))
    titles = []
    for i, (cfg, r) in enumerate(results):
        lifting = cfg['type'] in LIFTING
        ax = fig.add_subplot(rows, cols, i + 1, projection='3d' if lifting else None)
        if lifting:
            draw_3d(ax, r, vis[0])
            unit = 'target units'
        else:
            draw_2d(ax, cfg, r, kps[0], vis[0], size)
            unit = 'px' if cfg['type'] not in ENCODE_ONLY else '(nothing to decode)'
        title = '\n'.join(textwrap.wrap(label(cfg), 34, break_long_words=False))
        titles.append(f'{title}\nround-trip error {r["error"]:.3g} {unit}')
        ax.set_title(titles[-1], fontsize=8)
    handles = [Line2D([], [], marker='o', linestyle='none', markerfacecolor='none',
                      markeredgecolor='#2ca02c', label='true keypoints'),
               Line2D([], [], marker='x', linestyle='none', color='#d62728',
                      label='decoded from the targets'),
               Line2D([], [], color='#444444', label='the sample (COCO-17 skeleton)')]
    fig.legend(handles=handles, loc='lower center', ncol=3, fontsize=9, frameon=False)
    fig.suptitle('fastcodec: each codec encodes the bundled sample and decodes its own '
                 'targets\n(heatmaps: max over keypoints, Hand3D also over depth; SimCC: '
                 '1-D x / y (/ z on top) labels on the edges;\nboxes: given green or dashed, '
                 'decoded or expanded red; lifting: 3-D target green, decoded red)',
                 fontsize=10)
    fig.tight_layout(rect=(0, 0.03, 1, 0.95))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return titles


def main(out_png: str) -> int:
    """Print the round-trip table and write the picture to ``out_png``."""
    try:
        import matplotlib  # noqa: F401 - the demo extra
    except ImportError as err:
        raise SystemExit(f'fastcodec demo: {err}; pip install "fastcodec[demo]"') from err
    from fastcodec.bench import mmpose_codecs_or_none
    kps, vis, sample = load_sample()
    mmc = mmpose_codecs_or_none()
    found = '1.3.2 found' if mmc else 'not installed (pip install mmpose==1.3.2 --no-deps)'
    print(f'fastcodec {fastcodec.__version__}; backends: {fastcodec.available_backends()}; '
          f'MMPose: {found}')
    print(f"sample: {len(sample['keypoint_names'])} keypoints, input {sample['input_size']}\n")
    header = f"{'codec':52s} {'round-trip err':>14s} {'encode us':>10s} {'decode us':>10s}"
    if mmc:
        header += f" {'MMPose enc us':>13s} {'MMPose dec us':>13s} {'speed-up e/d':>13s}"
    print(header)
    results = []
    for cfg in CONFIGS:
        r = round_trip(cfg, kps, vis)
        codec, outputs = r['codec'], r['outputs']
        enc_us = median_us(lambda: codec.encode(*r['enc_args'], **r['enc_kwargs']))
        dec_us = median_us(lambda: codec.decode(*outputs))
        row = f"{label(cfg):52s} {r['error']:14.3f} {enc_us:10.1f} {dec_us:10.1f}"
        if mmc and hasattr(mmc, cfg['type']):
            m_enc, m_dec = mmpose_times(mmc, cfg, r)
            row += f' {m_enc:13.1f} {m_dec:13.1f} {m_enc / enc_us:6.1f}/{m_dec / dec_us:<6.1f}'
        print(row)
        results.append((cfg, r))
    write_figure(out_png, results, kps, vis, sample['input_size'])
    print(f'\none panel per codec (targets, true and decoded keypoints) written to {out_png}')
    return 0
