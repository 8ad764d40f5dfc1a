"""POSE_KEYPOINT in memory (PoseFrame / Person) and written back out.

Reading, with every check, is `reader.parse_pose_keypoint`. Output is normalised with
canvas_width / canvas_height, so every consumer reads it: body points are clipped into [0, 1],
hand and face points outside the canvas are written as missing (0, 0, 0), and a present point
keeps its confidence (1.0 for every point TruePose made itself).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..errors import TruePoseInputError

VISIBLE = 1.0  # the confidence written for points TruePose made; controlnet_aux draws only c >= 1.0

# POSE_KEYPOINT key -> (Person field, number of points)
PARTS = {
    "pose_keypoints_2d": ("body", 18),
    "face_keypoints_2d": ("face", 70),
    "hand_left_keypoints_2d": ("left_hand", 21),
    "hand_right_keypoints_2d": ("right_hand", 21),
}
DETAIL_PARTS = ("face", "left_hand", "right_hand")


@dataclass(frozen=True)
class Person:
    """Keypoints in pixels of the frame's canvas (float64), NaN where missing: body (18, 2); face
    (70, 2) and hands (21, 2) when the producer gave them (None otherwise). `scores` maps a part
    to its (N,) confidences (NaN where missing); a part without an entry has c = 1 everywhere."""

    body: np.ndarray
    face: np.ndarray | None = None
    left_hand: np.ndarray | None = None
    right_hand: np.ndarray | None = None
    scores: Mapping[str, np.ndarray] = field(default_factory=dict)

    def part(self, name: str, min_confidence: float = 0.0) -> np.ndarray | None:
        """The part's points with those below `min_confidence` set missing (NaN)."""
        points = getattr(self, name)
        score = self.scores.get(name)
        if points is None or score is None or min_confidence <= 0:
            return points
        return np.where((score >= min_confidence)[:, None], points, np.nan)

    def confident(self, min_confidence: float) -> Person:
        """This person with every point below `min_confidence` missing (controlnet_aux: 1.0)."""
        if not self.scores or min_confidence <= 0:
            return self
        return Person(*(self.part(name, min_confidence) for name in ("body", *DETAIL_PARTS)), scores=self.scores)


@dataclass(frozen=True)
class PoseFrame:
    width: int
    height: int
    people: tuple[Person, ...]
    canvas_given: bool = True  # False: the JSON had no canvas; width / height were taken from the caller

    def confident(self, min_confidence: float) -> PoseFrame:
        return PoseFrame(self.width, self.height, tuple(p.confident(min_confidence) for p in self.people), self.canvas_given)


def _flat_rows(points: list[np.ndarray], scores: list[np.ndarray | None], canvas: np.ndarray, clip: bool) -> list[list[float]]:
    """Many persons' (N, 2) pixel points of one part -> their flat normalised [x, y, c, ...] lists."""
    xy = np.stack([np.asarray(p, np.float64) for p in points]) / canvas[:, None, :]
    c = np.stack([np.full(len(p), VISIBLE) if s is None else np.asarray(s, np.float64) for p, s in zip(points, scores)])
    with np.errstate(invalid="ignore"):
        present = np.isfinite(xy).all(axis=2) & np.isfinite(c) & (c > 0)
        if clip:  # a body limb that leaves the canvas still points at the border
            xy = np.clip(xy, 0.0, 1.0)
        else:  # hand and face points off the canvas are invisible anyway; > 1 would flip the format
            present &= ((xy >= 0) & (xy <= 1)).all(axis=2)
    out = np.zeros((*xy.shape[:2], 3))
    out[..., :2] = np.where(present[..., None], np.round(xy, 6), 0.0)
    out[..., 2] = np.where(present, np.round(c, 6), 0.0)
    return out.reshape(len(out), -1).tolist()


def frames_to_pose_keypoint(frames: list[PoseFrame]) -> list[dict]:
    """Frames -> POSE_KEYPOINT with normalised coordinates; absent face / hands stay null.
    Every person's part is converted at once (one array per part kind)."""
    people = [(frame, person) for frame in frames for person in frame.people]
    entries: list[dict] = [{} for _ in people]
    for key, (name, _) in PARTS.items():
        rows = [r for r, (_, person) in enumerate(people) if getattr(person, name) is not None]
        for entry in entries:
            entry[key] = None
        if not rows:
            continue
        canvas = np.array([(people[r][0].width, people[r][0].height) for r in rows], np.float64)
        values = _flat_rows(
            [getattr(people[r][1], name) for r in rows], [people[r][1].scores.get(name) for r in rows], canvas, clip=name == "body",
        )
        for r, flat in zip(rows, values):
            entries[r][key] = flat
    out, r = [], 0
    for frame in frames:
        out.append({"people": entries[r : r + len(frame.people)], "canvas_width": int(frame.width), "canvas_height": int(frame.height)})
        r += len(frame.people)
    return out


def has_visible_person(frame: PoseFrame, min_confidence: float = 0.0) -> bool:
    return any(np.isfinite(p.part("body", min_confidence)).all(axis=1).any() for p in frame.people)


def require_people(frames: list[PoseFrame], input_name: str = "pose_keypoint", min_confidence: float = 0.0) -> None:
    """Every frame has a visible body point (at `min_confidence`), else an error that says why."""
    for i, frame in enumerate(frames):
        if has_visible_person(frame, min_confidence):
            continue
        if has_visible_person(frame):
            scores = [float(np.nanmax(p.scores["body"])) for p in frame.people
                      if "body" in p.scores and np.isfinite(p.scores["body"]).any()]
            raise TruePoseInputError(
                input_name,
                f"frame {i}: every body point has a confidence below min_confidence = {min_confidence:g} (highest {max(scores):.3g}).",
                "lower min_confidence (e.g. 0.3 for CMU OpenPose JSON with real scores); controlnet_aux draws c >= 1 only.",
            )
        raise TruePoseInputError(input_name, f"frame {i} has no visible keypoint (an empty pose).",
            "check the pose estimator found a person, or edit the pose.")
