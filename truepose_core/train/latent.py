"""A fixed, parameter-free stand-in for the VAE, for synthetic runs without any weights.

encode: pixels in [0, 1] -> [-1, 1] -> average-pooled by `factor` (so a 64x64 image becomes a
3-channel 16x16 "latent" at factor 4). decode: nearest upsampling back. It keeps the training
loop, shapes (latent = image / factor) and the pose guider's downsampling exactly as with a real
VAE, but it is NOT a VAE: results trained on it only run with this stand-in.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


class PixelLatent:
    channels = 3

    def __init__(self, factor: int = 4) -> None:
        self.factor = factor

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [0, 1] -> (B, 3, H/f, W/f)."""
        return F.avg_pool2d(images * 2.0 - 1.0, self.factor)

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        return ((F.interpolate(latents, scale_factor=self.factor, mode="nearest") + 1.0) / 2.0).clamp(0.0, 1.0)
