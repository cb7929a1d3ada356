"""The DEKR-style bottom-up model: forward modes, flip test, keypoints mapped back to
image pixels, losses, pose NMS, and COCO AP through the bottom-up eval path.

"Perfect" predictions below are the SPR codec's own encoding of the annotations fed in
place of the head's outputs: the decoded keypoint is the root pixel plus the displacement
stored at that pixel, which is the exact keypoint (float32 rounding only), so after the
inverse BottomupResize the annotations must come back to within 1e-3 image pixels."""
import json

import numpy as np
import pytest

pytest.importorskip('pycocotools')
torch = pytest.importorskip('torch')

from fastcodec.models.builder import build_model
from fastcodec.models.config import build_dataset, collate
from fastcodec.models.testing import tiny_config, tiny_dataset

TOL_PX = 1e-3


def _close(a, b, atol=1e-6):
    # torch.allclose: torch.testing's first call costs seconds of imports
    assert a.shape == b.shape and torch.allclose(a, b.to(a.dtype), atol=atol, rtol=1e-5), (a, b)


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    return tiny_dataset(str(tmp_path_factory.mktemp('synth')), num_train=6, num_val=4)


def _setup(root, n=4):
    torch.manual_seed(0)
    cfg = tiny_config(root, 'dekr')
    model = build_model(cfg['model']).eval()
    ds = build_dataset(cfg['train_dataloader']['dataset'])  # BottomupResize, no augment
    return cfg, model, ds, collate([ds[i] for i in range(n)])


def _match_error(pred, raw, visible=None):
    """Largest error over the visible keypoints of every annotated instance, each
    matched to its nearest predicted instance."""
    worst = 0.0
    kps = pred['keypoints'].numpy()
    visible = raw['keypoints_visible'] if visible is None else visible
    for g, v in zip(raw['keypoints'], visible):
        if v.sum() == 0:
            continue
        d = np.linalg.norm(kps - g[None], axis=-1)
        worst = max(worst, float(np.where(v[None] > 0, d, 0).max(1).min()))
    return worst


def test_forward_modes(root):
    _, model, _, batch = _setup(root)
    hm, disp = model(batch['inputs'], mode='tensor')
    assert hm.shape == (4, 18, 16, 16) and disp.shape == (4, 34, 16, 16)
    model.train()
    loss = model(batch['inputs'], batch, mode='loss')
    assert set(loss) == {'loss_heatmap', 'loss_displacement'}
    assert all(v.ndim == 0 and torch.isfinite(v) and v > 0 for v in loss.values())
    sum(loss.values()).backward()
    assert model.head.displacement_layers[-1].weight.grad.abs().sum() > 0
    with pytest.raises(ValueError):
        model(batch['inputs'], mode='loss')
    with pytest.raises(ValueError):
        model(batch['inputs'], mode='bogus')
    model.eval()
    preds = model(batch['inputs'], batch, mode='predict')
    assert isinstance(preds, list) and len(preds) == 4
    for p in preds:
        n = len(p['keypoints'])
        assert p['keypoints'].shape == (n, 17, 2) and p['keypoint_scores'].shape == (n, 17)
        assert p['root_scores'].shape == (n,)


def test_flip_back_is_an_involution(root):
    _, model, _, batch = _setup(root)
    out = model(batch['inputs'], mode='tensor')
    model.head.shift_heatmap = False
    back = model.head.flip_back(model.head.flip_back(out, model.flip_indices),
                                model.flip_indices)
    for a, b in zip(out, back):
        _close(a, b)
    model.head.shift_heatmap = True
    hm, _ = model.head.flip_back(out, model.flip_indices)
    # the root map (last) is mirrored, not swapped; the shift repeats column 0
    _close(hm[:, -1, :, 1:], out[0][:, -1].flip(-1)[..., :-1])
    # left/right keypoint maps swap: left eye (1) <- mirrored right eye (2)
    _close(hm[:, 1, :, 1:], out[0][:, 2].flip(-1)[..., :-1])


