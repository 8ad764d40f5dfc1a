"""The core SDUNet's SDXL configuration against ComfyUI's own SDXL UNetModel and SDXL conditioning:
same keys and shapes (full SDXL, on the meta device), same outputs (SDXL's layout at reduced widths),
the same `y`; and trained mode (HPFA gates, CAA at context 2048, pose guider) computing the same
model through ComfyUI's patches as through the training hooks."""

from dataclasses import replace
from types import SimpleNamespace

import torch

from test_sd_unet_parity import comfy_unet, shapes
from trained_setup import trained_mode_on_both
from truepose_core.attention import BankRecorder
from truepose_core.models import SDXL, SDXL_TINY, SDUNet, UNetConfig, sdxl_adm
from truepose_core.models.unet_attention import AttentionHooks
from truepose_core.parsing.parsing_map import ParsingMap
from truepose_core.synthetic.dataset import SyntheticPairs
from truepose_core.train.model import TruePoseTrainModel

# ComfyUI's SDXL UNet config, as its model detection derives it from an SDXL checkpoint.
SDXL_COMFY = {
    "image_size": 32, "in_channels": 4, "model_channels": 320, "num_res_blocks": [2, 2, 2], "channel_mult": [1, 2, 4],
    "transformer_depth": [0, 0, 2, 2, 10, 10], "transformer_depth_output": [0, 0, 0, 2, 2, 2, 10, 10, 10],
    "transformer_depth_middle": 10, "context_dim": 2048, "num_heads": -1, "num_head_channels": 64,
    "use_linear_in_transformer": True, "use_spatial_transformer": True, "legacy": False,
    "num_classes": "sequential", "adm_in_channels": 2816, "use_checkpoint": False,
}
# SDXL's layout at reduced widths, but SDXL's context width (attn2 and CAA read 2048-wide tokens).
PARITY = replace(SDXL_TINY, context_dim=2048)


def comfy_config(c: UNetConfig) -> dict:
    """The ComfyUI UNetModel arguments of a core config (per-ResBlock depth lists)."""
    return {
        "image_size": 32, "in_channels": c.in_channels, "model_channels": c.model_channels,
        "num_res_blocks": [c.num_res_blocks] * len(c.channel_mult), "channel_mult": list(c.channel_mult),
        "transformer_depth": [d for d in c.transformer_depth for _ in range(c.num_res_blocks)],
        "transformer_depth_output": [d for d in c.transformer_depth for _ in range(c.num_res_blocks + 1)],
        "transformer_depth_middle": c.transformer_depth_middle or -1, "context_dim": c.context_dim,
        "num_heads": c.num_heads, "num_head_channels": c.num_head_channels,
        "use_linear_in_transformer": c.use_linear_in_transformer, "use_spatial_transformer": True, "legacy": False,
        "num_classes": "sequential" if c.adm_in_channels else None, "adm_in_channels": c.adm_in_channels or None,
        "use_checkpoint": False,
    }


def comfy_with_core_weights(config: UNetConfig, seed: int = 0):
    torch.manual_seed(seed)
    ours = SDUNet(config)
    with torch.no_grad():
        for name, p in ours.named_parameters():
            if p.ndim > 1:
                p.normal_(0.0, 1.0 / p[0].numel() ** 0.5)
            elif name.endswith("bias"):
                p.normal_(0.0, 0.02)
    theirs = comfy_unet(comfy_config(config))
    theirs.load_state_dict(ours.state_dict(), strict=True)
    return ours, theirs


def test_full_sdxl_layout_equals_comfyui(host):
    theirs = comfy_unet(SDXL_COMFY, device="meta")
    with torch.device("meta"):
        ours = SDUNet(SDXL)
    assert shapes(ours) == shapes(theirs)
    assert comfy_config(SDXL) == SDXL_COMFY


