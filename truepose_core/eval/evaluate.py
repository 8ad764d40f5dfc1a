"""The two entry points: `evaluate_tensors` for in-memory images (training experiments) and `evaluate_folders`.

Both validate their inputs (TruePoseInputError naming the fix) and feed the same Accumulator.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from ..errors import TruePoseInputError
from .accumulator import Accumulator
from .pairs import Batch, check_parsing_ids, find_pairs, iter_batches
from .pixel_metrics import SSIM_WINDOW
from .region_ssim import DEFAULT_REGIONS


def _check_batch_size(batch_size: int) -> None:
    if batch_size < 1:
        raise TruePoseInputError("batch_size", f"batch size {batch_size} is below 1.", "pass a batch size of 1 or more.")


def _check_tensors(generated: torch.Tensor, ground_truth: torch.Tensor, parsing: torch.Tensor | None) -> None:
    for name, t in (("generated", generated), ("ground_truth", ground_truth)):
        if t.ndim != 4 or t.shape[1] != 3 or not t.is_floating_point():
            raise TruePoseInputError(name, f"expected a float (N, 3, H, W) tensor, got {t.dtype} {tuple(t.shape)}.", "pass RGB images.")
        low, high = (float(t.min()), float(t.max())) if t.numel() else (0.0, 1.0)
        if low < 0 or high > 1:
            raise TruePoseInputError(name, f"values span [{low:.3f}, {high:.3f}], outside [0, 1].", "scale (and clamp) images to [0, 1].")
    if generated.shape != ground_truth.shape:
        raise TruePoseInputError(
            "generated", f"shape {tuple(generated.shape)} differs from ground truth {tuple(ground_truth.shape)}.",
            "resize the generated images to the ground-truth size first.",
        )
    if min(generated.shape[2:]) < SSIM_WINDOW:
        raise TruePoseInputError(
            "generated", f"images are {tuple(generated.shape[2:])}; SSIM needs at least {SSIM_WINDOW}x{SSIM_WINDOW}.", "use larger images.",
        )
    if parsing is not None:
        n, _, h, w = ground_truth.shape
        if parsing.shape != (n, h, w) or parsing.is_floating_point():
            raise TruePoseInputError(
                "parsing", f"expected an integer ({n}, {h}, {w}) tensor, got {parsing.dtype} {tuple(parsing.shape)}.",
                "pass LIP ids as a long (N, H, W) tensor at the ground-truth size.",
            )
        check_parsing_ids(parsing, "the parsing tensor")


def evaluate_tensors(
    generated: torch.Tensor, ground_truth: torch.Tensor, parsing: torch.Tensor | None = None, *,
    names: Sequence[str] | None = None, regions: Sequence[str] = DEFAULT_REGIONS, fid: bool = False,
    fid_backbone: str | Path | None = None, lpips_backbone: str | Path | None = None,
    device: str | torch.device = "cpu", batch_size: int = 16,
) -> dict:
    """Metrics of in-memory images: generated/ground_truth (N, 3, H, W) floats in [0, 1], parsing (N, H, W) LIP ids.

    SSIM, PSNR always; region SSIM when `parsing` is given; LPIPS only with `lpips_backbone`; FID only with
    `fid=True` or `fid_backbone`. Per-image rows are named `names` (default "0", "1", ...).
    """
    _check_tensors(generated, ground_truth, parsing)
    _check_batch_size(batch_size)
    names = [str(i) for i in range(len(generated))] if names is None else list(names)
    if len(names) != len(generated):
        raise TruePoseInputError("names", f"{len(names)} names for {len(generated)} images.", "give one name per image.")
    acc = Accumulator(regions, fid, fid_backbone, lpips_backbone, device)
    for start in range(0, len(generated), batch_size):
        part = slice(start, start + batch_size)
        acc.update(Batch(names[part], generated[part], ground_truth[part], None if parsing is None else parsing[part].long()))
    return acc.result()


def evaluate_folders(
    generated_dir: str | Path, ground_truth_dir: str | Path, parsing_dir: str | Path | None = None, *,
    resize: bool = False, regions: Sequence[str] = DEFAULT_REGIONS, fid: bool = True,
    fid_backbone: str | Path | None = None, lpips_backbone: str | Path | None = None,
    device: str | torch.device = "cpu", batch_size: int = 16,
) -> dict:
    """Metrics of image folders paired by file stem (see pairs.py). FID is on by default here (bundled InceptionV3)."""
    _check_batch_size(batch_size)
    pairs = find_pairs(generated_dir, ground_truth_dir, parsing_dir)
    acc = Accumulator(regions, fid, fid_backbone, lpips_backbone, device)
    for batch in iter_batches(pairs, batch_size, resize):
        acc.update(batch)
    result = acc.result()
    result["inputs"] = {
        "generated": str(generated_dir), "ground_truth": str(ground_truth_dir),
        "parsing": None if parsing_dir is None else str(parsing_dir), "resized_generated_to_gt": resize,
    }
    return result
