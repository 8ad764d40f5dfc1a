"""Render COCO-18 skeletons as the standard OpenPose control image (RGB, black canvas).

The drawing rules are controlnet_aux's (dwpose util.draw_bodypose / draw_handpose / draw_facepose,
as ControlNet 1.1's annotator): coordinates stay float64 until one truncation with int();
limbs are filled ellipse polygons at 60 % colour, joints full-colour discs; a hand or face point
whose truncated x or y is <= 0 is not drawn, nor any hand edge touching it; people are drawn one
after another (body, left hand, right hand, face). At the pose's own canvas size and
stick_scale 1 the image is the reference's, pixel for pixel.
"""

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

# HSV(i / 20, 1, 1) * 255 as floats: OpenCV rounds them when it draws, as in the reference.
HAND_EDGE_COLOURS = tuple(tuple(c * 255 for c in colorsys.hsv_to_rgb(i / len(HAND_EDGES), 1.0, 1.0)) for i in range(len(HAND_EDGES)))
LIMB_COLOURS = tuple([int(float(c) * LIMB_COLOUR_FACTOR) for c in colour] for colour in COLOURS)


def _shown(x: float, y: float) -> bool:
    return math.isfinite(x) and math.isfinite(y)


def _draw_body(canvas: np.ndarray, pts: np.ndarray, stick: int, joint_radius: int) -> None:
    for (a, b), colour in zip(LIMBS, LIMB_COLOURS):
        (x0, y0), (x1, y1) = pts[a].tolist(), pts[b].tolist()
        if not (_shown(x0, y0) and _shown(x1, y1)):
            continue
        length = ((y0 - y1) ** 2 + (x0 - x1) ** 2) ** 0.5
        angle = math.degrees(math.atan2(y0 - y1, x0 - x1))
        centre = (int(float(np.mean([x0, x1]))), int(float(np.mean([y0, y1]))))
        polygon = cv2.ellipse2Poly(centre, (int(length / 2), stick), int(angle), 0, 360, 1)
        cv2.fillConvexPoly(canvas, polygon, colour)
    for (x, y), colour in zip(pts.tolist(), COLOURS):
        if _shown(x, y):
            cv2.circle(canvas, (int(x), int(y)), joint_radius, colour, thickness=-1)


def _visible_pixels(pts: np.ndarray) -> list[tuple[int, int] | None]:
    """Truncated pixel positions; None for missing points and those at x or y <= 0 (hidden)."""
    out = []
    for x, y in pts.tolist():
        p = (int(x), int(y)) if _shown(x, y) else None
        out.append(p if p is not None and p[0] > 0 and p[1] > 0 else None)
    return out


def _draw_hand(canvas: np.ndarray, pts: np.ndarray) -> None:
    px = _visible_pixels(pts)
    for (a, b), colour in zip(HAND_EDGES, HAND_EDGE_COLOURS):
        if px[a] is not None and px[b] is not None:
            cv2.line(canvas, px[a], px[b], colour, thickness=HAND_EDGE_THICKNESS)
    for p in px:
        if p is not None:
            cv2.circle(canvas, p, JOINT_RADIUS, HAND_JOINT_COLOUR, thickness=-1)


def _draw_face(canvas: np.ndarray, pts: np.ndarray) -> None:
    for p in _visible_pixels(pts):
        if p is not None:
            cv2.circle(canvas, p, FACE_RADIUS, FACE_COLOUR, thickness=-1)


def render_frame(
    frame: PoseFrame, width: int, height: int, stick_scale: float = 1.0, body: bool = True, hands: bool = True, face: bool = True,
    min_confidence: float = 0.0,
) -> np.ndarray:
    """(H, W, 3) uint8 RGB of `frame` scaled onto a width x height canvas; points with
    c < min_confidence are left out (controlnet_aux draws c >= 1.0 only)."""
    canvas = np.zeros((height, width, 3), np.uint8)
    scale = np.array([width / frame.width, height / frame.height], np.float64)
    stick = max(1, int(round(STICK_WIDTH * stick_scale)))
    joint_radius = max(1, int(round(JOINT_RADIUS * stick_scale)))
    for person in frame.people:
        person = person.confident(min_confidence)
        if body:
            _draw_body(canvas, np.asarray(person.body, np.float64) * scale, stick, joint_radius)
        if hands:
            for hand in (person.left_hand, person.right_hand):
                if hand is not None:
                    _draw_hand(canvas, np.asarray(hand, np.float64) * scale)
        if face and person.face is not None:
            _draw_face(canvas, np.asarray(person.face, np.float64) * scale)
    return canvas
