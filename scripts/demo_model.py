"""The shipped demo TruePose model: what it is, where it lives, and how it becomes ComfyUI files.

The repo holds the trained weights compactly (demo_model/truepose_demo.safetensors: the NARROW
TargetNet / SourceNet, pose guider, gates and the narrow TAESD halves). `install_demo_model`
expands them EXACTLY (truepose_core/train/narrow.py, taesd.py) into the three files ComfyUI's
stock loaders and Load TruePose Model read:

  models/unet/truepose_demo_target_unet.safetensors   UNETLoader (an SD1.5-detected UNet)
  models/vae/truepose_demo_vae.safetensors            VAELoader (a TAESD-architecture VAE)
  models/truepose/truepose_demo.safetensors           TruePose_ModelLoader

The zero padding that makes them SD1.5-wide would make the repo files ~18x larger, so it is
done at install time (a few seconds), like the tiny test models.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from truepose_core.models.checkpoint import CheckpointMeta, TruePoseCheckpoint, save_checkpoint  # noqa: E402
from truepose_core.train.narrow import narrow_config, widen_pose_guider, widen_unet, wide_config  # noqa: E402
from truepose_core.train.taesd import TAESD  # noqa: E402

DEMO_FILE = REPO_ROOT / "demo_model" / "truepose_demo.safetensors"
UNET_NAME = "truepose_demo_target_unet.safetensors"
VAE_NAME = "truepose_demo_vae.safetensors"
TRUEPOSE_NAME = "truepose_demo.safetensors"
HEIGHT, WIDTH = 128, 96  # image size the model was trained at
TEST_SEED_OFFSET = 7919  # held-out people: the synthetic generator under seed + this (as train/loop.py)


def save_compact(path: Path, model, taesd: TAESD, recipe: dict) -> Path:
    """model: a TruePoseTrainModel with narrow (diluted) UNets."""
    tensors: dict[str, torch.Tensor] = {}
    for prefix, module in (("target_unet.", model.target_unet), ("source_unet.", model.source_unet), ("pose_guider.", model.pose_guider)):
        tensors.update({prefix + k: v.detach().to(torch.float16) for k, v in module.state_dict().items()})
    tensors.update({f"gate.{r}": g.detach().float().reshape(()) for r, g in model.gates.items()})
    meta = {
        "unet_config": json.dumps(asdict(model.target_unet.config)), "pose_guider": json.dumps(model.pose_guider.config),
        "taesd_widths": json.dumps(list(taesd.widths)), "recipe": json.dumps(recipe),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors.update({"taesd.encoder." + k: v.to(torch.float16) for k, v in taesd.encoder.state_dict().items()})
    tensors.update({"taesd.decoder." + k: v.to(torch.float16) for k, v in taesd.decoder.state_dict().items()})
    tensors.update({"taesd.vae_scale": taesd.vae_scale.float().clone(), "taesd.vae_shift": taesd.vae_shift.float().clone()})
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(path), metadata=meta)
    return path


def load_compact(path: Path = DEMO_FILE) -> dict:
    """-> {"unet_config", "pose_guider", "target_unet", "source_unet", "pose_guider_state", "gates", "taesd", "recipe"}."""
    from truepose_core.models.sd_unet import UNetConfig

    with safe_open(str(path), "pt") as f:
        meta = dict(f.metadata() or {})
    tensors = load_file(str(path))

    def part(prefix: str) -> dict[str, torch.Tensor]:
        return {k[len(prefix):]: v.float() for k, v in tensors.items() if k.startswith(prefix)}

    fields = json.loads(meta["unet_config"])
    config = UNetConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})
    widths = json.loads(meta["taesd_widths"])
    taesd = TAESD(4, widths[0], widths[1])
    taesd.encoder.load_state_dict(part("taesd.encoder."))
    taesd.decoder.load_state_dict(part("taesd.decoder."))
    taesd.vae_scale.fill_(float(tensors["taesd.vae_scale"]))
    taesd.vae_shift.fill_(float(tensors["taesd.vae_shift"]))
    return {
        "unet_config": config, "pose_guider": json.loads(meta["pose_guider"]), "target_unet": part("target_unet."),
        "source_unet": part("source_unet."), "pose_guider_state": part("pose_guider."), "gates": part("gate."),
        "taesd": taesd, "recipe": json.loads(meta["recipe"]),
    }


def narrow_model(compact: dict, hpfa: bool = True):
    """The trained TruePoseTrainModel (narrow, diluted norms) from the compact file."""
    from truepose_core.train.narrow import dilute_norms
    from truepose_core.train.model import TruePoseTrainModel

    config = compact["unet_config"]
    model = TruePoseTrainModel(config, pose_downsample=compact["pose_guider"]["downsample"], hpfa=hpfa)
    dilute_norms(model.target_unet, config.model_channels)
    dilute_norms(model.source_unet, config.model_channels)
    model.target_unet.load_state_dict(compact["target_unet"])
    model.source_unet.load_state_dict(compact["source_unet"])
    model.pose_guider.load_state_dict(compact["pose_guider_state"])
    with torch.no_grad():
        for region, gate in model.gates.items():
            gate.copy_(compact["gates"][region])
    return model.eval()


def install_demo_model(models_dir: str | Path, source: Path = DEMO_FILE) -> dict[str, Path]:
    """Writes the three ComfyUI files under models_dir (skipped when already newer than `source`)."""
    models_dir = Path(models_dir)
    out = {
        "unet": models_dir / "unet" / UNET_NAME, "vae": models_dir / "vae" / VAE_NAME, "truepose": models_dir / "truepose" / TRUEPOSE_NAME,
    }
    if all(p.is_file() and p.stat().st_mtime >= source.stat().st_mtime for p in out.values()):
        return out
    compact = load_compact(source)
    narrow = compact["unet_config"]
    wide = wide_config(narrow)
    out["unet"].parent.mkdir(parents=True, exist_ok=True)
    target = widen_unet(compact["target_unet"], narrow)
    save_file({k: v.to(torch.float16).contiguous() for k, v in target.items()}, str(out["unet"]),
              metadata={"truepose": "demo TargetNet trained on the synthetic people (scripts/train_demo_model.py)"})
    compact["taesd"].save(out["vae"])
    guider = dict(compact["pose_guider"], out_channels=wide.model_channels)
    checkpoint = TruePoseCheckpoint(
        meta=CheckpointMeta(base="sd15-truepose-demo", unet_config=asdict(wide), pose_guider=guider, fusion="gated"),
        source_unet={k: v.to(torch.float16) for k, v in widen_unet(compact["source_unet"], narrow).items()},
        pose_guider={k: v.to(torch.float16) for k, v in widen_pose_guider(compact["pose_guider_state"], narrow).items()},
        gates={r: g.reshape(()) for r, g in compact["gates"].items()},
    )
    save_checkpoint(out["truepose"], checkpoint)
    return out


def narrow_demo_config(width: int = 64):
    return narrow_config(width)
