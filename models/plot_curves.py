"""Plot training curves (loss and learning rate against iterations) from train.py's
log.csv files into one PNG.

    python -m fastcodec.models.plot_curves work_dirs/a/log.csv [work_dirs/b/log.csv ...] --out curves.png
"""
from __future__ import annotations

import argparse
import csv
import os


def read_log(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return {k: [float(r[k]) for r in rows] for k in rows[0]} if rows else {}


def plot(paths, out, labels=None):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    for i, p in enumerate(paths):
        log = read_log(p)
        if not log:
            continue
        name = labels[i] if labels else os.path.basename(os.path.dirname(os.path.abspath(p)))
        ax1.plot(log['iter'], log['loss'], label=name)
        ax2.plot([t / 60 for t in log['elapsed_s']], log['lr'], label=name)
    ax1.set(xlabel='iteration', ylabel='training loss', yscale='log', title='loss')
    ax2.set(xlabel='minutes', ylabel='learning rate', title='schedule')
    ax1.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('logs', nargs='+')
    ap.add_argument('--out', default='curves.png')
    ap.add_argument('--labels', nargs='*')
    args = ap.parse_args(argv)
    print(plot(args.logs, args.out, args.labels))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
