"""What every paired reader shares: file checks, image / parsing / CSV loading, resizing, skeletons.

Readers hold only paths and small tables, open each file inside __getitem__ and close it at once,
so they pickle into DataLoader workers. Every error is a TruePoseInputError naming the file.
"""

from __future__ import annotations

import csv
import os
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from ..errors import TruePoseInputError
from ..parsing.labels import get_label_set, to_lip
from ..parsing.palette import palette_image_to_labels, voc_palette
from ..pose import Person, PoseFrame, render_frame

INPUT = "data_root"
_SHOWN = 5  # missing names listed in an error; the rest are counted


def data_error(problem: str, fix: str) -> TruePoseInputError:
    return TruePoseInputError(INPUT, problem, fix)


def require_folder(path: Path, what: str, fix: str) -> Path:
    if not path.is_dir():
        raise data_error(f"{what} folder '{path}' does not exist.", fix)
    return path


def require_file(path: Path, what: str, fix: str) -> Path:
    if not path.is_file():
        raise data_error(f"{what} '{path}' does not exist.", fix)
    return path


def require_all(folder: Path, names: list[str], what: str, fix: str) -> None:
    """Checks up front that folder/name exists for every name (one listing, not one stat per file)."""
    listing = set(os.listdir(folder))
    missing = [n for n in dict.fromkeys(names) if not (n in listing or ("/" in n and (folder / n).is_file()))]
    if missing:
        shown = ", ".join(missing[:_SHOWN]) + (f" and {len(missing) - _SHOWN} more" if len(missing) > _SHOWN else "")
        raise data_error(f"{len(missing)} {what} missing from '{folder}': {shown}.", fix)


def read_csv(path: Path, columns: tuple[str, ...], fix: str, delimiter: str = ",") -> list[dict[str, str]]:
    """Rows of a CSV whose header holds `columns` (other columns, e.g. a pandas index, are allowed)."""
    with open(path, newline="", encoding="utf-8-sig") as f:  # -sig: tolerate a spreadsheet's BOM
        reader = csv.DictReader(f, delimiter=delimiter)
        header = [h.strip() for h in reader.fieldnames or []]
        if not set(columns) <= set(header):
            found = delimiter.join(header) or "(empty)"
            raise data_error(f"'{path}' has the header '{found}'; expected '{delimiter.join(columns)}'.", fix)
        reader.fieldnames = header
        rows = [{k: (v or "").strip() for k, v in row.items() if k is not None} for row in reader]
    return [r for r in rows if any(r.get(c) for c in columns)]


def load_rgb(path: Path) -> np.ndarray:
    """(H, W, 3) uint8 RGB of any image PIL reads."""
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB")).copy()
    except FileNotFoundError:
        raise data_error(f"image '{path}' does not exist.", "restore the file or drop its pairs from the CSV.") from None
    except OSError as e:
        raise data_error(f"image '{path}' could not be read ({e}).", "replace it with a valid PNG or JPEG.") from None


@lru_cache(maxsize=1)
def _voc_colours() -> np.ndarray:
    return voc_palette(256).numpy()


def _palette_ids(image: Image.Image) -> np.ndarray | None:
    """The indices of a palette-mode PNG whose used entries are the VOC colours of those indices (as SCHP saves)."""
    ids = np.asarray(image)
    palette = np.asarray(image.getpalette() or [], np.uint8).reshape(-1, 3)
    used = np.unique(ids)
    if used.size and int(used.max()) < len(palette) and (palette[used] == _voc_colours()[used]).all():
        return ids
    return None


