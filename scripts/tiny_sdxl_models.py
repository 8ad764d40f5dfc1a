"""Small random-weight SDXL-family models that ComfyUI's STOCK loaders detect as SDXL.

ComfyUI matches a checkpoint to a family by the UNet's base width, context and ADM widths and its
list of transformer depths per input ResBlock (comfy/supported_models.py); the channel multiplier
of each level is not part of the match. The smallest SDXL-family entry is Segmind Vega (depths
[0, 0, 1, 1, 2, 2], 320 channels, context 2048, adm 2816, linear projections). Its depths are
spread over three levels here as 2 / 3 / 1 ResBlocks of widths 320 / 320 / 640. SDXL's 320 / 640 /
1280 would cost ~1.3 GB more in a CPU host, which keeps UNets in fp32; TruePose reads every width
from the block it patches, and 640 keeps FreeU's second scale in play. The output side and the
middle block are not part of the match and are kept small (no middle block, as in KOALA). Block
keys with several transformer indices appear on both sides (input 6 and 8, output 2), as in SDXL.

The text encoders are the real CLIP-L + CLIP-G: ComfyUI builds SDXL's text encoders from fixed
configs whatever the file holds, so full-size random weights are the smallest it accepts. They
are stored as float8_e4m3fn (as fp8 text-encoder files are; the test host loads them with
--fp8_e4m3fn-text-enc), everything else fp16. The VAE is TAESD-architecture (ComfyUI's VAE takes
one from a checkpoint): a full SD VAE would add ~0.5 GB to every load. Requires a booted host.
"""

from __future__ import annotations

from pathlib import Path

import torch

from tiny_models import _init_, _save, _zero_out_layers, tiny_taesd_state_dict

# Named like the files the SDXL workflow expects (as the SD1.5 stand-ins are): tests run it unchanged.
SDXL_CHECKPOINT_NAME = "sd_xl_base_1.0.safetensors"
SDXL_CONTROLNET_NAME = "xinsir_controlnet_openpose_sdxl_1.0.safetensors"
SDXL_LORA_NAME = "sdxl_tiny_lora.safetensors"

TINY_SDXL_UNET = {
    "image_size": 32, "in_channels": 4, "model_channels": 320, "num_res_blocks": [2, 3, 1], "channel_mult": [1, 1, 2],
    "transformer_depth": [0, 0, 1, 1, 2, 2],  # what the Segmind Vega entry matches
    # one entry per output block, popped from the end: output_blocks.2 = 2 (indices 0-1), .3 = 1, .5 = 1
    "transformer_depth_output": [0, 0, 0, 1, 0, 1, 2, 0, 0],
    "transformer_depth_middle": -2, "context_dim": 2048, "num_heads": -1, "num_head_channels": 64,
    "use_linear_in_transformer": True, "use_spatial_transformer": True, "legacy": False,
    "num_classes": "sequential", "adm_in_channels": 2816, "use_checkpoint": False,
}
# A "small" SDXL ControlNet: the UNet's encoder layout (its outputs must fit the UNet's skips) with
# one transformer only, as diffusers' reduced-depth SDXL ControlNets do.
TINY_SDXL_CONTROLNET = {**TINY_SDXL_UNET, "transformer_depth": [0, 0, 1, 0, 0, 0]}
del TINY_SDXL_CONTROLNET["transformer_depth_output"]


def tiny_sdxl_unet_state_dict(seed: int = 10) -> dict[str, torch.Tensor]:
    import comfy.ops
    from comfy.ldm.modules.diffusionmodules.openaimodel import UNetModel

    unet = UNetModel(**TINY_SDXL_UNET, out_channels=4, dtype=torch.float16, operations=comfy.ops.disable_weight_init)
    _init_(unet, seed)
    _zero_out_layers(unet)
    return unet.state_dict()


def tiny_sdxl_controlnet_state_dict(seed: int = 11) -> dict[str, torch.Tensor]:
    import comfy.ops
    from comfy.cldm.cldm import ControlNet

    net = ControlNet(hint_channels=3, dtype=torch.float16, operations=comfy.ops.disable_weight_init, **TINY_SDXL_CONTROLNET)
    _init_(net, seed)
    _zero_out_layers(net)
    return {f"control_model.{k}": v for k, v in net.state_dict().items()}


