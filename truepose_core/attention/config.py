"""What the user chose for HPFA: per-region strengths, fusion mode, schedule, CFG behaviour."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import torch

from ..errors import TruePoseInputError
from ..parsing.labels import REGION_NAMES

FUSION_MODES = ("joint", "gated")


@dataclass(frozen=True)
class HPFAConfig:
    """`strengths`: region -> s_r >= 0 (0 = region off). `gates`: learned g_r (trained mode), else 1.

    joint: one softmax over [target keys ; enabled source region keys], s_r weighting each
      region's share of the softmax (a log(s_r) bias on its keys; 1 = plain reference attention).
    gated: O = O_self + sum_r s_r * g_r * softmax(Q K_r^T) V_r.
    The schedule is in sigmas: active while sigma_end <= sigma <= sigma_start.
    """

    strengths: Mapping[str, float]
    fusion: str = "joint"
    sigma_start: float = math.inf
    sigma_end: float = 0.0
    uncond_reads_source: bool = False
    gates: Mapping[str, float | torch.Tensor] = field(default_factory=dict)  # tensors: trainable (training)

    def __post_init__(self) -> None:
        if self.fusion not in FUSION_MODES:
            raise TruePoseInputError("fusion", f"unknown fusion mode '{self.fusion}'.", f"use one of {FUSION_MODES}.")
        for name, s in self.strengths.items():
            if name not in REGION_NAMES:
                raise TruePoseInputError("strengths", f"unknown region '{name}'.", f"use {', '.join(REGION_NAMES)}.")
            if not (s >= 0 and math.isfinite(s)):
                raise TruePoseInputError(name, f"strength {s} is not a finite number >= 0.", "set it to a finite number >= 0.")

    @property
    def enabled_regions(self) -> tuple[str, ...]:
        return tuple(r for r in REGION_NAMES if self.strengths.get(r, 0.0) > 0.0)

    def weight(self, region: str) -> float | torch.Tensor:
        gate = self.gates.get(region, 1.0)
        strength = float(self.strengths.get(region, 0.0))
        return strength * gate if isinstance(gate, torch.Tensor) else strength * float(gate)

    def active_at(self, sigma: float | None) -> bool:
        return sigma is None or self.sigma_end <= sigma <= self.sigma_start
