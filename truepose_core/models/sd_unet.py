"""A plain-PyTorch SD1.5 / SDXL-architecture UNet whose state dict equals LDM/ComfyUI's UNetModel.

Keys and shapes (input_blocks.N.M..., middle_block..., output_blocks..., time_embed..., label_emb...,
out...) match 1:1, so an SD1.5 or SDXL checkpoint's `model.diffusion_model.*` or a ComfyUI UNet's
state dict loads with strict=True. It exists so that the core (benchmarks, training, notebooks) can run
TruePose without ComfyUI, through the same TruePoseAttention the ComfyUI glue drives.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from ..attention.bank import BlockKey
from .unet_attention import Attention, AttentionHooks, SpatialTransformer
from .unet_layers import Downsample, ResBlock, Upsample, group_norm, timestep_embedding


@dataclass(frozen=True)
class UNetConfig:
    """`transformer_depth[level]`: transformer blocks after each ResBlock of that level (0 = none),
    the same on the way down and up (SD1.5, SDXL and TINY_UNET are symmetric).
    `adm_in_channels` > 0: SDXL's vector conditioning (pooled text + size embeddings, see
    `sdxl_adm`) through `label_emb`, added to the timestep embedding."""

    in_channels: int = 4
    out_channels: int = 4
    model_channels: int = 320
    channel_mult: tuple[int, ...] = (1, 2, 4, 4)
    num_res_blocks: int = 2
    transformer_depth: tuple[int, ...] = (1, 1, 1, 0)
    transformer_depth_middle: int = 1
    num_heads: int = 8
    num_head_channels: int = -1  # > 0: fixed head width instead of a fixed head count (SD2 / SDXL)
    context_dim: int = 768
    use_linear_in_transformer: bool = False
    adm_in_channels: int = 0

    def __post_init__(self) -> None:
        if len(self.transformer_depth) != len(self.channel_mult):
            raise ValueError("transformer_depth needs one entry per level of channel_mult")

    def heads(self, channels: int) -> tuple[int, int]:
        """(heads, dim_head) at a width."""
        if self.num_head_channels > 0:
            return channels // self.num_head_channels, self.num_head_channels
        return self.num_heads, channels // self.num_heads


SD15 = UNetConfig()
# scripts/tiny_models.py TINY_UNET: SD1.5 widths, two levels, one ResBlock per level.
TINY = UNetConfig(channel_mult=(1, 2), num_res_blocks=1, transformer_depth=(1, 1))
SDXL = UNetConfig(
    channel_mult=(1, 2, 4), transformer_depth=(0, 2, 10), transformer_depth_middle=10, num_heads=-1, num_head_channels=64,
    context_dim=2048, use_linear_in_transformer=True, adm_in_channels=2816,
)
# SDXL's layout (head width, linear projections, adm, depths 0/2/...) at toy widths: tests, smoke runs.
SDXL_TINY = UNetConfig(
    model_channels=32, channel_mult=(1, 2, 4), num_res_blocks=1, transformer_depth=(0, 2, 3), transformer_depth_middle=2,
    num_heads=-1, num_head_channels=16, context_dim=64, use_linear_in_transformer=True, adm_in_channels=32 + 6 * 256,
)
SDXL_SIZE_EMBED = 256  # each of SDXL's six size numbers (height, width, crop top/left, target height/width)


def sdxl_adm(height: int, width: int, batch: int, adm_in_channels: int, pooled: torch.Tensor | None = None,
             crop: tuple[int, int] = (0, 0), target: tuple[int, int] | None = None) -> torch.Tensor:
    """SDXL's `y` as ComfyUI's SDXL.encode_adm builds it: [pooled text | sinusoidal embeddings of
    height, width, crop top, crop left, target height, target width]. No pooled text: zeros (an
    empty prompt through ConditioningZeroOut)."""
    sizes = torch.tensor([height, width, crop[0], crop[1], *(target or (height, width))], dtype=torch.float32)
    flat = timestep_embedding(sizes, SDXL_SIZE_EMBED).flatten()[None].expand(batch, -1)
    if pooled is None:
        pooled = torch.zeros(batch, adm_in_channels - flat.shape[1])
    return torch.cat([pooled.to(flat), flat], dim=1)


def unet_family(config: UNetConfig) -> str:
    """The base family a host must detect for these weights (see `family_of`)."""
    return family_of(config.model_channels, config.context_dim, config.adm_in_channels, config.use_linear_in_transformer)


def family_of(model_channels: int, context_dim: int | None, adm_in_channels: int | None, use_linear: bool) -> str:
    """"sdxl" / "sd15" by the widths ComfyUI's model detection matches (comfy/supported_models.py:
    SDXL and its reduced-depth kin share 320 / 2048 / 2816 and linear projections), "custom" for
    anything else (toy and test UNets)."""
    if model_channels == 320 and context_dim == 2048 and adm_in_channels == 2816 and use_linear:
        return "sdxl"
    if model_channels == 320 and context_dim == 768 and not adm_in_channels and not use_linear:
        return "sd15"
    return "custom"


class Stage(nn.ModuleList):
    """One entry of input_blocks / middle_block / output_blocks: layers run in order."""

    def forward(  # type: ignore[override]
        self, h: torch.Tensor, emb: torch.Tensor, context: torch.Tensor, hooks: AttentionHooks | None,
        skip_size: tuple[int, int] | None = None,
    ) -> torch.Tensor:
        for layer in self:
            if isinstance(layer, ResBlock):
                h = layer(h, emb)
            elif isinstance(layer, SpatialTransformer):
                h = layer(h, context, hooks)
            elif isinstance(layer, Upsample):
                h = layer(h, skip_size)
            else:
                h = layer(h)
        return h


class SDUNet(nn.Module):
    def __init__(self, config: UNetConfig = SD15) -> None:
        super().__init__()
        self.config = c = config
        base = c.model_channels
        emb_dim = base * 4

        def transformer(section: str, block_id: int, channels: int, depth: int) -> SpatialTransformer:
            heads, dim_head = c.heads(channels)
            return SpatialTransformer(
                section, block_id, channels, heads, dim_head, depth, c.context_dim, c.use_linear_in_transformer
            )

        self.time_embed = nn.Sequential(nn.Linear(base, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        if c.adm_in_channels:
            self.label_emb = nn.Sequential(
                nn.Sequential(nn.Linear(c.adm_in_channels, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
            )

        self.input_blocks = nn.ModuleList([Stage([nn.Conv2d(c.in_channels, base, 3, padding=1)])])
        skip_channels = [base]
        ch = base
        for level, mult in enumerate(c.channel_mult):
            for _ in range(c.num_res_blocks):
                layers: list[nn.Module] = [ResBlock(ch, emb_dim, base * mult)]
                ch = base * mult
                if c.transformer_depth[level]:
                    layers.append(transformer("input", len(self.input_blocks), ch, c.transformer_depth[level]))
                self.input_blocks.append(Stage(layers))
                skip_channels.append(ch)
            if level != len(c.channel_mult) - 1:
                self.input_blocks.append(Stage([Downsample(ch)]))
                skip_channels.append(ch)

        middle: list[nn.Module] = [ResBlock(ch, emb_dim)]
        if c.transformer_depth_middle:
            middle += [transformer("middle", 0, ch, c.transformer_depth_middle), ResBlock(ch, emb_dim)]
        self.middle_block = Stage(middle)

        self.output_blocks = nn.ModuleList()
        for level, mult in reversed(list(enumerate(c.channel_mult))):
            for i in range(c.num_res_blocks + 1):
                layers = [ResBlock(ch + skip_channels.pop(), emb_dim, base * mult)]
                ch = base * mult
                if c.transformer_depth[level]:
                    layers.append(transformer("output", len(self.output_blocks), ch, c.transformer_depth[level]))
                if level and i == c.num_res_blocks:
                    layers.append(Upsample(ch))
                self.output_blocks.append(Stage(layers))

        self.out = nn.Sequential(group_norm(ch), nn.SiLU(), nn.Conv2d(base, c.out_channels, 3, padding=1))
        # Training only: recompute each stage in backward instead of keeping its activations.
        self.gradient_checkpointing = False

    def forward(
        self, x: torch.Tensor, timesteps: torch.Tensor, context: torch.Tensor, hooks: AttentionHooks | None = None,
        input_residual: torch.Tensor | None = None, y: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """x (B, C, h, w) latent, timesteps (B,), context (B, L, context_dim) -> (B, C_out, h, w).

        input_residual (B, model_channels, h, w): added to the output of input block 0, where
        ComfyUI's input_block_patch sees ("input", 0) (the pose guider's features).
        y (B, adm_in_channels): SDXL's vector conditioning (`sdxl_adm`); required when the config has adm.
        """
        emb = self.time_embed(timestep_embedding(timesteps, self.config.model_channels).to(x.dtype))
        if self.config.adm_in_channels:
            if y is None or y.shape != (x.shape[0], self.config.adm_in_channels):
                raise ValueError(f"this UNet needs y of shape ({x.shape[0]}, {self.config.adm_in_channels}) (see sdxl_adm)")
            emb = emb + self.label_emb(y.to(emb))
        skips: list[torch.Tensor] = []
        h = x
        for i, stage in enumerate(self.input_blocks):
            h = self._run(stage, h, emb, context, hooks)
            if i == 0 and input_residual is not None:
                h = h + input_residual.to(h.dtype)
            skips.append(h)
        h = self._run(self.middle_block, h, emb, context, hooks)
        for stage in self.output_blocks:
            h = torch.cat([h, skips.pop()], dim=1)
            h = self._run(stage, h, emb, context, hooks, tuple(skips[-1].shape[-2:]) if skips else None)
        return self.out(h.to(x.dtype))

    def _run(self, stage: Stage, h: torch.Tensor, emb: torch.Tensor, context: torch.Tensor,
             hooks: AttentionHooks | None, skip_size: tuple[int, int] | None = None) -> torch.Tensor:
        if self.gradient_checkpointing and torch.is_grad_enabled():
            # Hooks run again during the recomputation: recorders see a second pass (harmless once
            # the bank is built) and TruePoseAttention must be released before backward (see train/).
            return checkpoint(stage, h, emb, context, hooks, skip_size, use_reentrant=False)
        return stage(h, emb, context, hooks, skip_size)

    def attn1_modules(self) -> dict[BlockKey, Attention]:
        """Every self-attention, keyed like ComfyUI's attn1 patches: (section, block id, index)."""
        return {
            module.key: module.attn1
            for module in self.modules()
            if hasattr(module, "key") and isinstance(getattr(module, "attn1", None), Attention)
        }

    def attn2_modules(self) -> dict[BlockKey, Attention]:
        """Every cross-attention, keyed like ComfyUI's attn2 patches."""
        return {
            module.key: module.attn2
            for module in self.modules()
            if hasattr(module, "key") and isinstance(getattr(module, "attn2", None), Attention)
        }

    def attn2_projector(self):
        """`project(block, tokens) -> (keys, values)` with each block's own attn2 to_k / to_v (CAA)."""
        modules = self.attn2_modules()

        def project(block: BlockKey, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            attn2 = modules[block]
            return attn2.to_k(tokens), attn2.to_v(tokens)

        return project

    def attn1_projector(self):
        """`project(block, tokens) -> (keys, values)` with each block's own attn1 to_k / to_v."""
        modules = self.attn1_modules()

        def project(block: BlockKey, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            attn1 = modules[block]
            return attn1.to_k(tokens), attn1.to_v(tokens)

        return project