def load_parsing(path: Path, label_set: str = "lip") -> np.ndarray:
    """(H, W) uint8 LIP-20 ids from a PNG of class ids (greyscale or SCHP palette-mode) or a palette-coloured RGB map."""
    name = label_set.upper()
    fix = f"save one {name} label map per image as a lossless PNG (class ids, or the parser's palette colours)."
    try:
        with Image.open(path) as image:
            image.load()
            ids = _palette_ids(image) if image.mode == "P" else None
            if ids is None and image.mode in ("L", "I", "I;16", "LA"):
                ids = np.asarray(image.getchannel(0) if image.mode == "LA" else image)
            rgb = np.array(image.convert("RGB")) if ids is None else None
    except FileNotFoundError:
        raise data_error(f"parsing map '{path}' does not exist.", fix) from None
    except OSError as e:
        raise data_error(f"parsing map '{path}' could not be read ({e}).", fix) from None
    if rgb is not None:
        if (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all():
            ids = rgb[..., 0]  # class ids saved as a grey RGB image
        else:
            try:
                return palette_image_to_labels(torch.from_numpy(rgb)[None].float() / 255.0, label_set)[0].numpy()
            except TruePoseInputError as e:
                raise data_error(f"parsing map '{path}': {e.problem}", e.fix) from None
    classes = get_label_set(label_set).num_classes
    low, high = (int(ids.min()), int(ids.max())) if ids.size else (0, 0)
    if low < 0 or high >= classes:
        raise data_error(
            f"parsing map '{path}' holds class id {high if high >= classes else low}; {name} ids run 0..{classes - 1}.",
            f"write {name} class ids (0..{classes - 1}) per pixel, or give the label set of the parser that made the maps.",
        )
    return to_lip(torch.from_numpy(ids.astype(np.uint8)), label_set).numpy()


def resize_rgb(rgb: np.ndarray, height: int, width: int) -> np.ndarray:
    if rgb.shape[:2] == (height, width):
        return rgb
    shrink = height <= rgb.shape[0] and width <= rgb.shape[1]
    return cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def resize_labels(labels: np.ndarray, height: int, width: int) -> np.ndarray:
    if labels.shape[:2] == (height, width):
        return labels
    # _EXACT samples pixel centres (as PIL's NEAREST does); plain INTER_NEAREST shifts by half a pixel
    return cv2.resize(labels, (width, height), interpolation=cv2.INTER_NEAREST_EXACT)


def scale_keypoints(points: np.ndarray, from_hw: tuple[int, int], height: int, width: int) -> np.ndarray:
    """(18, 2) pixels on a `from_hw` = (height, width) canvas -> pixels of (height, width); NaN (missing) stays NaN."""
    return (points * np.array([width / from_hw[1], height / from_hw[0]], np.float32)).astype(np.float32)


def render_skeleton(points: np.ndarray, height: int, width: int) -> np.ndarray:
    """(H, W, 3) uint8 OpenPose skeleton, drawn exactly as SyntheticPairs draws its target pose."""
    return render_frame(PoseFrame(width, height, (Person(points),)), width, height, stick_scale=max(0.25, width / 512))


def image_tensor(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).float() / 255.0


Side = tuple[np.ndarray, np.ndarray, np.ndarray]  # (H, W, 3) uint8 RGB, (H, W) uint8 LIP ids, (18, 2) float32 pixels


def pair_item(source: Side, target: Side, height: int, width: int) -> dict[str, torch.Tensor]:
    """Two sides already at (height, width) -> the SyntheticPairs item dict."""
    (source_rgb, source_labels, source_points), (target_rgb, target_labels, target_points) = source, target
    return {
        "source_image": image_tensor(source_rgb),
        "source_parsing": torch.from_numpy(np.ascontiguousarray(source_labels)),
        "source_keypoints": torch.from_numpy(source_points),
        "target_image": image_tensor(target_rgb),
        "target_pose": image_tensor(render_skeleton(target_points, height, width)),
        "target_keypoints": torch.from_numpy(target_points),
        "target_parsing": torch.from_numpy(np.ascontiguousarray(target_labels)),
    }


def load_side(image_path: Path, parsing_path: Path, points: np.ndarray, points_hw: tuple[int, int] | None,
              height: int, width: int, label_set: str) -> Side:
    """One image, its parsing and its keypoints (pixels of `points_hw`, or of the image when None) at (height, width)."""
    rgb = load_rgb(image_path)
    labels = load_parsing(parsing_path, label_set)
    points = scale_keypoints(points, points_hw or rgb.shape[:2], height, width)
    return resize_rgb(rgb, height, width), resize_labels(labels, height, width), points


class PairReader(Dataset):
    """A list of (source, target) names, each read by `_side` at (height, width)."""

    pairs: list[tuple[str, str]]
    height: int
    width: int

    def _side(self, name: str) -> Side:
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if not 0 <= index < len(self.pairs):
            raise IndexError(index)
        source, target = self.pairs[index]
        return pair_item(self._side(source), self._side(target), self.height, self.width)
