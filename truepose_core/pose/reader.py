"""The one validated POSE_KEYPOINT reader: every consumer (nodes, route, editor, data) reads here.

Accepted: a list of OpenPose frames, one frame, or their JSON text / UTF-8 bytes. Each frame is
{"people": [...], "canvas_width": W, "canvas_height": H}; each person has flat [x, y, c, ...]
lists (nested [[x, y, c], ...] triples also read) for pose_keypoints_2d (18 COCO-18 points, or
25 BODY_25 points from CMU OpenPose, mapped to COCO-18), face_keypoints_2d (70, or 68 without
pupils), hand_left_keypoints_2d and hand_right_keypoints_2d (21 each).

Rules (controlnet_aux's where it has one):
- A missing or empty list, or null, is an absent part.
- A point is missing when its c <= 0, or any of x, y, c is null, NaN or infinite. A present point
  keeps c; drawing nodes show points with c >= their min_confidence (controlnet_aux: 1.0).
- Pixel vs normalised is decided per part (body, each hand, face) over its present points, as
  controlnet_aux's is_normalized: normalised when every |x|, |y| <= 1. A part within +-2 on a canvas
  of 64 px or more is also normalised (as pixels it would be a dot in the corner: what a normalised
  pose whose wrist left the canvas, x = 1.03, looks like).
- Hand and face points whose pixel x or y truncates to <= 0 are missing (controlnet_aux and
  ControlNet 1.1 hide them with their edges: OpenPose's undetected (-1/W, -1/H) points).
- A frame needs its canvas (positive whole numbers up to MAX_CANVAS_SIDE); without one the caller's
  `default_canvas` is used for pixel coordinates, and anything else is an error.
Coordinates are float64 (pixels of the frame's canvas).
"""

from __future__ import annotations

import array
import json
import math
import numbers
from collections.abc import Sequence

import numpy as np

from ..errors import TruePoseInputError
from .convert import BODY25_TO_COCO18
from .keypoints import DETAIL_PARTS, PARTS, Person, PoseFrame

MAX_CANVAS_SIDE = 16384
MAX_PEOPLE = 256  # per frame
MAX_COORDINATE = 1e6  # pixels; far beyond any canvas (and what OpenCV can draw)
NORMALISED_SLACK = 2.0
MIN_SLACK_CANVAS = 64
_POINTS = {"body": (18, 25), "face": (70, 68), "left_hand": (21,), "right_hand": (21,)}
_NUMBER = numbers.Real  # int, float, bool and numpy scalars
_FORMAT = "OpenPose frames: [{'people': [{'pose_keypoints_2d': [x, y, c, ...]}], 'canvas_width': W, 'canvas_height': H}]"
_CONNECT = "connect a POSE_KEYPOINT output (DWPose, OpenPose, TruePose) or fix the JSON"


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _decode(data, input_name: str):
    if isinstance(data, (bytes, bytearray)):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError as e:
            raise TruePoseInputError(input_name, f"the pose JSON is not UTF-8 text (bad byte at position {e.start}).",
                "save the file as UTF-8 JSON.") from None
    if not isinstance(data, str):
        return data
    try:
        return json.loads(data)
    except json.JSONDecodeError as e:
        raise TruePoseInputError(input_name, f"not valid JSON ({e.msg} at line {e.lineno}, column {e.colno}).",
            f"give {_FORMAT}.") from None
    except RecursionError:
        raise TruePoseInputError(input_name, "the JSON is nested far too deeply to be a pose.", f"give {_FORMAT}.") from None


def _canvas_side(frame: dict, key: str, where: str, input_name: str) -> int | None:
    value = frame.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, _NUMBER):
        raise TruePoseInputError(input_name, f"{where}: {key} is {_short(value)}, not a number.",
            f"set {key} to the image size in pixels (a whole number).")
    if not math.isfinite(value) or value != int(value):
        raise TruePoseInputError(input_name, f"{where}: {key} is {value}, not a whole number of pixels.",
            f"set {key} to the image size in pixels.")
    if not 1 <= value <= MAX_CANVAS_SIDE:
        raise TruePoseInputError(
            input_name, f"{where}: {key} = {int(value)} is outside 1..{MAX_CANVAS_SIDE} pixels.",
            f"set {key} to the size of the image the pose was found on (at most {MAX_CANVAS_SIDE}).",
        )
    return int(value)


def _slow_numbers(values: Sequence, where: str, input_name: str) -> list[float]:
    """Numbers with nulls (-> NaN) or [x, y, c] triples; anything else is an error naming the value."""
    if values and all(isinstance(v, (list, tuple)) and len(v) == 3 for v in values):
        values = [x for triple in values for x in triple]
    out = []
    for i, v in enumerate(values):
        if v is None:
            out.append(math.nan)
        elif isinstance(v, _NUMBER):  # bools too, as the C fast path reads them
            out.append(float(v) if not isinstance(v, int) or abs(v) < 2**1000 else math.inf)
        else:
            raise TruePoseInputError(
                input_name, f"{where}: value {i} is {_short(v)} ({type(v).__name__}), not a number.",
                "keypoint lists hold numbers only: [x0, y0, c0, x1, y1, c1, ...] (null for a missing point).",
            )
    return out


