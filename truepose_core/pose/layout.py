"""A coarse target layout (LIP labels) from a skeleton: where face, hair, clothes and limbs
will be in the output, for HPFA target routing and as inpainting masks."""

from __future__ import annotations

import cv2
import numpy as np

from ..parsing.labels import LIP_NAMES
from .keypoints import PoseFrame

_ID = {name: i for i, name in enumerate(LIP_NAMES)}


def _ok(*points: np.ndarray) -> bool:
    return all(np.isfinite(p).all() for p in points)


def _body_scale(k: np.ndarray) -> float:
    """A length that tracks body size: shoulder width, else neck-hip, else neck-nose."""
    for a, b, factor in ((2, 5, 1.0), (1, 8, 0.55), (1, 11, 0.55), (0, 1, 1.6)):
        if _ok(k[a], k[b]):
            return float(np.linalg.norm(k[a] - k[b])) * factor
    return 0.0


def _segment(labels: np.ndarray, a: np.ndarray, b: np.ndarray, width: float, label: int) -> None:
    if _ok(a, b):
        cv2.line(labels, tuple(int(v) for v in a), tuple(int(v) for v in b), label, max(1, int(width)))


def draw_layout(frame: PoseFrame, width: int, height: int) -> np.ndarray:
    """(H, W) uint8 LIP ids; 0 where no body part is expected."""
    labels = np.zeros((height, width), np.uint8)
    scale_xy = np.array([width / frame.width, height / frame.height], np.float32)
    for person in frame.people:
        k = person.body * scale_xy
        s = _body_scale(k)
        if s <= 0:
            continue
        limb = 0.30 * s
        # legs and shoes first: the torso and arms draw over them
        if _ok(k[8], k[11]):
            hips = np.array([k[8] - [0.1 * s, 0], k[11] + [0.1 * s, 0], k[11] + [0.1 * s, 0.2 * s], k[8] - [0.1 * s, -0.2 * s]], np.int32)
            cv2.fillConvexPoly(labels, hips, _ID["Pants"])
        for hip, knee, ankle, shoe in ((8, 9, 10, "Right-shoe"), (11, 12, 13, "Left-shoe")):
            _segment(labels, k[hip], k[knee], limb * 1.3, _ID["Pants"])
            _segment(labels, k[knee], k[ankle], limb * 1.2, _ID["Pants"])
            if _ok(k[ankle]):
                foot = tuple(int(v) for v in k[ankle] + [0, 0.12 * s])
                cv2.ellipse(labels, foot, (int(0.25 * s) + 1, int(0.13 * s) + 1), 0, 0, 360, _ID[shoe], -1)
        # torso: shoulders to hips
        corners = [k[i] for i in (2, 5, 11, 8)]
        if all(_ok(c) for c in corners):
            cv2.fillConvexPoly(labels, np.array(corners, np.int32), _ID["Upper-clothes"])
        elif _ok(k[1]):
            cv2.circle(labels, tuple(int(v) for v in k[1] + [0, 0.5 * s]), int(0.5 * s), _ID["Upper-clothes"], -1)
        # arms: sleeves to the elbow, skin below
        for shoulder, elbow, wrist, arm in ((2, 3, 4, "Right-arm"), (5, 6, 7, "Left-arm")):
            _segment(labels, k[shoulder], k[elbow], limb, _ID["Upper-clothes"])
            _segment(labels, k[elbow], k[wrist], limb * 0.8, _ID[arm])
        # head: hair cap behind the face
        head = [k[i] for i in (0, 14, 15, 16, 17) if _ok(k[i])]
        if head:
            centre = np.mean(head, axis=0)
            r = max(2.0, 0.32 * s)
            cv2.circle(labels, tuple(int(v) for v in centre - [0, 0.35 * r]), int(r * 1.05), _ID["Hair"], -1)
            cv2.ellipse(labels, tuple(int(v) for v in centre), (int(r * 0.85), int(r)), 0, 0, 360, _ID["Face"], -1)
    return labels
