"""SSIM inside body regions (face, upper clothes, lower clothes...) of the ground-truth parsing.

The paper's claim is that the face AND the clothes survive the pose change, which a whole-image SSIM
dominated by background cannot show. Region SSIM of an image = the mean of its per-pixel SSIM map
(pixel_metrics.ssim_map: RGB-averaged, full size, windows see the pixels around the region too) over the
pixels whose GT parsing id is in the region's group (truepose_core.parsing.labels.REGION_GROUPS, LIP-20 ids).
The dataset value is the mean over images; an image whose region is empty is skipped for that region and
counted in `skipped_empty`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from ..errors import TruePoseInputError
from ..parsing.labels import REGION_GROUPS, REGION_NAMES

DEFAULT_REGIONS: tuple[str, ...] = ("face", "upper", "lower")


def check_regions(regions: Sequence[str]) -> tuple[str, ...]:
    unknown = [r for r in regions if r not in REGION_GROUPS]
    if unknown or not regions:
        raise TruePoseInputError(
            "regions", f"unknown region(s) {', '.join(unknown) or '(none given)'}.", f"choose from {', '.join(REGION_NAMES)}.",
        )
    return tuple(regions)


def region_ssim(ssim: torch.Tensor, parsing: torch.Tensor, region: str) -> list[float | None]:
    """(N, H, W) SSIM map and (N, H, W) LIP ids -> per-image region SSIM, None where the region is empty."""
    ids = torch.tensor(REGION_GROUPS[region], device=parsing.device)
    mask = torch.isin(parsing, ids).to(ssim.dtype)
    area = mask.sum(dim=(1, 2))
    means = (ssim * mask).sum(dim=(1, 2)) / area.clamp(min=1)
    return [float(m) if a > 0 else None for m, a in zip(means.tolist(), area.tolist())]


@dataclass
class RegionTotals:
    """Running per-region sums over a dataset."""

    regions: tuple[str, ...]
    sums: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)

    def add(self, region: str, values: list[float | None]) -> None:
        present = [v for v in values if v is not None]
        self.sums[region] = self.sums.get(region, 0.0) + sum(present)
        self.counts[region] = self.counts.get(region, 0) + len(present)
        self.skipped[region] = self.skipped.get(region, 0) + len(values) - len(present)

    def summary(self) -> dict[str, dict]:
        out = {}
        for region in self.regions:
            count = self.counts.get(region, 0)
            out[region] = {
                "value": self.sums[region] / count if count else None,
                "images": count,
                "skipped_empty": self.skipped.get(region, 0),
                "lip_ids": list(REGION_GROUPS[region]),
            }
        return out
