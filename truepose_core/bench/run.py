"""One benchmark size: build the workload, encode the source once, time the four step variants."""

from __future__ import annotations

import torch

from ..attention import HPFAConfig, TruePoseAttention
from ..models import AttentionHooks, UNetConfig
from .measure import interleaved_medians, peak_memory_mb, timed_ms
from .naive import NaiveReferenceAttention, naive_step
from .report import SizeResult
from .workload import CFG_CHUNKS, build_workload

REGIONS_ON = {"face": 1.0, "hair": 1.0, "upper": 1.0, "lower": 1.0}


def bench_size(
    config: UNetConfig, height: int, width: int, device: torch.device, dtype: torch.dtype, repeats: int
) -> SizeResult:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    work = build_workload(config, height, width, device, dtype)
    unet, x = work.unet, work.latent
    bank = work.encode_source()
    project = unet.attn1_projector()

    def truepose_step(fusion: str):
        runtime = TruePoseAttention(bank, HPFAConfig(strengths=REGIONS_ON, fusion=fusion), project)
        hooks = AttentionHooks(replace=runtime, blocks=bank.blocks, cond_or_uncond=CFG_CHUNKS)
        return lambda: work.step(x, hooks)

    naive = NaiveReferenceAttention(project)
    steps = {
        "plain": lambda: work.step(x),
        "joint": truepose_step("joint"),
        "gated": truepose_step("gated"),
        "naive": lambda: naive_step(work, naive),
    }
    # The naive step is two plain passes, so the plain warm-up covers it too.
    medians, samples = interleaved_medians(steps, repeats, device, warm_up=("plain", "joint", "gated"))
    source_ms = timed_ms(work.encode_source, device)  # a one-off per sampling run, so timed once
    return SizeResult(
        size=f"{height}x{width}",
        plain_ms=medians["plain"],
        joint_ms=medians["joint"],
        gated_ms=medians["gated"],
        naive_ms=medians["naive"],
        source_ms=source_ms,
        bank_mb=bank.nbytes / 2**20,
        peak_mb=peak_memory_mb(device),
        samples_ms=samples,
    )
