"""Periodic sample grids: the first `sample_count` held-out pairs, sampled with the current
(or EMA) weights -> one PNG per call (source | target skeleton | ground truth | generated)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch.utils.data import default_collate

from .config import TrainConfig
from .generate import generate
from .loop import Parts, build_dataset
from .model import TruePoseTrainModel


def held_out_batch(config: TrainConfig, count: int, split: str = "test") -> dict:
    data = build_dataset(config, split)
    return default_collate([data[i] for i in range(min(count, len(data)))])


def write_sample_grid(path: str | Path, model: TruePoseTrainModel, config: TrainConfig, parts: Parts, device: torch.device) -> Path:
    from .grid import write_grid

    batch = held_out_batch(config, config.sample_count)
    images = generate(model, batch, parts, device, steps=config.sample_steps, cfg_scale=config.sample_cfg, seed=config.seed)
    return write_grid(path, batch["source_image"], batch["target_pose"], batch["target_image"], images.cpu())
