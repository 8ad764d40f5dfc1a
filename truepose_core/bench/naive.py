"""The baseline TruePose avoids: ReferenceNet-style attention that reruns the reference UNet at
every step and lets each target row attend to ALL of its reference tokens (background included),
re-projected every step. Same UNet weights (training-free reference-only), same CFG batch.
"""

from __future__ import annotations

import torch

from ..attention import AttentionCall, BlockKey
from ..attention.runtime import Projector, SelfAttention
from ..models import AttentionHooks
from .workload import Workload


class NaiveReferenceAttention:
    def __init__(self, project: Projector) -> None:
        self.project = project
        self.tokens: dict[BlockKey, torch.Tensor] = {}

    def record(self, block: BlockKey, n: torch.Tensor, grid: tuple[int, int]) -> None:
        self.tokens[block] = n

    def __call__(
        self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, call: AttentionCall, self_attention: SelfAttention
    ) -> torch.Tensor:
        k_ref, v_ref = self.project(call.block, self.tokens[call.block])
        return self_attention(q, torch.cat([k, k_ref], dim=1), torch.cat([v, v_ref], dim=1))


def naive_step(work: Workload, attention: NaiveReferenceAttention) -> torch.Tensor:
    """Reference UNet on the source (synced timestep, CFG batch), then the target UNet."""
    batch = work.latent.shape[0]
    reference = work.source_latent.expand(batch, -1, -1, -1)
    work.step(reference, AttentionHooks(record=attention.record))
    out = work.step(work.latent, AttentionHooks(replace=attention))
    attention.tokens.clear()
    return out

