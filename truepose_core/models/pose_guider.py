"""The pose guider: the rendered skeleton image -> features at latent resolution.

Its output is added to TargetNet's first feature map (the output of input block 0, where
ComfyUI's input_block_patch sees ("input", 0)), so it has the UNet's model_channels. The output
conv starts at zero: an untrained guider leaves the UNet exactly as it was.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import TruePoseInputError


class PoseGuider(nn.Module):
    def __init__(self, out_channels: int, downsample: int = 8, in_channels: int = 3, base_width: int = 16) -> None:
        super().__init__()
        stages = int(math.log2(downsample))
        if downsample < 1 or 2**stages != downsample:
            raise ValueError(f"downsample must be a power of two, got {downsample}")
        self.downsample = downsample
        self.config = {"out_channels": out_channels, "downsample": downsample, "in_channels": in_channels, "base_width": base_width}
        widths = [base_width * 2**i for i in range(stages + 1)]
        layers: list[nn.Module] = [nn.Conv2d(in_channels, widths[0], 3, padding=1), nn.SiLU()]
        for c_in, c_out in zip(widths, widths[1:]):
            layers += [nn.Conv2d(c_in, c_in, 3, padding=1), nn.SiLU(), nn.Conv2d(c_in, c_out, 3, padding=1, stride=2), nn.SiLU()]
        self.encoder = nn.Sequential(*layers)
        self.conv_out = nn.Conv2d(widths[-1], out_channels, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, skeleton: torch.Tensor) -> torch.Tensor:
        """skeleton: (B, 3, H, W) in [0, 1], H and W multiples of `downsample` -> (B, C, H/ds, W/ds)."""
        h, w = skeleton.shape[-2:]
        if h % self.downsample or w % self.downsample:
            raise TruePoseInputError(
                "pose", f"skeleton image {h}x{w} is not a multiple of {self.downsample}.",
                f"render the pose at the image size (a multiple of {self.downsample}).",
            )
        return self.conv_out(self.encoder(skeleton))
