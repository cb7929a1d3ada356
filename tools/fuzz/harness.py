"""Shared pieces of the fuzz campaign: the oracle, a comparison of nested results with
docs/design.md's tolerances, and a runner that calls MMPose and fastcodec on both CPU
backends with the same (copied) inputs."""
import copy

import numpy as np

import fastcodec
from fastcodec.mmpose_oracle import import_mmpose_codecs

mmc = import_mmpose_codecs()
BACKENDS = [b for b in ('cpp', 'numba') if b in fastcodec.available_backends()]

TARGET, COORD, SCORE, EXACT = 1e-5, 2e-3, 1e-4, 0.0


def to_np(x):
    try:
        import torch
        if isinstance(x, torch.Tensor):
            return x.detach().cpu().numpy()
    except ImportError:
        pass
    return x


def compare(ref, got, tol, path='out'):
    """Differences between ref and got as a list of strings; tol is a number or a
    function path -> number."""
    ref, got = to_np(ref), to_np(got)
    t = tol(path) if callable(tol) else tol
    out = []
    if isinstance(ref, dict):
        if not isinstance(got, dict):
            return [f'{path}: type {type(got).__name__} vs dict']
        if set(ref) != set(got):
            out.append(f'{path}: keys ref-only {sorted(set(ref) - set(got))} '
                       f'fc-only {sorted(set(got) - set(ref))}')
        for k in ref:
            if k in got:
                out += compare(ref[k], got[k], tol, f'{path}.{k}')
        return out
    if isinstance(ref, (tuple, list)) and not (len(ref) and np.isscalar(ref[0]) and
                                               isinstance(got, np.ndarray)):
        if not isinstance(got, (tuple, list)):
            return [f'{path}: type {type(got).__name__} vs {type(ref).__name__}']
        if len(ref) != len(got):
            return [f'{path}: len {len(got)} vs {len(ref)}']
        for i, (a, b) in enumerate(zip(ref, got)):
            out += compare(a, b, tol, f'{path}[{i}]')
        return out
    if ref is None or got is None:
        return [] if ref is None and got is None else [f'{path}: {got!r} vs {ref!r}']
    if isinstance(ref, np.ndarray) or isinstance(got, np.ndarray):
        if not isinstance(got, np.ndarray):
            return [f'{path}: type {type(got).__name__} vs ndarray']
        if not isinstance(ref, np.ndarray):
            ref = np.asarray(ref)
        if ref.shape != got.shape:
            return [f'{path}: shape {got.shape} vs {ref.shape}']
        if ref.dtype != got.dtype:
            out.append(f'{path}: dtype {got.dtype} vs {ref.dtype}')
        if ref.dtype.kind in 'fc' or got.dtype.kind in 'fc':
            a, b = ref.astype(np.float64), got.astype(np.float64)
            na, nb = np.isnan(a), np.isnan(b)
            if (na != nb).any():
                i = np.argwhere(na != nb)[0]
                out.append(f'{path}: NaN mismatch at {tuple(i)}: fc {b[tuple(i)]} ref {a[tuple(i)]} '
                           f'({int((na != nb).sum())} entries)')
            both = ~(na | nb)
            with np.errstate(invalid='ignore'):
                inf_bad = both & (np.isinf(a) | np.isinf(b)) & (a != b)
                d = np.where(both & ~np.isinf(a) & ~np.isinf(b), np.abs(a - b), 0)
            if inf_bad.any():
                i = np.argwhere(inf_bad)[0]
                out.append(f'{path}: inf mismatch at {tuple(i)}: fc {b[tuple(i)]} ref {a[tuple(i)]}')
            if d.size and d.max() > t:
                i = np.unravel_index(np.argmax(d), d.shape)
                out.append(f'{path}: max diff {d.max():.3g} > {t} at {i}: fc {b[i]} ref {a[i]} '
                           f'({int((d > t).sum())} entries)')
        elif not np.array_equal(ref, got):
            i = np.argwhere(ref != got)[0] if ref.shape else ()
            out.append(f'{path}: values differ at {tuple(i)}')
        return out
    if np.isscalar(ref) or np.isscalar(got):
        try:
            if ref != got and not (np.isnan(ref) and np.isnan(got)):
                if abs(float(ref) - float(got)) > t:
                    return [f'{path}: {got!r} vs {ref!r}']
        except TypeError:
            return [f'{path}: {got!r} vs {ref!r}']
        return []
    return [f'{path}: unhandled type {type(ref).__name__}']


def tol_enc(path):
    """An encode output's tolerance: weights exactly, targets within TARGET."""
    return 0.0 if 'weights' in path else TARGET


def tol_dec(path):
    """A decode output's tolerance: coordinates (the first output) COORD, scores SCORE."""
    return COORD if path.endswith('[0]') else SCORE


def call(fn, *args, **kwargs):
    """(result, None) or (None, exception) of fn on deep copies of the arguments."""
    args, kwargs = copy.deepcopy(args), copy.deepcopy(kwargs)
    try:
        return fn(*args, **kwargs), None
    except Exception as e:  # noqa: BLE001 - we record any exception
        return None, e


class Log:
    def __init__(self, name):
        self.name = name
        self.cases = 0
        self.fails = {}  # signature -> (count, first message)
        self.errors = {}

    payload = None

    def record(self, sig, msg):
        n, first = self.fails.get(sig, (0, msg))
        self.fails[sig] = (n + 1, first)
        if n == 0 and self.payload is not None:
            import os, pickle, re
            os.makedirs('cases', exist_ok=True)
            name = re.sub(r'[^A-Za-z0-9_.=-]+', '_', sig)[:150]
            with open(f'cases/{self.name}-{name}.pkl', 'wb') as f:
                pickle.dump(self.payload, f)
        if n == 0:
            print(f'[{self.name}] NEW {sig}\n    {msg}', flush=True)

    def summary(self):
        print(f'== {self.name}: {self.cases} cases, {len(self.fails)} failure kinds', flush=True)
        for sig, (n, msg) in self.fails.items():
            print(f'   {n:5d} x {sig}: {msg[:600]}', flush=True)


def check(log, label, ref_fn, fc_fn, tol, ctx, args=(), kw=None):
    """Run the oracle once and fastcodec on each backend, each on its own deep copy of
    args / kw (MMPose modifies some inputs in place); record differences.
    ctx: a short description (seed, config) printed with the first failure of a kind."""
    kw = kw or {}
    want, werr = call(ref_fn, *args, **kw)
    for b in BACKENDS:
        with fastcodec.use_backend(b):
            got, gerr = call(fc_fn, *args, **kw)
        if werr is not None or gerr is not None:
            if (werr is None) != (gerr is None):
                sig = (f'{label}:raise-mismatch ref={type(werr).__name__} '
                       f'fc={type(gerr).__name__}')
                log.record(sig, f'{ctx} [{b}] ref: {werr!r:.200} fc: {gerr!r:.300}')
            continue
        diffs = compare(want, got, tol)
        for d in diffs:
            key = d.split(':')[0]
            kind = d.split(':')[1].split()[0] if ':' in d else ''
            log.record(f'{label}:{key}:{kind}', f'{ctx} [{b}] {d}')
    log.cases += 1
    return want
