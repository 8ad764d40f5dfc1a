"""Render COCO-18 skeletons as the standard OpenPose control image (RGB, black canvas)."""

from __future__ import annotations

import math

import cv2
import numpy as np

from .keypoints import PoseFrame
from .skeleton import COLOURS, JOINT_RADIUS, LIMB_COLOUR_FACTOR, LIMBS, STICK_WIDTH


def render_frame(frame: PoseFrame, width: int, height: int, stick_scale: float = 1.0) -> np.ndarray:
    """(H, W, 3) uint8 RGB. Limbs: filled ellipses at 60% colour; joints: full-colour discs."""
    canvas = np.zeros((height, width, 3), np.uint8)
    sx, sy = width / frame.width, height / frame.height
    stick = max(1, int(round(STICK_WIDTH * stick_scale)))
    for person in frame.people:
        pts = person.body * np.array([sx, sy], np.float32)
        for i, (a, b) in enumerate(LIMBS):
            if not (np.isfinite(pts[a]).all() and np.isfinite(pts[b]).all()):
                continue
            (x0, y0), (x1, y1) = pts[a], pts[b]
            mx, my = (x0 + x1) / 2, (y0 + y1) / 2
            length = math.hypot(x1 - x0, y1 - y0)
            angle = math.degrees(math.atan2(y0 - y1, x0 - x1))
            polygon = cv2.ellipse2Poly((int(mx), int(my)), (int(length / 2), stick), int(angle), 0, 360, 1)
            cv2.fillConvexPoly(canvas, polygon, [int(c * LIMB_COLOUR_FACTOR) for c in COLOURS[i]])
        for k, (x, y) in enumerate(pts):
            if np.isfinite(x) and np.isfinite(y):
                cv2.circle(canvas, (int(x), int(y)), max(1, int(round(JOINT_RADIUS * stick_scale))), COLOURS[k], thickness=-1)
    return canvas
