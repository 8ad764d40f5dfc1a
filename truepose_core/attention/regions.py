"""Per-block region index sets: the parsing resized to a block's token grid, then grouped."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..parsing.labels import REGION_NAMES
from ..parsing.parsing_map import ParsingMap


def grid_region_map(parsing: ParsingMap, grid: tuple[int, int]) -> torch.Tensor:
    """(B, h, w) long region ids (index into REGION_NAMES) on a token grid, NEAREST-resized."""
    return parsing.resized(*grid).region_map()


def region_token_indices(region_map: torch.Tensor, dilate: bool = False) -> dict[str, torch.Tensor]:
    """One image's (h, w) region map -> {region: LongTensor of flat token indices}.

    Regions absent from the map are left out. With `dilate`, every non-background region grows
    by one token, so thin parts (a face on a 8x8 grid) keep their border tokens; regions may
    then overlap.
    """
    out: dict[str, torch.Tensor] = {}
    for r, name in enumerate(REGION_NAMES):
        mask = region_map == r
        if dilate and name != "background":
            mask = F.max_pool2d(mask[None, None].float(), 3, stride=1, padding=1)[0, 0] > 0
        idx = mask.flatten().nonzero().flatten()
        if idx.numel():
            out[name] = idx
    return out
