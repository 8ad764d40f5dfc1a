"""Deterministic DDIM (eta = 0) for an epsilon-prediction model on the SD1.x schedule, with
optional classifier-free guidance: sample grids and evaluation outside ComfyUI.

Timesteps are "trailing" by default (999, 999 - 1000/steps, ...; Lin et al. 2024): the first step
is at t = 999, the noise level the pure-Gaussian start is closest to, which every training t was
drawn up to. "leading" (diffusers' SD1.5 default: 0, 1000/steps, ... + 1, reversed) is there to
compare with ComfyUI / diffusers runs. The last step jumps to the model's x0 estimate (abar = 1),
so the result is x0 itself, not a slightly noisy x at t = 0.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch

from .diffusion import NUM_TIMESTEPS, alphas_cumprod

Predict = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (noisy latent, timesteps (B,) float) -> epsilon


def ddim_timesteps(steps: int, spacing: Literal["trailing", "leading"] = "trailing", num_train: int = NUM_TIMESTEPS) -> torch.Tensor:
    """The `steps` timesteps DDIM visits, descending, as int64."""
    if not 1 <= steps <= num_train:
        raise ValueError(f"steps must be in [1, {num_train}], got {steps}")
    if spacing == "trailing":
        t = (num_train - torch.arange(steps, dtype=torch.float64) * (num_train / steps)).round().long() - 1
    elif spacing == "leading":
        t = (torch.arange(steps, dtype=torch.int64) * (num_train // steps) + 1).flip(0)  # steps_offset = 1, as SD1.5
    else:
        raise ValueError(f"spacing must be 'trailing' or 'leading', got {spacing!r}")
    return t.clamp(0, num_train - 1)


@torch.no_grad()
def ddim_sample(
    predict: Predict, shape: tuple[int, ...], steps: int = 25, schedule: torch.Tensor | None = None,
    predict_uncond: Predict | None = None, cfg_scale: float = 1.0, generator: torch.Generator | None = None,
    device: torch.device | str = "cpu", noise: torch.Tensor | None = None, spacing: Literal["trailing", "leading"] = "trailing",
) -> torch.Tensor:
    """-> x0 latents of `shape` (float32). The start is `noise` if given, else a standard normal
    draw from `generator` (on the generator's device, then moved: same numbers on CPU and GPU).
    CFG: eps = uncond + cfg_scale * (cond - uncond); at cfg_scale 1 the unconditional model is not run."""
    if cfg_scale != 1.0 and predict_uncond is None:
        raise ValueError("cfg_scale != 1 needs predict_uncond")
    schedule = (alphas_cumprod() if schedule is None else schedule).to(device, torch.float32)
    if noise is None:
        noise = torch.randn(shape, generator=generator, device=generator.device if generator is not None else "cpu")
    x = noise.to(device, torch.float32)
    timesteps = ddim_timesteps(steps, spacing, len(schedule)).tolist()
    for i, t in enumerate(timesteps):
        t_batch = torch.full((x.shape[0],), float(t), device=device)
        eps = predict(x, t_batch).float()
        if predict_uncond is not None and cfg_scale != 1.0:
            uncond = predict_uncond(x, t_batch).float()
            eps = uncond + cfg_scale * (eps - uncond)
        abar = schedule[t]
        x0 = (x - (1.0 - abar).sqrt() * eps) / abar.sqrt()
        abar_prev = schedule[timesteps[i + 1]] if i + 1 < len(timesteps) else torch.ones_like(abar)  # the last step lands on x0
        x = abar_prev.sqrt() * x0 + (1.0 - abar_prev).sqrt() * eps
    return x
