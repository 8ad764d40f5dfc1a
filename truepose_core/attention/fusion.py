"""HPFA maths on projected tokens. Everything runs on PyTorch's fused SDPA kernels.

Shapes: q (B, Nq, H*D); per-region source keys/values (Nr, H*D) shared by the batch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

# (keys, values, weight); a tensor weight is a trainable gate (gated fusion in training).
Region = tuple[torch.Tensor, torch.Tensor, float | torch.Tensor]


def _split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    b, n, hd = x.shape
    return x.view(b, n, heads, hd // heads).transpose(1, 2)


def multihead_sdpa(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int, key_bias: torch.Tensor | None = None
) -> torch.Tensor:
    """Softmax attention, (B, Nq, H*D) out. k/v of batch 1 broadcast; key_bias: (Nk,) added to logits."""
    b = q.shape[0]
    if k.shape[0] != b:
        k, v = k.expand(b, -1, -1), v.expand(b, -1, -1)
    mask = None if key_bias is None else key_bias.to(q.dtype).view(1, 1, 1, -1)
    out = F.scaled_dot_product_attention(_split_heads(q, heads), _split_heads(k, heads), _split_heads(v, heads), attn_mask=mask)
    return out.transpose(1, 2).reshape(b, q.shape[1], -1)


@dataclass(frozen=True)
class PackedSource:
    """The enabled regions' keys/values concatenated once, with their log-weight logit bias
    (None when every weight is 1): the per-step joint attention then needs a single concat."""

    keys: torch.Tensor  # (N_fg, H*D)
    values: torch.Tensor
    log_weights: torch.Tensor | None  # (N_fg,)

    @property
    def empty(self) -> bool:
        return self.keys.shape[0] == 0


def pack_regions(regions: Sequence[Region]) -> PackedSource | None:
    """None when no region contributes (no tokens, or weight 0)."""
    regions = [r for r in regions if r[0].shape[0] > 0 and r[2] > 0]
    if not regions:
        return None
    keys = torch.cat([r[0] for r in regions])
    values = torch.cat([r[1] for r in regions])
    log_weights = None
    if any(w != 1.0 for _, _, w in regions):
        log_weights = torch.cat([keys.new_full((r[0].shape[0],), math.log(r[2])) for r in regions])
    return PackedSource(keys, values, log_weights)


def joint_attention_packed(
    q: torch.Tensor, k_self: torch.Tensor, v_self: torch.Tensor, source: PackedSource | None, heads: int
) -> torch.Tensor:
    """One softmax over the target's own keys and the packed source keys."""
    if source is None:
        return multihead_sdpa(q, k_self, v_self, heads)
    b = q.shape[0]
    keys = torch.cat([k_self, source.keys[None].expand(b, -1, -1)], dim=1)
    values = torch.cat([v_self, source.values[None].expand(b, -1, -1)], dim=1)
    bias = None
    if source.log_weights is not None:
        bias = torch.cat([source.log_weights.new_zeros(k_self.shape[1]), source.log_weights])
    return multihead_sdpa(q, keys, values, heads, bias)


def joint_attention(
    q: torch.Tensor, k_self: torch.Tensor, v_self: torch.Tensor, regions: Sequence[Region], heads: int
) -> torch.Tensor:
    """One softmax over the target's own keys and the enabled source regions' keys.

    A region's weight w scales its keys' unnormalised attention by w (a log(w) logit bias on
    its keys only: a per-key vector, not a dense mask). All weights 1 -> no bias at all.
    """
    return joint_attention_packed(q, k_self, v_self, pack_regions(regions), heads)


def gated_attention(q: torch.Tensor, self_out: torch.Tensor, regions: Sequence[Region], heads: int) -> torch.Tensor:
    """O_self + sum_r w_r * softmax(Q K_r^T / sqrt(d)) V_r. Never writes into `self_out`."""
    out = self_out
    for k_r, v_r, w in regions:
        trainable = isinstance(w, torch.Tensor)
        if k_r.shape[0] == 0 or (not trainable and w == 0):  # a zero gate still needs its gradient
            continue
        contribution = multihead_sdpa(q, k_r[None], v_r[None], heads)
        if trainable:
            out = out + w.to(contribution.dtype) * contribution
        elif out is self_out:
            out = torch.add(self_out, contribution, alpha=w)
        else:
            out.add_(contribution, alpha=w)
    return out
