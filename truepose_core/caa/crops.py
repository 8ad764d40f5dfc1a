"""Region crops for CAA: per person region, the mask's bounding box with every pixel outside the
mask neutralised, padded to a square (the crop is never stretched) and resized for CLIP."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..parsing.labels import REGION_NAMES
from ..parsing.parsing_map import ParsingMap

CAA_REGIONS: tuple[str, ...] = tuple(r for r in REGION_NAMES if r != "background")
NEUTRAL = 0.5  # mid grey: carries no colour for CLIP to pick up


@dataclass(frozen=True)
class RegionCrops:
    """pixels (B, R, 3, S, S) in [0, 1]; present (B, R) bool (a region absent from an image has
    an all-neutral crop and must not be attended to)."""

    pixels: torch.Tensor
    present: torch.Tensor
    regions: tuple[str, ...]


def region_crops(
    images: torch.Tensor, parsing: ParsingMap, regions: tuple[str, ...] = CAA_REGIONS, size: int = 224,
    min_pixels: int = 16,
) -> RegionCrops:
    """images (B, 3, H, W) in [0, 1]; parsing at the same size (or one map for the batch)."""
    b, _, h, w = images.shape
    region_map = parsing.resized(h, w).region_map().to(images.device)
    if region_map.shape[0] == 1 and b > 1:
        region_map = region_map.expand(b, -1, -1)
    pixels = images.new_full((b, len(regions), 3, size, size), NEUTRAL)
    present = torch.zeros(b, len(regions), dtype=torch.bool, device=images.device)
    for i in range(b):
        for j, name in enumerate(regions):
            mask = region_map[i] == REGION_NAMES.index(name)
            if int(mask.sum()) < min_pixels:
                continue
            pixels[i, j] = _square_crop(images[i], mask, size)
            present[i, j] = True
    return RegionCrops(pixels, present, tuple(regions))


def _square_crop(image: torch.Tensor, mask: torch.Tensor, size: int) -> torch.Tensor:
    rows, cols = mask.any(1).nonzero().flatten(), mask.any(0).nonzero().flatten()
    top, bottom, left, right = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    crop = torch.where(mask[top:bottom, left:right], image[:, top:bottom, left:right], NEUTRAL)
    ch, cw = crop.shape[-2:]
    side = max(ch, cw)
    pad_y, pad_x = side - ch, side - cw
    crop = F.pad(crop, (pad_x // 2, pad_x - pad_x // 2, pad_y // 2, pad_y - pad_y // 2), value=NEUTRAL)
    return F.interpolate(crop[None], size=(size, size), mode="bilinear", antialias=side > size, align_corners=False)[0]
