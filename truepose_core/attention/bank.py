"""The SourceNet bank: tokens entering attn1, per block, grouped by parsing region."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import torch

from ..errors import TruePoseInputError
from ..parsing.parsing_map import ParsingMap
from .regions import grid_region_map, region_token_indices

# (block name, block id, transformer index), e.g. ("output", 3, 0): ComfyUI's attn1 patch key.
BlockKey = tuple[str, int, int]


@dataclass(frozen=True)
class RegionEmbeddings:
    """CAA's input: one CLIP image embedding per (source image, region crop)."""

    embeds: torch.Tensor  # (S, R, D)
    present: torch.Tensor  # (S, R) bool
    regions: tuple[str, ...]

    def merged(self, other: "RegionEmbeddings", regions: Iterable[str]) -> "RegionEmbeddings":
        if self.regions != other.regions or self.embeds.shape[-1] != other.embeds.shape[-1]:
            raise TruePoseInputError(
                "source", "the two sources' region embeddings come from different CLIP vision models.",
                "encode both sources with the same clip_vision model.",
            )
        s = max(self.embeds.shape[0], other.embeds.shape[0])
        embeds = self.embeds.expand(s, -1, -1).clone()
        present = self.present.expand(s, -1).clone()
        for region in regions:
            if region in self.regions:
                j = self.regions.index(region)
                embeds[:, j] = other.embeds.expand(s, -1, -1)[:, j]
                present[:, j] = other.present.expand(s, -1)[:, j]
        return RegionEmbeddings(embeds, present, self.regions)


@dataclass(frozen=True)
class SourceBank:
    """region -> block -> one (N_r, C) token tensor per source image.

    Regions are independent, so a bank can take its face from one photo and its clothes from
    another (region editing): see `merged`.
    """

    tokens: Mapping[str, Mapping[BlockKey, tuple[torch.Tensor, ...]]]
    channels: Mapping[BlockKey, int]
    num_images: int
    clip: RegionEmbeddings | None = None  # CAA region embeddings (trained mode), when encoded with CLIP vision

    @property
    def blocks(self) -> tuple[BlockKey, ...]:
        return tuple(self.channels)

    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(self.tokens)

    def region_tokens(self, region: str, block: BlockKey, image: int) -> torch.Tensor | None:
        per_block = self.tokens.get(region)
        if per_block is None or block not in per_block:
            return None
        images = per_block[block]
        return images[image if len(images) > 1 else 0]

    @property
    def nbytes(self) -> int:
        return sum(
            t.numel() * t.element_size()
            for per_block in self.tokens.values()
            for images in per_block.values()
            for t in images
        )

    def merged(self, other: "SourceBank", regions: Iterable[str]) -> "SourceBank":
        """A bank whose `regions` come from `other` and the rest from self."""
        if dict(self.channels) != dict(other.channels):
            raise TruePoseInputError(
                "source", "the two sources were encoded by models of different architectures.",
                "encode every source with the same SourceNet MODEL.",
            )
        if self.num_images != other.num_images and 1 not in (self.num_images, other.num_images):
            raise TruePoseInputError(
                "source", f"source batches differ ({self.num_images} vs {other.num_images} images).",
                "use sources with the same number of images, or a single image.",
            )
        regions = list(regions)
        tokens = dict(self.tokens)
        for region in regions:
            if region in other.tokens:
                tokens[region] = other.tokens[region]
            else:
                tokens.pop(region, None)
        clip = None
        if self.clip is not None and other.clip is not None:
            clip = self.clip.merged(other.clip, regions)
        return SourceBank(tokens, self.channels, max(self.num_images, other.num_images), clip)

    def __repr__(self) -> str:
        return (
            f"SourceBank(images={self.num_images}, blocks={len(self.channels)}, "
            f"regions={list(self.tokens)}, {self.nbytes / 2**20:.1f} MiB{', CLIP regions' if self.clip is not None else ''})"
        )


@dataclass
class BankRecorder:
    """Collects the normed tokens entering attn1 during one SourceNet pass per image."""

    tokens: dict[BlockKey, list[torch.Tensor]] = field(default_factory=dict)
    grids: dict[BlockKey, tuple[int, int]] = field(default_factory=dict)
    store_device: torch.device | str = "cpu"
    store_dtype: torch.dtype | None = None
    detach: bool = True  # False in training: gradients flow from TargetNet's loss into SourceNet

    def record(self, block: BlockKey, n: torch.Tensor, grid: tuple[int, int]) -> None:
        """n: (B, N, C) for one pass. Called once per block per pass, in pass order."""
        if grid[0] * grid[1] != n.shape[1]:
            raise RuntimeError(f"TruePose: token grid {grid} does not match {n.shape[1]} tokens at {block}")
        stored = (n.detach() if self.detach else n).to(self.store_device, self.store_dtype or n.dtype)
        self.tokens.setdefault(block, []).extend(stored.unbind(0))
        self.grids[block] = grid

    def build(self, parsing: ParsingMap, dilate: bool = False) -> SourceBank:
        """Group the recorded tokens by the parsing regions of each image."""
        if not self.tokens:
            raise TruePoseInputError(
                "model", "the SourceNet pass recorded no self-attention tokens: this model has no attn1 blocks.",
                "use a UNet model (SD1.5 / SDXL family) as SourceNet.",
            )
        num_images = len(next(iter(self.tokens.values())))
        if parsing.batch_size not in (1, num_images):
            raise TruePoseInputError(
                "parsing", f"{parsing.batch_size} parsing maps for {num_images} source images.",
                "give one parsing map per source image (same batch size), or a single map.",
            )
        tokens: dict[str, dict[BlockKey, list[torch.Tensor]]] = {}
        channels: dict[BlockKey, int] = {}
        for block, per_image in self.tokens.items():
            region_maps = grid_region_map(parsing, self.grids[block])
            channels[block] = int(per_image[0].shape[-1])
            for i, t in enumerate(per_image):
                indices = region_token_indices(region_maps[i if parsing.batch_size > 1 else 0], dilate)
                for region, idx in indices.items():
                    slot = tokens.setdefault(region, {}).setdefault(block, [t.new_zeros(0, t.shape[-1])] * num_images)
                    slot[i] = t[idx.to(t.device)].contiguous()
        frozen = {r: {b: tuple(v) for b, v in per_block.items()} for r, per_block in tokens.items()}
        return SourceBank(frozen, channels, num_images)
