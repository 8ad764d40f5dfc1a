"""The VOC palette that human-parsing packs colour their maps with, and conversions."""

from __future__ import annotations

import torch

from ..errors import TruePoseInputError
from .labels import get_label_set, to_lip

# A palette image farther than this (0..1 RGB, per channel) from every palette colour is not a
# palette image: JPEG noise stays well below it.
_MAX_COLOUR_ERROR = 0.12


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


def palette_image_to_labels(image: torch.Tensor, label_set: str) -> torch.Tensor:
    """(B, H, W, 3) palette image of `label_set` -> (B, H, W) uint8 LIP-20 ids.

    The same colour means different classes in different label sets, so the set is required.
    """
    ls = get_label_set(label_set)
    if image.ndim != 4 or image.shape[-1] < 3:
        raise TruePoseInputError(
            "palette_image", f"expected an IMAGE (batch, height, width, 3), got shape {tuple(image.shape)}.",
            "connect the palette (colour) output of a human-parsing node.",
        )
    palette = voc_palette(ls.num_classes).float().to(image.device) / 255.0
    rgb = image[..., :3].float()
    dist = (rgb[..., None, :] - palette).abs().amax(dim=-1)  # (B, H, W, classes)
    err, ids = dist.min(dim=-1)
    bad = (err > _MAX_COLOUR_ERROR).float().mean().item()
    if bad > 0.01:
        raise TruePoseInputError(
            "palette_image",
            f"{bad:.0%} of the pixels match no {ls.name} palette colour: this is not a {ls.name} palette map.",
            "feed the colour map of a parser (not a photo or an overlay), saved losslessly (PNG), "
            "and pick the label set that parser uses.",
        )
    return to_lip(ids.to(torch.uint8), ls.name)
