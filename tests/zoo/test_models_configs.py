"""Every config in models/configs loads, builds its model and runs a forward pass whose
outputs decode through the config's fastcodec codec."""
import os

import pytest

torch = pytest.importorskip('torch')

from fastcodec.models.builder import build_model
from fastcodec.models.config import bundled_configs, load_config

CONFIGS = sorted(bundled_configs().values())


def test_there_are_configs():
    names = {os.path.basename(p) for p in CONFIGS}
    assert {'quick_heatmap_res18.py', 'quick_simcc_res18.py',
            'quick_lifting_tcn.py', 'quick_dekr_res18.py', 'dekr_res50_512x512.py'} <= names


@pytest.mark.parametrize('path', CONFIGS, ids=os.path.basename)
def test_config_builds_and_runs(path):
    cfg = load_config(path, ['optimizer.lr=0.01'])
    assert cfg['optimizer']['lr'] == 0.01
    torch.manual_seed(0)
    model = build_model(cfg['model']).eval()
    if cfg['model']['type'] == 'PoseLifter':
        T = cfg['train_dataloader']['dataset']['seq_len']
        out = model(torch.zeros(2, T, 17, 2), mode='predict')['keypoints_3d']
        assert out.shape == (2, 17, 3)
        return
    model.flip_test = False  # flip test is covered in test_models_train
    w, h = model.head.codec_cfg['input_size']
    x = torch.randint(0, 255, (1, 3, h, w), dtype=torch.uint8)
    if cfg['model']['type'] == 'BottomupPoseEstimator':  # N people per image
        # one forward pass (the 512x512 ResNet-50 is slow on a CPU); predict's own
        # path is covered in test_models_bottomup
        hm, disp = model(x, mode='tensor')
        W, H = model.head.codec_cfg['heatmap_size']
        assert hm.shape == (1, 18, H, W) and disp.shape == (1, 34, H, W)
        (pred,) = model.head.decode((hm, disp))
        assert pred['keypoints'].shape[1:] == (17, 2)
        assert pred['keypoint_scores'].shape == pred['keypoints'].shape[:2]
    else:
        pred = model(x, mode='predict')
        assert pred['keypoints'].shape == (1, 17, 2)
    assert torch.isfinite(pred['keypoints']).all()
