"""The trained-mode setup both parity tests share: one HPFA (gated, learned gates) + CAA + pose
guider, installed on ComfyUI's UNetModel through the pack's node patches and on the core UNet
through training hooks, from the same bank, region tokens and skeleton."""

from types import SimpleNamespace

import torch

from repo_paths import pack
from truepose_core.attention import HPFAConfig, TruePoseAttention
from truepose_core.attention.caa import CAAAttention
from truepose_core.caa import CAA_REGIONS, CAAProjection
from truepose_core.models.pose_guider import PoseGuider
from truepose_core.models.unet_attention import AttentionHooks


def trained_mode_on_both(theirs, ours, bank, item, g: torch.Generator, guider_width: int, context_dim: int):
    """-> (ComfyUI transformer_options, core AttentionHooks, pose guider, skeleton); cond rows first."""
    config = HPFAConfig(strengths={r: 1.0 for r in CAA_REGIONS}, fusion="gated", gates={"face": 0.7, "upper": 1.3, "lower": 0.4})
    guider = PoseGuider(guider_width, downsample=8)
    torch.nn.init.normal_(guider.conv_out.weight, std=0.02)
    projection = CAAProjection(32, context_dim)
    embeds = torch.randn(1, len(CAA_REGIONS), 32, generator=g)
    present = torch.tensor([[True, True, True, False, True, True]])
    with torch.no_grad():
        tokens = projection(embeds)
    caa_scales = {r: 0.8 for r in CAA_REGIONS}
    skeleton = item["target_pose"][None]

    patch, trained, blocks = pack("attention_patch").AttentionPatch, pack("trained_patches"), pack("unet_blocks")
    patcher_like = SimpleNamespace(model=SimpleNamespace(diffusion_model=theirs))  # what the block discovery reads
    comfy_attn1, comfy_attn2 = blocks.attn1_modules(patcher_like, "test"), blocks.attn2_modules(patcher_like, "test")
    assert set(comfy_attn1) == set(bank.blocks)
    comfy_hpfa = TruePoseAttention(bank, config, lambda b, t: (comfy_attn1[b].to_k(t), comfy_attn1[b].to_v(t)))
    comfy_caa = CAAAttention(tokens, present, CAA_REGIONS, caa_scales, lambda b, t: (comfy_attn2[b].to_k(t), comfy_attn2[b].to_v(t)))
    attn1_patch, attn2_patch = patch(comfy_hpfa), patch(comfy_caa)
    options = {
        "patches_replace": {"attn1": {k: attn1_patch for k in comfy_attn1}, "attn2": {k: attn2_patch for k in comfy_attn2}},
        "patches": {"input_block_patch": [trained.PoseGuiderPatch(guider, skeleton)]},
        "cond_or_uncond": [0, 1],
    }
    hooks = AttentionHooks(
        replace=TruePoseAttention(bank, config, ours.attn1_projector()),
        cross=CAAAttention(tokens, present, CAA_REGIONS, caa_scales, ours.attn2_projector()), cond_or_uncond=(0, 1),
    )
    return options, hooks, guider, skeleton
