"""The DDPM forward process of Stable Diffusion 1.x (scaled-linear betas, 1000 steps), for
epsilon-prediction training."""

from __future__ import annotations

import torch

NUM_TIMESTEPS = 1000


def alphas_cumprod(beta_start: float = 0.00085, beta_end: float = 0.012, steps: int = NUM_TIMESTEPS) -> torch.Tensor:
    betas = torch.linspace(beta_start**0.5, beta_end**0.5, steps, dtype=torch.float64) ** 2
    return torch.cumprod(1.0 - betas, dim=0).float()


def add_noise(x0: torch.Tensor, noise: torch.Tensor, timesteps: torch.Tensor, schedule: torch.Tensor) -> torch.Tensor:
    """x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps."""
    abar = schedule.to(x0.device)[timesteps].view(-1, *([1] * (x0.ndim - 1))).to(x0.dtype)
    return abar.sqrt() * x0 + (1.0 - abar).sqrt() * noise
