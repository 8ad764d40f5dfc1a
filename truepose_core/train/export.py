"""Export a trained model: the TruePose checkpoint (models/truepose) and the TargetNet as a
plain UNet file under ComfyUI/LDM key names (models/unet, read by ComfyUI's UNet loader)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from safetensors.torch import save_file

from ..models.checkpoint import CheckpointMeta, TruePoseCheckpoint, save_checkpoint
from .model import TruePoseTrainModel

CHECKPOINT_NAME = "truepose.safetensors"
TARGET_UNET_NAME = "target_unet.safetensors"


def to_checkpoint(model: TruePoseTrainModel, base: str, clip_model: str = "") -> TruePoseCheckpoint:
    caa = None if model.caa is None else {**model.caa.config, "clip_model": clip_model}
    meta = CheckpointMeta(
        base=base, unet_config=asdict(model.source_unet.config), pose_guider=dict(model.pose_guider.config),
        fusion="gated", blocks=model.blocks, caa=caa,
    )
    return TruePoseCheckpoint(
        meta=meta,
        source_unet=model.source_unet.state_dict(),
        pose_guider=model.pose_guider.state_dict(),
        gates={r: g.detach() for r, g in model.gates.items()},
        caa={} if model.caa is None else model.caa.state_dict(),
    )


def export(model: TruePoseTrainModel, out_dir: str | Path, base: str, clip_model: str = "") -> tuple[Path, Path]:
    out_dir = Path(out_dir)
    checkpoint = save_checkpoint(out_dir / CHECKPOINT_NAME, to_checkpoint(model, base, clip_model))
    target = out_dir / TARGET_UNET_NAME
    save_file({k: v.detach().cpu().contiguous() for k, v in model.target_unet.state_dict().items()}, str(target))
    return checkpoint, target
