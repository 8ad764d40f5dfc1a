"""Small random-weight models with the REAL SD1.5 architectures and key names.

No weights can be downloaded here, so the tests and the demo's fallback build an SD1.5-format
checkpoint (UNet + a TAESD-architecture VAE + CLIP-L text encoder) and an OpenPose-style ControlNet through
ComfyUI's own model classes. The UNet keeps SD1.5's widths (320 channels, 768 context: what
ComfyUI's detection requires) with fewer levels and blocks, so the stock CheckpointLoaderSimple
and ControlNetLoader load them as SD1.5 while CPU sampling stays fast. Requires a booted host.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import torch
from safetensors.torch import save_file

CHECKPOINT_NAME = "v1-5-pruned-emaonly-fp16.safetensors"
CONTROLNET_NAME = "control_v11p_sd15_openpose_fp16.safetensors"
TRUEPOSE_NAME = "truepose.safetensors"  # models/truepose: the trainer's file name (truepose_core/train/export.py)
TARGET_UNET_NAME = "target_unet.safetensors"  # models/unet: ditto

TINY_UNET = {
    "image_size": 32, "in_channels": 4, "model_channels": 320, "num_res_blocks": [1, 1],
    "channel_mult": [1, 2], "transformer_depth": [1, 1], "transformer_depth_output": [1, 1, 1, 1],
    "transformer_depth_middle": 1, "context_dim": 768, "num_heads": 8, "num_head_channels": -1,
    "use_linear_in_transformer": False, "use_spatial_transformer": True, "legacy": False,
    "adm_in_channels": None, "use_checkpoint": False,
}


def _init_(module: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Deterministic, well-scaled random weights (ComfyUI's ops skip initialisation)."""
    g = torch.Generator().manual_seed(seed)
    for name, p in module.named_parameters():
        with torch.no_grad():
            if p.ndim == 0:
                continue
            if p.ndim == 1:
                p.fill_(1.0 if name.endswith("weight") else 0.0)
            else:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(fan_in))
    return module


def _zero_out_layers(module: torch.nn.Module) -> None:
    """Shrink the last conv of every block so random residual stacks stay bounded."""
    for name, p in module.named_parameters():
        if p.ndim > 1 and ("out_layers.3" in name or "proj_out" in name or "zero_convs" in name or "middle_block_out" in name):
            with torch.no_grad():
                p.mul_(0.1)


def tiny_unet_state_dict(seed: int = 0) -> dict[str, torch.Tensor]:
    import comfy.ops
    from comfy.ldm.modules.diffusionmodules.openaimodel import UNetModel

    unet = UNetModel(**TINY_UNET, out_channels=4, operations=comfy.ops.disable_weight_init)
    _init_(unet, seed)
    _zero_out_layers(unet)
    return unet.state_dict()


def tiny_controlnet_state_dict(seed: int = 1) -> dict[str, torch.Tensor]:
    import comfy.ops
    from comfy.cldm.cldm import ControlNet

    config = {k: v for k, v in TINY_UNET.items() if k != "transformer_depth_output"}
    net = ControlNet(hint_channels=3, operations=comfy.ops.disable_weight_init, **config)
    _init_(net, seed)
    _zero_out_layers(net)
    return {f"control_model.{k}": v for k, v in net.state_dict().items()}


def tiny_taesd_state_dict(seed: int = 13) -> dict[str, torch.Tensor]:
    """A TAESD-architecture VAE (taesd_encoder / taesd_decoder keys, which ComfyUI's VAE detects),
    random weights. The pack only calls vae.encode / decode; the full SD VAE's encoder alone held
    1 GB of activations for one 256x352 image on the CPU, in every test that encodes a source."""
    import comfy.taesd.taesd

    return _init_(comfy.taesd.taesd.TAESD(latent_channels=4), seed).state_dict()


def sd15_clip_state_dict(seed: int = 3) -> dict[str, torch.Tensor]:
    import comfy.sd1_clip

    clip = comfy.sd1_clip.SDClipModel(device="cpu", dtype=torch.float32)
    _init_(clip, seed)
    with torch.no_grad():
        for name, p in clip.named_parameters():
            if "embedding" in name:
                p.mul_(0.02 * math.sqrt(p.shape[-1]))
    return {k: v for k, v in clip.state_dict().items() if not k.endswith("logit_scale")}


def write_checkpoint(path: Path) -> Path:
    sd = {f"model.diffusion_model.{k}": v for k, v in tiny_unet_state_dict().items()}
    sd.update({f"first_stage_model.{k}": v for k, v in tiny_taesd_state_dict().items()})
    sd.update({f"cond_stage_model.{k}": v for k, v in sd15_clip_state_dict().items()})
    return _save(sd, path)


