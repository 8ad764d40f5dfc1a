"""Which rows of a sampling batch read which source image: computed once per batch layout.

Row sets are slices whenever the rows are contiguous (the usual case: one source, CFG halves),
so reading and writing them are views, not index_select / index_put copies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ..errors import TruePoseInputError

Rows = slice | torch.Tensor  # a contiguous range, or a LongTensor of row indices


def as_rows(rows: Sequence[int], device: torch.device) -> Rows:
    if rows and list(rows) == list(range(rows[0], rows[0] + len(rows))):
        return slice(rows[0], rows[0] + len(rows))
    return torch.tensor(rows, dtype=torch.long, device=device)


@dataclass(frozen=True)
class RowPlan:
    """groups: (source image, layout image) -> the rows that read it; idle: rows that read nothing."""

    batch: int
    groups: dict[tuple[int, int], Rows]
    idle: Rows | None

    @property
    def all_rows_in_one_group(self) -> bool:
        if self.idle is not None or len(self.groups) != 1:
            return False
        rows = next(iter(self.groups.values()))
        return isinstance(rows, slice) and rows == slice(0, self.batch)


def plan_rows(
    batch: int, cond_or_uncond: Sequence[int], num_sources: int, num_layouts: int, uncond_reads_source: bool,
    device: torch.device, tiles: int = 1,
) -> RowPlan:
    """Uncond rows read nothing unless `uncond_reads_source`. Raises on source/layout batch mismatch.

    `tiles`: rows per latent, when a patch (HyperTile) split every latent's tokens into that many
    consecutive batch rows; every tile of a latent reads that latent's source."""
    chunks = list(cond_or_uncond) or [0]
    if batch % len(chunks):
        chunks = [0]
    per_chunk = batch // len(chunks)
    if tiles < 1 or per_chunk % tiles:
        tiles = 1
    latents = per_chunk // tiles
    for name, n in (("source", num_sources), ("target_layout", num_layouts)):
        if n not in (1, latents):
            raise TruePoseInputError(
                name, f"{n} images for a latent batch of {latents}.",
                "use one image, or exactly one per latent in the batch.",
            )
    groups: dict[tuple[int, int], list[int]] = {}
    idle: list[int] = []
    for j, kind in enumerate(chunks):
        rows = range(j * per_chunk, (j + 1) * per_chunk)
        if kind == 1 and not uncond_reads_source:
            idle.extend(rows)
            continue
        for r, row in enumerate(rows):
            f = r // tiles
            key = (f if num_sources > 1 else 0, f if num_layouts > 1 else 0)
            groups.setdefault(key, []).append(row)
    return RowPlan(
        batch, {key: as_rows(rows, device) for key, rows in groups.items()}, as_rows(idle, device) if idle else None
    )
