"""Retargeting: move a driving pose onto the reference (source) person's proportions and place.

`scale_translate` scales the whole driving skeleton uniformly so its body height matches the
reference and puts its neck on the reference's neck. `limb_lengths` also rebuilds every bone
with the reference's length along the driving direction, walking out from the neck. Both keep
the driving frame's canvas; the reference is first mapped onto that canvas (same height share,
centred), so sources and poses of different resolutions work together. Points that land off the
canvas stay where they land here; writing POSE_KEYPOINT (keypoints.frames_to_pose_keypoint) clips
body points onto the border and drops hand / face points outside it, so the output never reads
as pixels in another pack.
"""

from __future__ import annotations

import numpy as np

from ..errors import TruePoseInputError
from .keypoints import Person, PoseFrame

ALIGN_MODES = ("scale_translate", "limb_lengths")
# parent -> children, from the neck outwards
_TREE = {
    1: (0, 2, 5, 8, 11),
    0: (14, 15),
    14: (16,),
    15: (17,),
    2: (3,),
    3: (4,),
    5: (6,),
    6: (7,),
    8: (9,),
    9: (10,),
    11: (12,),
    12: (13,),
}
# bones whose summed length measures body height: neck-hip-knee-ankle on both sides, neck-nose
_HEIGHT_CHAINS = (((1, 8), (8, 9), (9, 10)), ((1, 11), (11, 12), (12, 13)))


def _valid(p: np.ndarray) -> bool:
    return bool(np.isfinite(p).all())


def _height(k: np.ndarray) -> float:
    chains = [
        sum(np.linalg.norm(k[a] - k[b]) for a, b in chain)
        for chain in _HEIGHT_CHAINS
        if all(_valid(k[a]) and _valid(k[b]) for a, b in chain)
    ]
    if chains:
        return float(np.mean(chains))
    span = k[np.isfinite(k).all(axis=1)]
    return float(np.ptp(span[:, 1])) if len(span) > 1 else 0.0


def _anchor(k: np.ndarray) -> np.ndarray:
    if _valid(k[1]):
        return k[1]
    present = k[np.isfinite(k).all(axis=1)]
    return present.mean(axis=0)


def _first_person(frame: PoseFrame, name: str) -> np.ndarray:
    for person in frame.people:
        if np.isfinite(person.body).all(axis=1).sum() >= 2:
            return person.body
    raise TruePoseInputError(name, "no person with at least two visible keypoints.", "give a pose with a visible person.")


def _onto_canvas(k: np.ndarray, src: PoseFrame, dst: PoseFrame) -> np.ndarray:
    s = dst.height / src.height
    return k * s + np.array([(dst.width - src.width * s) / 2, 0.0])


def _limb_lengths(driving: np.ndarray, reference: np.ndarray, fallback_scale: float) -> np.ndarray:
    out = np.full_like(driving, np.nan)
    out[1] = driving[1]
    stack = [1]
    while stack:
        parent = stack.pop()
        for child in _TREE.get(parent, ()):
            stack.append(child)
            if not (_valid(driving[parent]) and _valid(driving[child]) and _valid(out[parent])):
                continue
            direction = driving[child] - driving[parent]
            length = float(np.linalg.norm(direction))
            if _valid(reference[parent]) and _valid(reference[child]):
                target = float(np.linalg.norm(reference[child] - reference[parent]))
            else:
                target = length * fallback_scale
            out[child] = out[parent] + (direction / length * target if length > 0 else 0.0)
    return out


def align_frames(reference: PoseFrame, driving: list[PoseFrame], mode: str = "scale_translate") -> list[PoseFrame]:
    """One reference person; every frame of the driving pose is moved onto it with one scale."""
    if mode not in ALIGN_MODES:
        raise TruePoseInputError("mode", f"unknown mode '{mode}'.", f"use {' or '.join(ALIGN_MODES)}.")
    ref = _onto_canvas(_first_person(reference, "reference"), reference, driving[0])
    first = _first_person(driving[0], "driving")
    if not (_valid(first[1]) or np.isfinite(first).all(axis=1).any()):
        raise TruePoseInputError("driving", "the first driving frame has no anchor point.", "give a driving pose with a visible neck.")
    drv_height, ref_height = _height(first), _height(ref)
    scale = ref_height / drv_height if drv_height > 0 and ref_height > 0 else 1.0
    origin, target = _anchor(first), _anchor(ref)
    out = []
    for frame in driving:
        people = []
        for person in frame.people:
            moved = (person.body - origin) * scale + target  # NaN stays NaN
            k = _limb_lengths(moved, ref, 1.0) if mode == "limb_lengths" and _valid(moved[1]) else moved
            parts = {}
            for field, anchor in (("face", 0), ("left_hand", 7), ("right_hand", 4)):
                points = getattr(person, field)
                if points is not None:  # face and hands follow their anchor joint rigidly
                    shift = k[anchor] - moved[anchor] if _valid(k[anchor]) and _valid(moved[anchor]) else 0.0
                    parts[field] = (points - origin) * scale + target + shift
            people.append(Person(np.asarray(k, np.float64), **parts, scores=person.scores))
        out.append(PoseFrame(frame.width, frame.height, tuple(people)))
    return out
