"""``fastcodec bench``: fastcodec against MMPose 1.3.2 and plain baselines, on this machine.

Every codec config of :mod:`fastcodec.examples` (or those of one codec) is timed on the
bundled sample for four operations: ``encode`` and ``decode`` of one sample, and
``batch_encode`` / ``batch_decode`` of ``--batch`` samples. Implementations:

* each available CPU backend of fastcodec (``cpp``, ``numba``; the codecs do not run
  on the ``cuda`` backend yet: benchmarks/bench_cuda.py times its kernels on a GPU);
* ``mmpose``: MMPose 1.3.2's class when it is installed; its "batched" calls are the
  Python loop over samples that MMPose's heads and data pipelines run;
* ``baseline``: a straightforward vectorised implementation in torch (or numpy when
  torch is missing), labelled with what it does and leaves out (e.g. a dense Gaussian
  with no 3-sigma window; an argmax with no refinement): what one writes in an
  afternoon. Per-sample calls run torch on one thread (as fastcodec's do), batched
  calls with torch's default threads. The heatmap, SimCC and regression codecs have one.

Each timing is the median of repeated calls (``spread``: the 25th-75th percentile
range); speed-ups are median over median. Absolute times depend on the CPU (2-4x
between CPU models): the table names the machine.
"""
from __future__ import annotations

import copy
import json
import os
import platform
import statistics
import time
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

import fastcodec
from fastcodec import examples

OPS = ('encode', 'decode', 'batch_encode', 'batch_decode')
EMULATED = ('cuda-emulator',)   # correct but slow by design: not a speed contender


# ---- the machine --------------------------------------------------------------------
def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo on Linux, sysctl on macOS), else platform's."""
    try:
        with open('/proc/cpuinfo', encoding='utf-8', errors='replace') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    if platform.system() == 'Darwin':
        import subprocess
        try:
            return subprocess.run(['sysctl', '-n', 'machdep.cpu.brand_string'],
                                  capture_output=True, text=True, timeout=5).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or platform.machine() or 'unknown CPU'


def gpu_name() -> Optional[str]:
    """The first CUDA device's name when torch sees one, else None."""
    try:
        import torch
    except ImportError:
        return None
    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


def machine() -> Dict[str, Any]:
    """What the numbers depend on: CPU, cores, GPU, versions, fastcodec's threads."""
    return dict(cpu=cpu_model(), logical_cores=os.cpu_count(), gpu=gpu_name(),
                system=f'{platform.system()} {platform.release()} {platform.machine()}',
                python=platform.python_version(), numpy=np.__version__,
                fastcodec=fastcodec.__version__, fastcodec_threads=fastcodec.get_num_threads(),
                date=time.strftime('%Y-%m-%d %H:%M:%S %Z'))


# ---- timing -------------------------------------------------------------------------
@dataclass
class Timing:
    """One (case, implementation) timing, in microseconds."""
    codec: str                 # the config's label, e.g. 'MSRAHeatmap(unbiased=True)'
    op: str                    # one of OPS
    impl: str                  # a backend name, 'mmpose' or 'baseline'
    median_us: float
    p25_us: float
    p75_us: float
    calls: int
    note: str = ''             # the baseline's description


def time_call(fn: Callable[[], Any], budget_s: float, min_calls: int = 3,
              max_calls: int = 2000) -> List[float]:
    """Seconds per call of ``fn``: one untimed warm-up (compiles, caches), then calls
    until ``budget_s`` is spent (at least ``min_calls``)."""
    fn()
    times: List[float] = []
    start = time.perf_counter()
    while len(times) < max_calls and (len(times) < min_calls
                                      or time.perf_counter() - start < budget_s):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def summarise(times: Sequence[float]) -> tuple:
    q = statistics.quantiles(times, n=4) if len(times) > 1 else [times[0]] * 3
    return statistics.median(times) * 1e6, q[0] * 1e6, q[2] * 1e6


