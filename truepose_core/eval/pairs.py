"""Pairing generated images with ground truth (and GT parsing maps) by file stem, and loading them as tensors.

Pairs are formed by stem ("0001.png" in one folder matches "0001.jpg" in the other) so that evaluation never
depends on directory order. Every problem with the folders is a TruePoseInputError naming the fix.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from ..errors import TruePoseInputError
from ..parsing.labels import LIP_NAMES

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
MAX_LISTED = 10  # names shown in an error before "... and N more"
NUM_LIP = len(LIP_NAMES)


@dataclass(frozen=True)
class Pair:
    name: str  # the shared file stem
    generated: Path
    ground_truth: Path
    parsing: Path | None = None


@dataclass
class Batch:
    names: list[str]
    generated: torch.Tensor  # (N, 3, H, W) float in [0, 1]
    ground_truth: torch.Tensor  # (N, 3, H, W) float in [0, 1]
    parsing: torch.Tensor | None  # (N, H, W) long LIP ids


def _listing(names: Sequence[str]) -> str:
    shown = ", ".join(sorted(names)[:MAX_LISTED])
    more = len(names) - MAX_LISTED
    return shown + (f" ... and {more} more" if more > 0 else "")


def images_by_stem(folder: str | Path, input_name: str) -> dict[str, Path]:
    """Image files of `folder` (not recursive) keyed by stem."""
    path = Path(folder)
    if not path.is_dir():
        raise TruePoseInputError(input_name, f"folder '{path}' does not exist or is not a directory.", "pass an existing folder of images.")
    found: dict[str, Path] = {}
    for file in sorted(path.iterdir()):
        if not file.is_file() or file.suffix.lower() not in IMAGE_EXTENSIONS:
            continue
        if file.stem in found:
            raise TruePoseInputError(
                input_name, f"'{found[file.stem].name}' and '{file.name}' in '{path}' share the stem '{file.stem}'.",
                "keep one file per name; images are paired by file name without extension.",
            )
        found[file.stem] = file
    if not found:
        raise TruePoseInputError(
            input_name, f"folder '{path}' holds no images ({', '.join(IMAGE_EXTENSIONS)}).", "point it at the folder with the images.",
        )
    return found


def find_pairs(generated_dir: str | Path, ground_truth_dir: str | Path, parsing_dir: str | Path | None = None) -> list[Pair]:
    """Pairs sorted by name. Every generated image needs a GT image and vice versa; every GT needs a parsing map when given."""
    generated = images_by_stem(generated_dir, "generated")
    truth = images_by_stem(ground_truth_dir, "ground_truth")
    only_generated = sorted(set(generated) - set(truth))
    only_truth = sorted(set(truth) - set(generated))
    if only_generated or only_truth:
        parts = []
        if only_generated:
            parts.append(f"{len(only_generated)} generated image(s) have no ground truth: {_listing(only_generated)}.")
        if only_truth:
            parts.append(f"{len(only_truth)} ground-truth image(s) have no generated image: {_listing(only_truth)}.")
        raise TruePoseInputError(
            "generated", "the folders do not pair up by file name. " + " ".join(parts),
            "give each generated image the same file name (extension aside) as its ground truth, and remove extra files.",
        )
    parsing: dict[str, Path] = {}
    if parsing_dir is not None:
        parsing = images_by_stem(parsing_dir, "parsing")
        missing = sorted(set(truth) - set(parsing))
        if missing:
            raise TruePoseInputError(
                "parsing", f"{len(missing)} ground-truth image(s) have no parsing map: {_listing(missing)}.",
                "add a parsing PNG with the same file name for each ground-truth image, or leave out --parsing.",
            )
    return [Pair(name, generated[name], truth[name], parsing.get(name)) for name in sorted(truth)]


def _open(path: Path, input_name: str) -> Image.Image:
    try:
        image = Image.open(path)
        image.load()
    except (OSError, UnidentifiedImageError) as exc:
        raise TruePoseInputError(input_name, f"cannot read image '{path}': {exc}.", "replace the file with a valid image.") from exc
    return image


def load_rgb(path: Path, input_name: str, size_hw: tuple[int, int] | None = None) -> torch.Tensor:
    """(3, H, W) float in [0, 1]. With `size_hw` the image is resized (PIL bicubic) to that height and width."""
    image = _open(path, input_name).convert("RGB")
    if size_hw is not None and (image.height, image.width) != size_hw:
        image = image.resize((size_hw[1], size_hw[0]), Image.Resampling.BICUBIC)
    return torch.from_numpy(np.asarray(image, dtype=np.uint8).copy()).permute(2, 0, 1).float() / 255.0


def load_parsing(path: Path, size_hw: tuple[int, int]) -> torch.Tensor:
    """(H, W) long LIP ids from a single-channel PNG (grey or palette: the pixel value is the id)."""
    image = _open(path, "parsing")
    if image.mode not in ("L", "P", "I", "I;16"):
        raise TruePoseInputError(
            "parsing", f"'{path}' is a {image.mode} image, not a single-channel map of LIP class ids.",
            "save the parser's label map (grey or palette PNG whose pixel values are ids 0-19), not a colour visualisation.",
        )
    ids = torch.from_numpy(np.asarray(image).astype(np.int64))
    if tuple(ids.shape) != size_hw:
        raise TruePoseInputError(
            "parsing", f"'{path}' is {ids.shape[0]}x{ids.shape[1]} but its ground-truth image is {size_hw[0]}x{size_hw[1]} (HxW).",
            "parse the ground-truth images themselves, at their size.",
        )
    check_parsing_ids(ids, str(path))
    return ids


def check_parsing_ids(ids: torch.Tensor, where: str) -> None:
    bad = ids[(ids < 0) | (ids >= NUM_LIP)]
    if bad.numel():
        raise TruePoseInputError(
            "parsing", f"{where} holds label id {int(bad[0])}; LIP ids are 0-{NUM_LIP - 1}.",
            "pass LIP-20 label maps (convert ATR/CIHP/Pascal maps to LIP first).",
        )


def load_pair(pair: Pair, resize: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    truth = load_rgb(pair.ground_truth, "ground_truth")
    size_hw = (truth.shape[1], truth.shape[2])
    generated = load_rgb(pair.generated, "generated", size_hw if resize else None)
    if generated.shape != truth.shape:
        raise TruePoseInputError(
            "generated", f"'{pair.generated.name}' is {generated.shape[1]}x{generated.shape[2]} but its ground truth "
            f"'{pair.ground_truth.name}' is {size_hw[0]}x{size_hw[1]} (HxW).",
            "generate at the ground-truth size, or pass --resize to resize generated images to it (bicubic).",
        )
    parsing = load_parsing(pair.parsing, size_hw) if pair.parsing is not None else None
    return generated, truth, parsing


def iter_batches(pairs: Sequence[Pair], batch_size: int, resize: bool) -> Iterator[Batch]:
    """Batches of up to `batch_size` consecutive pairs; a batch also ends where the image size changes."""
    pending: list[tuple[str, torch.Tensor, torch.Tensor, torch.Tensor | None]] = []

    def flush() -> Batch:
        names, gen, gt, par = zip(*pending)
        pending.clear()
        return Batch(list(names), torch.stack(gen), torch.stack(gt), None if par[0] is None else torch.stack(par))

    for pair in pairs:
        loaded = load_pair(pair, resize)
        if pending and (len(pending) == batch_size or pending[-1][2].shape != loaded[1].shape):
            yield flush()
        pending.append((pair.name, *loaded))
    if pending:
        yield flush()
