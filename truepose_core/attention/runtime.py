"""HPFA at sampling time: which batch rows read which source, routing, caching per run.

The host (ComfyUI glue) supplies two functions: `project(block, tokens) -> (keys, values)`,
TargetNet's own attn1 to_k / to_v for that block, and the host's vanilla attention for O_self,
so that rows or steps that read no source stay bit-identical to the unpatched model. In joint
mode O_self is computed only for the rows that read nothing (the uncond half): the reading rows
would discard it. Those rows then go through the host's attention as a smaller batch, which
PyTorch's SDPA kernels compute row for row the same.

Another pack's attention on the same block (a replace patch TruePose was chained over) is passed
as `chained`: it runs once on the whole call, as ComfyUI would run it, and TruePose adds its own
change (fused - plain) on top, so both patches act. Under token-changing patches (ToMe, HyperTile)
the call has no known grid (`grid=None`): routing then falls back to unrouted fusion at that block.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from ..parsing.parsing_map import ParsingMap
from ..validation import check_layout_against_grid
from .bank import BlockKey, SourceBank
from .config import HPFAConfig
from .fusion import PackedSource, Region, gated_attention, joint_attention, joint_attention_packed, pack_regions
from .regions import grid_region_map, region_token_indices
from .rows import RowPlan, plan_rows

Projector = Callable[[BlockKey, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
SelfAttention = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]
Chained = Callable[[], torch.Tensor]  # another patch's attention output on this very call
# observer(block, region, target token indices or None for all): sees every contribution made.
Observer = Callable[[BlockKey, str, torch.Tensor | None], None]


@dataclass(frozen=True)
class AttentionCall:
    block: BlockKey
    heads: int
    grid: tuple[int, int] | None  # the target's token grid (h, w) at this block; None: tokens were merged/tiled
    cond_or_uncond: Sequence[int] = (0,)  # one entry per batch chunk: 0 cond, 1 uncond
    sigma: float | None = None
    tiles: int = 1  # batch rows per latent (HyperTile splits each latent's tokens into consecutive rows)


class TruePoseAttention:
    """Per-run caches: projected source keys/values per (block, region, image), the packed joint
    source per (block, image), row plans per batch layout and layout routes. `release` drops them."""

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
        self._enabled = config.enabled_regions
        self._kv: dict[tuple[BlockKey, str, int], tuple[torch.Tensor, torch.Tensor]] = {}
        self._sources: dict[tuple[BlockKey, int, int], tuple[dict[str, Region], PackedSource | None]] = {}
        self._plans: dict[tuple[int, tuple[int, ...], torch.device, int], RowPlan] = {}
        self._routes: dict[tuple[tuple[int, int], int], dict[str, torch.Tensor]] = {}

    def release(self) -> None:
        """Drop the per-run caches (projected source keys/values, row plans, routes)."""
        self._kv.clear()
        self._sources.clear()
        self._plans.clear()
        self._routes.clear()

    @property
    def cached_entries(self) -> int:
        return len(self._kv) + len(self._sources) + len(self._plans) + len(self._routes)

    def reads(self, call: AttentionCall) -> bool:
        return call.block in self.bank.channels and self.config.active_at(call.sigma)

    def __call__(
        self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, call: AttentionCall, self_attention: SelfAttention,
        chained: Chained | None = None,
    ) -> torch.Tensor:
        if not self.reads(call):
            return chained() if chained is not None else self_attention(q, k, v)
        if chained is None:
            return self._fused(q, k, v, call, self_attention)
        fused = self._fused(q, k, v, call, self_attention)
        return chained() + (fused - self_attention(q, k, v))

    def _fused(self, q, k, v, call: AttentionCall, self_attention: SelfAttention) -> torch.Tensor:
        plan = self._row_plan(q.shape[0], call.cond_or_uncond, q.device, call.tiles)
        joint = self.config.fusion == "joint"
        routed = self.target_layout is not None and call.grid is not None
        if not joint or routed:
            out = self_attention(q, k, v)  # gated adds to O_self; routing leaves unrouted tokens at O_self
            if out.requires_grad:  # training: rows are written in place below, and SDPA saved `out` for backward
                out = out.clone()
        elif plan.all_rows_in_one_group:
            ((image, _),) = plan.groups
            regions, packed = self._source(call.block, image, q, call.tiles)
            self._observe_all(call.block, regions)
            return joint_attention_packed(q, k, v, packed, call.heads)
        else:
            out = torch.empty_like(q)
            if plan.idle is not None:  # joint rows never use O_self: only the rows that read nothing need it
                idle = plan.idle
                out[idle] = self_attention(q[idle], k[idle], v[idle])
        for (image, layout_index), rows in plan.groups.items():
            regions, packed = self._source(call.block, image, q, call.tiles)
            q_g, k_g, v_g = q[rows], k[rows], v[rows]
            if routed:
                routes = self._layout_routes(call.grid, layout_index, q.device)
                out[rows] = self._fuse_routed(q_g, k_g, v_g, out[rows], regions, routes, call)
                continue
            self._observe_all(call.block, regions)
            if joint:
                out[rows] = joint_attention_packed(q_g, k_g, v_g, packed, call.heads)
            else:
                out[rows] = gated_attention(q_g, out[rows], list(regions.values()), call.heads)
        return out

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

    def _row_plan(self, batch: int, cond_or_uncond: Sequence[int], device: torch.device, tiles: int = 1) -> RowPlan:
        key = (batch, tuple(cond_or_uncond), device, tiles)
        if key not in self._plans:
            n_lay = self.target_layout.batch_size if self.target_layout is not None else 1
            self._plans[key] = plan_rows(
                batch, cond_or_uncond, self.bank.num_images, n_lay, self.config.uncond_reads_source, device, tiles
            )
        return self._plans[key]

    def _source(
        self, block: BlockKey, image: int, like: torch.Tensor, tiles: int = 1
    ) -> tuple[dict[str, Region], PackedSource | None]:
        """The enabled regions of one source image at one block, and their joint packing. A tile
        row (HyperTile) has 1/tiles of the latent's own keys: its source weights are divided by
        `tiles`, so the source keeps the share of the joint softmax it has in the untiled block."""
        key = (block, image if self.bank.num_images > 1 else 0, tiles)
        if key not in self._sources:
            regions = self._regions(block, key[1], like)
            packed = None
            if self.config.fusion == "joint":
                packed = pack_regions([(k_r, v_r, w / tiles) for k_r, v_r, w in regions.values()])
            self._sources[key] = (regions, packed)
        return self._sources[key]

    def _regions(self, block: BlockKey, image: int, like: torch.Tensor) -> dict[str, Region]:
        out: dict[str, Region] = {}
        for name in self._enabled:
            cache_key = (block, name, image)
            if cache_key not in self._kv:
                tokens = self.bank.region_tokens(name, block, image)
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
            check_layout_against_grid(self.target_layout.size, grid)
            region_map = grid_region_map(self.target_layout.select(index), grid)[0]
            self._routes[key] = {r: i.to(device) for r, i in region_token_indices(region_map).items()}
        return self._routes[key]

    def _observe_all(self, block: BlockKey, regions: dict[str, Region]) -> None:
        for name in regions:
            self._observe(block, name, None)

    def _observe(self, block: BlockKey, region: str, idx: torch.Tensor | None) -> None:
        if self.observer is not None:
            self.observer(block, region, idx)