# ---- inputs -------------------------------------------------------------------------
@dataclass
class Case:
    """One codec config with its per-sample and batched inputs (numpy)."""
    cfg: Dict[str, Any]
    enc_args: tuple
    enc_kwargs: dict
    dec_args: tuple
    batch: int
    batch_enc_args: tuple = field(default=())
    batch_dec_args: tuple = field(default=())

    @property
    def label(self) -> str:
        return examples.label(self.cfg)


def make_case(cfg: Dict[str, Any], batch: int) -> Case:
    """The bundled sample's encode inputs, the model outputs decode gets (its own
    encoded targets), and both stacked ``batch`` times along a new first axis."""
    kps, vis, _ = examples.load_sample()
    enc_args, enc_kwargs, _ = examples.encode_inputs(cfg, kps, vis)
    encoded = fastcodec.build(cfg).encode(*enc_args, **enc_kwargs)
    dec_args = tuple(np.asarray(a) for a in examples.model_output(cfg, encoded))
    def stack(args):
        return tuple(np.ascontiguousarray(np.stack([a] * batch)) for a in args)

    return Case(cfg, enc_args, enc_kwargs, dec_args, batch, stack(enc_args), stack(dec_args))


# ---- implementations ------------------------------------------------------------------
def fastcodec_calls(case: Case, backend: str) -> Dict[str, Callable[[], Any]]:
    """The four operations on one backend; CUDA gets torch CUDA tensors and
    synchronises after each call (the time a caller waits for the result)."""
    codec = fastcodec.build(case.cfg)
    convert: Callable[[Any], Any] = lambda a: a  # noqa: E731
    sync: Callable[[], None] = lambda: None  # noqa: E731
    if backend == 'cuda':
        import torch
        convert = lambda a: torch.as_tensor(a, device='cuda')  # noqa: E731
        sync = torch.cuda.synchronize
    ea, da = [convert(a) for a in case.enc_args], [convert(a) for a in case.dec_args]
    bea, bda = [convert(a) for a in case.batch_enc_args], [convert(a) for a in case.batch_dec_args]
    kw = case.enc_kwargs

    def run(fn, *args, **kwargs):
        def call():
            with fastcodec.use_backend(backend):
                out = fn(*args, **kwargs)
            sync()
            return out
        return call

    return dict(encode=run(codec.encode, *ea, **kw), decode=run(codec.decode, *da),
                batch_encode=run(codec.batch_encode, *bea, **kw),
                batch_decode=run(codec.batch_decode, *bda))


def mmpose_calls(case: Case, mmc: Any) -> Dict[str, Callable[[], Any]]:
    """MMPose's class; batched = its per-sample call in a loop. Decoders get fresh
    copies, as torch tensors where MMPose needs them (examples.mmpose_decoder)."""
    args = {k: v for k, v in case.cfg.items() if k != 'type'}
    ref = getattr(mmc, case.cfg['type'])(**args)
    kw = case.enc_kwargs
    # its own copies of the inputs: MMPose's YOLOX processor expands bbox in place
    enc_args, batch_enc_args = copy.deepcopy((case.enc_args, case.batch_enc_args))
    mmpose_decode = examples.mmpose_decoder(case.cfg, ref)

    def decode(args):
        with np.errstate(all='ignore'), warnings.catch_warnings():
            warnings.simplefilter('ignore')   # its 0/0 on empty maps; torch notices
            return mmpose_decode(args)

    def loop(fn, batched):
        return lambda: [fn([a[i] for a in batched]) for i in range(case.batch)]

    encode = lambda args: ref.encode(*args, **kw)  # noqa: E731
    return dict(encode=lambda: encode(enc_args), decode=lambda: decode(case.dec_args),
                batch_encode=loop(encode, batch_enc_args),
                batch_decode=loop(decode, case.batch_dec_args))


def mmpose_codecs_or_none():
    """MMPose 1.3.2's codecs when installed (imported without mmcv), else None."""
    from fastcodec.mmpose_oracle import import_mmpose_codecs
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            return import_mmpose_codecs()
    except Exception:  # noqa: BLE001 - any broken install means "not available"
        return None