def write_controlnet(path: Path) -> Path:
    return _save(tiny_controlnet_state_dict(), path)


def write_truepose(checkpoint_path: Path, target_unet_path: Path, caa_embed_dim: int = 0, seed: int = 4) -> tuple[Path, Path]:
    """A TruePose export (the same `to_checkpoint` as `python -m truepose_core.train`) of the tiny
    UNet, with non-zero gates and pose guider so every trained-mode patch has an effect."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from truepose_core.models import TINY
    from truepose_core.models.checkpoint import save_checkpoint
    from truepose_core.train.export import to_checkpoint
    from truepose_core.train.model import TruePoseTrainModel

    torch.manual_seed(seed)
    model = TruePoseTrainModel(TINY, pose_downsample=8, caa_embed_dim=caa_embed_dim)
    unet = tiny_unet_state_dict()
    model.target_unet.load_state_dict(unet)
    model.source_unet.load_state_dict(unet)
    with torch.no_grad():
        for gate in model.gates.values():
            gate.fill_(0.5)
        torch.nn.init.normal_(model.pose_guider.conv_out.weight, std=0.05)
    checkpoint = to_checkpoint(model, "sd15-tiny-test", "tiny-test-clip" if caa_embed_dim else "")
    source_unet = {k: v.half() for k, v in checkpoint.source_unet.items()}  # as a fp16 base is shipped: half the disk
    save_checkpoint(checkpoint_path, dataclasses.replace(checkpoint, source_unet=source_unet))
    return checkpoint_path, _save(unet, target_unet_path)


def _save(sd: dict[str, torch.Tensor], path: Path) -> Path:
    """Everything as fp16, except tensors already stored as float8 (fp8 text-encoder weights)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    kept = (torch.float8_e4m3fn, torch.float8_e5m2)
    sd = {k: (v if v.dtype in kept else v.to(torch.float16)).contiguous() for k, v in sd.items()}
    save_file(sd, str(path), metadata={"truepose": "generated tiny test weights"})
    return path


def install_tiny_models(models_dir: Path) -> dict[str, Path]:
    """Write the generated models where ComfyUI's stock loaders look, unless already there."""
    out = {
        "checkpoint": Path(models_dir) / "checkpoints" / CHECKPOINT_NAME,
        "controlnet": Path(models_dir) / "controlnet" / CONTROLNET_NAME,
    }
    if not out["checkpoint"].exists():
        write_checkpoint(out["checkpoint"])
    if not out["controlnet"].exists():
        write_controlnet(out["controlnet"])
    out["truepose"] = Path(models_dir) / "truepose" / TRUEPOSE_NAME
    out["target_unet"] = Path(models_dir) / "unet" / TARGET_UNET_NAME
    if not (out["truepose"].exists() and out["target_unet"].exists()):
        write_truepose(out["truepose"], out["target_unet"])
    return out


def in_subprocess(comfy_root: Path, models_dir: Path, *args: str) -> None:
    """`main` in a fresh interpreter: the GBs of transient tensors that building the weights takes
    are given back when it exits, instead of growing the caller's heap for the rest of its life."""
    import subprocess
    import sys

    command = [sys.executable, str(Path(__file__).resolve()), str(models_dir), "--comfy-root", str(comfy_root), *args]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def main(argv: list[str] | None = None) -> None:
    """`python scripts/tiny_models.py MODELS_DIR --comfy-root ROOT [--truepose CKPT UNET]`:
    install_tiny_models (or one write_truepose) without a booted host."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("models_dir", type=Path)
    parser.add_argument("--comfy-root", type=Path, required=True, help="a ComfyUI tree (comfy_host.prepare_root)")
    parser.add_argument("--truepose", type=Path, nargs=2, metavar=("CHECKPOINT", "TARGET_UNET"),
                        help="write only a TruePose export (write_truepose) to these two paths")
    parser.add_argument("--caa-embed-dim", type=int, default=0, help="with --truepose: CAA weights for CLIP embeddings this wide")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(args.comfy_root))
    import comfy.options

    comfy.options.enable_args_parsing(False)
    from comfy.cli_args import args as comfy_args

    comfy_args.cpu = True
    if args.truepose:
        write_truepose(*args.truepose, caa_embed_dim=args.caa_embed_dim)
        return
    for kind, path in install_tiny_models(args.models_dir).items():
        print(f"{kind}: {path}")


if __name__ == "__main__":
    main()