def test_sdxl_vector_conditioning_equals_comfyui_encode_adm(host):
    import comfy.model_base
    from comfy.ldm.modules.diffusionmodules.openaimodel import Timestep

    pooled = torch.randn(1, 1280, generator=torch.Generator().manual_seed(0))
    fake_sdxl = SimpleNamespace(embedder=Timestep(256), noise_augmentor=None)
    for size in ((1024, 1024), (1216, 832)):
        height, width = size
        expected = comfy.model_base.SDXL.encode_adm(fake_sdxl, pooled_output=pooled, width=width, height=height)
        torch.testing.assert_close(sdxl_adm(height, width, 1, 2816, pooled), expected, atol=1e-6, rtol=0)
    zero = sdxl_adm(1024, 1024, 2, 2816)
    assert zero.shape == (2, 2816) and not zero[:, :1280].any()


def test_reduced_sdxl_unet_loads_comfyui_keys_strictly_and_matches_its_output(host):
    ours, theirs = comfy_with_core_weights(SDXL_TINY)
    assert ours.state_dict().keys() == theirs.state_dict().keys()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 4, 16, 12, generator=g)  # an odd level on the way (16x12 -> 8x6 -> 4x3)
    t = torch.tensor([999.0, 10.0])
    context = torch.randn(2, 77, SDXL_TINY.context_dim, generator=g)
    y = torch.randn(2, SDXL_TINY.adm_in_channels, generator=g)
    with torch.inference_mode():
        expected = theirs(x, timesteps=t, context=context, y=y, transformer_options={})
        out = ours(x, t, context, y=y)
    diff = (out - expected).abs().max().item()
    print(f"SDXL-layout parity: max abs diff {diff:.3e}")
    assert diff < 1e-4 and expected.abs().mean() > 1e-2


def test_trained_mode_at_sdxl_context_width_computes_the_same_model_in_both_hosts(host):
    ours, theirs = comfy_with_core_weights(PARITY, seed=3)
    item = SyntheticPairs(1, 96, 128, seed=5)[0]  # width 96, height 128: the 16x12 latent
    g = torch.Generator().manual_seed(2)
    y_source = sdxl_adm(128, 96, 1, PARITY.adm_in_channels)
    recorder = BankRecorder()
    with torch.no_grad():
        ours(torch.randn(1, 4, 16, 12, generator=g), torch.zeros(1), torch.zeros(1, 1, 2048), AttentionHooks(record=recorder.record),
            y=y_source)
    bank = recorder.build(ParsingMap(item["source_parsing"][None]))
    assert {("input", 5, 2), ("middle", 0, 1), ("output", 1, 2), ("output", 3, 1)} <= set(bank.blocks)  # every transformer index
    options, hooks, guider, skeleton = trained_mode_on_both(
        theirs, ours, bank, item, g, guider_width=PARITY.model_channels, context_dim=2048
    )
    x = torch.randn(2, 4, 16, 12, generator=g)
    t = torch.tensor([500.0, 500.0])
    context = torch.randn(2, 77, 2048, generator=g)
    y = sdxl_adm(128, 96, 2, PARITY.adm_in_channels)
    with torch.inference_mode():
        expected = theirs(x, timesteps=t, context=context, y=y, transformer_options=options)
        residual = torch.cat([guider(skeleton), guider(torch.zeros_like(skeleton))])
        out = ours(x, t, context, hooks, input_residual=residual, y=y)
        plain = ours(x, t, context, y=y)
    diff = (out - expected).abs().max().item()
    print(f"SDXL trained-mode parity: max abs diff {diff:.3e}")
    assert diff < 1e-4
    assert (out[0] - plain[0]).abs().max() > 1e-3


def test_the_trainable_model_builds_at_full_sdxl_widths():
    with torch.device("meta"):
        model = TruePoseTrainModel(SDXL, pose_downsample=8, caa_embed_dim=768)
    assert model.pose_guider.conv_out.out_channels == 320
    assert model.caa.config["context_dim"] == 2048 and model.caa.norm.normalized_shape == (2048,)
    assert model.null_context.shape[-1] == 2048
    keys = model.target_unet.attn1_modules()
    assert len(keys) == 4 + 20 + 10 + 30 + 6  # SDXL: 70 self-attention blocks
