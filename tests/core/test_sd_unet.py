"""The core SD UNet: LDM/ComfyUI key layout, ComfyUI-style attn1 hooks, HPFA off = bit-identical."""

import pytest
import torch

from truepose_core.attention import BankRecorder, HPFAConfig, TruePoseAttention
from truepose_core.models import TINY, AttentionHooks, SDUNet, UNetConfig
from truepose_core.parsing import ParsingMap

# Small enough for fast CPU tests, same structure as TINY (two levels, attention everywhere).
MICRO = UNetConfig(model_channels=64, channel_mult=(1, 2), num_res_blocks=1, transformer_depth=(1, 1), context_dim=32)
LATENT_HW = (12, 10)  # non-square: grids 12x10 and 6x5
BLOCKS = [("input", 1, 0), ("input", 3, 0), ("middle", 0, 0), ("output", 0, 0), ("output", 1, 0), ("output", 2, 0), ("output", 3, 0)]
GRIDS = [(12, 10), (6, 5), (6, 5), (6, 5), (6, 5), (12, 10), (12, 10)]


@pytest.fixture(scope="module")
def unet():
    torch.manual_seed(0)
    return SDUNet(MICRO).eval()


def inputs(batch=2, seed=1):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, 4, *LATENT_HW, generator=g)
    return x, torch.full((batch,), 500.0), torch.randn(batch, 7, MICRO.context_dim, generator=g)


def test_tiny_config_has_the_ldm_key_layout():
    with torch.device("meta"):
        shapes = {k: tuple(v.shape) for k, v in SDUNet(TINY).state_dict().items()}
    expected = {
        "time_embed.0.weight": (1280, 320),
        "time_embed.2.weight": (1280, 1280),
        "input_blocks.0.0.weight": (320, 4, 3, 3),
        "input_blocks.1.0.in_layers.2.weight": (320, 320, 3, 3),
        "input_blocks.1.0.emb_layers.1.weight": (320, 1280),
        "input_blocks.1.0.out_layers.3.weight": (320, 320, 3, 3),
        "input_blocks.1.1.proj_in.weight": (320, 320, 1, 1),
        "input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight": (320, 320),
        "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": (320, 768),
        "input_blocks.1.1.transformer_blocks.0.attn1.to_out.0.bias": (320,),
        "input_blocks.1.1.transformer_blocks.0.ff.net.0.proj.weight": (2560, 320),
        "input_blocks.1.1.transformer_blocks.0.ff.net.2.weight": (320, 1280),
        "input_blocks.1.1.transformer_blocks.0.norm3.weight": (320,),
        "input_blocks.2.0.op.weight": (320, 320, 3, 3),
        "input_blocks.3.0.skip_connection.weight": (640, 320, 1, 1),
        "middle_block.0.in_layers.0.weight": (640,),
        "middle_block.1.transformer_blocks.0.attn1.to_v.weight": (640, 640),
        "middle_block.2.out_layers.3.bias": (640,),
        "output_blocks.0.0.in_layers.2.weight": (640, 1280, 3, 3),
        "output_blocks.1.0.skip_connection.weight": (640, 960, 1, 1),
        "output_blocks.1.2.conv.weight": (640, 640, 3, 3),
        "output_blocks.2.0.in_layers.2.weight": (320, 960, 3, 3),
        "output_blocks.3.1.proj_out.weight": (320, 320, 1, 1),
        "out.0.weight": (320,),
        "out.2.weight": (4, 320, 3, 3),
    }
    assert {k: shapes.get(k) for k in expected} == expected
    assert len(shapes) == 286
    assert not any(k.startswith(("input_blocks.4", "output_blocks.4", "middle_block.3")) for k in shapes)


def test_recorder_and_replacement_fire_per_block_with_keys_and_grids(unet):
    recorded, replaced = [], []

    def record(block, n, grid):
        recorded.append((block, tuple(n.shape), grid))

    def replace(q, k, v, call, self_attention):
        replaced.append((call.block, call.grid, call.heads, call.cond_or_uncond, call.sigma))
        return self_attention(q, k, v)

    x, t, ctx = inputs()
    hooks = AttentionHooks(record=record, replace=replace, cond_or_uncond=(1, 0), sigma=3.5)
    with torch.inference_mode():
        unet(x, t, ctx, hooks)
    channels = [64, 128, 128, 128, 128, 64, 64]
    assert recorded == [(b, (2, g[0] * g[1], c), g) for b, g, c in zip(BLOCKS, GRIDS, channels)]
    assert replaced == [(b, g, 8, (1, 0), 3.5) for b, g in zip(BLOCKS, GRIDS)]
    assert sorted(unet.attn1_modules()) == sorted(BLOCKS)


def test_replacement_only_on_the_blocks_it_is_installed_on(unet):
    seen = []
    hooks = AttentionHooks(replace=lambda q, k, v, call, sa: seen.append(call.block) or sa(q, k, v), blocks={("middle", 0, 0)})
    with torch.inference_mode():
        unet(*inputs(), hooks)
    assert seen == [("middle", 0, 0)]


def source_bank(unet):
    recorder = BankRecorder()
    x, _, ctx = inputs(batch=1, seed=3)
    with torch.inference_mode():
        unet(x, torch.zeros(1), ctx, AttentionHooks(record=recorder.record))
    labels = torch.zeros(1, 96, 80, dtype=torch.uint8)
    labels[0, 5:30, 25:55] = 13  # face
    labels[0, 30:70, 15:65] = 5  # upper clothes
    labels[0, 70:96, 20:60] = 9  # pants
    return recorder.build(ParsingMap(labels))


@pytest.mark.parametrize(
    "config",
    [
        HPFAConfig(strengths={"face": 0.0, "upper": 0.0}, fusion="joint"),
        HPFAConfig(strengths={"face": 0.0, "upper": 0.0}, fusion="gated"),
        HPFAConfig(strengths={"face": 1.0, "upper": 1.0}, fusion="joint", sigma_start=2.0, sigma_end=1.0),
        HPFAConfig(strengths={"face": 1.0, "upper": 1.0}, fusion="gated", sigma_start=2.0, sigma_end=1.0),
    ],
    ids=["joint-off", "gated-off", "joint-never-active", "gated-never-active"],
)
def test_hpfa_that_reads_nothing_is_bit_identical_to_the_unhooked_unet(unet, config):
    bank = source_bank(unet)
    runtime = TruePoseAttention(bank, config, unet.attn1_projector())
    x, t, ctx = inputs()
    hooks = AttentionHooks(replace=runtime, blocks=bank.blocks, cond_or_uncond=(0, 1), sigma=5.0)
    with torch.inference_mode():
        assert torch.equal(unet(x, t, ctx, hooks), unet(x, t, ctx))


def test_hpfa_on_changes_the_output(unet):
    bank = source_bank(unet)
    runtime = TruePoseAttention(bank, HPFAConfig(strengths={"face": 1.0, "upper": 1.0}), unet.attn1_projector())
    x, t, ctx = inputs()
    with torch.inference_mode():
        out = unet(x, t, ctx, AttentionHooks(replace=runtime, blocks=bank.blocks, cond_or_uncond=(0, 1)))
        base = unet(x, t, ctx)
    assert torch.equal(out[1], base[1])  # the uncond row reads no source by default
    assert (out[0] - base[0]).abs().max() > 1e-4
