"""Patch a clone of the sampler's MODEL with HPFA through ComfyUI's attn1 replace API."""

from __future__ import annotations

import torch

from ..truepose_core.attention import BlockKey, HPFAConfig, SourceBank, TruePoseAttention
from ..truepose_core.parsing import ParsingMap
from .attention_patch import AttentionPatch
from .errors import input_error
from .unet_blocks import attn1_modules

NODE = "TruePose_Apply"
WRAPPER_KEY = "truepose"


def _check_architecture(bank: SourceBank, modules: dict[BlockKey, torch.nn.Module]) -> None:
    for block, channels in bank.channels.items():
        module = modules.get(block)
        if module is None or module.to_k.in_features != channels:
            raise input_error(
                NODE, "source",
                f"the source was encoded by a different UNet architecture (block {block} does not match).",
                "encode the source with the same model family as the sampler's MODEL (e.g. SD1.5 with SD1.5).",
            )


def apply_truepose(
    model_patcher, bank: SourceBank, config: HPFAConfig, target_layout: ParsingMap | None = None, observer=None
):
    """A patched clone of `model_patcher`; the original is never touched."""
    modules = attn1_modules(model_patcher, NODE)
    _check_architecture(bank, modules)
    patched = model_patcher.clone()
    if not config.enabled_regions:
        return patched  # every strength 0: the clone samples exactly like the original

    def project(block: BlockKey, tokens: torch.Tensor):
        module = modules[block]
        return module.to_k(tokens), module.to_v(tokens)

    runtime = TruePoseAttention(bank, config, project, target_layout, observer)
    patch = AttentionPatch(runtime)
    for section, block_id, index in bank.blocks:
        patched.set_model_attn1_replace(patch, section, block_id, index)
    release_after_each_run(patched, patch)
    return patched


def release_after_each_run(patched, *patches) -> None:
    """Free the patches' per-run caches when sampling ends, also on error or interrupt."""
    try:
        from comfy.patcher_extension import WrappersMP
    except ImportError:  # pre-0.3.10 host: caches live as long as the patched MODEL
        return

    def release() -> None:
        for patch in patches:
            patch.release()

    def outer_sample(executor, *args, **kwargs):
        release()
        try:
            return executor(*args, **kwargs)
        finally:
            release()

    patched.add_wrapper_with_key(WrappersMP.OUTER_SAMPLE, WRAPPER_KEY, outer_sample)
