"""SDXL's token grids in the core: the SourceNet bank and routed HPFA at 1024x1024 (latent 128x128:
attention grids 64x64 and 32x32) and at the 832x1216 portrait bucket (latent 152x104: 76x52 and
38x26), on SDXL's layout at toy widths, so every grid is the real one; and the bench's
meta-device bank size equals a measured bank."""

import pytest
import torch

from truepose_core.attention import BankRecorder, HPFAConfig, TruePoseAttention
from truepose_core.attention.regions import grid_region_map
from truepose_core.bench.workload import bank_bytes, random_unet, synthetic_parsing
from truepose_core.models import SDXL, SDXL_TINY, AttentionHooks, sdxl_adm
from truepose_core.synthetic import default_pose, draw_figure

SDXL_GRIDS = {  # image (height, width) -> the attention grids of SDXL's two attention levels
    (1024, 1024): {(64, 64), (32, 32)},
    (1216, 832): {(76, 52), (38, 26)},
}


def source_bank(unet, height: int, width: int):
    parsing = synthetic_parsing(height, width)
    recorder = BankRecorder()
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        unet(torch.randn(1, 4, height // 8, width // 8, generator=g), torch.zeros(1), torch.zeros(1, 1, SDXL_TINY.context_dim),
             AttentionHooks(record=recorder.record), y=sdxl_adm(height, width, 1, SDXL_TINY.adm_in_channels))
    return recorder, recorder.build(parsing), parsing


@pytest.mark.parametrize("size", list(SDXL_GRIDS))
def test_the_bank_covers_every_sdxl_block_on_its_real_grid(one_thread, size):
    height, width = size
    unet = random_unet(SDXL_TINY, torch.device("cpu"), torch.float32)
    recorder, bank, parsing = source_bank(unet, height, width)
    assert set(bank.blocks) == set(unet.attn1_modules())  # every transformer index, derived from the model
    assert set(recorder.grids.values()) == SDXL_GRIDS[size]
    for block, grid in recorder.grids.items():
        counts = torch.bincount(grid_region_map(parsing, grid)[0].flatten())
        stored = sum(bank.region_tokens(r, block, 0).shape[0] for r in bank.regions if bank.region_tokens(r, block, 0) is not None)
        assert stored == grid[0] * grid[1] == int(counts.sum())
    face = bank.region_tokens("face", ("input", 3, 1), 0)
    assert face is not None and 0 < face.shape[0] < 0.05 * 64 * 64


def test_routed_hpfa_runs_at_the_portrait_bucket_and_changes_the_cond_rows_only(one_thread):
    height, width = 1216, 832
    unet = random_unet(SDXL_TINY, torch.device("cpu"), torch.float32)
    _, bank, _ = source_bank(unet, height, width)
    _, target_labels = draw_figure(default_pose(width, height, arms_up=True), width, height)
    from truepose_core.parsing import ParsingMap

    layout = ParsingMap(torch.from_numpy(target_labels)[None])
    config = HPFAConfig(strengths={"face": 1.0, "upper": 1.0, "lower": 1.0, "hair": 1.0}, fusion="gated",
        gates={"face": 1.0, "upper": 1.0, "lower": 1.0, "hair": 1.0})
    runtime = TruePoseAttention(bank, config, unet.attn1_projector(), target_layout=layout)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 4, height // 8, width // 8, generator=g)
    t = torch.full((2,), 500.0)
    context = torch.randn(2, 77, SDXL_TINY.context_dim, generator=g)
    y = sdxl_adm(height, width, 2, SDXL_TINY.adm_in_channels)
    with torch.no_grad():
        out = unet(x, t, context, AttentionHooks(replace=runtime, cond_or_uncond=(0, 1)), y=y)
        plain = unet(x, t, context, y=y)
    assert out.shape == x.shape and torch.isfinite(out).all()
    assert (out[0] - plain[0]).abs().max() > 1e-3
    torch.testing.assert_close(out[1], plain[1])  # the uncond row does not read the source by default


def test_the_meta_device_bank_size_equals_a_measured_bank(one_thread):
    unet = random_unet(SDXL_TINY, torch.device("cpu"), torch.float32)
    _, bank, _ = source_bank(unet, 256, 192)
    assert bank_bytes(SDXL_TINY, 256, 192, 4) == bank.nbytes
    # full SDXL at 1024x1024, fp16: 10 blocks of 4096 x 640 and 60 blocks of 1024 x 1280 values
    assert bank_bytes(SDXL, 1024, 1024, 2) == (10 * 4096 * 640 + 60 * 1024 * 1280) * 2
