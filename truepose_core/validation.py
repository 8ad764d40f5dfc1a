"""Shared checks of user inputs: numbers, image/mask layouts, batch sizes and aspect ratios.

Every spatial input (source parsing, target layout, pose image, masks) goes through the same
aspect check and is refused instead of stretched. Errors are TruePoseInputError, so the node
that runs the check adds its own name (nodes/errors.py).
"""

from __future__ import annotations

import math

import torch

from .errors import TruePoseInputError

# Relative difference of height/width ratios taken as "the same aspect": what rounding a side to
# a multiple of 8 (or a VAE's crop) can cause, far below a real change of format (4:5 vs 1:1 is 25 %).
ASPECT_TOLERANCE = 0.02


def check_number(input_name: str, value: float, low: float | None = None, high: float | None = None) -> float:
    """A finite number inside [low, high] (None: unbounded). The fix quotes the widget's own range."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TruePoseInputError(input_name, f"{value!r} is not a number.", f"set it {_range(low, high)}.") from None
    if math.isnan(number):
        raise TruePoseInputError(input_name, "the value is NaN (not a number).", f"set it {_range(low, high)}.")
    if math.isinf(number) or (low is not None and number < low) or (high is not None and number > high):
        raise TruePoseInputError(input_name, f"{number} is outside the allowed range.", f"set it {_range(low, high)}.")
    return number


def _range(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"between {low:g} and {high:g}"
    if low is not None:
        return f"to a finite number >= {low:g}"
    if high is not None:
        return f"to a finite number <= {high:g}"
    return "to a finite number"


def check_image(input_name: str, image, fix: str) -> torch.Tensor:
    """An IMAGE: (batch, height, width, channels >= 3), at least one pixel, finite values."""
    if not isinstance(image, torch.Tensor) or image.ndim != 4 or image.shape[-1] < 3:
        shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise TruePoseInputError(input_name, f"expected an IMAGE (batch, height, width, 3), got {shape}.", fix)
    if image.numel() == 0:
        raise TruePoseInputError(input_name, f"the image is empty (shape {tuple(image.shape)}).", fix)
    _check_finite(input_name, image, fix)
    return image


def check_mask(input_name: str, mask, fix: str) -> torch.Tensor:
    """A MASK, (height, width) or (batch, height, width) -> (batch, height, width)."""
    if not isinstance(mask, torch.Tensor) or mask.ndim not in (2, 3) or mask.numel() == 0:
        shape = tuple(mask.shape) if isinstance(mask, torch.Tensor) else type(mask).__name__
        raise TruePoseInputError(input_name, f"expected a MASK (batch, height, width), got {shape}.", fix)
    _check_finite(input_name, mask, fix)
    return mask.reshape(-1, *mask.shape[-2:])


def _check_finite(input_name: str, x: torch.Tensor, fix: str) -> None:
    if not x.is_floating_point():
        return
    for chunk in x.reshape(-1).split(1 << 20):  # no full-size bool copy of a large image
        if not bool(torch.isfinite(chunk).all()):
            raise TruePoseInputError(input_name, "it holds NaN or infinite values.", fix)


def check_batch(input_name: str, count: int, batch: int, items: str, per: str, fix: str) -> None:
    """`count` `items` (plural noun) for `batch` `per`: one for all, or exactly one each."""
    if count not in (1, batch):
        raise TruePoseInputError(input_name, f"{count} {items} for {per} of {batch}.", fix)


def same_aspect(size: tuple[int, int], reference: tuple[int, int], slack: float = 0.0) -> bool:
    """(height, width) pairs; `slack`: extra relative tolerance (a coarse token grid's rounding)."""
    h, w = size
    rh, rw = reference
    ratio, reference_ratio = h / w, rh / rw
    return abs(ratio - reference_ratio) <= (ASPECT_TOLERANCE + slack) * reference_ratio


def check_aspect(input_name: str, size: tuple[int, int], reference: tuple[int, int], reference_name: str, fix: str,
                 slack: float = 0.0) -> None:
    """Refuse instead of stretching: `size` must have the aspect ratio of `reference` (both (h, w))."""
    if not same_aspect(size, reference, slack):
        raise TruePoseInputError(
            input_name,
            f"it is {size[1]}x{size[0]} but {reference_name} is {reference[1]}x{reference[0]} (another aspect ratio); "
            "it would be stretched.",
            fix,
        )


# What the Apply inputs are checked against. At Apply time the latent is not known yet: the inputs
# are checked against each other; while sampling, against the latent batch and size.
_LAYOUT_FIX = ("make the target layout at the output image size (the Empty Latent Image's width and height), e.g. parse or draw it from "
    "the target pose at that size.")
_POSE_FIX = "render the pose at the output image size (Render Pose width/height = Empty Latent Image size)."
_PER_LATENT_FIX = "give one {what}, or exactly one per latent (the Empty Latent Image's batch_size)."


def check_apply_inputs(num_sources: int, layout_batch: int | None, layout_size: tuple[int, int] | None,
                       pose_image: torch.Tensor | None) -> None:
    """What can be checked before sampling: each input's layout, and the inputs against each other."""
    if pose_image is not None:
        check_image("pose_image", pose_image, "connect Render Pose's image (the target skeleton).")
    batches = {"source": num_sources, "target_layout": layout_batch, "pose_image": None if pose_image is None else int(pose_image.shape[0])}
    many = {name: n for name, n in batches.items() if n is not None and n > 1}
    if len(set(many.values())) > 1:
        (first, n_first), (second, n_second) = list(many.items())[:2]  # blame the later input, source first
        raise TruePoseInputError(
            second, f"it has a batch of {n_second} but {first} has {n_first}; each latent reads one of each.",
            "give every batched input the same batch size as the latent (or a batch of 1 to share it).",
        )
    if pose_image is not None and layout_size is not None:
        check_aspect("pose_image", tuple(pose_image.shape[1:3]), layout_size, "target_layout", _POSE_FIX)


def check_pose_image_against_latent(frames: int, size: tuple[int, int], latent_batch: int, latent_size: tuple[int, int]) -> None:
    """While sampling: (h, w) latent size in latent pixels."""
    check_batch("pose_image", frames, latent_batch, "pose images", "a latent batch", _PER_LATENT_FIX.format(what="pose image"))
    check_aspect("pose_image", size, (latent_size[0] * 8, latent_size[1] * 8), "the latent (in pixels)", _POSE_FIX)


def check_layout_against_grid(size: tuple[int, int], grid: tuple[int, int]) -> None:
    """While sampling: the target layout against a block's token grid (coarse grids round up a token)."""
    slack = 1.0 / max(min(grid), 1)
    if not same_aspect(size, grid, slack):
        raise TruePoseInputError(
            "target_layout",
            f"it is {size[1]}x{size[0]}, another aspect ratio than the latent (a {grid[1]}x{grid[0]} token grid); it would be stretched.",
            _LAYOUT_FIX,
        )
