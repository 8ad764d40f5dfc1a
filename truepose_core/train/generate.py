"""Sampling a trained TruePoseTrainModel outside ComfyUI: sample grids during training and the
held-out evaluation. The SourceNet runs once per batch (`prepare`), DDIM runs the TargetNet; the
unconditional branch of CFG is built exactly like a dropped training row (no source region, a
blank skeleton, no region token), which is also what the ComfyUI nodes do by default."""

from __future__ import annotations

import torch

from .loop import Parts, region_inputs
from .model import TruePoseTrainModel


@torch.no_grad()
def generate(
    model: TruePoseTrainModel, batch: dict, parts: Parts, device: torch.device, steps: int = 25, cfg_scale: float = 1.0,
    seed: int = 0,
) -> torch.Tensor:
    """batch: dataset items stacked (source_image, source_parsing, target_pose, ...) -> (B, 3, H, W) in [0, 1]."""
    from .sampler import ddim_sample

    was_training = model.training
    model.eval()
    source_image = batch["source_image"].to(device)
    b, _, h, w = source_image.shape
    source = parts.latent.encode(source_image)
    pose = batch["target_pose"].to(device)
    parsing = batch["source_parsing"].to(device)
    ones = torch.ones(b, device=device)
    embeds, present = region_inputs(batch, parts.encoder, ones, device)
    cond = model.prepare(source, parsing, pose, embeds, present)
    uncond = None
    if cfg_scale != 1.0:
        uncond = model.prepare(source, torch.zeros_like(parsing), torch.zeros_like(pose), embeds,
                               None if present is None else torch.zeros_like(present))
    try:
        shape = (b, parts.latent.channels, h // parts.latent.factor, w // parts.latent.factor)
        latents = ddim_sample(
            lambda x, t: model.denoise(cond, x, t), shape, steps=steps, schedule=parts.schedule,
            predict_uncond=None if uncond is None else (lambda x, t: model.denoise(uncond, x, t)), cfg_scale=cfg_scale,
            generator=torch.Generator().manual_seed(seed), device=device,
        )
    finally:
        cond.release()
        if uncond is not None:
            uncond.release()
        model.train(was_training)
    return parts.latent.decode(latents).clamp(0.0, 1.0)
