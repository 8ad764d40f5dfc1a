"""Training settings: a JSON file (`--config`) and/or command-line flags (flags win)."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from ..models.sd_unet import SD15, SDXL, SDXL_TINY, TINY, UNetConfig

# --base: the real layouts (use --init-unet for pretrained weights); --tiny: the same layout reduced
# (SD1.5 widths at two levels; SDXL's layout at toy widths) for CPU tests and smoke runs.
BASES = {"sd15": (SD15, TINY), "sdxl": (SDXL, SDXL_TINY)}


@dataclass
class TrainConfig:
    out_dir: str = "truepose_run"
    steps: int = 1000
    batch_size: int = 4  # per process
    lr: float = 1e-4
    weight_decay: float = 1e-2
    cond_dropout: float = 0.1
    seed: int = 0
    # data: "synthetic" (generated, no files), "deepfashion" or "pairs" (truepose_core.data)
    dataset: str = "synthetic"
    data_root: str = ""
    data_split: str = "train"
    image_size: int = 64  # height; width = image_width or image_size
    image_width: int = 0
    dataset_length: int = 2048  # synthetic only
    # latents: a diffusers AutoencoderKL folder (e.g. sd-vae-ft-mse), else the PixelLatent stand-in
    vae: str = ""
    latent_factor: int = 4  # PixelLatent stand-in only (train/latent.py)
    # model: base "sd15" / "sdxl" = that UNet (use init_unet), anything else = the micro UNet below
    base: str = "synthetic-micro"
    tiny: bool = False  # sd15 / sdxl only: the base's layout, reduced (tests, smoke runs; not for real training)
    model_channels: int = 32
    channel_mult: tuple[int, ...] = (1, 2)
    num_res_blocks: int = 1
    num_heads: int = 4
    context_dim: int = 16
    init_unet: str = ""  # optional LDM/ComfyUI-key UNet safetensors for both UNets
    hpfa: bool = True  # False: the ablation (TargetNet never reads SourceNet)
    # CAA: region crops -> open_clip image tower (local weights file) -> region tokens in attn2
    caa: bool = False
    caa_lambda: float = 1e-3
    caa_clip_model: str = "ViT-L-14"
    caa_clip_weights: str = ""  # empty: random init (tests only: the features are not CLIP's)
    caa_clip_image_size: int = 0  # 0: the model's own; smaller only for CPU tests
    ema_decay: float = 0.0  # 0: no EMA; e.g. 0.9999 (the export then holds the EMA weights)
    sample_every: int = 0  # 0: no sample grids; else a grid PNG every N steps (and at the end)
    sample_steps: int = 25
    sample_cfg: float = 2.5
    sample_count: int = 4
    # runtime
    bf16: bool = False
    fp16: bool = False  # with dynamic loss scaling; prefer bf16 where supported
    gradient_checkpointing: bool = False
    log_every: int = 10
    save_every: int = 500
    resume: bool = True
    num_workers: int = 0

    @property
    def height(self) -> int:
        return self.image_size

    @property
    def width(self) -> int:
        return self.image_width or self.image_size

    def unet_config(self, latent_channels: int) -> UNetConfig:
        if self.base in BASES:
            full, reduced = BASES[self.base]
            return replace(reduced if self.tiny else full, in_channels=latent_channels, out_channels=latent_channels)
        depth = tuple(1 for _ in self.channel_mult)
        return UNetConfig(
            in_channels=latent_channels, out_channels=latent_channels, model_channels=self.model_channels,
            channel_mult=tuple(self.channel_mult), num_res_blocks=self.num_res_blocks, transformer_depth=depth,
            num_heads=self.num_heads, context_dim=self.context_dim,
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
