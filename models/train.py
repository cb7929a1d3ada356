"""Train a zoo model from a Python config.

    fastcodec train quick_heatmap_res18 [--work-dir DIR]
        [--resume [CKPT]] [--max-iters N] [--max-minutes M] [--device-targets]
        [--device cpu|cuda] [--cfg-options key=value ...]
    torchrun --nproc_per_node 2 -m fastcodec.models.train CONFIG ...   # DDP (gloo on CPU)

CONFIG is a config file or the name of a bundled one (``fastcodec configs`` lists them).

AdamW with linear warm-up and cosine decay; when ``max_minutes`` is set the schedule
runs on whichever of iterations or wall time is further along, so a time budget always
ends with a fully decayed learning rate. AMP on CUDA. Checkpoints ``iter_N.pt`` and
``latest.pt`` in the work dir (``--resume`` continues from ``latest.pt``), a CSV log
``log.csv``, TensorBoard events when ``torch.utils.tensorboard`` imports, a tqdm bar.
``--device-targets`` builds every config's targets inside the training step, with one
``codec.batch_encode`` call on the training device (the GPU's kernels on CUDA): the
DataLoader ships images and keypoints only (GenerateTarget leaves the pipeline), or for
lifting the raw 2-D / 3-D keypoints and image sizes (``step_batch``).
"""
from __future__ import annotations

import argparse
import csv
import math
import os
import time
from typing import Dict, List, Optional


import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, DistributedSampler, RandomSampler

from fastcodec.models.builder import build_model
from fastcodec.models.config import (build_dataset, collate, load_config, reseed_transforms,
                                     reseed_worker)


def lr_factor(progress: float, it: int, warmup_iters: int, warmup_ratio: float,
              min_lr_ratio: float) -> float:
    """Linear warm-up over ``warmup_iters`` iterations, then cosine from 1 to
    ``min_lr_ratio`` over training progress in [0, 1]."""
    cos = min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
    if it < warmup_iters:
        return cos * (warmup_ratio + (1 - warmup_ratio) * it / warmup_iters)
    return cos


def _to(obj, device):
    if torch.is_tensor(obj):
        return obj.to(device, non_blocking=True)
    if isinstance(obj, dict):
        return {k: _to(v, device) for k, v in obj.items()}
    return obj


def step_batch(head, batch: Dict, device: torch.device, device_targets: bool):
    """The training step's (inputs, targets) on ``device``: the DataLoader's, moved;
    or with ``device_targets`` encoded there by ``head.encode_batch``."""
    if device_targets:
        return head.encode_batch(batch, device)
    return batch['inputs'].to(device, non_blocking=True), _to(batch['targets'], device)


def _dist_info():
    if 'WORLD_SIZE' in os.environ and int(os.environ['WORLD_SIZE']) > 1:
        return int(os.environ['RANK']), int(os.environ['WORLD_SIZE']), int(
            os.environ.get('LOCAL_RANK', 0))
    return 0, 1, 0


class Logger:
    """CSV rows (and TensorBoard scalars when available) on rank 0."""

    FIELDS = ['iter', 'epoch', 'lr', 'loss', 'elapsed_s', 'data_s']

    def __init__(self, work_dir: str, enabled: bool, resume: bool):
        self.enabled = enabled
        self.tb = None
        if not enabled:
            return
        path = os.path.join(work_dir, 'log.csv')
        new = not (resume and os.path.exists(path))
        self.file = open(path, 'w' if new else 'a', newline='')
        self.writer = csv.DictWriter(self.file, self.FIELDS)
        if new:
            self.writer.writeheader()
        try:
            from torch.utils.tensorboard import SummaryWriter
            self.tb = SummaryWriter(os.path.join(work_dir, 'tb'))
        except Exception:  # noqa: BLE001 - tensorboard is optional
            self.tb = None

    def log(self, row: Dict):
        if not self.enabled:
            return
        self.writer.writerow(row)
        self.file.flush()
        if self.tb is not None:
            for k in ('lr', 'loss'):
                self.tb.add_scalar(f'train/{k}', row[k], row['iter'])

    def close(self):
        if self.enabled:
            self.file.close()
            if self.tb is not None:
                self.tb.close()


