"""Render COCO-18 skeletons as the standard OpenPose control image (RGB, black canvas)."""

from __future__ import annotations

import colorsys
import math

import cv2
import numpy as np

from .keypoints import PoseFrame
from .skeleton import (
    COLOURS,
    FACE_COLOUR,
    FACE_RADIUS,
    HAND_EDGE_THICKNESS,
    HAND_EDGES,
    HAND_JOINT_COLOUR,
    JOINT_RADIUS,
    LIMB_COLOUR_FACTOR,
    LIMBS,
    STICK_WIDTH,
)


def _hand_edge_colour(i: int) -> tuple[int, int, int]:
    return tuple(int(round(c * 255)) for c in colorsys.hsv_to_rgb(i / len(HAND_EDGES), 1.0, 1.0))


def _draw_hand(canvas: np.ndarray, pts: np.ndarray) -> None:
    for i, (a, b) in enumerate(HAND_EDGES):
        if np.isfinite(pts[a]).all() and np.isfinite(pts[b]).all():
            cv2.line(canvas, tuple(int(v) for v in pts[a]), tuple(int(v) for v in pts[b]), _hand_edge_colour(i), HAND_EDGE_THICKNESS)
    for x, y in pts:
        if np.isfinite(x) and np.isfinite(y):
            cv2.circle(canvas, (int(x), int(y)), JOINT_RADIUS, HAND_JOINT_COLOUR, thickness=-1)


def _draw_body(canvas: np.ndarray, pts: np.ndarray, stick: int, stick_scale: float) -> None:
    for i, (a, b) in enumerate(LIMBS):
        if not (np.isfinite(pts[a]).all() and np.isfinite(pts[b]).all()):
            continue
        (x0, y0), (x1, y1) = pts[a], pts[b]
        length = math.hypot(x1 - x0, y1 - y0)
        angle = math.degrees(math.atan2(y0 - y1, x0 - x1))
        polygon = cv2.ellipse2Poly((int((x0 + x1) / 2), int((y0 + y1) / 2)), (int(length / 2), stick), int(angle), 0, 360, 1)
        cv2.fillConvexPoly(canvas, polygon, [int(c * LIMB_COLOUR_FACTOR) for c in COLOURS[i]])
    for k, (x, y) in enumerate(pts):
        if np.isfinite(x) and np.isfinite(y):
            cv2.circle(canvas, (int(x), int(y)), max(1, int(round(JOINT_RADIUS * stick_scale))), COLOURS[k], thickness=-1)


def render_frame(
    frame: PoseFrame, width: int, height: int, stick_scale: float = 1.0, body: bool = True, hands: bool = True, face: bool = True
) -> np.ndarray:
    """(H, W, 3) uint8 RGB. Limbs: filled ellipses at 60% colour; joints: full-colour discs;
    hands: HSV-coloured edges with blue joints; face: white dots."""
    canvas = np.zeros((height, width, 3), np.uint8)
    sx, sy = width / frame.width, height / frame.height
    stick = max(1, int(round(STICK_WIDTH * stick_scale)))
    scale = np.array([sx, sy], np.float32)
    for person in frame.people:  # OpenPose order: body, then hands, then face on top
        if body:
            _draw_body(canvas, person.body * scale, stick, stick_scale)
        if hands:
            for hand in (person.left_hand, person.right_hand):
                if hand is not None:
                    _draw_hand(canvas, hand * scale)
        if face and person.face is not None:
            for x, y in person.face * scale:
                if np.isfinite(x) and np.isfinite(y):
                    cv2.circle(canvas, (int(x), int(y)), FACE_RADIUS, FACE_COLOUR, thickness=-1)
    return canvas
