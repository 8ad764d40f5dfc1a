"""DeepFashion In-shop pose-transfer pairs in the layout the PATN / ADGAN / PIDM repositories share.

root/
  {split}/                              images (e.g. 256x176 .jpg), named as in the CSVs
  {split}_parsing/                      one LIP-id (or palette-coloured) PNG per image: same stem + .png
  fasion-resize-pairs-{split}.csv       header `from,to`: image file names
  fasion-resize-annotation-{split}.csv  ':'-separated, header `name:keypoints_y:keypoints_x`, each a
                                        list of 18 ints (OpenPose-18 order, y first, -1 = missing)

The annotations are in the pixels of the images on disk (or of `annotation_size` = (height, width), e.g. (256, 176)
with high-resolution images), scaled with them. `image_dir` / `parsing_dir` rename the folders ({split} is filled in).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..pose.skeleton import NUM_KEYPOINTS
from .common import PairReader, Side, data_error, load_side, read_csv, require_all, require_file, require_folder

PAIRS = "fasion-resize-pairs-{split}.csv"
ANNOTATION = "fasion-resize-annotation-{split}.csv"
_LAYOUT = "use the PATN / ADGAN DeepFashion layout (see truepose_core/data/deepfashion.py)"


def _keypoint_list(text: str, path: Path, name: str, column: str) -> list[float]:
    try:
        values = json.loads(text)
    except json.JSONDecodeError:
        values = None
    if not isinstance(values, list) or len(values) != NUM_KEYPOINTS or not all(isinstance(v, (int, float)) for v in values):
        count = len(values) if isinstance(values, list) else "no"
        raise data_error(
            f"'{path}', row '{name}': {column} holds {count} numbers ('{text[:60]}'); expected a list of {NUM_KEYPOINTS}.",
            f"write {NUM_KEYPOINTS} OpenPose-18 coordinates per column as [a, b, ...], -1 for a missing point.",
        )
    return [float(v) for v in values]


def read_annotation(path: Path) -> dict[str, np.ndarray]:
    """name -> (18, 2) float32 (x, y) pixels, NaN where the file has -1."""
    rows = read_csv(path, ("name", "keypoints_y", "keypoints_x"), f"{_LAYOUT}: header name:keypoints_y:keypoints_x.", delimiter=":")
    out = {}
    for row in rows:
        ys = _keypoint_list(row["keypoints_y"], path, row["name"], "keypoints_y")
        xs = _keypoint_list(row["keypoints_x"], path, row["name"], "keypoints_x")
        points = np.array([xs, ys], np.float32).T
        points[(points < 0).any(axis=1)] = np.nan
        out[row["name"]] = points
    return out


class DeepFashionPairs(PairReader):
    """DeepFashion pose-transfer pairs as SyntheticPairs items, resized to (height, width)."""

    def __init__(
        self, root: str | Path, split: str = "train", height: int = 256, width: int = 176,
        parsing_dir: str = "{split}_parsing", label_set: str = "lip", annotation_size: tuple[int, int] | None = None,
        image_dir: str = "{split}",
    ) -> None:
        root = require_folder(Path(root), "DeepFashion root", f"{_LAYOUT}, and point data_root at it.")
        self.height, self.width, self.label_set = height, width, label_set
        self.annotation_size = tuple(annotation_size) if annotation_size else None
        images = root / image_dir.format(split=split)
        self.image_dir = require_folder(images, f"'{split}' image", f"put the {split} images in '{images}'.")
        self.parsing_dir = require_folder(
            root / parsing_dir.format(split=split), "parsing",
            "parse every image with a LIP human parser (e.g. SCHP) and save one PNG per image there (same stem, .png).",
        )
        pairs_path = require_file(root / PAIRS.format(split=split), "pairs CSV", f"{_LAYOUT}: header from,to, one image pair per row.")
        rows = read_csv(pairs_path, ("from", "to"), f"{_LAYOUT}: the first line must be from,to.")
        self.pairs = [(r["from"], r["to"]) for r in rows]
        if not self.pairs:
            raise data_error(f"'{pairs_path}' lists no pairs.", "add rows of from,to image file names.")
        annotation_path = require_file(
            root / ANNOTATION.format(split=split), "keypoint annotation CSV", f"{_LAYOUT}: header name:keypoints_y:keypoints_x."
        )
        annotation = read_annotation(annotation_path)
        names = [n for pair in self.pairs for n in pair]
        unannotated = sorted({n for n in names if n not in annotation})
        if unannotated:
            more = f" and {len(unannotated) - 5} more" if len(unannotated) > 5 else ""
            raise data_error(
                f"{len(unannotated)} image(s) of '{pairs_path}' have no row in '{annotation_path}': {', '.join(unannotated[:5])}{more}.",
                "add their keypoints (run a COCO-18 pose estimator) or drop their pairs.",
            )
        self.keypoints = {n: annotation[n] for n in names}
        require_all(self.image_dir, names, f"image(s) named in '{pairs_path}'", "restore the images or drop their pairs from the CSV.")
        require_all(
            self.parsing_dir, [self._parsing_name(n) for n in names], "parsing map(s)",
            "parse those images with a LIP human parser (e.g. SCHP) and save the PNGs there (same stem, .png).",
        )

    @staticmethod
    def _parsing_name(name: str) -> str:
        return Path(name).with_suffix(".png").as_posix()

    def _side(self, name: str) -> Side:
        return load_side(
            self.image_dir / name, self.parsing_dir / self._parsing_name(name), self.keypoints[name], self.annotation_size,
            self.height, self.width, self.label_set,
        )
