"""Synthetic COCO-17 keypoint data: articulated figures rendered on textured backgrounds.

    fastcodec synth OUT_DIR --train 800 --val 200 [--width 320 --height 240]

writes a real COCO-format dataset::

    OUT_DIR/images/{train,val}/000000001.jpg
    OUT_DIR/annotations/person_keypoints_{train,val}.json

Each figure is a 3-D skeleton (body proportions of a ~1.75 m adult, joint angles sampled
within anatomical ranges, yaw within +-70 degrees of facing the camera) projected with
weak perspective and painted part by part in depth order: a torso polygon, limbs as thick
strokes, a head with eyes, nose and ears. Several people per image may overlap; boxes
and textured blobs partly hide them; people near the edges are cut by the image border.
Visibility flags follow COCO: 2 visible, 1 labelled but hidden (by another person, an
occluder, or the person's own body), 0 outside the image (x = y = 0).

``--mode 3d`` writes skeleton motion sequences instead (see :func:`write_motion`).
"""
from __future__ import annotations

import argparse
import json
import os
from typing import Dict, Tuple

import cv2
import numpy as np

from fastcodec.models.data.meta_coco17 import KEYPOINT_NAMES, SKELETON

K = 17
BODY_HEIGHT = 1.75  # metres, head top to ankles with straight legs

# ---------------------------------------------------------------------------------------
# 3-D skeleton. Body frame: x = the person's left, y = up, z = forward (towards the
# camera at yaw 0). Units: metres, origin at the pelvis.


