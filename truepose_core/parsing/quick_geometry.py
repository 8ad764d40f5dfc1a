"""Region geometry of the quick parser: BlazePose's 33 landmarks -> a LIP-20 label map.

Sizes are fractions of the shoulder width (or of the ear-to-ear distance for the head), so the
drawing scales with the person, not the frame. "Left" is the person's left in both BlazePose
and LIP.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .labels import LIP_NAMES

LIP = {name: i for i, name in enumerate(LIP_NAMES)}
VISIBLE = 0.5
SKIN_DISTANCE = 3.0  # Mahalanobis distance in (Cr, Cb) below which a limb pixel is skin

# BlazePose landmark ids.
NOSE, L_EYE, R_EYE, L_EAR, R_EAR, MOUTH_L, MOUTH_R = 0, 2, 5, 7, 8, 9, 10
L_SH, R_SH, L_EL, R_EL, L_WR, R_WR = 11, 12, 13, 14, 15, 16
L_PINKY, R_PINKY, L_INDEX, R_INDEX = 17, 18, 19, 20
L_HIP, R_HIP, L_KNEE, R_KNEE, L_ANKLE, R_ANKLE = 23, 24, 25, 26, 27, 28
L_HEEL, R_HEEL, L_FOOT, R_FOOT = 29, 30, 31, 32


@dataclass(frozen=True)
class Landmarks:
    xy: np.ndarray  # (33, 2) pixel coordinates
    visibility: np.ndarray  # (33,)

    @classmethod
    def from_mediapipe(cls, landmarks, frame_size: tuple[int, int]) -> "Landmarks":
        h, w = frame_size
        pts = landmarks.landmark
        return cls(np.array([[p.x * w, p.y * h] for p in pts]), np.array([p.visibility for p in pts]))

    def seen(self, *ids: int) -> bool:
        return bool(all(self.visibility[i] >= VISIBLE for i in ids))

    def mid(self, *ids: int) -> np.ndarray:
        return self.xy[list(ids)].mean(axis=0)

    def dist(self, a: int, b: int) -> float:
        return float(np.linalg.norm(self.xy[a] - self.xy[b]))


def _limb(shape: tuple[int, int], points: list[np.ndarray], thickness: float) -> np.ndarray:
    canvas = np.zeros(shape, np.uint8)
    pts = [tuple(int(round(c)) for c in p) for p in points]
    for a, b in zip(pts, pts[1:]):
        cv2.line(canvas, a, b, 1, max(int(round(thickness)), 1), lineType=cv2.LINE_8)
    return canvas.astype(bool)


def _polygon(shape: tuple[int, int], points: list[np.ndarray]) -> np.ndarray:
    canvas = np.zeros(shape, np.uint8)
    cv2.fillPoly(canvas, [np.round(np.array(points)).astype(np.int32)], 1)
    return canvas.astype(bool)


def _ellipse(shape: tuple[int, int], center: np.ndarray, axes: tuple[float, float], angle_deg: float) -> np.ndarray:
    canvas = np.zeros(shape, np.uint8)
    c = tuple(int(round(v)) for v in center)
    cv2.ellipse(canvas, c, (max(int(axes[0]), 1), max(int(axes[1]), 1)), angle_deg, 0, 360, 1, -1)
    return canvas.astype(bool)


class SkinModel:
    """Skin colour of this person, learnt from the face: a Gaussian over YCrCb chroma."""

    def __init__(self, rgb: np.ndarray, face: np.ndarray):
        chroma = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)[..., 1:].reshape(-1, 2).astype(np.float64)
        self.chroma = chroma
        samples = chroma[face.reshape(-1)]
        self.ok = len(samples) >= 20
        if self.ok:
            self.mean = samples.mean(axis=0)
            self.inv_cov = np.linalg.inv(np.cov(samples.T) + np.eye(2) * 4.0)  # floor: a flat face patch

    def is_skin(self, region: np.ndarray) -> np.ndarray:
        if not self.ok:
            return region  # no face colour to compare with: keep the limb as skin
        d = self.chroma - self.mean
        dist = np.sqrt(np.einsum("ni,ij,nj->n", d, self.inv_cov, d)).reshape(region.shape)
        return region & (dist < SKIN_DISTANCE)


def draw_regions(rgb: np.ndarray, person: np.ndarray, lm: Landmarks) -> np.ndarray:
    """(H, W, 3) uint8 RGB, (H, W) bool person mask -> (H, W) uint8 LIP ids."""
    shape = person.shape
    labels = np.zeros(shape, np.uint8)
    shoulder = max(lm.dist(L_SH, R_SH), 1.0)
    head = max(lm.dist(L_EAR, R_EAR), 0.35 * shoulder)

    # Face: an ellipse from the eyes to below the mouth, tilted with the eye line.
    eyes, mouth = lm.mid(L_EYE, R_EYE), lm.mid(MOUTH_L, MOUTH_R)
    tilt = float(np.degrees(np.arctan2(*(lm.xy[L_EYE] - lm.xy[R_EYE])[::-1])))
    if abs(tilt) > 90:  # seen from behind: the eye line points the other way, the head is still up
        tilt -= 180 * np.sign(tilt)
    face = _ellipse(shape, (eyes + mouth) / 2, (0.5 * head, 0.68 * head), tilt) & person
    skin = SkinModel(rgb, face)

    painted: list[tuple[np.ndarray, int]] = []
    torso = [lm.xy[L_SH], lm.xy[R_SH], lm.xy[R_HIP], lm.xy[L_HIP]]
    centre = np.mean(torso, axis=0)
    painted.append((_polygon(shape, [centre + 1.15 * (p - centre) for p in torso]), LIP["Upper-clothes"]))

    for hip, knee, ankle, leg_id in ((L_HIP, L_KNEE, L_ANKLE, "Left-leg"), (R_HIP, R_KNEE, R_ANKLE, "Right-leg")):
        if lm.seen(knee):
            chain = [lm.xy[hip], lm.xy[knee]] + ([lm.xy[ankle]] if lm.seen(ankle) else [])
            leg = _limb(shape, chain, 0.33 * shoulder) & person
            bare = skin.is_skin(leg)
            painted += [(leg & ~bare, LIP["Pants"]), (bare, LIP[leg_id])]

    for sh, el, wr, hand_tips, arm_id in (
        (L_SH, L_EL, L_WR, (L_INDEX, L_PINKY), "Left-arm"),
        (R_SH, R_EL, R_WR, (R_INDEX, R_PINKY), "Right-arm"),
    ):
        if lm.seen(el):
            chain = [lm.xy[sh], lm.xy[el]] + ([lm.xy[wr]] if lm.seen(wr) else [])
            arm = _limb(shape, chain, 0.26 * shoulder) & person
            bare = skin.is_skin(arm)
            painted += [(arm & ~bare, LIP["Upper-clothes"]), (bare, LIP[arm_id])]
            if lm.seen(wr):
                hand = _limb(shape, [lm.xy[wr], lm.mid(*hand_tips)], 0.2 * shoulder) & person
                painted.append((hand, LIP[arm_id]))

    for ankle, heel, toe, shoe_id in ((L_ANKLE, L_HEEL, L_FOOT, "Left-shoe"), (R_ANKLE, R_HEEL, R_FOOT, "Right-shoe")):
        if lm.seen(ankle, toe):
            painted.append((_limb(shape, [lm.xy[ankle], lm.xy[heel], lm.xy[toe]], 0.18 * shoulder), LIP[shoe_id]))

    # Hair: the head disc above the mouth that is not face.
    crown = eyes + 0.3 * head * _up(tilt)
    disc = _ellipse(shape, crown, (0.8 * head, 0.8 * head), 0)
    above_mouth = _half_plane(shape, mouth, _up(tilt))
    painted += [(disc & above_mouth & ~face, LIP["Hair"]), (face, LIP["Face"])]

    for region, label in painted:  # later regions win
        labels[region] = label
    labels[~person] = 0
    filled = _fill_unlabelled(labels, person)
    # Below the face the nearest region is often the face itself: a collar or a scarf is not.
    grown_face = (filled == LIP["Face"]) & (labels == 0)
    filled[grown_face & ~skin.is_skin(grown_face)] = LIP["Upper-clothes"]
    return filled


def _up(tilt_deg: float) -> np.ndarray:
    t = np.radians(tilt_deg)
    return np.array([np.sin(t), -np.cos(t)])


def _half_plane(shape: tuple[int, int], point: np.ndarray, direction: np.ndarray) -> np.ndarray:
    ys, xs = np.mgrid[: shape[0], : shape[1]]
    return (xs - point[0]) * direction[0] + (ys - point[1]) * direction[1] > 0


def _fill_unlabelled(labels: np.ndarray, person: np.ndarray) -> np.ndarray:
    """Person pixels no region reached take the label of the nearest labelled pixel."""
    holes = person & (labels == 0)
    if not holes.any() or not (labels > 0).any():
        return labels
    # distanceTransform measures to the nearest zero pixel: make labelled pixels the zeros.
    _, nearest = cv2.distanceTransformWithLabels((labels == 0).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL)
    seeds = labels[labels > 0]  # DIST_LABEL_PIXEL numbers the zero pixels 1.. in row-major order
    filled = labels.copy()
    filled[holes] = seeds[nearest[holes] - 1]
    return filled