class _Frames:
    """Pass 1 result: per frame its canvas; per part kind, every person's points in one float64
    buffer (no per-part arrays), and whose they are."""

    def __init__(self, count: int) -> None:
        self.canvas: list[tuple[int, int] | None] = [None] * count
        self.people = [0] * count
        self.buffers = {name: array.array("d") for name in _POINTS}
        self.owners: dict[str, list[tuple[int, int]]] = {name: [] for name in _POINTS}

    def add(self, value, name: str, owner: tuple[int, int], where: str, input_name: str) -> None:
        if value is None:
            return
        if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":  # from another node, in memory
            value = value.reshape(-1).tolist()
        if not isinstance(value, (list, tuple)):
            raise TruePoseInputError(input_name, f"{where} is {_short(value)} ({type(value).__name__}), not a list.",
                "give a flat list [x0, y0, c0, x1, y1, c1, ...] or null.")
        if not value:
            return
        buffer = self.buffers[name]
        start = len(buffer)
        try:  # fast path, in C: a flat list of ints and floats
            buffer.extend(value)
        except (TypeError, OverflowError):
            del buffer[start:]
            buffer.extend(_slow_numbers(value, where, input_name))
        size, counts = len(buffer) - start, _POINTS[name]
        if size % 3 or size // 3 not in counts:
            del buffer[start:]
            expected = " or ".join(f"{n} points ({3 * n} numbers)" for n in counts)
            raise TruePoseInputError(input_name, f"{where}: expected {expected}, got {size} numbers.",
                "give x, y, c for every point (0, 0, 0 for a missing one).")
        if size // 3 != counts[0]:  # CMU OpenPose BODY_25 -> COCO-18; a face without the two pupils
            triples = np.array(buffer[start:], np.float64).reshape(-1, 3)
            fixed = triples[list(BODY25_TO_COCO18)] if name == "body" else np.concatenate([triples, np.zeros((2, 3))])
            del buffer[start:]
            buffer.extend(fixed.reshape(-1).tolist())
        self.owners[name].append(owner)


def _read_structure(frames, input_name: str) -> _Frames:
    out = _Frames(len(frames))
    for i, frame in enumerate(frames):
        where = f"frame {i}"
        if not isinstance(frame, dict):
            raise TruePoseInputError(input_name, f"{where} is {_short(frame)} ({type(frame).__name__}), not an object.",
                f"each frame is {{'people': [...], 'canvas_width', 'canvas_height'}}; {_CONNECT}.")
        width, height = (_canvas_side(frame, key, where, input_name) for key in ("canvas_width", "canvas_height"))
        if (width is None) != (height is None):
            raise TruePoseInputError(input_name, f"{where} has only one of canvas_width / canvas_height.",
                "give both (the image size in pixels).")
        out.canvas[i] = None if width is None else (width, height)
        if "people" not in frame and frame.get("animals"):
            raise TruePoseInputError(input_name, f"{where} holds animal keypoints (ap10k), not people.",
                "use a human pose estimator (DWPose, OpenPose).")
        people = frame.get("people", [])
        if not isinstance(people, (list, tuple)):
            raise TruePoseInputError(input_name, f"{where}: people is {_short(people)} ({type(people).__name__}), not a list.",
                "give 'people': [] for a frame without anyone.")
        if len(people) > MAX_PEOPLE:
            raise TruePoseInputError(input_name, f"{where} has {len(people)} people; at most {MAX_PEOPLE} are read.",
                f"keep the {MAX_PEOPLE} you need (split the frame).")
        out.people[i] = len(people)
        for j, person in enumerate(people):
            if not isinstance(person, dict):
                raise TruePoseInputError(
                    input_name, f"{where}, person {j} is {_short(person)} ({type(person).__name__}), not an object.",
                    "each person is {'pose_keypoints_2d': [...], ...}.",
                )
            for key, (name, _) in PARTS.items():
                out.add(person.get(key), name, (i, j), f"{where}, person {j}, {key}", input_name)
    return out