# ---- baselines ------------------------------------------------------------------------
# Straightforward vectorised code a researcher would write without fastcodec: batched by
# nature (a leading axis), not MMPose-exact. One per codec family; a family without one
# shows no baseline row.
def _xp():
    try:
        import torch
        return torch
    except ImportError:
        return None


def _gaussian_maps(kps, size_wh, input_wh, sigma, xp):
    """Dense Gaussians (..., K, H, W) at keypoints (..., K, 2) scaled to the map."""
    W, H = size_wh
    if xp is None:
        k = np.asarray(kps, np.float32) * (np.float32(W / input_wh[0]), np.float32(H / input_wh[1]))
        x, y = np.arange(W, dtype=np.float32), np.arange(H, dtype=np.float32)
        dx = (x - k[..., 0:1]) ** 2
        dy = (y - k[..., 1:2]) ** 2
        return np.exp(-(dy[..., :, None] + dx[..., None, :]) / np.float32(2 * sigma ** 2))
    k = xp.as_tensor(kps, dtype=xp.float32) * xp.tensor([W / input_wh[0], H / input_wh[1]])
    dx = (xp.arange(W, dtype=xp.float32) - k[..., 0:1]) ** 2
    dy = (xp.arange(H, dtype=xp.float32) - k[..., 1:2]) ** 2
    return xp.exp(-(dy[..., :, None] + dx[..., None, :]) / (2 * sigma ** 2))


