"""One implementation, two hosts: HPFA (gated, learned gates), CAA and the pose guider give the
same output through ComfyUI's patch API (the pack's node patches on ComfyUI's own UNetModel) as
through the training-time core UNet (AttentionHooks on SDUNet), on the same weights and inputs."""


import pytest
import torch

from repo_paths import pack
from test_sd_unet_parity import comfy_and_core_unets
from tiny_models import tiny_unet_state_dict
from trained_setup import trained_mode_on_both
from truepose_core.attention import BankRecorder
from truepose_core.models.pose_guider import PoseGuider
from truepose_core.models.unet_attention import AttentionHooks
from truepose_core.parsing.parsing_map import ParsingMap
from truepose_core.synthetic.dataset import SyntheticPairs


def test_comfyui_patches_and_training_hooks_compute_the_same_model(host):
    torch.manual_seed(0)
    theirs, ours = comfy_and_core_unets(tiny_unet_state_dict(seed=0))
    item = SyntheticPairs(1, 80, 96, seed=5)[0]  # width 80, height 96: the 12x10 latent
    g = torch.Generator().manual_seed(1)

    recorder = BankRecorder()
    with torch.no_grad():
        ours(torch.randn(1, 4, 12, 10, generator=g), torch.zeros(1), torch.zeros(1, 1, 768), AttentionHooks(record=recorder.record))
    bank = recorder.build(ParsingMap(item["source_parsing"][None]))
    options, hooks, guider, skeleton = trained_mode_on_both(theirs, ours, bank, item, g, guider_width=320, context_dim=768)

    x = torch.randn(2, 4, 12, 10, generator=g)
    t = torch.tensor([500.0, 500.0])
    context = torch.randn(2, 77, 768, generator=g)
    with torch.inference_mode():
        expected = theirs(x, timesteps=t, context=context, transformer_options=options)
        residual = torch.cat([guider(skeleton), guider(torch.zeros_like(skeleton))])  # cond row, then uncond row
        out = ours(x, t, context, hooks, input_residual=residual)
        plain = ours(x, t, context)
    torch.testing.assert_close(out, expected, atol=1e-4, rtol=1e-4)
    assert (out[0] - plain[0]).abs().max() > 1e-3  # the patches did change the cond row


@pytest.mark.parametrize("cond_or_uncond", [(0, 1), (1, 0)])
def test_the_pose_guider_gives_uncond_rows_a_blank_skeleton(host, cond_or_uncond):
    """CFG's uncond rows get guider(blank skeleton), as dropped rows in training (train/loop.py,
    train/generate.py); cond rows get guider(skeleton). Checked on the patch's own residual: the
    uncond row's effect on the UNet output is far below the parity test's tolerance."""
    g = torch.Generator().manual_seed(3)
    guider = PoseGuider(320, downsample=8)
    torch.nn.init.normal_(guider.conv_out.weight, std=0.5, generator=g)
    skeleton = torch.rand(1, 3, 96, 80, generator=g)  # already at 8x the 12x10 latent
    patch = pack("trained_patches").PoseGuiderPatch(guider, skeleton)
    per_chunk = 2
    h = torch.zeros(per_chunk * 2, 320, 12, 10)
    with torch.inference_mode():
        out = patch(h, {"block": ("input", 0), "cond_or_uncond": list(cond_or_uncond)})
        expected = {0: guider(skeleton), 1: guider(torch.zeros_like(skeleton))}
    assert (expected[0] - expected[1]).abs().amax() > 1e-3  # 100x the tolerance below: the rows are told apart
    for chunk, kind in enumerate(cond_or_uncond):
        for row in range(chunk * per_chunk, (chunk + 1) * per_chunk):
            torch.testing.assert_close(out[row : row + 1], expected[kind], rtol=0, atol=1e-5,
                                       msg=lambda m: f"row {row} ({'uncond' if kind else 'cond'}): {m}")
