"""The TruePose checkpoint: one safetensors file with the trained-mode extras and metadata.

Tensors, by prefix:
  source_unet.*  SourceNet weights under ComfyUI/LDM UNet key names (input_blocks..., out...)
  pose_guider.*  the pose guider (see pose_guider.py)
  hpfa.gate.<region>  the learned HPFA gate g_r of one region (0-dim float32)
  caa.*          CLIP-guided attention alignment projections (optional)
The TargetNet is NOT in this file: it is a plain UNet checkpoint that ComfyUI's UNet loader reads.
A file is recognised by its keys (never by its name): SourceNet + pose guider + at least one gate.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..attention.bank import BlockKey
from ..errors import TruePoseInputError
from ..parsing.labels import REGION_GROUPS
from . import checkpoint_checks as checks
from .sd_unet import UNetConfig, unet_family

FORMAT = "truepose"
FORMAT_VERSION = 1
PARTS = ("source_unet", "pose_guider", "hpfa", "caa")
GATE_PREFIX = "hpfa.gate."
SIGNATURE_KEY = "source_unet.input_blocks.0.0.weight"
INPUT = checks.INPUT
_FIX = checks.FIX


@dataclass(frozen=True)
class CheckpointMeta:
    """What the weights were trained for. `blocks` None: HPFA on every attn1 block."""

    base: str  # base architecture, e.g. "sd15" or "synthetic-tiny"
    unet_config: Mapping[str, object]  # UNetConfig fields of the SourceNet
    pose_guider: Mapping[str, object]  # PoseGuider constructor arguments
    fusion: str = "gated"
    label_set: str = "lip"
    region_groups: Mapping[str, tuple[int, ...]] = field(default_factory=lambda: dict(REGION_GROUPS))
    blocks: tuple[BlockKey, ...] | None = None
    # CAA: {"embed_dim", "context_dim", "regions", "clip_model"} when the file holds caa.* weights
    caa: Mapping[str, object] | None = None
    family: str = ""  # "sd15" | "sdxl" | "custom"; empty: derived from unet_config (files written before it existed)

    def __post_init__(self) -> None:
        if not self.family:
            try:
                object.__setattr__(self, "family", unet_family(self.source_unet_config()))
            except (TypeError, ValueError):
                pass  # an unreadable unet_config is reported by the loader's own checks

    def source_unet_config(self) -> UNetConfig:
        return UNetConfig(**self.unet_config)  # type: ignore[arg-type]

    def to_strings(self) -> dict[str, str]:
        return {
            "format": FORMAT,
            "format_version": str(FORMAT_VERSION),
            "base": self.base,
            "unet_config": json.dumps(dict(self.unet_config)),
            "pose_guider": json.dumps(dict(self.pose_guider)),
            "fusion": self.fusion,
            "label_set": self.label_set,
            "region_groups": json.dumps({k: list(v) for k, v in self.region_groups.items()}),
            "blocks": json.dumps(None if self.blocks is None else [list(b) for b in self.blocks]),
            "caa": json.dumps(None if self.caa is None else dict(self.caa)),
            "family": base_family(self),
        }

    @classmethod
    def from_strings(cls, meta: Mapping[str, str]) -> "CheckpointMeta":
        blocks = json.loads(meta["blocks"])
        return cls(
            base=meta["base"],
            unet_config={k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(meta["unet_config"]).items()},
            pose_guider=json.loads(meta["pose_guider"]),
            fusion=meta["fusion"],
            label_set=meta["label_set"],
            region_groups={k: tuple(v) for k, v in json.loads(meta["region_groups"]).items()},
            blocks=None if blocks is None else tuple((str(s), int(i), int(t)) for s, i, t in blocks),
            caa=json.loads(meta.get("caa", "null")),
            family=meta.get("family", ""),
        )


@dataclass(frozen=True)
class TruePoseCheckpoint:
    meta: CheckpointMeta
    source_unet: Mapping[str, torch.Tensor]
    pose_guider: Mapping[str, torch.Tensor]
    gates: Mapping[str, torch.Tensor]  # region -> 0-dim gate
    caa: Mapping[str, torch.Tensor] = field(default_factory=dict)

    def gate_values(self) -> dict[str, float]:
        """For HPFAConfig.gates."""
        return {region: float(g) for region, g in self.gates.items()}

    def flat_view(self) -> dict[str, torch.Tensor]:
        """Every tensor under its file key, as stored (no copy)."""
        out: dict[str, torch.Tensor] = {}
        for prefix, part in (("source_unet.", self.source_unet), ("pose_guider.", self.pose_guider), ("caa.", self.caa)):
            out.update({prefix + k: v for k, v in part.items()})
        out.update({GATE_PREFIX + region: g for region, g in self.gates.items()})
        return out

    def flat(self) -> dict[str, torch.Tensor]:
        out = self.flat_view()
        out.update({GATE_PREFIX + region: g.reshape(()) for region, g in self.gates.items()})
        return {k: v.detach().to("cpu").contiguous() for k, v in out.items()}


def is_truepose_checkpoint(keys: set[str] | list[str]) -> bool:
    """The key signature: a SourceNet, a pose guider and at least one HPFA gate."""
    keys = set(keys)
    return (
        SIGNATURE_KEY in keys
        and any(k.startswith("pose_guider.") for k in keys)
        and any(k.startswith(GATE_PREFIX) for k in keys)
    )


def save_checkpoint(path: str | Path, checkpoint: TruePoseCheckpoint) -> Path:
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(checkpoint.flat(), str(path), metadata=checkpoint.meta.to_strings())
    return path


def load_checkpoint(path: str | Path, device: torch.device | str = "cpu") -> TruePoseCheckpoint:
    """Raises TruePoseInputError for a missing, damaged or foreign file."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise TruePoseInputError(INPUT, f"checkpoint '{path}' does not exist.", _FIX)
    try:
        with safe_open(str(path), framework="pt", device=str(device)) as f:
            keys = list(f.keys())
            meta = dict(f.metadata() or {})
            if not is_truepose_checkpoint(keys):
                raise TruePoseInputError(INPUT, f"'{path.name}' is not a TruePose checkpoint: {_describe(keys)}.", _FIX)
            tensors = {k: f.get_tensor(k) for k in keys}
    except TruePoseInputError:
        raise
    except Exception as e:  # safetensors raises several types for a damaged header or short file
        reason = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
        raise TruePoseInputError(
            INPUT, f"'{path.name}' could not be read ({reason}): the file is damaged or not a safetensors file.",
            "export it again, or copy it again completely; " + _FIX,
        ) from None
    checkpoint = TruePoseCheckpoint(
        meta=_meta(meta, path),
        source_unet=_part(tensors, "source_unet."),
        pose_guider=_part(tensors, "pose_guider."),
        gates=_part(tensors, GATE_PREFIX),
        caa=_part(tensors, "caa."),
    )
    validate(checkpoint, path.name)
    return checkpoint