def _rx(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def _ry(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def _rz(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def _rotate_towards(v, target, angle):
    """Rotate unit vector v by ``angle`` in the plane of (v, target), towards target."""
    axis = np.cross(v, target)
    n = np.linalg.norm(axis)
    if n < 1e-6:
        axis = np.array([1.0, 0.0, 0.0]) if abs(v[0]) < 0.9 else np.array([0.0, 0.0, 1.0])
        axis = np.cross(v, axis)
        n = np.linalg.norm(axis)
    axis = axis / n
    c, s = np.cos(angle), np.sin(angle)
    return v * c + np.cross(axis, v) * s + axis * np.dot(axis, v) * (1 - c)


POSE_RANGES = dict(  # radians; name -> (low, high)
    lean_fwd=(-0.15, 0.35), lean_side=(-0.15, 0.15), head_yaw=(-0.6, 0.6),
    head_pitch=(-0.25, 0.25),
    l_arm_abd=(0.0, 2.6), r_arm_abd=(0.0, 2.6), l_arm_flex=(-0.5, 1.9),
    r_arm_flex=(-0.5, 1.9), l_elbow=(0.0, 2.3), r_elbow=(0.0, 2.3),
    l_leg_abd=(0.0, 0.5), r_leg_abd=(0.0, 0.5), l_leg_flex=(-0.4, 1.5),
    r_leg_flex=(-0.4, 1.5), l_knee=(0.0, 1.9), r_knee=(0.0, 1.9),
    yaw=(-1.2, 1.2), roll=(-0.15, 0.15))


def sample_pose_params(rng: np.random.Generator) -> Dict[str, float]:
    p = {k: float(rng.uniform(lo, hi)) for k, (lo, hi) in POSE_RANGES.items()}
    # Most people stand: keep legs closer to straight most of the time.
    for side in 'lr':
        if rng.random() < 0.6:
            p[f'{side}_leg_flex'] *= 0.3
            p[f'{side}_knee'] *= 0.3
    return p


def skeleton_3d(p: Dict[str, float]) -> Tuple[np.ndarray, Dict[str, np.ndarray]]:
    """Joint angles -> COCO-17 joints (17, 3) in the body frame rotated by the global
    yaw/roll, and extra points (head centre, neck, forward axis of the head)."""
    down = np.array([0.0, -1.0, 0.0])
    r_torso = _rz(p['lean_side']) @ _rx(-p['lean_fwd'])
    fwd = r_torso @ np.array([0.0, 0.0, 1.0])
    spine = r_torso @ np.array([0.0, 1.0, 0.0])
    neck = spine * 0.52
    j = np.zeros((K, 3))
    for i, s in ((5, 1), (6, -1)):  # shoulders
        j[i] = neck + r_torso @ np.array([0.19 * s, -0.05, 0.0])
    for i, s in ((11, 1), (12, -1)):  # hips
        j[i] = np.array([0.10 * s, 0.0, 0.0])
    head_c = neck + r_torso @ np.array([0.0, 0.15, 0.02])
    r_head = r_torso @ _ry(p['head_yaw']) @ _rx(-p['head_pitch'])
    j[0] = head_c + r_head @ np.array([0.0, -0.02, 0.11])
    j[1] = head_c + r_head @ np.array([0.035, 0.025, 0.095])
    j[2] = head_c + r_head @ np.array([-0.035, 0.025, 0.095])
    j[3] = head_c + r_head @ np.array([0.105, 0.0, 0.0])
    j[4] = head_c + r_head @ np.array([-0.105, 0.0, 0.0])
    for side, s, sh, el, wr in (('l', 1, 5, 7, 9), ('r', -1, 6, 8, 10)):
        u = r_torso @ _rx(-p[f'{side}_arm_flex']) @ _rz(s * p[f'{side}_arm_abd']) @ down
        j[el] = j[sh] + 0.30 * u
        v = _rotate_towards(u, fwd + 0.3 * spine, p[f'{side}_elbow'])
        j[wr] = j[el] + 0.26 * v
    for side, s, hp, kn, an in (('l', 1, 11, 13, 15), ('r', -1, 12, 14, 16)):
        t = _rx(-p[f'{side}_leg_flex']) @ _rz(s * p[f'{side}_leg_abd']) @ down
        j[kn] = j[hp] + 0.45 * t
        sh_dir = _rotate_towards(t, -fwd, p[f'{side}_knee'])
        j[an] = j[kn] + 0.43 * sh_dir
    r_glob = _rz(p['roll']) @ _ry(p['yaw'])
    extra = dict(head_c=head_c, neck=neck, head_fwd=r_head @ np.array([0.0, 0.0, 1.0]),
                 head_left=r_head @ np.array([1.0, 0.0, 0.0]))
    j = j @ r_glob.T
    extra = {k: r_glob @ v for k, v in extra.items()}
    return j, extra


def body_to_camera(x: np.ndarray) -> np.ndarray:
    """Body frame (left, up, forward) -> camera frame (x right, y down, z into scene)
    for a person facing the camera."""
    return x * np.array([1.0, -1.0, -1.0])


# ---------------------------------------------------------------------------------------
# Painting


def _background(rng, w, h):
    small = rng.uniform(0, 255, (rng.integers(2, 8), rng.integers(2, 8), 3))
    img = cv2.resize(small.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    img = img * rng.uniform(0.4, 1.0) + rng.uniform(0, 100)
    for _ in range(rng.integers(5, 25)):
        color = tuple(float(c) for c in rng.uniform(0, 255, 3))
        kind = rng.integers(0, 3)
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        if kind == 0:
            cv2.line(img, (x0, y0), (int(rng.integers(0, w)), int(rng.integers(0, h))), color,
                     int(rng.integers(1, 8)), cv2.LINE_AA)
        elif kind == 1:
            cv2.rectangle(img, (x0, y0), (x0 + int(rng.integers(5, w // 3)),
                                          y0 + int(rng.integers(5, h // 3))), color, -1)
        else:
            cv2.circle(img, (x0, y0), int(rng.integers(3, min(w, h) // 6)), color, -1,
                       cv2.LINE_AA)
    img += rng.normal(0, rng.uniform(2, 12), img.shape).astype(np.float32)
    return img


class _Canvas:
    """An image plus a layer map: the id of the last primitive painted at each pixel."""

    def __init__(self, img):
        self.img = img
        self.layer = np.zeros(img.shape[:2], np.int32)
        self.next_id = 1

    def paint(self, draw, color, mask=None) -> int:
        pid = self.next_id
        self.next_id += 1
        draw(self.img, color)
        draw(self.layer, pid)
        if mask is not None:
            draw(mask, 1)
        return pid


def _pt(x, shift=4):
    return (int(round(x[0] * (1 << shift))), int(round(x[1] * (1 << shift))))


def _line(a, b, thick):
    def draw(dst, color):
        aa = cv2.LINE_AA if dst.dtype == np.float32 else cv2.LINE_8
        cv2.line(dst, _pt(a), _pt(b), color, max(1, int(round(thick))), aa, 4)
    return draw


def _circle(c, r):
    def draw(dst, color):
        aa = cv2.LINE_AA if dst.dtype == np.float32 else cv2.LINE_8
        cv2.circle(dst, _pt(c), max(1, int(round(r * 16))), color, -1, aa, 4)
    return draw


def _poly(pts):
    def draw(dst, color):
        aa = cv2.LINE_AA if dst.dtype == np.float32 else cv2.LINE_8
        cv2.fillPoly(dst, [np.array([_pt(p) for p in pts], np.int32)], color, aa, 4)
    return draw


def _color(rng, base=None, spread=40):
    if base is None:
        return tuple(float(c) for c in rng.uniform(0, 255, 3))
    return tuple(float(np.clip(b + rng.uniform(-spread, spread), 0, 255)) for b in base)


def _shade(color, factor):
    return tuple(c * factor for c in color)


def render_person(canvas: _Canvas, rng, params, center, px_per_m, mask):
    """Paint one person; returns keypoints (17, 2) in pixels, each keypoint's largest
    adjacent primitive id (17,), and a self-hidden flag (17,) for face points that
    look away from the camera."""
    j3, extra = skeleton_3d(params)
    cam = body_to_camera(j3)
    head_c = body_to_camera(extra['head_c'])
    neck = body_to_camera(extra['neck'])
    head_fwd = body_to_camera(extra['head_fwd'])
    head_left = body_to_camera(extra['head_left'])
    # place so that the figure's vertical middle (between head top and ankles) is `center`
    mid = 0.5 * (head_c[1] - 0.12 + cam[15:17, 1].max())
    offset = np.array([center[0], center[1] - mid * px_per_m])
    kp = cam[:, :2] * px_per_m + offset
    hc = head_c[:2] * px_per_m + offset
    nk = neck[:2] * px_per_m + offset
    s = px_per_m

    skin = _color(rng, (rng.uniform(80, 230), rng.uniform(60, 200), rng.uniform(50, 190)), 20)
    shirt, pants = _color(rng), _color(rng)
    shoe = _color(rng, (40, 40, 40), 30)
    parts = []  # (depth, name, draw, color)

    def depth(*idx):
        return float(np.mean([cam[i, 2] for i in idx]))

    torso = [kp[5], kp[6], kp[12], kp[11]]
    parts.append((depth(5, 6, 11, 12), 'torso', _poly(torso), shirt))
    parts.append((neck[2] + 0.01, 'neck', _line(nk, hc, 0.08 * s), skin))
    parts.append((head_c[2] - 0.005, 'head', _circle(hc, 0.115 * s), skin))
    for name, a, b, th, col in (('l_uarm', 5, 7, 0.10, shirt), ('r_uarm', 6, 8, 0.10, shirt),
                                ('l_farm', 7, 9, 0.075, skin), ('r_farm', 8, 10, 0.075, skin),
                                ('l_thigh', 11, 13, 0.14, pants), ('r_thigh', 12, 14, 0.14, pants),
                                ('l_shin', 13, 15, 0.11, pants), ('r_shin', 14, 16, 0.11, pants)):
        parts.append((depth(a, b), name, _line(kp[a], kp[b], th * s), col))
    for name, i, col, r in (('l_hand', 9, skin, 0.05), ('r_hand', 10, skin, 0.05),
                            ('l_foot', 15, shoe, 0.06), ('r_foot', 16, shoe, 0.06)):
        parts.append((cam[i, 2] - 0.01, name, _circle(kp[i], r * s), col))
    parts.sort(key=lambda t: -t[0])  # far first
    ids = {}
    for _, name, draw, col in parts:
        ids[name] = canvas.paint(draw, col, mask)
    # face: drawn on the head when turned towards the camera (camera looks along +z).
    # Eyes, nose and ears are darker than the skin so that, as in photographs, they are
    # the most precisely locatable points (COCO's OKS sigmas are smallest for them).
    facing = -head_fwd[2]
    hidden = np.zeros(K, bool)
    dark = _color(rng, (30, 30, 30), 20)
    face_ids = {}
    for i in (1, 2):
        side = head_left if i == 1 else -head_left
        n = head_fwd * 0.95 + side * 0.35
        if -n[2] > 0.15:
            face_ids[i] = canvas.paint(_circle(kp[i], 0.022 * s), dark)
        else:
            hidden[i] = True
    if facing > 0.25:
        face_ids[0] = canvas.paint(_circle(kp[0], 0.025 * s), _color(rng, _shade(skin, 0.55), 20))
    else:
        hidden[0] = True
    for i in (3, 4):
        side = head_left if i == 3 else -head_left
        if -side[2] > -0.35:
            face_ids[i] = canvas.paint(_circle(kp[i], 0.032 * s), _color(rng, _shade(skin, 0.75), 10),
                                        mask)
        else:
            hidden[i] = True
    adj = {0: ['head'], 1: ['head'], 2: ['head'], 3: ['head'], 4: ['head'],
           5: ['torso', 'l_uarm'], 6: ['torso', 'r_uarm'], 7: ['l_uarm', 'l_farm'],
           8: ['r_uarm', 'r_farm'], 9: ['l_farm', 'l_hand'], 10: ['r_farm', 'r_hand'],
           11: ['torso', 'l_thigh'], 12: ['torso', 'r_thigh'], 13: ['l_thigh', 'l_shin'],
           14: ['r_thigh', 'r_shin'], 15: ['l_shin', 'l_foot'], 16: ['r_shin', 'r_foot']}
    top = np.array([max([ids[n] for n in adj[i]] + [face_ids.get(i, 0)]) for i in range(K)])
    return kp.astype(np.float64), top, hidden


def render_image(rng: np.random.Generator, width: int, height: int, max_people: int = 4):
    """One synthetic image (H, W, 3) uint8 BGR and its people: list of dicts with
    keypoints (17, 3) [x, y, v], bbox [x, y, w, h], area."""
    canvas = _Canvas(_background(rng, width, height))
    n = int(rng.integers(1, max_people + 1))
    heights = np.sort(rng.uniform(0.35, 0.95, n) * height)  # small (far) first
    people = []
    for hp in heights:
        center = (rng.uniform(-0.05, 1.05) * width, rng.uniform(0.15, 0.85) * height)
        mask = np.zeros((height, width), np.uint8)
        kp, top, hidden = render_person(canvas, rng, sample_pose_params(rng), center,
                                        hp / BODY_HEIGHT, mask)
        people.append((kp, top, hidden, mask))
    for _ in range(rng.poisson(0.7)):  # occluders
        c = (rng.uniform(0, width), rng.uniform(0, height))
        size = rng.uniform(0.1, 0.3) * height
        col = _color(rng)
        if rng.random() < 0.5:
            pts = [(c[0] - size, c[1] - size * 0.6), (c[0] + size, c[1] - size * 0.6),
                   (c[0] + size, c[1] + size * 0.6), (c[0] - size, c[1] + size * 0.6)]
            canvas.paint(_poly([np.array(p) for p in pts]), col)
        else:
            canvas.paint(_circle(np.array(c), size * 0.7), col)
    img = cv2.GaussianBlur(canvas.img, (3, 3), 0.6)
    img += rng.normal(0, 3, img.shape).astype(np.float32)
    img = np.clip(img, 0, 255).astype(np.uint8)

    anns = []
    for kp, top, hidden, mask in people:
        out = np.zeros((K, 3))
        for i in range(K):
            x, y = kp[i]
            if not (0 <= x < width and 0 <= y < height):
                continue
            ix, iy = min(int(x), width - 1), min(int(y), height - 1)
            visible = canvas.layer[iy, ix] <= top[i] and not hidden[i]
            out[i] = (x, y, 2 if visible else 1)
        ys, xs = np.nonzero(mask)
        if len(xs) == 0:
            continue
        x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
        anns.append(dict(keypoints=out, bbox=[float(x0), float(y0), float(x1 - x0),
                                              float(y1 - y0)], area=float(len(xs))))
    return img, anns


# ---------------------------------------------------------------------------------------
# COCO writer


def coco_categories():
    return [dict(supercategory='person', id=1, name='person', keypoints=KEYPOINT_NAMES,
                 skeleton=[[a + 1, b + 1] for a, b in SKELETON])]


def write_split(out_dir: str, split: str, num_images: int, seed: int, width: int,
                height: int, max_people: int = 4, first_id: int = 1) -> str:
    """Render ``num_images`` images into OUT/images/SPLIT and write
    OUT/annotations/person_keypoints_SPLIT.json; returns the JSON path."""
    img_dir = os.path.join(out_dir, 'images', split)
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(os.path.join(out_dir, 'annotations'), exist_ok=True)
    images, annotations = [], []
    ann_id = first_id * 100
    for n in range(num_images):
        image_id = first_id + n
        rng = np.random.default_rng([seed, image_id])
        img, people = render_image(rng, width, height, max_people)
        name = f'{image_id:012d}.jpg'
        cv2.imwrite(os.path.join(img_dir, name), img, [cv2.IMWRITE_JPEG_QUALITY, 92])
        images.append(dict(id=image_id, file_name=name, width=width, height=height))
        for p in people:
            kps = p['keypoints']
            x, y, w, h = p['bbox']
            annotations.append(dict(
                id=ann_id, image_id=image_id, category_id=1, iscrowd=0,
                keypoints=[round(float(v), 2) for v in kps.reshape(-1)],
                num_keypoints=int((kps[:, 2] > 0).sum()), bbox=p['bbox'], area=p['area'],
                segmentation=[[x, y, x + w, y, x + w, y + h, x, y + h]]))
            ann_id += 1
    path = os.path.join(out_dir, 'annotations', f'person_keypoints_{split}.json')
    with open(path, 'w') as f:
        json.dump(dict(info=dict(description='fastcodec synthetic COCO-17 keypoints'),
                       images=images, annotations=annotations,
                       categories=coco_categories()), f)
    return path


def generate(out_dir: str, num_train: int, num_val: int, seed: int = 0, width: int = 320,
             height: int = 240, max_people: int = 4) -> Dict[str, str]:
    """Write a train and a val split; returns the two annotation paths."""
    return dict(
        train=write_split(out_dir, 'train', num_train, seed, width, height, max_people, 1),
        val=write_split(out_dir, 'val', num_val, seed, width, height, max_people, 10_000_000))


# ---------------------------------------------------------------------------------------
# 3-D motion sequences for the lifting models


def motion_sequence(rng: np.random.Generator, length: int, fps: float = 50.0):
    """One smooth motion: every joint angle oscillates around a sampled pose. Returns
    joints (T, 17, 3) in metres, body frame with the global yaw/roll applied."""
    base = sample_pose_params(rng)
    t = np.arange(length) / fps
    frames = []
    freq = {k: rng.uniform(0.2, 1.2) for k in base}
    phase = {k: rng.uniform(0, 2 * np.pi) for k in base}
    amp = {k: 0.25 * (POSE_RANGES[k][1] - POSE_RANGES[k][0]) for k in base}
    for ti in t:
        p = {}
        for k, v in base.items():
            lo, hi = POSE_RANGES[k]
            p[k] = float(np.clip(v + amp[k] * np.sin(2 * np.pi * freq[k] * ti + phase[k]),
                                 lo, hi))
        frames.append(skeleton_3d(p)[0])
    return np.stack(frames)


def write_motion(out_path: str, num_sequences: int, length: int, seed: int) -> str:
    """Sequences of 3-D skeletons in camera coordinates (millimetres) with their
    perspective projections: keypoints_3d (S, T, 17, 3), keypoints_2d (S, T, 17, 2),
    camera intrinsics f (S, 2), c (S, 2), extrinsics R (S, 3, 3), T (S, 3), and
    image size (S, 2), in one .npz file."""
    rng = np.random.default_rng(seed)
    out = dict(keypoints_3d=[], keypoints_2d=[], f=[], c=[], R=[], T=[], image_size=[])
    for _ in range(num_sequences):
        j = motion_sequence(rng, length)  # body frame, metres
        drift = np.cumsum(rng.normal(0, 0.004, (length, 3)) * np.array([1, 0, 1]), 0)
        world = j + drift[:, None]
        yaw = rng.uniform(-np.pi, np.pi)
        R = _ry(yaw) @ _rx(rng.uniform(-0.2, 0.2))
        dist = rng.uniform(3.5, 6.0)
        T = np.array([0.0, 0.2, dist])
        cam = (body_to_camera(world) @ R.T + T) * 1000.0  # mm
        f = np.full(2, rng.uniform(900, 1200))
        c = np.array([500.0, 500.0]) + rng.normal(0, 5, 2)
        kp2 = cam[..., :2] / cam[..., 2:3] * f + c
        for k, v in (('keypoints_3d', cam), ('keypoints_2d', kp2), ('f', f), ('c', c),
                     ('R', R), ('T', T * 1000.0), ('image_size', np.array([1000, 1000]))):
            out[k].append(v)
    arrays = {k: np.asarray(np.stack(v), np.float32) for k, v in out.items()}
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    np.savez_compressed(out_path, **arrays)
    return out_path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog='fastcodec synth', description=__doc__.split('\n\n')[0])
    ap.add_argument('out_dir')
    ap.add_argument('--mode', choices=['2d', '3d'], default='2d')
    ap.add_argument('--train', type=int, default=800, help='train images (3d: sequences)')
    ap.add_argument('--val', type=int, default=200, help='val images (3d: sequences)')
    ap.add_argument('--width', type=int, default=320)
    ap.add_argument('--height', type=int, default=240)
    ap.add_argument('--max-people', type=int, default=4)
    ap.add_argument('--length', type=int, default=243, help='3d: frames per sequence')
    ap.add_argument('--seed', type=int, default=0)
    args = ap.parse_args(argv)
    if args.mode == '3d':
        for split, n, s in (('train', args.train, args.seed), ('val', args.val, args.seed + 1)):
            path = write_motion(os.path.join(args.out_dir, f'motion_{split}.npz'), n,
                                args.length, s)
            print(f'{split}: {n} sequences x {args.length} frames -> {path}')
        return 0
    paths = generate(args.out_dir, args.train, args.val, args.seed, args.width, args.height,
                     args.max_people)
    for split, path in paths.items():
        print(f'{split}: {path}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