def _argmax_2d(maps, input_wh, xp):
    """Argmax of (..., K, H, W) maps -> keypoints (..., K, 2) in input pixels, scores."""
    H, W = maps.shape[-2:]
    if xp is None:
        flat = np.asarray(maps).reshape(*maps.shape[:-2], H * W)
        idx, score = flat.argmax(-1), flat.max(-1)
        xy = np.stack([idx % W, idx // W], -1).astype(np.float32)
        return xy * np.float32(input_wh[0] / W), score
    flat = xp.as_tensor(maps).flatten(-2)
    score, idx = flat.max(-1)
    xy = xp.stack([idx % W, idx // W], -1).float()
    return xy * (input_wh[0] / W), score


def _baseline(case: Case) -> Optional[tuple]:
    """(description, encode_fn(args), decode_fn(args)) for the case's family, or None."""
    cfg, xp = case.cfg, _xp()
    lib = 'torch' if xp is not None else 'numpy'
    kind = cfg['type']
    if kind == 'IntegralRegressionLabel':
        size, inp = cfg['heatmap_size'], cfg['input_size']
        wh = np.asarray(inp, np.float32)

        def encode(a):
            maps = _gaussian_maps(a[0], size, inp, float(cfg['sigma']), xp)
            return maps / maps.sum((-1, -2), keepdims=True), (a[0] / wh).astype(np.float32)

        return (f'{lib}: dense Gaussians divided by their sums, keypoints / (w, h); '
                'decode = outputs * (w, h)', encode, lambda a: a[0][..., :2] * wh)
    if kind in ('MSRAHeatmap', 'UDPHeatmap', 'MegviiHeatmap'):
        size, inp = cfg['heatmap_size'], cfg['input_size']
        sigma = float(np.ravel(cfg.get('sigma', 2.0))[0])   # Megvii has none: 2 px
        return (f'{lib}: dense Gaussian over the whole map; decode = argmax, no refinement',
                lambda a: _gaussian_maps(a[0], size, inp, sigma, xp),
                lambda a: _argmax_2d(a[0], inp, xp))
    if kind == 'SimCCLabel':
        inp, ratio = cfg['input_size'], cfg.get('simcc_split_ratio', 2.0)
        sx, sy = np.broadcast_to(np.asarray(cfg.get('sigma', 6.0), float), (2,))

        def encode(a):
            k = a[0]
            if xp is None:
                k = np.asarray(k, np.float32) * np.float32(ratio)
                gx = np.arange(int(inp[0] * ratio), dtype=np.float32)
                gy = np.arange(int(inp[1] * ratio), dtype=np.float32)
                return (np.exp(-(gx - k[..., 0:1]) ** 2 / np.float32(2 * sx ** 2)),
                        np.exp(-(gy - k[..., 1:2]) ** 2 / np.float32(2 * sy ** 2)))
            k = xp.as_tensor(k, dtype=xp.float32) * ratio
            gx = xp.arange(int(inp[0] * ratio), dtype=xp.float32)
            gy = xp.arange(int(inp[1] * ratio), dtype=xp.float32)
            return (xp.exp(-(gx - k[..., 0:1]) ** 2 / (2 * sx ** 2)),
                    xp.exp(-(gy - k[..., 1:2]) ** 2 / (2 * sy ** 2)))

        def decode(a):
            if xp is None:
                return np.stack([a[0].argmax(-1), a[1].argmax(-1)], -1) / ratio
            x, y = xp.as_tensor(a[0]), xp.as_tensor(a[1])
            return xp.stack([x.argmax(-1), y.argmax(-1)], -1) / ratio

        return f'{lib}: dense 1-D Gaussians; decode = argmax, no refinement', encode, decode
    if kind == 'RegressionLabel':
        size = np.asarray(cfg['input_size'], np.float32)
        return ('numpy: keypoints / (w, h); decode = outputs * (w, h)',
                lambda a: (a[0] / size).astype(np.float32), lambda a: a[0][..., :2] * size)
    return None


def baseline_calls(case: Case) -> Optional[tuple]:
    """(description, {op: call}) of the case's baseline, or None."""
    found = _baseline(case)
    if found is None:
        return None
    about, encode, decode = found
    xp = _xp()

    def one_thread(fn, args):
        # As fastcodec runs a per-sample call on the calling thread: torch's intra-op
        # pool costs more than it saves on one sample (and far more on a busy machine).
        def call():
            if xp is None:
                return fn(args)
            threads = xp.get_num_threads()
            xp.set_num_threads(1)
            try:
                return fn(args)
            finally:
                xp.set_num_threads(threads)
        return call

    return about, dict(encode=one_thread(encode, case.enc_args),
                       decode=one_thread(decode, case.dec_args),
                       batch_encode=lambda: encode(case.batch_enc_args),
                       batch_decode=lambda: decode(case.batch_dec_args))


# ---- the run ------------------------------------------------------------------------
def select_configs(codec: Optional[str]) -> List[Dict[str, Any]]:
    """Every example config, or those of one codec (its registry name)."""
    if codec in (None, 'all'):
        return list(examples.CONFIGS)
    if codec not in fastcodec.CODECS:
        raise ValueError(f'unknown codec {codec!r}; known: {sorted(fastcodec.CODECS)}')
    return [cfg for cfg in examples.CONFIGS if cfg['type'] == codec]


def backends() -> List[str]:
    """fastcodec's backends worth timing here: the CPU ones. The cuda backend's kernels
    run on device arrays, but the codecs' steps around them are still host numpy (issue
    14): timing codecs on it waits for that (benchmarks/bench_cuda.py times the kernels)."""
    return [b for b in fastcodec.available_backends() if b not in EMULATED and b != 'cuda']


def run(codec: Optional[str] = None, quick: bool = False, batch: Optional[int] = None,
        ops: Sequence[str] = OPS, with_mmpose: bool = True, progress: bool = True) -> dict:
    """Time every selected case; returns the JSON record (machine, settings, timings)."""
    from tqdm.auto import tqdm
    budget = 0.01 if quick else 0.3
    batch = batch or (4 if quick else 64)
    bad = [op for op in ops if op not in OPS]
    if bad:
        raise ValueError(f'unknown operation(s) {bad}; known: {list(OPS)}')
    mmc = mmpose_codecs_or_none() if with_mmpose else None
    impls = backends()
    if quick and 'cpp' in impls and 'numba' in impls:
        # the fallback's first run compiles every kernel (about a minute on 2 cores):
        # --quick compares the default backend; the full run times numba too
        impls.remove('numba')
    configs = select_configs(codec)
    timings: List[Timing] = []
    skipped: List[str] = []
    bar = tqdm(total=len(configs) * len(ops), unit='case', disable=not progress,
               desc='fastcodec bench')
    for cfg in configs:
        case = make_case(cfg, batch)
        calls = {b: fastcodec_calls(case, b) for b in impls}
        if mmc is not None and hasattr(mmc, cfg['type']):
            calls['mmpose'] = mmpose_calls(case, mmc)
        base = baseline_calls(case)
        if base is not None:
            calls['baseline'] = base[1]
        for op in ops:
            bar.set_postfix_str(f'{case.label} {op}'[:60])
            if op.endswith('decode') and cfg['type'] in examples.ENCODE_ONLY:
                skipped.append(f'{case.label} {op}: the codec does not decode')
                bar.update()
                continue
            for impl, fns in calls.items():
                try:
                    times = time_call(fns[op], budget)
                except Exception as err:  # noqa: BLE001 - reported, the run goes on
                    skipped.append(f'{case.label} {op} {impl}: {type(err).__name__}: {err}')
                    continue
                med, p25, p75 = summarise(times)
                timings.append(Timing(case.label, op, impl, med, p25, p75, len(times),
                                      base[0] if impl == 'baseline' and base else ''))
            bar.update()
    bar.close()
    notes = ['the first run after installing also compiles the Numba kernels (once, cached '
             'afterwards): in the untimed warm-up calls'] if 'numba' in impls else []
    return dict(machine=machine(),
                settings=dict(codec=codec or 'all', quick=quick, batch=batch, ops=list(ops),
                              budget_s=budget, backends=impls,
                              mmpose='1.3.2' if mmc is not None else None),
                timings=[asdict(t) for t in timings], skipped=skipped, notes=notes)


# ---- reporting ----------------------------------------------------------------------
def _rows(record: dict) -> Dict[tuple, Dict[str, dict]]:
    rows: Dict[tuple, Dict[str, dict]] = {}
    for t in record['timings']:
        rows.setdefault((t['codec'], t['op']), {})[t['impl']] = t
    return rows


def speedups(record: dict) -> List[dict]:
    """Per (codec, op, backend): the speed-up over MMPose and over the baseline."""
    out = []
    for (codec, op), impls in _rows(record).items():
        for impl in record['settings']['backends']:
            if impl not in impls:
                continue
            med = impls[impl]['median_us']
            ratio = {ref: impls[ref]['median_us'] / med if ref in impls else None
                     for ref in ('mmpose', 'baseline')}
            out.append(dict(codec=codec, op=op, impl=impl, vs_mmpose=ratio['mmpose'],
                            vs_baseline=ratio['baseline']))
    return out


def _x(v: Optional[float]) -> str:
    return '-' if v is None else (f'{v:.0f}x' if v >= 100 else f'{v:.3g}x')


def table(record: dict) -> str:
    """The text table: one row per (codec, op, implementation)."""
    m, s = record['machine'], record['settings']
    lines = [f"machine: {m['cpu']}, {m['logical_cores']} logical cores, "
             f"GPU: {m['gpu'] or 'none'}; {m['system']}; Python {m['python']}; "
             f"fastcodec {m['fastcodec']} ({m['fastcodec_threads']} threads)",
             f"MMPose: {s['mmpose'] or 'not installed (pip install mmpose==1.3.2 --no-deps)'}; "
             f"batch = {s['batch']} samples; median of repeated calls, spread = 25th-75th "
             'percentile; speed-up = median / median', '']
    head = (f"{'codec':48s} {'op':13s} {'impl':9s} {'median us':>11s} {'spread us':>19s} "
            f"{'x MMPose':>9s} {'x baseline':>10s}")
    lines += [head, '-' * len(head)]
    ups = {(u['codec'], u['op'], u['impl']): u for u in speedups(record)}
    for (codec, op), impls in _rows(record).items():
        for impl, t in impls.items():
            u = ups.get((codec, op, impl), {})
            spread = f"{t['p25_us']:.1f}-{t['p75_us']:.1f}"
            lines.append(f"{codec[:48]:48s} {op:13s} {impl:9s} {t['median_us']:11.1f} "
                         f"{spread:>19s} {_x(u.get('vs_mmpose')):>9s} "
                         f"{_x(u.get('vs_baseline')):>10s}")
    notes = sorted({(t['codec'].split('(')[0], t['note']) for t in record['timings']
                    if t['note']})
    if notes:
        lines += ['', 'baselines:'] + [f'  {c}: {n}' for c, n in notes]
    if record['skipped']:
        lines += ['', 'not timed:'] + [f'  {s}' for s in record['skipped']]
    lines += [f'note: {n}' for n in record.get('notes', [])]
    return '\n'.join(lines)


def chart(record: dict, path: str) -> None:
    """A PNG: per case, each backend's speed-up over MMPose (over the baseline when
    MMPose is not installed), log scale."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    ups = speedups(record)
    ref = 'vs_mmpose' if any(u['vs_mmpose'] for u in ups) else 'vs_baseline'
    cases = list(dict.fromkeys((u['codec'], u['op']) for u in ups if u[ref]))
    impls = record['settings']['backends']
    colors = {'cpp': '#1f77b4', 'numba': '#ff7f0e', 'cuda': '#2ca02c'}
    n = max(len(impls), 1)
    h = 0.8 / n
    fig, ax = plt.subplots(figsize=(10, 1.6 + 0.3 * n * max(len(cases), 1)))
    for j, impl in enumerate(impls):
        by_case = {(u['codec'], u['op']): u[ref] for u in ups if u['impl'] == impl}
        ys = [i + (j - (n - 1) / 2) * h for i, c in enumerate(cases) if by_case.get(c)]
        xs = [by_case[c] for c in cases if by_case.get(c)]
        ax.barh(ys, xs, height=h * 0.9, color=colors.get(impl, '#7f7f7f'), label=impl)
        for x, y in zip(xs, ys):
            ax.text(x * 1.05, y, _x(x), va='center', fontsize=6)
    ax.axvline(1.0, color='#555555', linestyle='--', linewidth=0.8)
    ax.set_xscale('log')
    ax.set_yticks(range(len(cases)))
    ax.set_yticklabels([f'{c} {op}' for c, op in cases], fontsize=7)
    ax.invert_yaxis()
    what = 'MMPose 1.3.2' if ref == 'vs_mmpose' else 'the plain baseline'
    ax.set_xlabel(f'speed-up over {what} (median / median, log scale; batch = '
                  f"{record['settings']['batch']})")
    m = record['machine']
    ax.set_title(f"fastcodec bench: {m['cpu']}, {m['logical_cores']} logical cores, "
                 f"GPU: {m['gpu'] or 'none'}\n{m['date']}", fontsize=9)
    ax.legend(fontsize=8, loc='lower right')
    ax.grid(axis='x', which='both', alpha=0.25)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(codec: Optional[str], quick: bool, batch: Optional[int], out: str,
         ops: Sequence[str] = OPS, with_mmpose: bool = True, progress: bool = True) -> int:
    """``fastcodec bench``: run, print the table, write ``OUT.png`` and ``OUT.json``."""
    try:
        import matplotlib  # noqa: F401 - both are the bench extra's
        import tqdm  # noqa: F401
    except ImportError as err:
        raise SystemExit(f'fastcodec bench: {err}; pip install "fastcodec[bench]"') from err
    record = run(codec, quick, batch, ops, with_mmpose, progress)
    print(table(record))
    base = out[:-5] if out.endswith('.json') else out[:-4] if out.endswith('.png') else out
    with open(base + '.json', 'w', encoding='utf-8') as f:
        json.dump(record, f, indent=1)
    chart(record, base + '.png')
    print(f'\nwritten: {base}.png (chart), {base}.json (every timing and the machine)')
    return 0