def validate(checkpoint: TruePoseCheckpoint, name: str) -> None:
    """Every tensor against what the metadata implies, then finite values (checkpoint_checks.py)."""
    checks.check_choices(checkpoint.meta, name)
    checks.check_source_unet(checkpoint.meta, checkpoint.source_unet, name)
    checks.check_pose_guider(checkpoint.meta, checkpoint.pose_guider, name)
    checks.check_gates(checkpoint.gates, name)
    checks.check_caa(checkpoint.meta, checkpoint.caa, name)
    checks.check_finite(checkpoint.flat_view(), name)


def _part(tensors: Mapping[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}


def _meta(meta: Mapping[str, str], path: Path) -> CheckpointMeta:
    if meta.get("format") != FORMAT:
        raise TruePoseInputError(INPUT, f"'{path.name}' has TruePose keys but no TruePose metadata.", _FIX)
    checks.check_format_version(meta, path.name, FORMAT_VERSION)
    checks.check_metadata_strings(meta, path.name)
    try:
        return CheckpointMeta.from_strings(meta)
    except (KeyError, ValueError, TypeError, AttributeError) as e:
        raise checks.bad_file(path.name, f"its metadata is unreadable ({e}).") from None


def _describe(keys: list[str]) -> str:
    if any(k.startswith(("input_blocks.", "model.diffusion_model.", "down_blocks.")) for k in keys):
        return "it is a plain UNet / Stable Diffusion checkpoint (load it with a UNet or checkpoint loader)"
    if any(k.startswith(("first_stage_model.", "encoder.down", "decoder.up")) for k in keys):
        return "it is a VAE"
    if any("context_encoding" in k or "fushion" in k or k.startswith(("module.", "decoder.conv", "edge.")) for k in keys):
        return "it looks like a human-parsing (SCHP) network (load it with TruePose_ParserLoader)"
    return f"{len(keys)} tensors, first keys {keys[:3]}" if keys else "it holds no tensors"


# --- base family: which host models a checkpoint's weights belong to ---


def base_family(meta: CheckpointMeta) -> str:
    """The family the SourceNet was trained on ("custom" when its UNet config is unreadable)."""
    return meta.family or "custom"


def check_family(meta: CheckpointMeta, model_family: str, input_name: str = "truepose_model") -> None:
    """Refuse a checkpoint trained on another base family than the MODEL it is used with.
    "custom" on either side (toy and test UNets) is left to the exact weight-shape checks."""
    trained = base_family(meta)
    if "custom" in (trained, model_family) or trained == model_family:
        return
    raise TruePoseInputError(
        input_name, f"this TruePose checkpoint was trained on an {trained.upper()} base (base '{meta.base}'), "
        f"but the MODEL is {model_family.upper()}.",
        f"sample with an {trained.upper()}-family checkpoint, or use a TruePose checkpoint trained on {model_family.upper()} "
        f"(`python -m truepose_core.train --base {model_family}`).",
    )
