"""POSE_KEYPOINT: comfyui_controlnet_aux's list of OpenPose frames, read and written.

Input may be normalised (every coordinate within [0, 1]) or in pixels (DWPose); output is
normalised with canvas_width / canvas_height, c = 1.0 for visible points and 0,0,0 for missing
ones, so every consumer reads it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from ..errors import TruePoseInputError
from .skeleton import NUM_KEYPOINTS

VISIBLE = 1.0  # controlnet_aux's decoder drops any point with c < 1.0


PARTS = {"face_keypoints_2d": ("face", 70), "hand_left_keypoints_2d": ("left_hand", 21), "hand_right_keypoints_2d": ("right_hand", 21)}


@dataclass(frozen=True)
class Person:
    """Keypoints in pixels of the frame's canvas, NaN where missing: body (18, 2); face (70, 2)
    and hands (21, 2) when the producer gave them (None otherwise)."""

    body: np.ndarray
    face: np.ndarray | None = None
    left_hand: np.ndarray | None = None
    right_hand: np.ndarray | None = None


@dataclass(frozen=True)
class PoseFrame:
    width: int
    height: int
    people: tuple[Person, ...]


def _points(flat, width: int, height: int, normalised: bool, what: str, count: int = NUM_KEYPOINTS) -> np.ndarray:
    if flat is None:
        return np.full((count, 2), np.nan, np.float32)
    values = np.asarray(flat, dtype=np.float32).reshape(-1)
    if values.size % 3 or values.size // 3 < count:
        raise TruePoseInputError("pose_keypoint", f"{what}: expected {count} (x, y, c) triples, got {values.size} numbers.",
            "use OpenPose COCO-18 body keypoints (70-point face, 21-point hands).")
    triples = values.reshape(-1, 3)[:count]
    xy = triples[:, :2].copy()
    if normalised:
        xy *= np.array([width, height], np.float32)
    xy[triples[:, 2] <= 0] = np.nan
    return xy


def _is_normalised(frames: list[dict]) -> bool:
    coords = []
    for frame in frames:
        for person in frame.get("people", []):
            v = np.asarray(person.get("pose_keypoints_2d") or [], dtype=np.float32).reshape(-1, 3)
            coords.append(v[v[:, 2] > 0, :2].reshape(-1))
    values = np.concatenate(coords) if coords else np.zeros(0)
    return bool(values.size == 0 or np.abs(values).max() <= 1.0)


def parse_pose_keypoint(data) -> list[PoseFrame]:
    """POSE_KEYPOINT (a list of frames, one frame dict, or their JSON text) -> frames."""
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as e:
            raise TruePoseInputError("pose_json", f"not valid JSON ({e.msg} at line {e.lineno}).",
                "paste OpenPose JSON (a frame or a list of frames).") from None
    frames = [data] if isinstance(data, dict) else data
    if not isinstance(frames, list) or not frames or not all(isinstance(f, dict) for f in frames):
        raise TruePoseInputError(
            "pose_keypoint",
            "expected a list of OpenPose frames ({'people': [...], 'canvas_width', 'canvas_height'}).",
            "connect a POSE_KEYPOINT output (DWPose, OpenPose, TruePose).",
        )
    normalised = _is_normalised(frames)
    out = []
    for i, frame in enumerate(frames):
        width, height = int(frame.get("canvas_width") or 0), int(frame.get("canvas_height") or 0)
        if width <= 0 or height <= 0:
            if normalised:
                raise TruePoseInputError(
                    "pose_keypoint",
                    f"frame {i} has normalised points but no canvas_width / canvas_height.",
                    "add the canvas size to the JSON.",
                )
            width = height = 1
        people = tuple(
            Person(
                _points(p.get("pose_keypoints_2d"), width, height, normalised, f"frame {i}"),
                **{
                    field: _points(p[key], width, height, normalised, f"frame {i} {key}", count)
                    for key, (field, count) in PARTS.items()
                    if p.get(key) is not None
                },
            )
            for p in frame.get("people", [])
        )
        out.append(PoseFrame(width, height, people))
    return out


def _flat(points: np.ndarray | None, width: int, height: int) -> list[float] | None:
    if points is None:
        return None
    flat: list[float] = []
    for x, y in points:
        if np.isnan(x) or np.isnan(y):
            flat += [0.0, 0.0, 0.0]
        else:
            flat += [round(float(x) / width, 6), round(float(y) / height, 6), VISIBLE]
    return flat


def frames_to_pose_keypoint(frames: list[PoseFrame]) -> list[dict]:
    """Frames -> POSE_KEYPOINT with normalised coordinates; absent face / hands stay null."""
    out = []
    for frame in frames:
        people = []
        for person in frame.people:
            entry = {"pose_keypoints_2d": _flat(person.body, frame.width, frame.height)}
            for key, (field, _) in PARTS.items():
                entry[key] = _flat(getattr(person, field), frame.width, frame.height)
            people.append(entry)
        out.append({"people": people, "canvas_width": frame.width, "canvas_height": frame.height})
    return out


def has_visible_person(frame: PoseFrame) -> bool:
    return any(np.isfinite(p.body).all(axis=1).any() for p in frame.people)


def require_people(frames: list[PoseFrame], input_name: str = "pose_keypoint") -> None:
    for i, frame in enumerate(frames):
        if not has_visible_person(frame):
            raise TruePoseInputError(
                input_name,
                f"frame {i} has no visible keypoint (an empty pose).",
                "check the pose estimator found a person, or edit the pose.",
            )
