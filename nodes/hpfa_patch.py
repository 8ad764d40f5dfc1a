"""HPFA on a clone of the sampler's MODEL: one attn1 replace per block of the bank (registered by patch_chain)."""

from __future__ import annotations

import torch

from ..truepose_core.attention import BlockKey, HPFAConfig, SourceBank, TruePoseAttention
from ..truepose_core.parsing import ParsingMap
from .attention_patch import AttentionPatch
from .errors import input_error
from .patch_chain import TruePosePatches, register_truepose
from .unet_blocks import attn1_modules

NODE = "TruePose_Apply"


def _check_architecture(bank: SourceBank, modules: dict[BlockKey, torch.nn.Module]) -> None:
    for block, channels in bank.channels.items():
        module = modules.get(block)
        if module is None or module.to_k.in_features != channels:
            raise input_error(
                NODE, "source",
                f"the source was encoded by a different UNet architecture (block {block} does not match).",
                "encode the source with the same model family as the sampler's MODEL (e.g. SD1.5 with SD1.5).",
            )


def hpfa_patches(
    model_patcher, bank: SourceBank, config: HPFAConfig, target_layout: ParsingMap | None = None, observer=None
) -> TruePosePatches:
    """HPFA's attn1 replace at every block of the bank (none when every strength is 0)."""
    modules = attn1_modules(model_patcher, NODE)
    _check_architecture(bank, modules)
    if not config.enabled_regions:
        return TruePosePatches()  # every strength 0: the clone samples exactly like the original

    def project(block: BlockKey, tokens: torch.Tensor):
        module = modules[block]
        return module.to_k(tokens), module.to_v(tokens)

    patch = AttentionPatch(TruePoseAttention(bank, config, project, target_layout, observer))
    return TruePosePatches(attn1={block: patch for block in bank.blocks})


def apply_truepose(
    model_patcher, bank: SourceBank, config: HPFAConfig, target_layout: ParsingMap | None = None, observer=None
):
    """A patched clone of `model_patcher`; the original is never touched."""
    patches = hpfa_patches(model_patcher, bank, config, target_layout, observer)
    patched = model_patcher.clone()
    register_truepose(patched, patches)
    return patched
