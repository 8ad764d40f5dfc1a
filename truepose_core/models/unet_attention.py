"""The UNet's spatial transformers, with ComfyUI's attn1 hook points.

Names follow LDM/ComfyUI (norm, proj_in, transformer_blocks.i.{norm1,attn1,norm2,attn2,norm3,ff},
proj_out) so state dicts map 1:1. `AttentionHooks` mirrors what ComfyUI's patch API offers a
node pack: `record` sees the normed tokens entering attn1 (an attn1_patch), `replace` gets the
projected q, k, v of attn1 (an attn1 replace patch). TruePoseAttention plugs into both hosts
through the same signature.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from ..attention.bank import BlockKey
from ..attention.fusion import multihead_sdpa
from ..attention.runtime import AttentionCall, SelfAttention

Recorder = Callable[[BlockKey, torch.Tensor, tuple[int, int]], None]  # BankRecorder.record
Replacement = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, AttentionCall, SelfAttention], torch.Tensor]


@dataclass(frozen=True)
class AttentionHooks:
    """Per-forward hooks. `blocks`: the blocks `replace` is installed on (None: every block)."""

    record: Recorder | None = None
    replace: Replacement | None = None
    blocks: Collection[BlockKey] | None = None
    cross: Replacement | None = None  # attn2 replacement (CAA), like ComfyUI's attn2 replace patch
    cond_or_uncond: tuple[int, ...] = (0,)
    sigma: float | None = None

    def replaces(self, block: BlockKey) -> bool:
        return self.replace is not None and (self.blocks is None or block in self.blocks)


class Attention(nn.Module):
    def __init__(self, query_dim: int, context_dim: int | None, heads: int, dim_head: int) -> None:
        super().__init__()
        inner = heads * dim_head
        self.heads = heads
        self.to_q = nn.Linear(query_dim, inner, bias=False)
        self.to_k = nn.Linear(context_dim or query_dim, inner, bias=False)
        self.to_v = nn.Linear(context_dim or query_dim, inner, bias=False)
        self.to_out = nn.Sequential(nn.Linear(inner, query_dim), nn.Dropout(0.0))

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        return self.to_out(multihead_sdpa(self.to_q(x), self.to_k(context), self.to_v(context), self.heads))


class GEGLU(nn.Module):
    def __init__(self, dim_in: int, dim_out: int) -> None:
        super().__init__()
        self.proj = nn.Linear(dim_in, dim_out * 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, gate = self.proj(x).chunk(2, dim=-1)
        return x * F.gelu(gate)


class FeedForward(nn.Module):
    def __init__(self, dim: int, mult: int = 4) -> None:
        super().__init__()
        self.net = nn.Sequential(GEGLU(dim, dim * mult), nn.Dropout(0.0), nn.Linear(dim * mult, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class TransformerBlock(nn.Module):
    def __init__(self, key: BlockKey, dim: int, heads: int, dim_head: int, context_dim: int) -> None:
        super().__init__()
        self.key = key
        self.norm1 = nn.LayerNorm(dim)
        self.attn1 = Attention(dim, None, heads, dim_head)
        self.norm2 = nn.LayerNorm(dim)
        self.attn2 = Attention(dim, context_dim, heads, dim_head)
        self.norm3 = nn.LayerNorm(dim)
        self.ff = FeedForward(dim)

    def forward(
        self, x: torch.Tensor, context: torch.Tensor, grid: tuple[int, int], hooks: AttentionHooks | None
    ) -> torch.Tensor:
        n = self.norm1(x)
        if hooks is not None and hooks.record is not None:
            hooks.record(self.key, n, grid)
        attn1 = self.attn1
        q, k, v = attn1.to_q(n), attn1.to_k(n), attn1.to_v(n)
        self_attention: SelfAttention = partial(multihead_sdpa, heads=attn1.heads)
        if hooks is not None and hooks.replaces(self.key):
            call = AttentionCall(self.key, attn1.heads, grid, hooks.cond_or_uncond, hooks.sigma)
            out = hooks.replace(q, k, v, call, self_attention)
        else:
            out = self_attention(q, k, v)
        x = attn1.to_out(out) + x
        x = self._cross_attention(self.norm2(x), context, grid, hooks) + x
        return self.ff(self.norm3(x)) + x

    def _cross_attention(
        self, n: torch.Tensor, context: torch.Tensor, grid: tuple[int, int], hooks: AttentionHooks | None
    ) -> torch.Tensor:
        attn2 = self.attn2
        if hooks is None or hooks.cross is None:
            return attn2(n, context)
        call = AttentionCall(self.key, attn2.heads, grid, hooks.cond_or_uncond, hooks.sigma)
        cross: SelfAttention = partial(multihead_sdpa, heads=attn2.heads)
        return attn2.to_out(hooks.cross(attn2.to_q(n), attn2.to_k(context), attn2.to_v(context), call, cross))


class SpatialTransformer(nn.Module):
    def __init__(
        self, section: str, block_id: int, channels: int, heads: int, dim_head: int, depth: int, context_dim: int,
        use_linear: bool = False,
    ) -> None:
        super().__init__()
        inner = heads * dim_head
        self.use_linear = use_linear
        self.norm = nn.GroupNorm(32, channels, eps=1e-6)
        self.proj_in: nn.Module = nn.Linear(channels, inner) if use_linear else nn.Conv2d(channels, inner, 1)
        self.transformer_blocks = nn.ModuleList(
            TransformerBlock((section, block_id, i), inner, heads, dim_head, context_dim) for i in range(depth)
        )
        self.proj_out: nn.Module = nn.Linear(inner, channels) if use_linear else nn.Conv2d(inner, channels, 1)

    def forward(self, x: torch.Tensor, context: torch.Tensor, hooks: AttentionHooks | None) -> torch.Tensor:
        b, _, h, w = x.shape
        tokens = self.norm(x)
        if not self.use_linear:
            tokens = self.proj_in(tokens)
        tokens = tokens.movedim(1, 3).flatten(1, 2).contiguous()
        if self.use_linear:
            tokens = self.proj_in(tokens)
        for block in self.transformer_blocks:
            tokens = block(tokens, context, (h, w), hooks)
        if self.use_linear:
            tokens = self.proj_out(tokens)
        tokens = tokens.reshape(b, h, w, tokens.shape[-1]).movedim(3, 1).contiguous()
        if not self.use_linear:
            tokens = self.proj_out(tokens)
        return tokens + x
