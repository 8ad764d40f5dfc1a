"""Draw an articulated figure from COCO-18 keypoints, with its exact LIP parsing map.

Patterned upper garment, plain trousers, a distinct face: enough identity to see whether a
method keeps the face AND the clothes. Pure numpy + OpenCV.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# LIP ids used by the drawing.
_BG, _HAIR, _UPPER, _PANTS, _FACE, _LARM, _RARM, _LLEG, _RLEG, _LSHOE, _RSHOE = 0, 2, 5, 9, 13, 14, 15, 16, 17, 18, 19


@dataclass(frozen=True)
class FigureStyle:
    skin: tuple[int, int, int] = (224, 172, 140)
    hair: tuple[int, int, int] = (60, 35, 20)
    shirt: tuple[int, int, int] = (200, 30, 40)
    stripe: tuple[int, int, int] = (250, 240, 90)
    pants: tuple[int, int, int] = (40, 60, 150)
    shoes: tuple[int, int, int] = (30, 30, 30)
    background: tuple[int, int, int] = (190, 200, 210)
    stripe_period: int = 10


def default_pose(width: int, height: int, arms_up: bool = False) -> np.ndarray:
    """(18, 2) pixel COCO-18 keypoints of a standing figure; `arms_up` raises both arms."""
    u = np.array([width, height], dtype=np.float32)
    pts = {
        0: (0.50, 0.14), 1: (0.50, 0.25), 2: (0.40, 0.26), 5: (0.60, 0.26),
        3: (0.36, 0.40), 4: (0.34, 0.53), 6: (0.64, 0.40), 7: (0.66, 0.53),
        8: (0.44, 0.55), 11: (0.56, 0.55), 9: (0.43, 0.72), 10: (0.43, 0.89),
        12: (0.57, 0.72), 13: (0.57, 0.89), 14: (0.48, 0.12), 15: (0.52, 0.12),
        16: (0.46, 0.13), 17: (0.54, 0.13),
    }
    if arms_up:
        pts.update({3: (0.33, 0.17), 4: (0.30, 0.06), 6: (0.67, 0.17), 7: (0.70, 0.06)})
    return np.array([pts[i] for i in range(18)], dtype=np.float32) * u


def _limb(canvas: np.ndarray, labels: np.ndarray, a, b, width: int, colour, label: int) -> None:
    p, q = tuple(int(v) for v in a), tuple(int(v) for v in b)
    cv2.line(canvas, p, q, colour, width, cv2.LINE_AA)
    cv2.line(labels, p, q, label, width)


def draw_figure(keypoints: np.ndarray, width: int, height: int, style: FigureStyle = FigureStyle()) -> tuple[np.ndarray, np.ndarray]:
    """-> (RGB uint8 (H, W, 3), LIP labels uint8 (H, W)) for one figure."""
    k = keypoints
    scale = float(np.linalg.norm(k[2] - k[5]))  # shoulder width
    canvas = np.zeros((height, width, 3), np.uint8)
    canvas[:] = style.background
    labels = np.zeros((height, width), np.uint8)
    limb = max(3, int(scale * 0.28))
    # legs and shoes
    for hip, knee, ankle, leg_label, shoe_label in ((8, 9, 10, _PANTS, _RSHOE), (11, 12, 13, _PANTS, _LSHOE)):
        _limb(canvas, labels, k[hip], k[knee], int(limb * 1.3), style.pants, leg_label)
        _limb(canvas, labels, k[knee], k[ankle], int(limb * 1.2), style.pants, leg_label)
        foot = k[ankle] + np.array([0, limb * 0.5])
        cv2.ellipse(canvas, tuple(int(v) for v in foot), (int(limb * 0.9), int(limb * 0.5)), 0, 0, 360, style.shoes, -1)
        cv2.ellipse(labels, tuple(int(v) for v in foot), (int(limb * 0.9), int(limb * 0.5)), 0, 0, 360, shoe_label, -1)
    # torso: a striped shirt
    torso = np.array([k[2], k[5], k[11] + [scale * 0.05, 0], k[8] - [scale * 0.05, 0]], np.int32)
    shirt = np.zeros_like(labels)
    cv2.fillConvexPoly(shirt, torso, 1)
    rows = (np.arange(height)[:, None] // style.stripe_period) % 2 == 0
    colour = np.where(rows[..., None], np.array(style.shirt, np.uint8), np.array(style.stripe, np.uint8))
    canvas[shirt > 0] = np.broadcast_to(colour, (height, width, 3))[shirt > 0]
    labels[shirt > 0] = _UPPER
    # arms: sleeves to the elbow, skin below
    for shoulder, elbow, wrist, arm_label in ((2, 3, 4, _RARM), (5, 6, 7, _LARM)):
        _limb(canvas, labels, k[shoulder], k[elbow], limb, style.shirt, _UPPER)
        _limb(canvas, labels, k[elbow], k[wrist], int(limb * 0.8), style.skin, arm_label)
    # head: hair cap, face with eyes and mouth
    head_r = max(4, int(scale * 0.32))
    centre = tuple(int(v) for v in (k[0] + [0, -head_r * 0.1]))
    cv2.circle(canvas, (centre[0], centre[1] - head_r // 3), int(head_r * 1.05), style.hair, -1)
    cv2.circle(labels, (centre[0], centre[1] - head_r // 3), int(head_r * 1.05), _HAIR, -1)
    cv2.ellipse(canvas, centre, (int(head_r * 0.85), head_r), 0, 0, 360, style.skin, -1)
    cv2.ellipse(labels, centre, (int(head_r * 0.85), head_r), 0, 0, 360, _FACE, -1)
    for eye in (14, 15):
        cv2.circle(canvas, tuple(int(v) for v in k[eye] + [0, head_r * 0.15]), max(1, head_r // 6), (20, 20, 20), -1)
    cv2.ellipse(canvas, (centre[0], centre[1] + head_r // 2), (head_r // 3, max(1, head_r // 8)), 0, 0, 180, (150, 40, 40), -1)
    return canvas, labels