def sdxl_clip_checkpoint_state_dict(seed: int = 12) -> dict[str, torch.Tensor]:
    """CLIP-L + CLIP-G (float8_e4m3fn matrices) under SDXL checkpoint keys (conditioner.embedders.0 / .1), written
    by ComfyUI's own SDXL save mapping."""
    import comfy.sdxl_clip
    import comfy.supported_models

    clip = comfy.sdxl_clip.SDXLClipModel(device="cpu", dtype=torch.float16)
    _init_(clip, seed)
    with torch.no_grad():
        for name, p in clip.named_parameters():
            if "embedding" in name:
                p.mul_(0.02 * p.shape[-1] ** 0.5)
    fp8 = torch.float8_e4m3fn  # at once: the fp16 model's 1.6 GB go before the key mapping copies anything
    sd = {k: v.to(fp8) if v.ndim > 1 else v for k, v in clip.state_dict().items() if not k.endswith("logit_scale")}
    del clip
    config = comfy.supported_models.Segmind_Vega(TINY_SDXL_UNET)
    return config.process_clip_state_dict_for_saving(sd)


def write_sdxl_checkpoint(path: Path) -> Path:
    sd = sdxl_clip_checkpoint_state_dict()  # first: its fp16 build is the peak, before anything else is held
    sd.update({f"model.diffusion_model.{k}": v for k, v in tiny_sdxl_unet_state_dict().items()})
    sd.update({f"first_stage_model.{k}": v for k, v in tiny_taesd_state_dict().items()})
    sd.pop("conditioner.embedders.0.transformer.text_model.embeddings.position_ids", None)
    return _save(sd, path)


def write_sdxl_lora(path: Path, rank: int = 4, seed: int = 14) -> Path:
    """A kohya-format LoRA on every attn1/attn2 projection of the tiny UNet (lora_unet_* keys)."""
    g = torch.Generator().manual_seed(seed)
    sd: dict[str, torch.Tensor] = {}
    for name, tensor in tiny_sdxl_unet_state_dict().items():
        if ".attn" in name and name.endswith(("to_q.weight", "to_k.weight", "to_v.weight")):
            key = "lora_unet_" + name[: -len(".weight")].replace(".", "_")
            out_f, in_f = tensor.shape
            sd[key + ".lora_down.weight"] = torch.randn(rank, in_f, generator=g) / in_f**0.5
            sd[key + ".lora_up.weight"] = torch.randn(out_f, rank, generator=g) * 0.1 / rank**0.5
            sd[key + ".alpha"] = torch.tensor(float(rank))
    return _save(sd, path)


def install_tiny_sdxl_models(models_dir: Path) -> dict[str, Path]:
    """Write the generated SDXL models where ComfyUI's stock loaders look, unless already there."""
    models_dir = Path(models_dir)
    out = {
        "checkpoint": models_dir / "checkpoints" / SDXL_CHECKPOINT_NAME,
        "controlnet": models_dir / "controlnet" / SDXL_CONTROLNET_NAME,
        "lora": models_dir / "loras" / SDXL_LORA_NAME,
    }
    writers = {"checkpoint": write_sdxl_checkpoint,
        "controlnet": lambda p: _save(tiny_sdxl_controlnet_state_dict(), p), "lora": write_sdxl_lora}
    for kind, path in out.items():
        if not path.exists():
            writers[kind](path)
    return out


def main(argv: list[str] | None = None) -> None:
    """`python scripts/tiny_sdxl_models.py COMFY_ROOT MODELS_DIR`: a separate process, so the
    generation's memory is returned to the system before the tests load the models."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("comfy_root", type=Path)
    parser.add_argument("models_dir", type=Path)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(args.comfy_root))
    import comfy.options

    comfy.options.enable_args_parsing(False)
    from comfy.cli_args import args as comfy_args

    comfy_args.cpu = True  # before comfy.model_management is imported
    torch.set_num_threads(1)
    for kind, path in install_tiny_sdxl_models(args.models_dir).items():
        print(kind, path)


if __name__ == "__main__":
    main()
