"""TRUEPOSE_PARSING: a batch of integer label maps in the canonical LIP-20 space."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..errors import TruePoseInputError
from .labels import LIP_NAMES, region_id_map


@dataclass(frozen=True)
class ParsingMap:
    """labels: uint8 (B, H, W), LIP-20 ids. label_set: the set the parser produced (for display)."""

    labels: torch.Tensor
    label_set: str = "lip"

    def __post_init__(self) -> None:
        if self.labels.ndim != 3:
            raise TruePoseInputError(
                "parsing", f"label map must be (batch, height, width), got shape {tuple(self.labels.shape)}.",
                "feed the output of a TruePose parsing node.",
            )
        if self.labels.dtype != torch.uint8:
            object.__setattr__(self, "labels", self.labels.to(torch.uint8))
        if self.labels.numel() and int(self.labels.max()) >= len(LIP_NAMES):
            raise TruePoseInputError(
                "parsing", f"label id {int(self.labels.max())} is not a LIP-20 id.",
                "convert the map to LIP ids before building a ParsingMap.",
            )

    @property
    def batch_size(self) -> int:
        return int(self.labels.shape[0])

    @property
    def size(self) -> tuple[int, int]:
        return int(self.labels.shape[1]), int(self.labels.shape[2])

    def region_map(self) -> torch.Tensor:
        """(B, H, W) long: index into REGION_NAMES for every pixel."""
        return region_id_map().to(self.labels.device)[self.labels.long()]

    def mask(self, lip_ids: tuple[int, ...]) -> torch.Tensor:
        """(B, H, W) float mask of the pixels whose label is in `lip_ids`."""
        ids = torch.tensor(lip_ids, dtype=torch.uint8, device=self.labels.device)
        return torch.isin(self.labels, ids).float()

    def resized(self, height: int, width: int) -> "ParsingMap":
        """NEAREST resize (labels are categorical: never interpolate them)."""
        if (height, width) == self.size:
            return self
        x = self.labels[:, None].float()
        y = F.interpolate(x, size=(height, width), mode="nearest")
        return ParsingMap(y[:, 0].to(torch.uint8), self.label_set)

    def select(self, index: int) -> "ParsingMap":
        return ParsingMap(self.labels[index : index + 1], self.label_set)

    def __repr__(self) -> str:
        b, h, w = self.labels.shape
        return f"ParsingMap(batch={b}, size={h}x{w}, from={self.label_set})"
