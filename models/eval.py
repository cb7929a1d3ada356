"""Evaluate a top-down or bottom-up model on a COCO-format val set (or a lifting model
on 3-D sequences: MPJPE / P-MPJPE in mm, last line ``MPJPE=<value>``).

    fastcodec eval CONFIG CHECKPOINT [--out-dir DIR] [--no-flip] [--device cpu|cuda]

Predicts every ground-truth box of the val annotations (as MMPose with
``bbox_file=None``), rescales instance scores like MMPose's CocoMetric (box score times
the mean of keypoint scores above 0.2), applies OKS-NMS (0.9), and computes COCO
keypoint AP/AR with the official ``pycocotools`` COCOeval (OKS with the dataset's
sigmas) plus PCK@0.05 (normalised by the box size). Writes
``results_keypoints.json`` (COCO results format) and ``metrics.json``; the last line
printed is ``AP=<value>``.

A ``BottomupPoseEstimator`` (DEKR) predicts each whole image (BottomupResize) and emits
one result per detected instance, scored by the mean of its keypoint scores (MMPose's
DEKR evaluator: ``score_mode='keypoint'``, ``nms_mode='none'``); no PCK (no boxes to
pair predictions with).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
from typing import Dict, List, Optional, Sequence, Tuple


import numpy as np
import torch
from torch.utils.data import DataLoader

from fastcodec.models.data.meta_coco17 import COCO17

STAT_NAMES = ['AP', 'AP .5', 'AP .75', 'AP (M)', 'AP (L)', 'AR', 'AR .5', 'AR .75', 'AR (M)',
              'AR (L)']


def instance_results(img_ids: Sequence[int], keypoints: np.ndarray, scores: np.ndarray,
                     bbox_scores: Optional[Sequence[float]] = None,
                     keypoint_score_thr: float = 0.2) -> List[Dict]:
    """COCO result dicts from keypoints (N, K, 2) and scores (N, K); the instance score
    is MMPose's 'bbox_keypoint' rescoring."""
    keypoints = np.asarray(keypoints, np.float64)
    scores = np.asarray(scores, np.float64)
    if bbox_scores is None:
        bbox_scores = np.ones(len(keypoints))
    out = []
    for img_id, kp, sc, bs in zip(img_ids, keypoints, scores, bbox_scores):
        good = sc > keypoint_score_thr
        kpt_score = float(sc[good].mean()) if good.any() else 0.0
        flat = np.concatenate([kp, sc[:, None]], 1).reshape(-1)
        out.append(dict(image_id=int(img_id), category_id=1,
                        keypoints=[float(v) for v in flat], score=float(bs) * kpt_score))
    return out


def oks_iou(g: np.ndarray, d: np.ndarray, area_g: float, area_d: np.ndarray,
            sigmas: np.ndarray) -> np.ndarray:
    vars_ = (sigmas * 2) ** 2
    dx = d[:, :, 0] - g[None, :, 0]
    dy = d[:, :, 1] - g[None, :, 1]
    e = (dx ** 2 + dy ** 2) / vars_ / ((area_g + area_d[:, None]) / 2 + np.spacing(1)) / 2
    return np.exp(-e).mean(1)


def oks_nms(results: List[Dict], thr: float = 0.9, sigmas: Optional[np.ndarray] = None
            ) -> List[Dict]:
    """Per image, drop an instance whose OKS with a higher-scored one exceeds ``thr``
    (MMPose's oks_nms; areas from the keypoints' extent)."""
    sigmas = np.asarray(COCO17['sigmas'] if sigmas is None else sigmas, np.float64)
    by_img: Dict[int, List[Dict]] = {}
    for r in results:
        by_img.setdefault(r['image_id'], []).append(r)
    kept = []
    for rs in by_img.values():
        kps = np.array([r['keypoints'] for r in rs]).reshape(len(rs), -1, 3)[..., :2]
        area = np.prod(kps.max(1) - kps.min(1), axis=1)
        order = np.argsort([-r['score'] for r in rs], kind='stable')
        keep = []
        while order.size:
            i = order[0]
            keep.append(i)
            if order.size == 1:
                break
            o = oks_iou(kps[i], kps[order[1:]], area[i], area[order[1:]], sigmas)
            order = order[1:][o <= thr]
        kept += [rs[i] for i in keep]
    return kept


