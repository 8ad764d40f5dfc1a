"""CAA maths: the additive cross-attention branch over per-region CLIP tokens, and the runtime
that the ComfyUI attn2 patch and the training-time UNet both call (one implementation).

    O = CrossAttn(Q, K_text, V_text) + sum_r s_r * A_r V_r,   A = softmax_r(Q K_r^T / sqrt(d))

K_r, V_r are attn2's own to_k / to_v applied to region r's token (the token has the text
context's width), so the branch adds no per-layer weights. The softmax runs over the regions
present in the source image; s_r scales a region's share (IP-Adapter-style weight). Regions
absent from a source are masked out; a row whose source has no region gets nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import torch
import torch.nn.functional as F

from .bank import BlockKey
from .fusion import _split_heads
from .rows import plan_rows
from .runtime import AttentionCall, Chained, SelfAttention

Projector = Callable[[BlockKey, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
# observer(block, maps (n_rows, R, N) head-mean attention, rows read, grid): training's loss hook.
MapObserver = Callable[[BlockKey, torch.Tensor, torch.Tensor, tuple[int, int]], None]


def caa_attention(
    q: torch.Tensor, k_c: torch.Tensor, v_c: torch.Tensor, heads: int, scales: torch.Tensor, present: torch.Tensor,
    need_maps: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """q (B, N, H*D); k_c, v_c (B, R, H*D); scales (R,); present (B, R) bool.
    -> (out (B, N, H*D), maps (B, R, N) averaged over heads, or None)."""
    any_present = present.any(dim=1)
    allowed = present | ~any_present[:, None]  # an all-masked softmax is NaN: zeroed below instead
    bias = torch.zeros(allowed.shape, dtype=q.dtype, device=q.device).masked_fill(~allowed, float("-inf"))
    values = v_c * scales.to(v_c.dtype).view(1, -1, 1)
    qh, kh, vh = _split_heads(q, heads), _split_heads(k_c, heads), _split_heads(values, heads)
    mask = bias[:, None, None, :]
    if need_maps:  # training: the maps feed the localisation loss (R is small: N x R logits)
        logits = qh @ kh.transpose(-1, -2) / math.sqrt(qh.shape[-1]) + mask
        probs = logits.softmax(dim=-1)
        out = probs @ vh
        maps = probs.mean(dim=1).transpose(1, 2)
    else:
        out, maps = F.scaled_dot_product_attention(qh, kh, vh, attn_mask=mask), None
    out = out.transpose(1, 2).reshape(q.shape) * any_present.to(q.dtype).view(-1, 1, 1)
    return out, maps


class CAAAttention:
    """attn2 replacement. tokens (S, R, C_ctx) for S source images; present (S, R) bool;
    strengths: region -> s_r (float, or tensor while training). Per-run cache: projected K/V."""

    def __init__(
        self, tokens: torch.Tensor, present: torch.Tensor, regions: Sequence[str], strengths: Mapping[str, float | torch.Tensor],
        project: Projector, uncond_reads_source: bool = False, observer: MapObserver | None = None,
        blocks: Sequence[BlockKey] | None = None,
    ) -> None:
        self.tokens, self.present, self.regions = tokens, present, tuple(regions)
        self.strengths = strengths
        self.project = project
        self.uncond_reads_source = uncond_reads_source
        self.observer = observer
        self.blocks = None if blocks is None else frozenset(blocks)
        self._kv: dict[BlockKey, tuple[torch.Tensor, torch.Tensor]] = {}

    @property
    def num_sources(self) -> int:
        return int(self.tokens.shape[0])

    def release(self) -> None:
        self._kv.clear()

    def reads(self, block: BlockKey) -> bool:
        return self.blocks is None or block in self.blocks

    def scales(self, like: torch.Tensor) -> torch.Tensor:
        values = [self.strengths.get(r, 0.0) for r in self.regions]
        return torch.stack([torch.as_tensor(v, dtype=like.dtype, device=like.device) for v in values])

    def __call__(
        self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, call: AttentionCall, cross_attention: SelfAttention,
        chained: Chained | None = None,
    ) -> torch.Tensor:
        """`chained`: another patch's cross-attention on this call (e.g. IP-Adapter's); CAA adds to it."""
        out = chained() if chained is not None else cross_attention(q, k, v)
        if not self.reads(call.block):
            return out
        rows, images = self._reading_rows(q.shape[0], call.cond_or_uncond, q.device, call.tiles)
        if rows.numel() == 0:
            return out
        k_c, v_c = self._projected(call.block, q)
        present = self.present.to(q.device)[images]
        extra, maps = caa_attention(
            q[rows], k_c[images], v_c[images], call.heads, self.scales(q), present, need_maps=self.observer is not None
        )
        if self.observer is not None and maps is not None:
            self.observer(call.block, maps, rows, call.grid)
        return out.index_add(0, rows, extra)

    def _reading_rows(
        self, batch: int, cond_or_uncond: Sequence[int], device: torch.device, tiles: int = 1
    ) -> tuple[torch.Tensor, torch.Tensor]:
        plan = plan_rows(batch, cond_or_uncond, self.num_sources, 1, self.uncond_reads_source, device, tiles)
        rows, images = [], []
        for (image, _), group in plan.groups.items():
            ids = torch.arange(batch, device=device)[group] if isinstance(group, slice) else group
            rows.append(ids)
            images.append(torch.full_like(ids, image))
        if not rows:
            empty = torch.zeros(0, dtype=torch.long, device=device)
            return empty, empty
        return torch.cat(rows), torch.cat(images)

    def _projected(self, block: BlockKey, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if block not in self._kv:
            tokens = self.tokens.to(like.device, like.dtype)
            self._kv[block] = self.project(block, tokens)
        return self._kv[block]
