"""HPFA at sampling time: which batch rows read which source, routing, caching per run.

The host (ComfyUI glue) supplies two functions: `project(block, tokens) -> (keys, values)`,
TargetNet's own attn1 to_k / to_v for that block, and the host's vanilla attention for O_self,
so that rows or steps that read no source stay bit-identical to the unpatched model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from ..errors import TruePoseInputError
from ..parsing.parsing_map import ParsingMap
from .bank import BlockKey, SourceBank
from .config import HPFAConfig
from .fusion import Region, gated_attention, joint_attention
from .regions import grid_region_map, region_token_indices

Projector = Callable[[BlockKey, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
SelfAttention = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]
# observer(block, region, target token indices or None for all): sees every contribution made.
Observer = Callable[[BlockKey, str, torch.Tensor | None], None]


@dataclass(frozen=True)
class AttentionCall:
    block: BlockKey
    heads: int
    grid: tuple[int, int]  # the target's token grid (h, w) at this block
    cond_or_uncond: Sequence[int] = (0,)  # one entry per batch chunk: 0 cond, 1 uncond
    sigma: float | None = None


class TruePoseAttention:
    def __init__(
        self,
        bank: SourceBank,
        config: HPFAConfig,
        project: Projector,
        target_layout: ParsingMap | None = None,
        observer: Observer | None = None,
    ) -> None:
        self.bank = bank
        self.config = config
        self.project = project
        self.target_layout = target_layout
        self.observer = observer
        self._kv: dict[tuple[BlockKey, str, int], tuple[torch.Tensor, torch.Tensor]] = {}
        self._routes: dict[tuple[tuple[int, int], int], dict[str, torch.Tensor]] = {}

    def release(self) -> None:
        """Drop the per-run caches (projected source keys/values, routes)."""
        self._kv.clear()
        self._routes.clear()

    def reads(self, call: AttentionCall) -> bool:
        return call.block in self.bank.channels and self.config.active_at(call.sigma)

    def __call__(
        self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, call: AttentionCall, self_attention: SelfAttention
    ) -> torch.Tensor:
        if not self.reads(call):
            return self_attention(q, k, v)
        groups = self._row_groups(q.shape[0], call.cond_or_uncond)
        reading = torch.cat([rows for rows in groups.values()]) if groups else q.new_zeros(0, dtype=torch.long)
        needs_self = self.config.fusion == "gated" or self.target_layout is not None or reading.numel() < q.shape[0]
        out = self_attention(q, k, v) if needs_self else torch.empty_like(q)
        for (image, layout_index), rows in groups.items():
            regions = self._regions(call.block, image, q)
            routes = self._layout_routes(call.grid, layout_index, q.device) if self.target_layout is not None else None
            rows = rows.to(q.device)
            q_g, k_g, v_g = q[rows], k[rows], v[rows]
            if routes is None:
                out[rows] = self._fuse(q_g, k_g, v_g, out[rows] if needs_self else None, regions, call)
            else:
                out[rows] = self._fuse_routed(q_g, k_g, v_g, out[rows], regions, routes, call)
        return out

    def _fuse(self, q, k, v, self_out, regions: dict[str, Region], call: AttentionCall) -> torch.Tensor:
        for name in regions:
            self._observe(call.block, name, None)
        if self.config.fusion == "joint":
            return joint_attention(q, k, v, list(regions.values()), call.heads)
        return gated_attention(q, self_out, list(regions.values()), call.heads)

    def _fuse_routed(self, q, k, v, self_out, regions, routes, call: AttentionCall) -> torch.Tensor:
        """Target tokens in layout region r read source region r only; others read nothing."""
        out = self_out.clone()
        for name, region in regions.items():
            idx = routes.get(name)
            if idx is None:
                continue
            self._observe(call.block, name, idx)
            q_r = q[:, idx]
            if self.config.fusion == "joint":
                out[:, idx] = joint_attention(q_r, k, v, [region], call.heads)
            else:
                out[:, idx] = gated_attention(q_r, self_out[:, idx], [region], call.heads)
        return out

    def _row_groups(self, batch: int, cond_or_uncond: Sequence[int]) -> dict[tuple[int, int], torch.Tensor]:
        """(source image, layout image) -> batch rows that read it. Uncond rows read nothing by default."""
        chunks = list(cond_or_uncond) or [0]
        if batch % len(chunks):
            chunks = [0]
        per_chunk = batch // len(chunks)
        n_src = self.bank.num_images
        n_lay = self.target_layout.batch_size if self.target_layout is not None else 1
        for name, n in (("source", n_src), ("target_layout", n_lay)):
            if n not in (1, per_chunk):
                raise TruePoseInputError(
                    name, f"{n} images for a latent batch of {per_chunk}.",
                    "use one image, or exactly one per latent in the batch.",
                )
        groups: dict[tuple[int, int], list[int]] = {}
        for j, kind in enumerate(chunks):
            if kind == 1 and not self.config.uncond_reads_source:
                continue
            for f in range(per_chunk):
                key = (f if n_src > 1 else 0, f if n_lay > 1 else 0)
                groups.setdefault(key, []).append(j * per_chunk + f)
        return {key: torch.tensor(rows, dtype=torch.long) for key, rows in groups.items()}

    def _regions(self, block: BlockKey, image: int, like: torch.Tensor) -> dict[str, Region]:
        out: dict[str, Region] = {}
        for name in self.config.enabled_regions:
            cache_key = (block, name, image if self.bank.num_images > 1 else 0)
            if cache_key not in self._kv:
                tokens = self.bank.region_tokens(name, block, cache_key[2])
                if tokens is None or tokens.shape[0] == 0:
                    continue
                k_r, v_r = self.project(block, tokens.to(like.device, like.dtype))
                self._kv[cache_key] = (k_r, v_r)
            k_r, v_r = self._kv[cache_key]
            out[name] = (k_r, v_r, self.config.weight(name))
        return out

    def _layout_routes(self, grid: tuple[int, int], index: int, device: torch.device) -> dict[str, torch.Tensor]:
        key = (grid, index)
        if key not in self._routes:
            assert self.target_layout is not None
            region_map = grid_region_map(self.target_layout.select(index), grid)[0]
            self._routes[key] = {r: i.to(device) for r, i in region_token_indices(region_map).items()}
        return self._routes[key]

    def _observe(self, block: BlockKey, region: str, idx: torch.Tensor | None) -> None:
        if self.observer is not None:
            self.observer(block, region, idx)
