"""Training settings: a JSON file (`--config`) and/or command-line flags (flags win)."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ..models.sd_unet import UNetConfig


@dataclass
class TrainConfig:
    out_dir: str = "truepose_run"
    steps: int = 1000
    batch_size: int = 4  # per process
    lr: float = 1e-4
    weight_decay: float = 1e-2
    cond_dropout: float = 0.1
    seed: int = 0
    # data: the synthetic pose-transfer set (the only reader so far)
    image_size: int = 64
    dataset_length: int = 2048
    latent_factor: int = 4  # PixelLatent stand-in for the VAE (train/latent.py)
    # model
    base: str = "synthetic-micro"
    model_channels: int = 32
    channel_mult: tuple[int, ...] = (1, 2)
    num_res_blocks: int = 1
    num_heads: int = 4
    context_dim: int = 16
    init_unet: str = ""  # optional LDM/ComfyUI-key UNet safetensors for both UNets
    # runtime
    bf16: bool = False
    gradient_checkpointing: bool = False
    log_every: int = 10
    save_every: int = 500
    resume: bool = True
    num_workers: int = 0

    def unet_config(self) -> UNetConfig:
        depth = tuple(1 for _ in self.channel_mult)
        return UNetConfig(
            in_channels=3, out_channels=3, model_channels=self.model_channels, channel_mult=tuple(self.channel_mult),
            num_res_blocks=self.num_res_blocks, transformer_depth=depth, num_heads=self.num_heads,
            context_dim=self.context_dim,
        )

    def to_dict(self) -> dict:
        return asdict(self)


def _flag_type(kind: type):
    if kind is bool:
        return lambda s: s.lower() in ("1", "true", "yes", "on")
    return kind


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    parser = argparse.ArgumentParser("python -m truepose_core.train", description="Train a TruePose checkpoint.")
    parser.add_argument("--config", help="JSON file with any of the settings below")
    defaults = TrainConfig()
    for f in fields(TrainConfig):
        value = getattr(defaults, f.name)
        flag = "--" + f.name.replace("_", "-")
        if isinstance(value, tuple):
            parser.add_argument(flag, type=int, nargs="+", default=None, help=f"default {value}")
        else:
            parser.add_argument(flag, type=_flag_type(type(value)), default=None, help=f"default {value}")
    args = parser.parse_args(argv)
    settings = json.loads(Path(args.config).read_text()) if args.config else {}
    unknown = set(settings) - {f.name for f in fields(TrainConfig)}
    if unknown:
        parser.error(f"unknown settings in {args.config}: {sorted(unknown)}")
    settings.update({k: v for k, v in vars(args).items() if k != "config" and v is not None})
    if "channel_mult" in settings:
        settings["channel_mult"] = tuple(settings["channel_mult"])
    return TrainConfig(**settings)
