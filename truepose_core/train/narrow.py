"""Train narrow, ship SD1.5-wide: a UNet of width w that computes EXACTLY what its zero-padded
320-channel embedding computes, so CPU training costs ~(w/320)^2 of the wide model while the file
ComfyUI loads is a genuine SD1.5-detected UNet (model_channels 320, context_dim 768).

Why it is exact. In the wide model every padded channel is zero on the residual stream (zero
weights and biases produce it, zero gamma/beta keep it zero after a norm). The only layers that
see the padding are the norms: a GroupNorm / LayerNorm of the wide model averages over zeros too.
`DilutedGroupNorm` / `DilutedLayerNorm` reproduce those statistics on the narrow tensors (mean and
mean square scaled by the real fraction f = w / 320). Attention heads keep their count (8) and
shrink their width (40 -> w/8): the wide q projection is scaled by sqrt(40 / (w/8)) so SDPA's
1/sqrt(head width) matches. The narrow sinusoidal time embedding uses every r-th frequency of the
wide one (r = 320 / w), so its columns land on those frequencies.

Channel placement: narrow channel j of a norm-carrying tensor goes to wide channel
10 * (j // g) + j % g (g = w/32 channels per group), which keeps every group's members together.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace

import torch
from torch import nn

from ..models.sd_unet import SD15, UNetConfig

WIDE = SD15.model_channels  # 320
GROUPS = 32


class DilutedGroupNorm(nn.Module):
    """GroupNorm as if each group also held (1/f - 1) x as many all-zero channels."""

    def __init__(self, num_groups: int, num_channels: int, eps: float, fraction: float) -> None:
        super().__init__()
        self.num_groups, self.eps, self.fraction = num_groups, eps, fraction
        self.weight = nn.Parameter(torch.ones(num_channels))
        self.bias = nn.Parameter(torch.zeros(num_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c = x.shape[:2]
        g = x.reshape(b, self.num_groups, -1)
        mean = self.fraction * g.mean(-1, keepdim=True)
        var = (self.fraction * g.pow(2).mean(-1, keepdim=True) - mean.pow(2)).clamp_min(0)
        y = ((g - mean) * torch.rsqrt(var + self.eps)).reshape(x.shape)
        shape = (1, c) + (1,) * (x.ndim - 2)
        return y * self.weight.view(shape) + self.bias.view(shape)


class DilutedLayerNorm(nn.Module):
    def __init__(self, dim: int, eps: float, fraction: float) -> None:
        super().__init__()
        self.eps, self.fraction = eps, fraction
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = self.fraction * x.mean(-1, keepdim=True)
        var = (self.fraction * x.pow(2).mean(-1, keepdim=True) - mean.pow(2)).clamp_min(0)
        return (x - mean) * torch.rsqrt(var + self.eps) * self.weight + self.bias


def narrow_config(width: int, **changes) -> UNetConfig:
    """A one-level SD1.5-style UNet config of `width` channels (a multiple of 32 dividing 320)."""
    if width % GROUPS or WIDE % width:
        raise ValueError(f"width must be a multiple of {GROUPS} that divides {WIDE}, got {width}")
    base = UNetConfig(model_channels=width, channel_mult=(1,), num_res_blocks=1, transformer_depth=(1,), transformer_depth_middle=0)
    return replace(base, **changes)


def wide_config(narrow: UNetConfig) -> UNetConfig:
    return replace(narrow, model_channels=WIDE)


def dilute_norms(module: nn.Module, width: int) -> nn.Module:
    """Swaps every GroupNorm / LayerNorm of a narrow UNet (in place) for its diluted twin."""
    fraction = width / WIDE
    for name, child in list(module.named_children()):
        if isinstance(child, nn.GroupNorm):
            setattr(module, name, DilutedGroupNorm(child.num_groups, child.num_channels, child.eps, fraction))
        elif isinstance(child, nn.LayerNorm):
            setattr(module, name, DilutedLayerNorm(child.normalized_shape[0], child.eps, fraction))
        else:
            dilute_norms(child, width)
    return module


class _Placement:
    def __init__(self, narrow: UNetConfig) -> None:
        w, heads = narrow.model_channels, narrow.num_heads
        per_group, ratio = w // GROUPS, WIDE // w
        self.ratio = ratio
        self.q_scale = math.sqrt((WIDE // heads) / (w // heads))
        j = torch.arange(w)
        self.channels = (WIDE // GROUPS) * (j // per_group) + j % per_group
        self.concat = torch.cat([self.channels, WIDE + self.channels])
        narrow_head, wide_head = w // heads, WIDE // heads
        self.heads = wide_head * (j // narrow_head) + j % narrow_head
        half = torch.arange(w // 2)
        self.sinusoid = torch.cat([ratio * half, WIDE // 2 + ratio * half])
        self.emb = torch.arange(4 * w)
        self.ff = torch.arange(4 * w)
        self.geglu = torch.cat([self.ff, 4 * WIDE + self.ff])

    def maps(self, key: str, shape: torch.Size) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """(rows, cols) in the wide tensor of a narrow tensor; None = unchanged axis."""
        c = self.channels
        if key.startswith("time_embed.0."):
            return self.emb, self.sinusoid
        if key.startswith("time_embed.2."):
            return self.emb, self.emb
        if key.startswith("input_blocks.0.0."):
            return c, None
        if key.startswith("out.2."):
            return None, c
        if ".emb_layers." in key:
            return c, self.emb
        if re.search(r"\.(in_layers\.0|in_layers\.2|skip_connection)\.", key):
            inputs = self.concat if key.startswith("output_blocks.") else c
            return (inputs, None) if ".in_layers.0." in key else (c, inputs)
        if ".to_q." in key or ".to_k." in key or ".to_v." in key:
            cross_kv = ".attn2." in key and (".to_k." in key or ".to_v." in key)
            return self.heads, (None if cross_kv else c)
        if ".to_out.0." in key:
            return c, self.heads
        if ".ff.net.0.proj." in key:
            return self.geglu, c
        if ".ff.net.2." in key:
            return c, self.ff
        return c, (c if len(shape) > 1 else None)  # norms, proj_in/out, out_layers, out.0


def widen_unet(state: dict[str, torch.Tensor], narrow: UNetConfig) -> dict[str, torch.Tensor]:
    """Narrow UNet state dict -> the exact wide (320-channel) SD1.5-key state dict."""
    place = _Placement(narrow)
    reference = _wide_shapes(wide_config(narrow))
    out = {}
    for key, small in state.items():
        big = torch.zeros(reference[key], dtype=small.dtype)
        rows, cols = place.maps(key, small.shape)
        rows = torch.arange(big.shape[0]) if rows is None else rows
        if small.ndim == 1:
            big[rows] = small
        else:
            cols = torch.arange(big.shape[1]) if cols is None else cols
            big[rows[:, None], cols[None, :]] = small
        if ".to_q." in key:
            big *= place.q_scale
        out[key] = big
    return out


def widen_pose_guider(state: dict[str, torch.Tensor], narrow: UNetConfig) -> dict[str, torch.Tensor]:
    """The pose guider's output conv feeds the UNet's first feature map: spread its channels likewise."""
    place = _Placement(narrow)
    out = dict(state)
    for name in ("conv_out.weight", "conv_out.bias"):
        small = state[name]
        big = torch.zeros((WIDE,) + tuple(small.shape[1:]), dtype=small.dtype)
        big[place.channels] = small
        out[name] = big
    return out


def _wide_shapes(config: UNetConfig) -> dict[str, torch.Size]:
    from ..models.sd_unet import SDUNet

    with torch.device("meta"):
        return {k: v.shape for k, v in SDUNet(config).state_dict().items()}