def test_predict_maps_keypoints_to_image_pixels(root):
    _, model, ds, batch = _setup(root, n=6)
    model.flip_test = False
    t = batch['targets']
    model.head.forward = lambda feats: (t['heatmaps'], t['displacements'])
    preds = model(batch['inputs'], batch, mode='predict')
    people = 0
    for i, p in enumerate(preds):
        raw = ds.samples[i]
        assert len(p['keypoints']) == len(raw['keypoints'])
        assert _match_error(p, raw) <= TOL_PX
        people += len(raw['keypoints'])
        assert torch.all(p['root_scores'] > 0.99)
    assert people >= 8  # several images hold two people
    # without the inverse transform the keypoints stay in input pixels (scale 2 here)
    raw_in = model(batch['inputs'], mode='predict')
    assert _match_error(raw_in[0], ds.samples[0]) > 10


def test_flip_test_on_perfect_outputs(root):
    """The mirrored input's outputs are the encoding of the mirrored keypoints; MMPose's
    flip-back (channel swap, negated x, the (s-1)/s amendment) averaged with the
    original outputs must still decode to the annotations: the flipped displacement
    field is exact, not just close."""
    _, model, ds, batch = _setup(root, n=6)
    model.flip_test = True
    t = batch['targets']
    w = batch['inputs'].shape[-1]
    kps = batch['keypoints'].clone()[:, :, model.flip_indices]
    kps[..., 0] = w - 1 - kps[..., 0]
    vis = batch['keypoints_visible'][:, :, model.flip_indices]
    tf = model.head.encode_targets(kps, vis)
    outs = iter([(t['heatmaps'], t['displacements']), (tf['heatmaps'], tf['displacements'])])
    model.head.forward = lambda feats: next(outs)
    preds = model(batch['inputs'], batch, mode='predict')
    # a keypoint in the input's last pixel column (x > w - 1) mirrors to x < 0, off the
    # mirrored heatmap: the mirrored encoding has no displacement for it to average in
    x = batch['keypoints'][..., 0]
    inside = (batch['keypoints_visible'] > 0) & (x >= 0) & (x <= w - 1)
    assert (~inside & (batch['keypoints_visible'] > 0)).sum() < 4
    for i, p in enumerate(preds):
        n = len(ds.samples[i]['keypoints'])
        assert len(p['keypoints']) == n
        assert _match_error(p, ds.samples[i], inside[i, :n].numpy()) <= TOL_PX


def test_device_targets_equal_dataloader_targets(root):
    _, model, _, batch = _setup(root)
    dev = model.head.encode_targets(batch['keypoints'], batch['keypoints_visible'])
    assert set(dev) == {'heatmaps', 'heatmap_weights', 'displacements',
                        'displacement_weights'} == set(batch['targets'])
    for k, v in dev.items():
        _close(v, batch['targets'][k].float())


def test_soft_weight_smooth_l1_loss():
    from fastcodec.models.losses import SoftWeightSmoothL1Loss
    out = torch.tensor([[0.0, 0.05, 1.0, 3.0]])
    gt = torch.zeros(1, 4)
    w = torch.tensor([[0.0, 1.0, 2.0, 0.5]])
    beta = 1 / 9
    per = torch.tensor([0.0, 0.05 ** 2 / (2 * beta), 1.0 - beta / 2, 3.0 - beta / 2])
    loss = SoftWeightSmoothL1Loss(supervise_empty=False, beta=beta, loss_weight=0.5)
    assert float(loss(out, gt, w)) == pytest.approx(0.5 * float((per * w[0]).sum()) / 3)
    loss = SoftWeightSmoothL1Loss(supervise_empty=True, beta=beta)
    assert float(loss(out, gt, w)) == pytest.approx(float((per * w[0]).mean()))


def test_nearby_joints_nms():
    from fastcodec.models.heads.dekr_head import nearby_joints_nms
    base = np.stack([np.arange(17) * 4.0, np.arange(17) * 2.0], -1)
    kps = np.stack([base, base + 0.3, base + 100.0])
    scores = np.array([[0.5] * 17, [0.9] * 17, [0.2] * 17])
    assert sorted(nearby_joints_nms(kps, scores, 0.05)) == [1, 2]  # 0 duplicates 1
    assert nearby_joints_nms(kps, scores, 0.05, max_dets=1) == [1]
    assert nearby_joints_nms(kps[:0], scores[:0]) == []


