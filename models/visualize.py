"""Draw predicted (or ground-truth) skeletons on images and save PNGs.

    python -m fastcodec.models.visualize RESULTS_JSON ANN_FILE IMG_DIR --out-dir DIR [--num 8]
        [--score-thr 0.3]

RESULTS_JSON is eval.py's results_keypoints.json (COCO results format); passing the
annotation file itself as RESULTS_JSON draws the ground truth.
"""
from __future__ import annotations

import argparse
import json
import os
from typing import Dict, List, Optional


import cv2
import numpy as np

from fastcodec.models.data.meta_coco17 import SKELETON

LEFT, RIGHT, MID = (0, 200, 255), (255, 120, 0), (0, 255, 0)


def _side(i: int):
    if i == 0:
        return MID
    return LEFT if i % 2 == 1 else RIGHT


def draw_skeleton(img: np.ndarray, keypoints: np.ndarray, scores: Optional[np.ndarray] = None,
                  score_thr: float = 0.3, radius: int = 3, thickness: int = 2) -> np.ndarray:
    """Draw one person's keypoints (K, 2) with scores (K,) (BGR image, in place):
    the person's left limbs orange, right blue."""
    scores = np.ones(len(keypoints)) if scores is None else np.asarray(scores)
    ok = scores > score_thr
    for a, b in SKELETON:
        if ok[a] and ok[b]:
            col = _side(a) if _side(a) == _side(b) else MID
            cv2.line(img, tuple(int(round(v)) for v in keypoints[a]),
                     tuple(int(round(v)) for v in keypoints[b]), col, thickness, cv2.LINE_AA)
    for i, (x, y) in enumerate(keypoints):
        if ok[i]:
            cv2.circle(img, (int(round(x)), int(round(y))), radius, _side(i), -1, cv2.LINE_AA)
    return img


def visualize(results: List[Dict], ann_file: str, img_dir: str, out_dir: str, num: int = 8,
              score_thr: float = 0.3, scale: int = 2) -> List[str]:
    """Write ``num`` PNGs (images upscaled by ``scale``) with every result drawn."""
    with open(ann_file) as f:
        images = {im['id']: im for im in json.load(f)['images']}
    by_img: Dict[int, List[Dict]] = {}
    for r in results:
        by_img.setdefault(r['image_id'], []).append(r)
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for img_id in sorted(by_img)[:num]:
        info = images[img_id]
        img = cv2.imread(os.path.join(img_dir, info['file_name']))
        img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
        for r in by_img[img_id]:
            k = np.asarray(r['keypoints'], np.float64).reshape(-1, 3)
            sc = k[:, 2] if 'score' in r else (k[:, 2] > 0).astype(float)
            draw_skeleton(img, k[:, :2] * scale, sc, score_thr)
        path = os.path.join(out_dir, f'{img_id:012d}.png')
        cv2.imwrite(path, img)
        paths.append(path)
    return paths


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description='Draw skeletons on images (PNG).')
    ap.add_argument('results')
    ap.add_argument('ann_file')
    ap.add_argument('img_dir')
    ap.add_argument('--out-dir', default='vis')
    ap.add_argument('--num', type=int, default=8)
    ap.add_argument('--score-thr', type=float, default=0.3)
    args = ap.parse_args(argv)
    with open(args.results) as f:
        res = json.load(f)
    if isinstance(res, dict):  # an annotation file: draw the ground truth
        res = res['annotations']
    for p in visualize(res, args.ann_file, args.img_dir, args.out_dir, args.num,
                       args.score_thr):
        print(p)
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