def _resolve(name: str, points: np.ndarray, owners: list[tuple[int, int]], canvas: np.ndarray, given: np.ndarray, input_name: str,
        canvas_alternative: str):
    """All persons' points of one part kind at once, in place on `points` (P, N, 3): missing
    points, pixel vs normalised, limits. Returns xy (P, N, 2) pixels and c (P, N), NaN where missing."""
    key = next(k for k, (n, _) in PARTS.items() if n == name)
    frame_of = np.array([i for i, _ in owners])
    with np.errstate(invalid="ignore"):
        points[~np.isfinite(points).all(axis=2) | (points[..., 2] <= 0)] = np.nan
    xy, score = points[..., :2], points[..., 2]
    extent = np.fmax.reduce(np.abs(xy).reshape(len(xy), -1), axis=1)  # NaN for a person without points
    size, known = canvas[frame_of], given[frame_of]
    with np.errstate(invalid="ignore"):
        normalised = (extent <= 1.0) | ((extent <= NORMALISED_SLACK) & known & (size.min(axis=1) >= MIN_SLACK_CANVAS))
    unsized = normalised & (size[:, 0] == 0)
    if unsized.any():
        i, j = owners[int(np.argmax(unsized))]
        raise TruePoseInputError(
            input_name,
            f"frame {i}, person {j}, {key}: normalised coordinates (within [0, 1]) but the frame has no canvas_width / canvas_height.",
            f"add canvas_width and canvas_height (the image size in pixels) to the frame{canvas_alternative}.",
        )
    xy *= np.where(normalised[:, None], size, 1.0)[:, None, :]
    with np.errstate(invalid="ignore"):
        far = np.fmax.reduce(np.abs(xy).reshape(len(xy), -1), axis=1) > MAX_COORDINATE
    if far.any():
        r = int(np.argmax(far))
        k = int(np.argmax(np.nan_to_num(np.abs(xy[r])).max(axis=1) > MAX_COORDINATE))
        i, j = owners[r]
        shown = xy[r, k] / (size[r] if normalised[r] else 1.0)
        raise TruePoseInputError(
            input_name,
            f"frame {i}, person {j}, {key}: point {k} is at ({shown[0]:.4g}, {shown[1]:.4g}), beyond +-{MAX_COORDINATE:.0e} pixels.",
            "give pixel coordinates of the image (or normalised ones within [0, 1]); use 0, 0, 0 for a missing point.",
        )
    if name != "body":  # controlnet_aux hides these, with their edges
        with np.errstate(invalid="ignore"):
            points[(np.trunc(xy) <= 0).any(axis=2)] = np.nan
    return xy, score


def parse_pose_keypoint(
    data, input_name: str = "pose_keypoint", default_canvas: tuple[int, int] | None = None, pixels_without_canvas: bool = False,
    canvas_alternative: str = "",
) -> list[PoseFrame]:
    """POSE_KEYPOINT (a list of frames, one frame, or their JSON text) -> validated frames.

    default_canvas: (width, height) for frames that give no canvas (their coordinates are then
    of this canvas); None makes a missing canvas an error, unless `pixels_without_canvas`: then
    a frame of pixel coordinates only keeps them, with canvas_given False and a canvas that
    just holds its points (the caller knows the image they are pixels of). canvas_alternative
    ends the fix of a missing-canvas error (e.g. ", or set the node's width and height").
    Time and memory are proportional to the input: structure is checked in one pass, points
    are converted and decided for all people at once."""
    data = _decode(data, input_name)
    frames = [data] if isinstance(data, dict) else data
    if not isinstance(frames, (list, tuple)) or not frames:
        kind = "an empty list" if isinstance(frames, (list, tuple)) else f"{_short(frames)} ({type(frames).__name__})"
        raise TruePoseInputError(input_name, f"expected {_FORMAT}, got {kind}.", _CONNECT + ".")
    read = _read_structure(frames, input_name)
    for i, c in enumerate(read.canvas):
        if c is None and default_canvas is None and not pixels_without_canvas:
            raise TruePoseInputError(
                input_name, f"frame {i} has no canvas_width / canvas_height (the size of the image its coordinates refer to).",
                f"add canvas_width and canvas_height to the frame (the image size in pixels){canvas_alternative}.",
            )
    given = np.array([c is not None for c in read.canvas])
    canvas = np.array([c or default_canvas or (0, 0) for c in read.canvas], np.float64)
    fields: list[list[dict]] = [[{} for _ in range(n)] for n in read.people]
    for name, buffer in read.buffers.items():
        owners = read.owners[name]
        if not owners:
            continue
        points = np.frombuffer(buffer, np.float64).reshape(len(owners), _POINTS[name][0], 3)
        xy, score = _resolve(name, points, owners, canvas, given, input_name, canvas_alternative)
        with np.errstate(invalid="ignore"):
            scored = ~((score == 1.0) | np.isnan(score)).all(axis=1)
        for r, (i, j) in enumerate(owners):
            fields[i][j][name] = xy[r]
            if scored[r]:
                fields[i][j].setdefault("scores", {})[name] = score[r]
    out = []
    for i, people in enumerate(fields):
        parsed = tuple(Person(f.pop("body", np.full((18, 2), np.nan)), **f) for f in people)
        if read.canvas[i] is None and default_canvas is None:  # pixels_without_canvas
            points = [np.zeros((1, 2))] + [getattr(p, n) for p in parsed for n in ("body", *DETAIL_PARTS) if getattr(p, n) is not None]
            extent = np.nanmax(np.abs(np.concatenate(points)), axis=0)
            out.append(PoseFrame(int(min(MAX_CANVAS_SIDE, extent[0] + 1)), int(min(MAX_CANVAS_SIDE, extent[1] + 1)), parsed,
                canvas_given=False))
        else:
            w, h = read.canvas[i] or default_canvas
            out.append(PoseFrame(w, h, parsed, canvas_given=read.canvas[i] is not None))
    return out
