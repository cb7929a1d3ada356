"""SPR, DecoupledHeatmap, AssociativeEmbedding: encode and decode vs MMPose 1.3.2."""
import copy
import random
import sys
import numpy as np
import torch
import fastcodec
import harness as H
import gen

mmc = H.mmc


def tol_enc(path):
    return 0.0 if 'weights' in path or 'coords' in path or 'indices' in path else H.TARGET


def tol_dec(path):
    return H.COORD if path.endswith('[0]') else H.SCORE


def seeded(fn, s):
    def run():
        np.random.seed(s)
        random.seed(s)
        return fn()
    return run


def main(seed, n, only=None):
    rng = np.random.default_rng(seed)
    log = H.Log('bottomup')
    for i in range(n):
        kind = str(rng.choice(['SPR', 'DecoupledHeatmap', 'AssociativeEmbedding']))
        if only and kind != only:
            continue
        W, Hh = [int(v) for v in rng.choice([4, 7, 16, 32, 48, 64], size=2)]
        if rng.random() < 0.4:
            W, Hh = 48, 64
        f = float(rng.choice([4, 2, 3.5]))
        inp = (int(W * f), int(Hh * f))
        cfg = dict(input_size=inp, heatmap_size=(W, Hh))
        K = int(rng.choice([1, 3, 17]))
        N = int(rng.choice([0, 1, 2, 3, 5, 8]))
        if kind == 'SPR':
            r = rng.random()
            if r < 0.4:
                cfg['sigma'] = float(rng.choice([2.0, 4.0, 1.0, 0.5]))
            elif r < 0.7:
                cfg['sigma'] = (float(rng.choice([2.0, 4.0, 3.0])), float(rng.choice([1.0, 2.0, 0.5])))
                cfg['generate_keypoint_heatmaps'] = True
            cfg['root_type'] = str(rng.choice(['kpt_center', 'bbox_center']))
            cfg['minimal_diagonal_length'] = float(rng.choice([5, 0, 32, 2.5]))
            cfg['background_weight'] = float(rng.choice([0.1, 0.0, 1.0]))
            cfg['decode_nms_kernel'] = int(rng.choice([5, 3, 1, 7]))
            cfg['decode_max_instances'] = int(rng.choice([30, 1, 5, 100]))
            cfg['decode_thr'] = float(rng.choice([0.01, 0.0, 0.5, -1.0]))
        elif kind == 'DecoupledHeatmap':
            cfg['root_type'] = str(rng.choice(['kpt_center', 'bbox_center']))
            cfg['heatmap_min_overlap'] = float(rng.choice([0.7, 0.5, 0.9, 0.1]))
            cfg['encode_max_instances'] = int(rng.choice([30, 1, 2, 0]))
        else:
            if rng.random() < 0.5:
                cfg['sigma'] = float(rng.choice([2.0, 1.0, 3.0]))
            cfg['use_udp'] = bool(rng.random() < 0.5)
            order = list(range(K))
            if rng.random() < 0.5:
                rng.shuffle(order)
            cfg['decode_keypoint_order'] = [int(o) for o in order]
            cfg['decode_nms_kernel'] = int(rng.choice([5, 3, 1]))
            cfg['decode_gaussian_kernel'] = int(rng.choice([3, 5, 7]))
            cfg['decode_keypoint_thr'] = float(rng.choice([0.1, 0.0, 0.5]))
            cfg['decode_tag_thr'] = float(rng.choice([1.0, 0.1, 10.0]))
            cfg['decode_topk'] = int(rng.choice([30, 1, 5, 10]))
            cfg['decode_center_shift'] = float(rng.choice([0.0, 0.5, -0.5]))
            cfg['decode_max_instances'] = [None, 1, 3, 30][int(rng.integers(4))]
        try:
            ref = getattr(mmc, kind)(**cfg)
        except Exception:
            continue
        try:
            fc = getattr(fastcodec, kind)(**cfg)
        except Exception as e:
            log.record(f'{kind}:ctor-fc-raises', f'{cfg}: {e!r:.200}')
            continue
        kps = gen.keypoints(rng, N, K, inp, ref.scale_factor if hasattr(ref, 'scale_factor') else (1, 1))
        # instances: mostly compact people, some scattered
        centre = rng.uniform(0, 1, (N, 1, 2)) * np.array(inp)
        people = centre + rng.normal(0, rng.choice([5, 20, 60]), (N, K, 2))
        kps = np.where(rng.random((N, 1, 1)) < 0.7, people, kps)
        if kind == 'DecoupledHeatmap':  # MMPose allocates (6 sigma + 1)^2 per keypoint
            kps = np.clip(kps, -2 * max(inp), 3 * max(inp))
        kps = gen.cast(rng, kps, ('float32', 'float32', 'float64'))
        vis = gen.visibility(rng, N, K).astype(np.float32)
        args = (kps, vis)
        kw = {}
        if kind == 'DecoupledHeatmap' and rng.random() < 0.3 and N:
            lo, hi = kps.min(1) - 5, kps.max(1) + 5
            kw['bbox'] = np.concatenate([lo, hi], -1).astype(np.float32)
        s = int(rng.integers(1 << 30))
        ctx = f'seed={seed} i={i} {kind} cfg={cfg} N={N} K={K} {kps.dtype} kw={list(kw)}'
        log.payload = dict(kind=kind, cfg=cfg, args=args, kw=kw, s=s)
        want = H.check(log, f'{kind}.encode', seeded(lambda: ref.encode(*copy.deepcopy(args), **copy.deepcopy(kw)), s),
                       seeded(lambda: fc.encode(*copy.deepcopy(args), **copy.deepcopy(kw)), s), tol_enc, ctx)
        # decode
        if kind == 'SPR':
            C = 1 + (K if cfg.get('generate_keypoint_heatmaps') else 0)
            base = want['heatmaps'] if want is not None else None
            hm = gen.maps(rng, (C, Hh, W), base)
            hm = np.clip(hm, -1, 1)
            disp = (want['displacements'] + rng.normal(0, 0.3, (2 * K, Hh, W))).astype(np.float32) \
                if want is not None and rng.random() < 0.6 else rng.normal(0, 5, (2 * K, Hh, W)).astype(np.float32)
            log.payload = dict(kind=kind, cfg=cfg, hm=hm, disp=disp)
            H.check(log, 'SPR.decode', lambda: ref.decode(torch.from_numpy(hm.copy()), torch.from_numpy(disp.copy())),
                    lambda: fc.decode(hm, disp), tol_dec, ctx)
        elif kind == 'DecoupledHeatmap':
            M = int(rng.choice([0, 1, 3])) if want is None else len(want['instance_coords'])
            if M == 0:
                continue
            maps = gen.maps(rng, (M, K, Hh, W), want['instance_heatmaps'].reshape(M, K, Hh, W) if want is not None else None)
            sc = rng.uniform(0, 1, (M, 1)).astype(np.float32)
            log.payload = dict(kind=kind, cfg=cfg, maps=maps, sc=sc)
            H.check(log, 'DecoupledHeatmap.decode', ref.decode, fc.decode, tol_dec, ctx, (maps, sc))
        else:
            base = want['heatmaps'] if want is not None else None
            hm = gen.maps(rng, (K, Hh, W), base)
            tags = np.zeros((K, Hh, W), np.float32)
            if want is not None:
                idx = want['keypoint_indices']
                for nn, kk in zip(*np.nonzero(idx[..., 1])):
                    tags[kk].reshape(-1)[idx[nn, kk, 0]] = nn + 1
            tags = tags + rng.normal(0, rng.choice([0.0, 0.1, 1.0]), tags.shape).astype(np.float32)
            if rng.random() < 0.3:
                tags = np.concatenate([tags, tags + 0.05], 0)  # L = 2 tags per keypoint
            log.payload = dict(kind=kind, cfg=cfg, hm=hm, tags=tags)

            def fc_dec():
                k, s_, inst = fc.batch_decode(hm[None], tags[None])
                return [k[0]], [s_[0]]

            def ref_dec():
                return ref.batch_decode(torch.from_numpy(hm[None].copy()), torch.from_numpy(tags[None].copy()))

            want_d, werr = H.call(ref_dec)
            for b in H.BACKENDS:
                with fastcodec.use_backend(b):
                    got, gerr = H.call(lambda: fc.batch_decode(hm[None], tags[None]))
                if (werr is None) != (gerr is None):
                    log.record(f'AE.decode:raise ref={type(werr).__name__} fc={type(gerr).__name__}',
                               f'{ctx} [{b}] {werr!r:.200} / {gerr!r:.200}')
                    continue
                if werr is not None:
                    continue
                # documented: an all-zero map under use_udp is NaN in MMPose (its keypoints'
                # scores NaN, positions from the NaN map); fastcodec's are finite
                wk = [np.where(np.isnan(s_)[..., None], 0, k_) for k_, s_ in zip(want_d[0], want_d[1])]
                gk = [np.where(np.isnan(s_)[..., None], 0, k_) if np.shape(k_)[:-1] == np.shape(s_) else k_
                      for k_, s_ in zip(got[0], want_d[1])]
                ws = [np.where(np.isnan(s_), 0, s_) for s_ in want_d[1]]
                gs = [np.where(np.isnan(w_), 0, s_) if np.shape(w_) == np.shape(s_) else s_
                      for s_, w_ in zip(got[1], want_d[1])]
                for d in H.compare((wk, ws, list(want_d[2])), (gk, gs, list(got[2])), tol_dec, 'dec'):
                    log.record(f'AE.decode:{d.split(":")[0][:12]}:{d.split(":")[1].split()[0]}', f'{ctx} [{b}] {d}')
            log.cases += 1
    log.summary()


if __name__ == '__main__':
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None)