def coco_keypoint_eval(ann_file: str, results: List[Dict], sigmas: Optional[Sequence] = None,
                       verbose: bool = True) -> Dict[str, float]:
    """COCO keypoint AP/AR of ``results`` against ``ann_file`` with pycocotools'
    COCOeval ('keypoints', OKS with ``sigmas``; COCO-17's by default)."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(ann_file)
    if not results:
        return {k: 0.0 for k in STAT_NAMES}
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink):
        dt = gt.loadRes(results)
        ev = COCOeval(gt, dt, 'keypoints')
        ev.params.useSegm = None
        ev.params.kpt_oks_sigmas = np.asarray(COCO17['sigmas'] if sigmas is None else sigmas,
                                              np.float64)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    if verbose:
        print('\n'.join(line for line in sink.getvalue().splitlines()
                        if 'Average' in line))
    return {k: float(v) for k, v in zip(STAT_NAMES, ev.stats)}


def pck(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray, norm: np.ndarray,
        thr: float = 0.05) -> float:
    """PCK: fraction of labelled keypoints within thr * norm of the truth.
    pred/gt (N, K, 2), mask (N, K) bool, norm (N,)."""
    d = np.linalg.norm(pred - gt, axis=-1) / np.maximum(norm, 1e-6)[:, None]
    m = mask.astype(bool)
    return float((d[m] < thr).mean()) if m.any() else 0.0


@torch.no_grad()
def predict_dataset(model, dataset, batch_size: int = 64, num_workers: int = 0,
                    device: str = 'cpu') -> Dict[str, np.ndarray]:
    """Run ``mode='predict'`` over a top-down dataset (val pipeline): keypoints
    (N, K, 2) in image pixels, scores (N, K), img_ids (N,), bbox_scores (N,)."""
    from fastcodec.models.config import collate
    model.eval()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers,
                        collate_fn=collate)
    kps, scores, img_ids, bscores = [], [], [], []
    for batch in loader:
        out = model(batch['inputs'].to(device), batch, mode='predict')
        kps.append(out['keypoints'].cpu().numpy())
        scores.append(out['keypoint_scores'].cpu().numpy())
        img_ids.append(np.asarray(batch['img_id']))
        bscores.append(np.asarray(batch['bbox_score'], np.float64).reshape(-1))
    return dict(keypoints=np.concatenate(kps), scores=np.concatenate(scores),
                img_ids=np.concatenate(img_ids), bbox_scores=np.concatenate(bscores))


@torch.no_grad()
def predict_bottomup_dataset(model, dataset, batch_size: int = 1, num_workers: int = 0,
                             device: str = 'cpu') -> List[Dict]:
    """Run a BottomupPoseEstimator's ``mode='predict'`` over a bottom-up dataset (one
    sample per image): a list of dicts, one per image, with img_id, keypoints (N, K, 2)
    in image pixels, keypoint_scores (N, K) as numpy arrays."""
    from fastcodec.models.config import collate
    model.eval()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers,
                        collate_fn=collate)
    out = []
    for batch in loader:
        preds = model(batch['inputs'].to(device), batch, mode='predict')
        for img_id, p in zip(np.asarray(batch['img_id']).reshape(-1), preds):
            out.append(dict(img_id=int(img_id), keypoints=p['keypoints'].cpu().numpy(),
                            keypoint_scores=p['keypoint_scores'].cpu().numpy()))
    return out


def bottomup_results(preds: Sequence[Dict]) -> List[Dict]:
    """COCO result dicts, one per detected instance; the instance score is the mean of
    its keypoint scores (MMPose's CocoMetric ``score_mode='keypoint'`` of the DEKR
    configs, whose keypoint scores are root score x keypoint heatmap score)."""
    out = []
    for p in preds:
        kps = np.asarray(p['keypoints'], np.float64)
        scores = np.asarray(p['keypoint_scores'], np.float64)
        for kp, sc in zip(kps, scores):
            flat = np.concatenate([kp, sc[:, None]], 1).reshape(-1)
            out.append(dict(image_id=int(p['img_id']), category_id=1,
                            keypoints=[float(v) for v in flat], score=float(sc.mean())))
    return out


def evaluate_bottomup(model, dataset, ann_file: str, batch_size: int = 1,
                      num_workers: int = 0, device: str = 'cpu',
                      verbose: bool = True) -> Tuple[Dict[str, float], List[Dict]]:
    """COCO AP/AR of a bottom-up model on ``dataset`` (no OKS-NMS: MMPose's DEKR
    configs use ``nms_mode='none'``, the head's nearby-joints NMS has run)."""
    results = bottomup_results(predict_bottomup_dataset(model, dataset, batch_size,
                                                        num_workers, device))
    return coco_keypoint_eval(ann_file, results, verbose=verbose), results


def evaluate(cfg: Dict, checkpoint: str, out_dir: Optional[str] = None,
             flip_test: Optional[bool] = None, device: str = 'cpu',
             nms_thr: Optional[float] = 0.9) -> Dict[str, float]:
    from fastcodec.models.builder import build_model
    from fastcodec.models.config import build_dataset
    model = build_model(cfg['model'])
    ckpt = torch.load(checkpoint, map_location='cpu', weights_only=False)
    model.load_state_dict(ckpt['state_dict'] if 'state_dict' in ckpt else ckpt)
    model.to(device)
    if flip_test is not None:
        model.flip_test = flip_test
    if 'num_threads' in cfg:
        torch.set_num_threads(int(cfg['num_threads']))
    dl = cfg['val_dataloader']
    dataset = build_dataset(dl['dataset'])
    out_dir = out_dir or os.path.dirname(os.path.abspath(checkpoint))
    os.makedirs(out_dir, exist_ok=True)
    if cfg['model']['type'] == 'BottomupPoseEstimator':
        ann_file = dl['dataset']['ann_file']
        metrics, results = evaluate_bottomup(model, dataset, ann_file,
                                             int(dl.get('batch_size', 1)),
                                             int(dl.get('num_workers', 0)), device)
        with open(os.path.join(out_dir, 'results_keypoints.json'), 'w') as f:
            json.dump(results, f)
        with open(os.path.join(out_dir, 'metrics.json'), 'w') as f:
            json.dump(dict(metrics, checkpoint=os.path.abspath(checkpoint),
                           ann_file=os.path.abspath(ann_file), images=len(dataset),
                           instances=len(results)), f, indent=1)
        return metrics
    pred = predict_dataset(model, dataset, int(dl.get('batch_size', 64)),
                           int(dl.get('num_workers', 0)), device)
    results = instance_results(pred['img_ids'], pred['keypoints'], pred['scores'],
                               pred['bbox_scores'])
    if nms_thr is not None:
        results = oks_nms(results, nms_thr)
    ann_file = dl['dataset']['ann_file']
    metrics = coco_keypoint_eval(ann_file, results)
    gt = np.stack([s['keypoints'][0] for s in dataset.samples])
    vis = np.stack([s['keypoints_visible'][0] for s in dataset.samples]) > 0
    boxes = np.stack([s['bbox'][0] for s in dataset.samples])
    metrics['PCK@0.05'] = pck(pred['keypoints'], gt, vis, (boxes[:, 2:] - boxes[:, :2]).max(1))
    with open(os.path.join(out_dir, 'results_keypoints.json'), 'w') as f:
        json.dump(results, f)
    with open(os.path.join(out_dir, 'metrics.json'), 'w') as f:
        json.dump(dict(metrics, checkpoint=os.path.abspath(checkpoint),
                       ann_file=os.path.abspath(ann_file), instances=len(dataset)), f, indent=1)
    return metrics


@torch.no_grad()
def evaluate_lifting(cfg: Dict, checkpoint: str, out_dir: Optional[str] = None,
                     flip_test: Optional[bool] = None, device: str = 'cpu') -> Dict[str, float]:
    """MPJPE and P-MPJPE (mm) of a PoseLifter on its val set: its predictions, decoded
    by the head's codec to root-relative metres, against the dataset's root-relative
    poses (``pose_3d``, metres), both times 1000."""
    from fastcodec.models.builder import build_model
    from fastcodec.models.config import build_dataset, collate
    from fastcodec.models.metrics3d import mpjpe, p_mpjpe
    model = build_model(cfg['model'])
    ckpt = torch.load(checkpoint, map_location='cpu', weights_only=False)
    model.load_state_dict(ckpt['state_dict'] if 'state_dict' in ckpt else ckpt)
    model.to(device).eval()
    if flip_test is not None:
        model.flip_test = flip_test
    dl = cfg['val_dataloader']
    dataset = build_dataset(dl['dataset'])
    loader = DataLoader(dataset, batch_size=int(dl.get('batch_size', 256)), shuffle=False,
                        collate_fn=collate)
    preds, gts = [], []
    for batch in loader:
        preds.append(model(batch['inputs'].to(device), batch, mode='predict')['keypoints_3d']
                     .cpu().numpy())
        gts.append(batch['pose_3d'].numpy())  # root-relative metres (the codec's units
        # for VideoPoseLifting; ImagePoseLifting's target_mean / std normalise the target)
    pred, gt = np.concatenate(preds) * 1000.0, np.concatenate(gts) * 1000.0
    metrics = {'MPJPE': mpjpe(pred, gt), 'P-MPJPE': p_mpjpe(pred, gt)}
    out_dir = out_dir or os.path.dirname(os.path.abspath(checkpoint))
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, 'metrics.json'), 'w') as f:
        json.dump(dict(metrics, checkpoint=os.path.abspath(checkpoint), samples=len(gt)), f,
                  indent=1)
    np.savez_compressed(os.path.join(out_dir, 'results_pose3d.npz'), pred_mm=pred, gt_mm=gt)
    return metrics


def main(argv=None) -> int:
    from fastcodec.models.config import load_config
    ap = argparse.ArgumentParser(prog='fastcodec eval',
                                 description='COCO keypoint AP/AR and PCK of a zoo model.')
    ap.add_argument('config')
    ap.add_argument('checkpoint')
    ap.add_argument('--out-dir')
    ap.add_argument('--no-flip', action='store_true')
    ap.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    ap.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE')
    args = ap.parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    flip = False if args.no_flip else None
    if cfg['model']['type'] == 'PoseLifter':
        m = evaluate_lifting(cfg, args.checkpoint, args.out_dir, flip, args.device)
        print(f"P-MPJPE={m['P-MPJPE']:.2f}")
        print(f"MPJPE={m['MPJPE']:.2f}")
        return 0
    m = evaluate(cfg, args.checkpoint, args.out_dir, flip, args.device)
    print(' '.join(f'{k}={v:.4f}' for k, v in m.items() if k != 'AP'))
    print(f"AP={m['AP']:.4f}")
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
