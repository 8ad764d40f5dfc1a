"""The VOC palette that human-parsing packs colour their maps with, and conversions.

Decoding works on whole 8-bit levels in bounded memory: the colours of ids below 64 lie on a
grid of 64 levels per channel, so a pixel within the tolerance of a palette colour rounds to
exactly that grid point. One grid code per pixel, a table lookup, chunk by chunk: no
(pixels x classes) distance tensor.
"""

from __future__ import annotations

import torch

from ..errors import TruePoseInputError
from .label_check import check_label_set
from .labels import get_label_set, to_lip

# A pixel farther than this (8-bit levels, per channel) from every palette colour is not a
# palette pixel: JPEG noise stays well below it, and it is under half the grid step (32).
_MAX_LEVEL_ERROR = 30
_GRID = 64
_CHUNK_PIXELS = 1 << 20  # pixels decoded at once: a few MB of temporaries whatever the image size
_MAX_BAD_FRACTION = 0.01


def voc_palette(num_classes: int = 256) -> torch.Tensor:
    """(num_classes, 3) uint8: the PASCAL VOC colour map (bit-interleaved id -> RGB)."""
    colours = torch.zeros(num_classes, 3, dtype=torch.uint8)
    for i in range(num_classes):
        c, r, g, b = i, 0, 0, 0
        for shift in range(7, -1, -1):
            r |= (c & 1) << shift
            g |= ((c >> 1) & 1) << shift
            b |= ((c >> 2) & 1) << shift
            c >>= 3
        colours[i] = torch.tensor([r, g, b], dtype=torch.uint8)
    return colours


def labels_to_palette_image(labels: torch.Tensor) -> torch.Tensor:
    """(B, H, W) ids -> (B, H, W, 3) float RGB in 0..1 (ComfyUI IMAGE layout)."""
    palette = voc_palette(256).float() / 255.0
    return palette.to(labels.device)[labels.long()]


def _grid_table() -> torch.Tensor:
    """Grid code (r, g, b levels // 64 as base-4 digits) -> VOC id (0..63)."""
    table = torch.zeros(_GRID, dtype=torch.long)
    for voc_id, (r, g, b) in enumerate(voc_palette(_GRID).tolist()):
        table[(r // _GRID) * 16 + (g // _GRID) * 4 + b // _GRID] = voc_id
    return table


_GRID_TO_ID = _grid_table()


def decode_voc_ids(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, H, W, >=3) RGB in 0..1 -> (VOC ids 0..63 as uint8 (B, H, W), bool (B, H, W) "on a palette colour")."""
    b, h, w = image.shape[:3]
    ids = torch.empty(b * h * w, dtype=torch.uint8)
    exact = torch.empty(b * h * w, dtype=torch.bool)
    flat = image.reshape(-1, image.shape[-1])
    table = _GRID_TO_ID.to(image.device)
    for start in range(0, flat.shape[0], _CHUNK_PIXELS):
        rgb = flat[start : start + _CHUNK_PIXELS, :3]
        levels = (rgb.float() * 255.0).round_().clamp_(0, 255).to(torch.int16)
        del rgb
        grid = torch.div(levels + _GRID // 2, _GRID, rounding_mode="floor").clamp_(max=3)
        error = (levels - grid * _GRID).abs_().amax(dim=-1)
        del levels
        code = grid[:, 0].long() * 16 + grid[:, 1].long() * 4 + grid[:, 2].long()
        end = start + code.shape[0]
        ids[start:end] = table[code].to(torch.uint8).cpu()
        exact[start:end] = (error <= _MAX_LEVEL_ERROR).cpu()
    return ids.view(b, h, w), exact.view(b, h, w)


def palette_image_to_labels(image: torch.Tensor, label_set: str) -> torch.Tensor:
    """(B, H, W, 3) palette image of `label_set` -> (B, H, W) uint8 LIP-20 ids.

    The same colour means different classes in different label sets, so the set is required;
    a map whose colours or layout fit another set better is refused (label_check.py).
    """
    ls = get_label_set(label_set)
    if image.ndim != 4 or image.shape[-1] < 3:
        raise TruePoseInputError(
            "palette_image", f"expected an IMAGE (batch, height, width, 3), got shape {tuple(image.shape)}.",
            "connect the palette (colour) output of a human-parsing node.",
        )
    if image.numel() == 0:
        raise TruePoseInputError("palette_image", f"the image is empty (shape {tuple(image.shape)}).",
            "connect the palette output of a parser.")
    ids, on_palette = decode_voc_ids(image)
    bad = 1.0 - _count_in_set(ids, on_palette, ls.num_classes) / ids.numel()
    check_label_set(ids, on_palette, ls.name)  # first: a map of another label set gets the message that names it
    if bad > _MAX_BAD_FRACTION:
        raise TruePoseInputError(
            "palette_image",
            f"{bad:.0%} of the pixels match no {ls.name} palette colour: this is not a {ls.name} palette map.",
            "feed the colour map of a parser (not a photo or an overlay), saved losslessly (PNG), "
            "and pick the label set that parser uses.",
        )
    # The few off-palette pixels (edges of a lossy save) take the nearest grid colour when it is in the set.
    return _to_lip_in_chunks(ids, ls.name, ls.num_classes)


def _count_in_set(ids: torch.Tensor, on_palette: torch.Tensor, num_classes: int) -> int:
    flat_ids, flat_ok = ids.view(-1), on_palette.view(-1)
    return sum(
        int(torch.count_nonzero(flat_ok[i : i + _CHUNK_PIXELS] & (flat_ids[i : i + _CHUNK_PIXELS] < num_classes)))
        for i in range(0, flat_ids.numel(), _CHUNK_PIXELS)
    )


def _to_lip_in_chunks(ids: torch.Tensor, label_set: str, num_classes: int) -> torch.Tensor:
    """In place: ids of the set -> LIP ids, ids outside it -> background (to_lip without its int64 copy)."""
    table = torch.zeros(256, dtype=torch.uint8)
    table[:num_classes] = to_lip(torch.arange(num_classes, dtype=torch.uint8), label_set)
    table = table.to(ids.device)
    flat = ids.view(-1)
    for start in range(0, flat.numel(), _CHUNK_PIXELS):
        chunk = flat[start : start + _CHUNK_PIXELS]
        chunk.copy_(table[chunk.long()])
    return ids
