"""``--device-targets`` on every quick config: the first training step of
models/train.py (its DataLoader, sampler and seeding, up to the step's inputs and
targets), with the targets built inside the step by the head's ``encode_batch`` (one
``codec.batch_encode`` on the training device), gets the same inputs and targets as
the first step of a default run, whose DataLoader built them: bit for bit on the cpp
backend, within the CUDA parity contract (targets 1e-5, docs/design.md) with the
emulated CUDA kernels (``use_backend('cuda-emulator')``) building them."""
import pytest

torch = pytest.importorskip('torch')
pytest.importorskip('pycocotools')
pytest.importorskip('tqdm')

import fastcodec
from fastcodec.models import train as train_module
from fastcodec.models.config import bundled_configs, load_config
from fastcodec.models.data.synth import write_motion
from fastcodec.models.testing import tiny_dataset

QUICK = ['quick_dekr_res18', 'quick_heatmap_res18', 'quick_lifting_mlp', 'quick_lifting_tcn',
         'quick_simcc_res18']
LIFTING = {'quick_lifting_mlp', 'quick_lifting_tcn'}
TARGET_TOL = 1e-5  # docs/design.md, CUDA parity contract: encode targets

# The lifting configs have no emulated case: ImagePoseLifting and VideoPoseLifting run
# no kernel (elementwise glue: numpy / torch ops on host arrays, the cuda backend's
# DeviceNS on device arrays, tested on the simulated device in
# tests/cuda/test_device_front.py), so there is nothing for the emulator to build.
def _case(name, backend):
    marks = []
    if backend not in fastcodec.available_backends():
        marks.append(pytest.mark.skip(reason=f'{backend} backend not built'))
    return pytest.param(name, backend, marks=marks, id=f'{name}-{backend}')


CASES = [_case(n, b) for n in QUICK for b in ('cpp', 'cuda-emulator')
         if not (n in LIFTING and b == 'cuda-emulator')]


def test_every_quick_config_is_covered():
    assert QUICK == sorted(n for n in bundled_configs() if n.startswith('quick_'))


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp('device_targets')
    coco = tiny_dataset(str(root / 'synth'), num_train=4, num_val=1)
    write_motion(str(root / 'motion_train.npz'), 2, 12, seed=0)
    return root, coco


def _config(name, data):
    """The quick config on the tiny data: batch 4, no workers, one iteration."""
    root, coco = data
    ds = 'train_dataloader.dataset.'
    if name in LIFTING:
        paths = [f'{ds}npz_file={root}/motion_train.npz']
    else:
        paths = [f'{ds}ann_file={coco}/annotations/person_keypoints_train.json',
                 f'{ds}img_dir={coco}/images/train']
    return load_config(name, paths + ['train_dataloader.batch_size=4',
                                      'train_dataloader.num_workers=0'])


class _Stepped(Exception):
    """Raised by the spy once the step has its inputs and targets (the forward and
    backward passes do not depend on where the targets came from)."""


def _one_step(cfg, tmp_path, monkeypatch, device_targets, backend=None):
    """Run train() up to its first step's (inputs, targets) and return them, and the
    names of the kernels the emulator launched meanwhile."""
    launched = []
    step = train_module.step_batch

    def spy(head, batch, device, dev_targets):
        assert dev_targets == device_targets
        assert ('targets' in batch) != device_targets  # the DataLoader built none
        raise _Stepped(step(head, batch, device, dev_targets))

    monkeypatch.setattr(train_module, 'step_batch', spy)
    if backend == 'cuda-emulator':
        from fastcodec.backends.cuda import emulator
        launch = emulator._HostLauncher.launch

        def count(self, name, *args):
            launched.append(name)
            return launch(self, name, *args)
        monkeypatch.setattr(emulator._HostLauncher, 'launch', count)
    try:
        with fastcodec.use_backend(backend or 'cpp'), pytest.raises(_Stepped) as stepped:
            train_module.train(cfg, work_dir=str(tmp_path), device='cpu',
                               device_targets=device_targets, max_iters=1, progress_bar=False)
    finally:
        monkeypatch.undo()
    return stepped.value.args[0], launched


@pytest.fixture(scope='module')
def dataloader_steps():
    return {}  # config name -> the default run's step (inputs, targets), cpp backend


@pytest.mark.parametrize('name, targets_backend', CASES)
def test_device_targets_equal_dataloader_targets(name, targets_backend, data, tmp_path,
                                                 monkeypatch, dataloader_steps):
    cfg = _config(name, data)
    if name not in dataloader_steps:
        dataloader_steps[name], _ = _one_step(cfg, tmp_path / 'dl', monkeypatch, False)
    inputs, targets = dataloader_steps[name]
    (dev_inputs, dev_targets), launched = _one_step(cfg, tmp_path / 'dev', monkeypatch, True,
                                                    targets_backend)
    assert set(dev_targets) == set(targets)
    assert all(v.dtype == torch.float32 for v in dev_targets.values())
    if targets_backend == 'cpp':
        assert torch.equal(dev_inputs, inputs)
        for k, v in targets.items():
            assert torch.equal(dev_targets[k], v.float()), k
        return
    # the emulated CUDA kernels built them (else the host path was checked twice)
    assert launched, 'no emulated kernel ran'
    if name in LIFTING:  # the inputs are codec outputs too
        _within(dev_inputs, inputs, 'inputs')
    else:
        assert torch.equal(dev_inputs, inputs)
    for k, v in targets.items():
        _within(dev_targets[k], v.float(), k)


def _within(a, b, what):
    assert a.shape == b.shape, (what, a.shape, b.shape)
    err = float((a - b).abs().max()) if a.numel() else 0.0
    assert err <= TARGET_TOL, (what, err)


@pytest.mark.parametrize('name', sorted(LIFTING))
def test_lifting_trains_the_same_with_device_targets(name, data, tmp_path):
    """The step encodes the network's inputs too: three iterations of real training
    give the same losses either way (cpp backend)."""
    cfg = _config(name, data)
    losses = [train_module.train(cfg, work_dir=str(tmp_path / str(dev)), device='cpu',
                                 device_targets=dev, max_iters=3, progress_bar=False)
              for dev in (False, True)]
    assert len(losses[0]) == 3 and losses[0] == losses[1]