def test_perfect_bottomup_predictions_give_ap_1(root, tmp_path):
    """The bottom-up eval path (predict per image, one result per instance, COCOeval)
    scores the encoded annotations as AP = AR = 1; the val set keeps an image without
    people (as MMPose's bottom-up test mode), which goes through the pipeline."""
    from torch.utils.data import DataLoader

    from fastcodec.models.eval import evaluate_bottomup
    cfg, model, _, _ = _setup(root)
    model.flip_test = False
    ds_cfg = dict(cfg['val_dataloader']['dataset'])
    assert ds_cfg['skip_empty'] is False
    with open(ds_cfg['ann_file']) as f:
        coco = json.load(f)
    empty_id = max(im['id'] for im in coco['images']) + 1  # same picture, nobody labelled
    coco['images'].append(dict(coco['images'][0], id=empty_id))
    ds_cfg['ann_file'] = str(tmp_path / 'val_with_empty.json')
    with open(ds_cfg['ann_file'], 'w') as f:
        json.dump(coco, f)
    pipe = list(ds_cfg['pipeline'])
    codec = model.head.codec_cfg
    ds_cfg['pipeline'] = pipe[:-1] + [dict(type='GenerateTarget', encoder=codec,
                                           multi_instance=True), pipe[-1]]
    ds = build_dataset(ds_cfg)
    assert len(ds) == len(coco['images'])
    empty = ds[len(ds) - 1]
    assert int(empty['img_id']) == empty_id and int(empty['num_instances']) == 0
    assert float(empty['targets']['heatmaps'].max()) == 0.0
    targets = iter(DataLoader(ds, batch_size=2, shuffle=False, collate_fn=collate))

    def perfect(feats):
        t = next(targets)['targets']
        return t['heatmaps'], t['displacements']

    model.head.forward = perfect
    m, results = evaluate_bottomup(model, ds, ds_cfg['ann_file'], batch_size=2, verbose=False)
    with open(ds_cfg['ann_file']) as f:
        n_gt = sum(a['num_keypoints'] > 0 for a in json.load(f)['annotations'])
    assert len(results) == n_gt and n_gt >= 5
    assert m['AP'] == pytest.approx(1.0) and m['AR'] == pytest.approx(1.0)
    assert all(0 < r['score'] <= 1 for r in results)


def test_train_and_eval_cli(root, tmp_path, capsys):
    """models/train.py trains the bottom-up config (padded instances collate; here with
    --device-targets: SPR's batch_encode in the step) and models/eval.py takes the
    bottom-up path, ending with the AP= line."""
    from fastcodec.models import eval as eval_cli
    from fastcodec.models.train import main as train_main
    cfg = tmp_path / 'tiny_dekr.py'
    cfg.write_text('from fastcodec.models.testing import tiny_config\n'
                   f'globals().update(tiny_config({root!r}, "dekr", augment=True, '
                   'batch_size=2, max_iters=2))\n'
                   'del tiny_config\n')
    assert train_main([str(cfg), '--work-dir', str(tmp_path / 'w'), '--no-progress',
                       '--device-targets']) == 0
    capsys.readouterr()
    assert eval_cli.main([str(cfg), str(tmp_path / 'w' / 'latest.pt')]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith('AP=') and 0.0 <= float(last[3:]) <= 1.0
    saved = json.loads((tmp_path / 'w' / 'metrics.json').read_text())
    assert saved['images'] == 4 and 'AP' in saved


def test_decode_suppresses_duplicate_poses(root):
    """Two root peaks whose displacements point at the same pose decode to two
    instances without the nearby-joints NMS and to one with it."""
    _, model, _, _ = _setup(root)
    K, H, W = 17, 16, 16
    hm = torch.zeros(1, K + 1, H, W)
    hm[0, :K] = 0.5
    hm[0, K, 4, 4], hm[0, K, 10, 10] = 1.0, 0.8
    pose = torch.stack([torch.linspace(3, 12, K), torch.linspace(2, 13, K)], -1)  # (K, 2)
    ys, xs = torch.meshgrid(torch.arange(H, dtype=torch.float32),
                            torch.arange(W, dtype=torch.float32), indexing='ij')
    disp = torch.stack([pose[:, 0, None, None] - xs, pose[:, 1, None, None] - ys],
                       1).reshape(1, 2 * K, H, W)
    model.head.nms_dist_thr = 0.0
    (p,) = model.head.decode((hm, disp))
    assert len(p['keypoints']) == 2
    model.head.nms_dist_thr = 0.05
    (p,) = model.head.decode((hm, disp))
    assert len(p['keypoints']) == 1 and float(p['root_scores'][0]) == pytest.approx(1.0)
    _close(p['keypoints'][0], pose * 4)  # input pixels (stride 4)
    _close(p['keypoint_scores'][0], torch.full((K,), 0.5))
