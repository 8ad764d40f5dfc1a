"""Find the attn1 (self) or attn2 (cross) attention of every transformer block of a ComfyUI UNet.

Keys are derived from the model itself ((block name, block id, transformer index), as ComfyUI's
attn1 patch API names them), so SD1.5, SDXL and reduced test UNets all work without lists.
"""

from __future__ import annotations

import torch

from ..truepose_core.attention import BlockKey
from .errors import input_error


def attn1_modules(model_patcher, node_name: str, input_name: str = "model") -> dict[BlockKey, torch.nn.Module]:
    return attention_modules(model_patcher, node_name, input_name, "attn1")


def attn2_modules(model_patcher, node_name: str, input_name: str = "model") -> dict[BlockKey, torch.nn.Module]:
    return attention_modules(model_patcher, node_name, input_name, "attn2")


def attention_modules(model_patcher, node_name: str, input_name: str, which: str) -> dict[BlockKey, torch.nn.Module]:
    diffusion_model = getattr(getattr(model_patcher, "model", None), "diffusion_model", None)
    sections = {
        "input": getattr(diffusion_model, "input_blocks", None),
        "middle": [getattr(diffusion_model, "middle_block", None)],
        "output": getattr(diffusion_model, "output_blocks", None),
    }
    if diffusion_model is None or sections["input"] is None or sections["output"] is None:
        kind = type(diffusion_model).__name__ if diffusion_model is not None else type(model_patcher).__name__
        raise input_error(
            node_name, input_name, f"this model ({kind}) is not a UNet with self-attention blocks.",
            "use an SD1.5 or SDXL family checkpoint (DiT models such as SD3 or Flux are not supported).",
        )
    found: dict[BlockKey, torch.nn.Module] = {}
    for section, blocks in sections.items():
        for block_id, block in enumerate(blocks):
            if block is None:
                continue
            for layer in block:
                for index, transformer in enumerate(getattr(layer, "transformer_blocks", ())):
                    attention = getattr(transformer, which, None)
                    if attention is not None and not (which == "attn1" and getattr(transformer, "disable_self_attn", False)):
                        found[(section, block_id, index)] = attention
    if not found:
        raise input_error(
            node_name, input_name, f"this UNet has no {which} attention blocks to patch.",
            "use an SD1.5 or SDXL family checkpoint.",
        )
    return found


def token_grid(extra_options: dict, tokens: int) -> tuple[int, int] | None:
    """The (h, w) token grid of the block being run, from the host's own shapes; None when the
    tokens no longer form that grid (merged by ToMe, tiled by HyperTile, ...): run unrouted then."""
    shape = extra_options.get("activations_shape")
    if shape is not None:
        return (int(shape[-2]), int(shape[-1])) if shape[-2] * shape[-1] == tokens else None
    original = extra_options.get("original_shape")  # older hosts: no activations_shape
    if original is None:
        return None
    h, w = original[-2:]
    while h * w > tokens:
        h, w = (h + 1) // 2, (w + 1) // 2  # stride-2 convs with padding 1 round up
    return (int(h), int(w)) if h * w == tokens else None
