"""HPFA maths on projected tokens. Everything runs on PyTorch's fused SDPA kernels.

Shapes: q (B, Nq, H*D); per-region source keys/values (Nr, H*D) shared by the batch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

Region = tuple[torch.Tensor, torch.Tensor, float]  # (keys, values, weight)


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


def joint_attention(
    q: torch.Tensor, k_self: torch.Tensor, v_self: torch.Tensor, regions: Sequence[Region], heads: int
) -> torch.Tensor:
    """One softmax over the target's own keys and the enabled source regions' keys.

    A region's weight w scales its keys' unnormalised attention by w (a log(w) logit bias on
    its keys only: a per-key vector, not a dense mask). All weights 1 -> no bias at all.
    """
    regions = [r for r in regions if r[0].shape[0] > 0 and r[2] > 0]
    if not regions:
        return multihead_sdpa(q, k_self, v_self, heads)
    b = q.shape[0]
    keys = torch.cat([k_self] + [r[0][None].expand(b, -1, -1) for r in regions], dim=1)
    values = torch.cat([v_self] + [r[1][None].expand(b, -1, -1) for r in regions], dim=1)
    bias = None
    if any(w != 1.0 for _, _, w in regions):
        bias = torch.cat(
            [q.new_zeros(k_self.shape[1])] + [q.new_full((r[0].shape[0],), math.log(r[2])) for r in regions]
        )
    return multihead_sdpa(q, keys, values, heads, bias)


def gated_attention(q: torch.Tensor, self_out: torch.Tensor, regions: Sequence[Region], heads: int) -> torch.Tensor:
    """O_self + sum_r w_r * softmax(Q K_r^T / sqrt(d)) V_r."""
    out = self_out
    for k_r, v_r, w in regions:
        if k_r.shape[0] == 0 or w == 0:
            continue
        out = out + w * multihead_sdpa(q, k_r[None], v_r[None], heads)
    return out