def train(cfg: Dict, work_dir: Optional[str] = None, resume: Optional[str] = None,
          device: Optional[str] = None, device_targets: Optional[bool] = None,
          max_iters: Optional[int] = None, max_minutes: Optional[float] = None,
          progress_bar: bool = True, dump_rank_weights: bool = False) -> List[float]:
    """Run training; returns the logged losses (one per iteration on this rank)."""
    rank, world, local_rank = _dist_info()
    sched = dict(max_iters=1000, warmup_iters=100, warmup_ratio=0.001, min_lr_ratio=0.01,
                 max_minutes=None, log_interval=10, checkpoint_interval=None)
    sched.update(cfg.get('schedule', {}))
    if max_iters is not None:
        sched['max_iters'] = max_iters
    if max_minutes is not None:
        sched['max_minutes'] = max_minutes
    device = device or cfg.get('device') or ('cuda' if torch.cuda.is_available() else 'cpu')
    if device_targets is None:
        device_targets = bool(cfg.get('device_targets', False))
    work_dir = work_dir or cfg.get('work_dir') or os.path.join(
        'work_dirs', os.path.splitext(os.path.basename(cfg['config_path']))[0])
    os.makedirs(work_dir, exist_ok=True)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group('nccl' if device == 'cuda' else 'gloo')
    if device == 'cuda':
        torch.cuda.set_device(local_rank)
        dev = torch.device('cuda', local_rank)
    else:
        dev = torch.device('cpu')
    seed = int(cfg.get('seed', 0))
    torch.manual_seed(seed)  # identical initial weights on every rank
    if 'num_threads' in cfg:
        torch.set_num_threads(int(cfg['num_threads']))

    model = build_model(cfg['model']).to(dev)
    head = model.head
    it0 = 0  # the iteration training starts from (a resumed run reshuffles differently)
    if resume:
        ckpt_path = resume if os.path.isfile(resume) else os.path.join(work_dir, 'latest.pt')
        ckpt = torch.load(ckpt_path, map_location=dev, weights_only=False)
        it0 = int(ckpt['iter'])
    dl_cfg = dict(cfg['train_dataloader'])
    dataset = build_dataset(dl_cfg['dataset'], device_targets=device_targets)
    reseed_transforms(dataset, seed * 1000 + rank + 31 * it0)
    sampler = (DistributedSampler(dataset, world, rank, shuffle=True, seed=seed) if world > 1
               else RandomSampler(dataset, generator=torch.Generator().manual_seed(seed + it0)))
    nw = int(dl_cfg.get('num_workers', 0))
    loader = DataLoader(dataset, batch_size=int(dl_cfg.get('batch_size', 32)), sampler=sampler,
                        num_workers=nw, collate_fn=collate, drop_last=True,
                        worker_init_fn=reseed_worker if nw else None,
                        persistent_workers=nw > 0, pin_memory=dev.type == 'cuda')
    if len(loader) == 0:
        raise ValueError(f'training set of {len(dataset)} samples is smaller than a batch')

    # fused: one kernel for all parameters (on CPU it halves the step's ~4% of an iteration)
    opt_cfg = dict(lr=1e-3, weight_decay=1e-4, betas=(0.9, 0.999), fused=True)
    opt_cfg.update(cfg.get('optimizer', {}))
    base_lr = float(opt_cfg['lr'])
    optimizer = torch.optim.AdamW(model.parameters(), **opt_cfg)
    amp = dev.type == 'cuda' and bool(cfg.get('amp', True))
    scaler = torch.amp.GradScaler('cuda', enabled=amp)

    it, elapsed_before = 0, 0.0
    if resume:
        model.load_state_dict(ckpt['state_dict'])
        optimizer.load_state_dict(ckpt['optimizer'])
        if ckpt.get('scaler'):
            scaler.load_state_dict(ckpt['scaler'])
        it, elapsed_before = int(ckpt['iter']), float(ckpt.get('elapsed_s', 0.0))
    ddp_model = model
    if world > 1:
        ddp_model = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[local_rank] if dev.type == 'cuda' else None)

    max_iters = int(sched['max_iters'])
    max_s = float(sched['max_minutes']) * 60 if sched['max_minutes'] else None
    logger = Logger(work_dir, rank == 0, bool(resume))
    bar = None
    if progress_bar and rank == 0:
        from tqdm import tqdm
        if max_s:  # a time budget: the bar counts seconds, the postfix iterations
            bar = tqdm(total=int(max_s), initial=int(elapsed_before), unit='s',
                       desc='train', dynamic_ncols=True, mininterval=2.0)
        else:
            bar = tqdm(total=max_iters, initial=it, desc='train', dynamic_ncols=True,
                       mininterval=2.0)

    def save(name):
        if rank != 0:
            return
        state = dict(state_dict=model.state_dict(), optimizer=optimizer.state_dict(),
                     scaler=scaler.state_dict() if amp else None, iter=it,
                     elapsed_s=elapsed_before + time.time() - t_start, config_path=cfg['config_path'],
                     model_cfg=cfg['model'])
        tmp = os.path.join(work_dir, name + '.tmp')
        torch.save(state, tmp)
        os.replace(tmp, os.path.join(work_dir, name))

    losses, window, data_time = [], [], 0.0
    epoch = it // len(loader)
    t_start = time.time()
    ddp_model.train()
    done = it >= max_iters
    while not done:
        if world > 1:
            sampler.set_epoch(epoch)
        t_data = time.time()
        for batch in loader:
            data_time += time.time() - t_data
            progress = it / max_iters
            if max_s:
                progress = max(progress, (elapsed_before + time.time() - t_start) / max_s)
            if world > 1:  # every rank follows rank 0's clock: same lr, same stop
                p = torch.tensor([progress], dtype=torch.float64)
                dist.broadcast(p, 0)
                progress = float(p)
            if progress >= 1.0:
                done = True
                break
            lr = base_lr * lr_factor(progress, it, int(sched['warmup_iters']),
                                     float(sched['warmup_ratio']), float(sched['min_lr_ratio']))
            for g in optimizer.param_groups:
                g['lr'] = lr
            inputs, batch['targets'] = step_batch(head, batch, dev, device_targets)
            with torch.autocast(dev.type, enabled=amp):
                loss_dict = ddp_model(inputs, batch, mode='loss')
                loss = sum(v for k, v in loss_dict.items() if k.startswith('loss'))
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            it += 1
            lv = float(loss.detach())
            if not math.isfinite(lv):
                raise FloatingPointError(f'loss is {lv} at iteration {it}')
            losses.append(lv)
            window.append(lv)
            if bar is not None:
                if max_s:
                    bar.update(min(int(max_s), int(elapsed_before + time.time() - t_start))
                               - bar.n)
                else:
                    bar.update(1)
                bar.set_postfix(it=it, loss=f'{lv:.4g}', lr=f'{lr:.2e}', refresh=False)
            if it % int(sched['log_interval']) == 0:
                logger.log(dict(iter=it, epoch=epoch, lr=lr, loss=sum(window) / len(window),
                                elapsed_s=round(elapsed_before + time.time() - t_start, 2),
                                data_s=round(data_time, 2)))
                window = []
            if sched['checkpoint_interval'] and it % int(sched['checkpoint_interval']) == 0:
                save(f'iter_{it}.pt')
                save('latest.pt')
            if it >= max_iters:
                done = True
                break
            t_data = time.time()
        epoch += 1
    if window:
        logger.log(dict(iter=it, epoch=epoch, lr=optimizer.param_groups[0]['lr'],
                        loss=sum(window) / len(window),
                        elapsed_s=round(elapsed_before + time.time() - t_start, 2),
                        data_s=round(data_time, 2)))
    save('latest.pt')
    if dump_rank_weights:
        torch.save({k: v.detach().cpu() for k, v in model.named_parameters()},
                   os.path.join(work_dir, f'rank{rank}_params.pt'))
    if bar is not None:
        bar.close()
    logger.close()
    if rank == 0:
        print(f'trained {it} iterations in {elapsed_before + time.time() - t_start:.1f} s; '
              f'checkpoint {os.path.join(work_dir, "latest.pt")}', flush=True)
    if world > 1:
        dist.barrier()
    return losses


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog='fastcodec train',
                                 description='Train a fastcodec zoo model.')
    ap.add_argument('config')
    ap.add_argument('--work-dir')
    ap.add_argument('--resume', nargs='?', const='auto', default=None,
                    help='continue from CKPT (default: WORK_DIR/latest.pt)')
    ap.add_argument('--device', choices=['cpu', 'cuda'])
    ap.add_argument('--device-targets', action='store_true', default=None,
                    help='build the targets in the training step, with codec.batch_encode '
                    'on the training device')
    ap.add_argument('--max-iters', type=int)
    ap.add_argument('--max-minutes', type=float)
    ap.add_argument('--no-progress', action='store_true')
    ap.add_argument('--dump-rank-weights', action='store_true',
                    help='save each rank\'s final parameters (DDP consistency checks)')
    ap.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE')
    args = ap.parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    train(cfg, work_dir=args.work_dir, resume=args.resume, device=args.device,
          device_targets=args.device_targets, max_iters=args.max_iters,
          max_minutes=args.max_minutes, progress_bar=not args.no_progress,
          dump_rank_weights=args.dump_rank_weights)
    if dist.is_initialized():
        dist.destroy_process_group()
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
