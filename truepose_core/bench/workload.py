"""The benchmark's model, inputs and source bank: random weights, a synthetic person's parsing."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..attention import BankRecorder, SourceBank
from ..models import AttentionHooks, SDUNet, UNetConfig, sdxl_adm
from ..parsing import ParsingMap
from ..synthetic import default_pose, draw_figure

# --tiny: the same code paths on a toy UNet, for the test suite.
TINY_BENCH = UNetConfig(model_channels=64, channel_mult=(1, 2), num_res_blocks=1, transformer_depth=(1, 1), context_dim=64)
SOURCE_BLOCKS_NOTE = "every attn1 block's tokens, all regions (background included)"
CFG_BATCH = 2
CFG_CHUNKS = (0, 1)  # cond rows, then uncond rows, as ComfyUI's cond_or_uncond names them
PROMPT_TOKENS = 77


def random_unet(config: UNetConfig, device: torch.device, dtype: torch.dtype, seed: int = 0) -> SDUNet:
    """Well-scaled random weights, initialised in place (no default init pass over 860M params)."""
    with torch.device("meta"):
        unet = SDUNet(config).to(dtype)  # allocated once, in the bench dtype (full SDXL: 2.6B parameters)
    unet = unet.to_empty(device=device).eval()
    g = torch.Generator(device=device).manual_seed(seed)
    with torch.no_grad():
        for name, module in unet.named_modules():
            weight, bias = getattr(module, "weight", None), getattr(module, "bias", None)
            if bias is not None:
                bias.zero_()
            if weight is None:
                continue
            if isinstance(module, (torch.nn.GroupNorm, torch.nn.LayerNorm)):
                weight.fill_(1.0)
                continue
            weight.normal_(0.0, 1.0 / math.sqrt(weight[0].numel()), generator=g)
            if name.endswith(("out_layers.3", "proj_out")):
                weight.mul_(0.1)  # keeps the random residual stack bounded
    return unet


def synthetic_parsing(height: int, width: int) -> ParsingMap:
    """A standing person's exact LIP parsing at image resolution: face, hair, clothes, limbs."""
    _, labels = draw_figure(default_pose(width, height), width, height)
    return ParsingMap(torch.from_numpy(labels)[None])


@dataclass
class Workload:
    unet: SDUNet
    latent: torch.Tensor  # (2, 4, h, w): the CFG batch being denoised
    source_latent: torch.Tensor  # (1, 4, h, w)
    context: torch.Tensor  # (2, 77, context_dim)
    timesteps: torch.Tensor
    parsing: ParsingMap
    y: torch.Tensor | None = None  # SDXL's vector conditioning of the CFG batch (None for SD1.5)

    def step(self, latent: torch.Tensor, hooks: AttentionHooks | None = None) -> torch.Tensor:
        """One UNet call on the CFG batch."""
        return self.unet(latent, self.timesteps, self.context, hooks, y=self.y)

    def encode_source(self) -> SourceBank:
        """The one-off SourceNet pass (t = 0, cond prompt) and the region grouping."""
        recorder = BankRecorder(store_device=self.latent.device, store_dtype=self.latent.dtype)
        y = None if self.y is None else self.y[:1]
        self.unet(self.source_latent, torch.zeros_like(self.timesteps[:1]), self.context[:1], AttentionHooks(record=recorder.record), y=y)
        return recorder.build(self.parsing)


def bank_bytes(config: UNetConfig, height: int, width: int, element_size: int) -> int:
    """A source bank's size at an image size, from the real blocks' token grids and widths: a
    SourceNet pass on the meta device (shapes only, no memory, no compute)."""
    total = 0

    def record(block, n: torch.Tensor, grid: tuple[int, int]) -> None:
        nonlocal total
        total += n.shape[1] * n.shape[2] * element_size

    with torch.device("meta"):
        unet = SDUNet(config)
        y = sdxl_adm(height, width, 1, config.adm_in_channels).to("meta") if config.adm_in_channels else None
        unet(torch.empty(1, config.in_channels, height // 8, width // 8), torch.zeros(1), torch.empty(1, PROMPT_TOKENS, config.context_dim),
             AttentionHooks(record=record), y=y)
    return total


def build_workload(
    config: UNetConfig, height: int, width: int, device: torch.device, dtype: torch.dtype, seed: int = 0
) -> Workload:
    unet = random_unet(config, device, dtype, seed)
    g = torch.Generator(device=device).manual_seed(seed + 1)

    def randn(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=g, device=device).to(dtype)

    h, w = height // 8, width // 8
    y = sdxl_adm(height, width, CFG_BATCH, config.adm_in_channels).to(device, dtype) if config.adm_in_channels else None
    return Workload(
        unet=unet,
        latent=randn(CFG_BATCH, config.in_channels, h, w),
        source_latent=randn(1, config.in_channels, h, w),
        context=randn(CFG_BATCH, PROMPT_TOKENS, config.context_dim),
        timesteps=torch.full((CFG_BATCH,), 500.0, device=device),
        parsing=synthetic_parsing(height, width),
        y=y,
    )
