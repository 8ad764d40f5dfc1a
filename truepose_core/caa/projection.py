"""CAA's learned part: one linear map per region from the CLIP embedding to the cross-attention
width (attn2's context width), then a LayerNorm, so each region becomes one text-like token."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .crops import CAA_REGIONS


class CAAProjection(nn.Module):
    def __init__(self, embed_dim: int, context_dim: int, regions: Sequence[str] = CAA_REGIONS) -> None:
        super().__init__()
        self.regions = tuple(regions)
        self.config = {"embed_dim": embed_dim, "context_dim": context_dim, "regions": list(self.regions)}
        self.proj = nn.ModuleDict({r: nn.Linear(embed_dim, context_dim) for r in self.regions})
        self.norm = nn.LayerNorm(context_dim)

    def forward(self, embeds: torch.Tensor) -> torch.Tensor:
        """(B, R, embed_dim) in `regions` order -> (B, R, context_dim) region tokens."""
        if embeds.shape[1] != len(self.regions):
            raise ValueError(f"expected {len(self.regions)} region embeddings, got {embeds.shape[1]}")
        tokens = torch.stack([self.proj[r](embeds[:, i]) for i, r in enumerate(self.regions)], dim=1)
        return self.norm(tokens)
