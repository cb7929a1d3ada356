"""Zoo evaluation: COCOeval AP is 1.0 on perfect predictions and lower on shifted
ones; OKS-NMS, PCK, and eval.py end to end on a trained tiny model."""
import json
import os

import numpy as np
import pytest

pytest.importorskip('pycocotools')
torch = pytest.importorskip('torch')

from fastcodec.models.eval import (coco_keypoint_eval, evaluate, instance_results, oks_nms,
                         pck)
from fastcodec.models.testing import tiny_config, tiny_dataset


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    return tiny_dataset(str(tmp_path_factory.mktemp('synth')), num_train=4, num_val=6)


def _gt(root):
    ann = os.path.join(root, 'annotations', 'person_keypoints_val.json')
    with open(ann) as f:
        anns = [a for a in json.load(f)['annotations'] if a['num_keypoints'] > 0]
    kps = np.array([a['keypoints'] for a in anns], np.float64).reshape(-1, 17, 3)
    return ann, [a['image_id'] for a in anns], kps


def test_perfect_predictions_give_ap_1(root):
    ann, ids, kps = _gt(root)
    res = instance_results(ids, kps[..., :2], np.ones(kps.shape[:2]))
    m = coco_keypoint_eval(ann, res, verbose=False)
    assert m['AP'] == pytest.approx(1.0)
    assert m['AR'] == pytest.approx(1.0)


@pytest.mark.parametrize('shift', [2.0, 6.0])
def test_shifted_predictions_give_lower_ap(root, shift):
    ann, ids, kps = _gt(root)
    perfect = coco_keypoint_eval(ann, instance_results(ids, kps[..., :2], np.ones(kps.shape[:2])),
                                 verbose=False)['AP']
    shifted = coco_keypoint_eval(ann, instance_results(ids, kps[..., :2] + shift,
                                                       np.ones(kps.shape[:2])),
                                 verbose=False)['AP']
    assert shifted < perfect - 0.05
    if shift == 6.0:
        small = coco_keypoint_eval(ann, instance_results(ids, kps[..., :2] + 2.0,
                                                         np.ones(kps.shape[:2])),
                                   verbose=False)['AP']
        assert shifted < small  # further off scores lower


def test_missing_predictions_lower_recall(root):
    ann, ids, kps = _gt(root)
    res = instance_results(ids[::2], kps[::2, :, :2], np.ones((len(ids[::2]), 17)))
    m = coco_keypoint_eval(ann, res, verbose=False)
    assert m['AR'] < 0.9 and coco_keypoint_eval(ann, [], verbose=False)['AP'] == 0.0


def test_rescoring_and_oks_nms():
    kps = np.zeros((3, 17, 2))
    kps[:, :, 0] = np.arange(17) * 5.0
    kps[:, :, 1] = np.arange(17) * 3.0
    kps[1] += 0.5     # a near duplicate of 0
    kps[2] += 200.0   # a different person
    scores = np.full((3, 17), 0.9)
    scores[1] = 0.5
    scores[0, :5] = 0.1  # below 0.2: left out of the mean
    res = instance_results([7, 7, 7], kps, scores, bbox_scores=[1.0, 1.0, 0.5])
    assert res[0]['score'] == pytest.approx(0.9)
    assert res[2]['score'] == pytest.approx(0.45)
    kept = oks_nms(res, 0.9)
    assert len(kept) == 2 and res[1] not in kept


def test_pck():
    gt = np.zeros((2, 3, 2))
    pred = gt.copy()
    pred[0, 0] = [4.0, 0.0]
    mask = np.array([[1, 1, 1], [1, 1, 0]], bool)
    assert pck(pred, gt, mask, np.array([100.0, 100.0]), 0.05) == pytest.approx(1.0)
    assert pck(pred, gt, mask, np.array([50.0, 100.0]), 0.05) == pytest.approx(0.8)
    assert pck(pred, gt, mask, np.array([80.0, 100.0]), 0.05) == pytest.approx(0.8)


def test_eval_script_end_to_end(root, tmp_path):
    from fastcodec.models.train import train
    cfg = tiny_config(root, 'msra', max_iters=2, batch_size=2)
    train(cfg, work_dir=str(tmp_path), progress_bar=False)
    m = evaluate(cfg, str(tmp_path / 'latest.pt'), str(tmp_path / 'out'))
    assert 0.0 <= m['AP'] <= 1.0 and 0.0 <= m['PCK@0.05'] <= 1.0
    res = json.loads((tmp_path / 'out' / 'results_keypoints.json').read_text())
    assert res and len(res[0]['keypoints']) == 51
    saved = json.loads((tmp_path / 'out' / 'metrics.json').read_text())
    assert saved['AP'] == m['AP'] and saved['instances'] > 0
    from fastcodec.models.visualize import visualize
    ann_file = cfg['val_dataloader']['dataset']['ann_file']
    paths = visualize(res, ann_file, cfg['val_dataloader']['dataset']['img_dir'],
                      str(tmp_path / 'vis'), num=2)
    assert len(paths) == 2 and all(os.path.getsize(p) > 0 for p in paths)


def test_eval_cli_ends_with_ap_line(root, tmp_path, capsys):
    from fastcodec.models import eval as eval_cli
    from fastcodec.models.train import main as train_main
    cfg = tmp_path / 'tiny.py'
    cfg.write_text('from fastcodec.models.testing import tiny_config\n'
                   f'globals().update(tiny_config({root!r}, "simcc", batch_size=2, '
                   'max_iters=1))\n'
                   'del tiny_config\n')
    assert train_main([str(cfg), '--work-dir', str(tmp_path / 'w'), '--no-progress']) == 0
    capsys.readouterr()
    assert eval_cli.main([str(cfg), str(tmp_path / 'w' / 'latest.pt'), '--no-flip']) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith('AP=') and 0.0 <= float(last[3:]) <= 1.0
