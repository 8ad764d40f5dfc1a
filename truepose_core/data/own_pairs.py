"""A folder of the user's own pairs, posed with the pack's own nodes.

root/
  pairs.csv            header `source,target`: image file names relative to images/
                       (pairs-{split}.csv, e.g. pairs-test.csv, is read instead for that split when it exists)
  images/              the photos (any format PIL reads)
  poses/<stem>.json    POSE_KEYPOINT of each image (Estimate Pose -> Save Pose JSON, DWPose, OpenPose): first person
  parsing/<stem>.png   LIP ids per pixel (greyscale or SCHP palette-mode PNG) or the LIP palette colours

`python -m truepose_core.data.write_synthetic DIR` writes a small example of this layout.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import TruePoseInputError
from ..pose import parse_pose_keypoint
from .common import PairReader, Side, data_error, load_side, read_csv, require_all, require_folder

PAIRS = "pairs.csv"
_EXAMPLE = "`python -m truepose_core.data.write_synthetic DIR` writes an example of the layout"
_POSE_FIX = "estimate the pose again (Estimate Pose -> Save Pose JSON, one file per image, same stem) or drop the pair."


def pairs_file(root: Path, split: str | None) -> Path:
    per_split = root / f"pairs-{split}.csv"
    return per_split if split and per_split.is_file() else root / PAIRS


def read_pose(path: Path) -> tuple[np.ndarray, tuple[int, int] | None]:
    """The first person's (18, 2) body keypoints (NaN where missing) and the (height, width) canvas they are in
    pixels of; None when the JSON gives no canvas (pixel coordinates of the image itself)."""
    try:
        frames = parse_pose_keypoint(path.read_bytes(), pixels_without_canvas=True)
    except FileNotFoundError:
        raise data_error(f"pose file '{path}' does not exist.", _POSE_FIX) from None
    except (OSError, UnicodeDecodeError) as e:
        raise data_error(f"pose file '{path}' could not be read ({e}).", _POSE_FIX) from None
    except TruePoseInputError as e:
        raise data_error(f"pose file '{path}' is not POSE_KEYPOINT JSON: {e.problem}", e.fix) from None
    frame = frames[0]
    if not frame.people or not np.isfinite(frame.people[0].body).all(axis=1).any():
        raise data_error(f"pose file '{path}' holds no person (no visible body keypoint in its first frame).", _POSE_FIX)
    canvas = (frame.height, frame.width) if frame.canvas_given else None
    return frame.people[0].body.astype(np.float32), canvas


class OwnPairs(PairReader):
    """The user's pairs as SyntheticPairs items, resized to (height, width)."""

    def __init__(self, root: str | Path, height: int, width: int, split: str | None = None, label_set: str = "lip") -> None:
        self.root = require_folder(Path(root), "pairs", f"create it with pairs.csv, images/, poses/ and parsing/; {_EXAMPLE}.")
        self.height, self.width, self.label_set = height, width, label_set
        csv_path = pairs_file(self.root, split)
        if not csv_path.is_file():
            fix = f"write it with the header source,target and one pair of image names per row; {_EXAMPLE}."
            raise data_error(f"pairs CSV '{csv_path}' does not exist.", fix)
        rows = read_csv(csv_path, ("source", "target"), f"make the first line source,target (image file names in images/); {_EXAMPLE}.")
        self.pairs = [(r["source"], r["target"]) for r in rows]
        if not self.pairs:
            raise data_error(f"'{csv_path}' lists no pairs.", "add rows of source,target image file names.")
        names = [n for pair in self.pairs for n in pair]
        for folder, suffix, what, fix in (
            ("images", None, f"image(s) named in '{csv_path}'", "add the images or drop their pairs from the CSV."),
            ("poses", ".json", "pose file(s)", "save one POSE_KEYPOINT JSON per image there (Save Pose JSON), same stem + .json."),
            ("parsing", ".png", "parsing map(s)", "parse every image with a LIP human parser; save one PNG per image there, stem + .png."),
        ):
            directory = require_folder(self.root / folder, folder, fix)
            require_all(directory, [self._with(n, suffix) for n in names], what, fix)

    @staticmethod
    def _with(name: str, suffix: str | None) -> str:
        return Path(name).with_suffix(suffix).as_posix() if suffix else name

    def _side(self, name: str) -> Side:
        points, canvas = read_pose(self.root / "poses" / self._with(name, ".json"))
        return load_side(
            self.root / "images" / name, self.root / "parsing" / self._with(name, ".png"), points, canvas,
            self.height, self.width, self.label_set,
        )
