"""CAA's attention-localisation loss (docs/METHOD.md 5): each region token's cross-attention map over
the target tokens should sit inside that region of the TARGET parsing.

Per (layer, image, region): mean attention outside the region minus mean attention inside,
averaged over every pair where the region is in the source (the token exists) and in the target
(both inside and outside are non-empty). Lower is better; the minimum is -1.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..attention.regions import grid_region_map
from ..parsing.labels import REGION_NAMES
from ..parsing.parsing_map import ParsingMap


def region_masks(target: ParsingMap, grid: tuple[int, int], regions: Sequence[str]) -> torch.Tensor:
    """(B, R, h*w) bool: which target tokens belong to each region at one layer's grid."""
    region_map = grid_region_map(target, grid).flatten(1)
    ids = torch.tensor([REGION_NAMES.index(r) for r in regions], device=region_map.device)
    return region_map[:, None, :] == ids[None, :, None]


def localisation_loss(maps: torch.Tensor, inside: torch.Tensor, present: torch.Tensor) -> torch.Tensor | None:
    """maps (B, R, N) attention of each region token; inside (B, R, N) bool; present (B, R) bool.
    -> scalar, or None when no (image, region) pair is usable."""
    inside = inside.to(maps.device)
    n_in = inside.sum(-1)
    n_out = inside.shape[-1] - n_in
    valid = present.to(maps.device) & (n_in > 0) & (n_out > 0)
    if not valid.any():
        return None
    inside_f = inside.to(maps.dtype)
    mean_in = (maps * inside_f).sum(-1) / n_in.clamp(min=1)
    mean_out = (maps * (1 - inside_f)).sum(-1) / n_out.clamp(min=1)
    return (mean_out - mean_in)[valid].mean()
