"""The core SDUNet against ComfyUI's own UNetModel: same keys, same shapes, same outputs."""

import pytest
import torch

from tiny_models import TINY_UNET, tiny_unet_state_dict
from truepose_core.models import SD15, TINY, SDUNet

# ComfyUI's SD1.5 UNet config (what its model detection derives from an SD1.5 checkpoint).
SD15_COMFY = {
    **TINY_UNET, "num_res_blocks": [2, 2, 2, 2], "channel_mult": [1, 2, 4, 4],
    "transformer_depth": [1, 1, 1, 1, 1, 1, 0, 0], "transformer_depth_output": [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0],
}


def comfy_unet(config: dict, device: str = "cpu"):
    import comfy.ops
    from comfy.ldm.modules.diffusionmodules.openaimodel import UNetModel

    return UNetModel(**config, out_channels=4, operations=comfy.ops.disable_weight_init, device=device)


def comfy_and_core_unets(state: dict[str, torch.Tensor]):
    """ComfyUI's UNetModel and the core SDUNet on the SAME weight tensors (strict key check, no
    copies: one set of weights in memory instead of three)."""
    theirs = comfy_unet(TINY_UNET, device="meta")
    theirs.load_state_dict(state, strict=True, assign=True)
    with torch.device("meta"):
        ours = SDUNet(TINY)
    ours.load_state_dict(state, strict=True, assign=True)
    return theirs, ours


def shapes(module: torch.nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def test_full_sd15_layout_equals_comfyui(host):
    theirs = comfy_unet(SD15_COMFY, device="meta")
    with torch.device("meta"):
        ours = SDUNet(SD15)
    assert shapes(ours) == shapes(theirs)


@pytest.mark.parametrize("latent_hw", [(12, 10), (11, 7)])
def test_tiny_unet_loads_comfyui_weights_strictly_and_matches_its_output(host, latent_hw):
    theirs, ours = comfy_and_core_unets(tiny_unet_state_dict(seed=0))
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 4, *latent_hw, generator=g)
    t = torch.tensor([999.0, 10.0])
    context = torch.randn(2, 77, 768, generator=g)
    with torch.inference_mode():
        expected = theirs(x, timesteps=t, context=context, transformer_options={})
        out = ours(x, t, context)
    assert out.shape == expected.shape
    torch.testing.assert_close(out, expected, atol=1e-4, rtol=1e-4)
