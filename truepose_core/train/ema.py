"""Exponential moving average of a module's weights, for sampling and export.

The average of the float parameters is kept in float32 (a 0.9999 decay moves a weight by 1e-4 of
the gap per step: below bf16's resolution), on the parameters' devices. Buffers are not averaged
but copied at every update, so the EMA weights are a complete, consistent model. The warm-up
`min(decay, (1 + n) / (10 + n))` (n = updates so far) lets the average follow the fast early
changes instead of staying at the initial weights for ~1/(1 - decay) steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn
from torch.nn.parallel import DataParallel, DistributedDataParallel


def unwrap(module: nn.Module) -> nn.Module:
    """The model inside a (Distributed)DataParallel wrapper, so names match with and without it."""
    return module.module if isinstance(module, (DistributedDataParallel, DataParallel)) else module


class EMA:
    def __init__(self, module: nn.Module, decay: float = 0.9999, warmup: bool = True) -> None:
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.warmup = warmup
        self.num_updates = 0
        module = unwrap(module)
        with torch.no_grad():
            self.shadow = {n: p.detach().float().clone() for n, p in module.named_parameters() if p.is_floating_point()}
            self.buffers = {n: b.detach().clone() for n, b in module.named_buffers()}

    def current_decay(self) -> float:
        """The decay the next update uses."""
        if not self.warmup:
            return self.decay
        return min(self.decay, (1.0 + self.num_updates) / (10.0 + self.num_updates))

    @torch.no_grad()
    def update(self, module: nn.Module) -> None:
        """shadow <- decay * shadow + (1 - decay) * weights; buffers copied. Call after optimizer.step()."""
        module = unwrap(module)
        params = self._named_tensors(module)
        averages = list(self.shadow.values())
        weights = [params[n].detach().to(a.device, torch.float32) for n, a in self.shadow.items()]
        torch._foreach_lerp_(averages, weights, 1.0 - self.current_decay())
        for name, buffer in module.named_buffers():
            self.buffers[name].copy_(buffer)
        self.num_updates += 1

    @torch.no_grad()
    def copy_to(self, module: nn.Module) -> None:
        """Overwrite the module's weights with the average (for good: see `applied` for a temporary swap)."""
        module = unwrap(module)
        params = self._named_tensors(module)
        for name, average in self.shadow.items():
            params[name].copy_(average)
        for name, buffer in module.named_buffers():
            buffer.copy_(self.buffers[name])

    @contextmanager
    def applied(self, module: nn.Module) -> Iterator[nn.Module]:
        """`with ema.applied(model): ...` runs on the averaged weights; the live ones (kept as exact
        copies in the parameters' own dtype) come back afterwards, also on an exception."""
        module = unwrap(module)
        with torch.no_grad():
            saved = [(t, t.detach().clone()) for t in (*module.parameters(), *module.buffers())]
        self.copy_to(module)
        try:
            yield module
        finally:
            with torch.no_grad():
                for tensor, value in saved:
                    tensor.copy_(value)

    def state_dict(self) -> dict:
        return {"decay": self.decay, "num_updates": self.num_updates, "shadow": dict(self.shadow), "buffers": dict(self.buffers)}

    @torch.no_grad()
    def load_state_dict(self, state: dict) -> None:
        """Restores the averages and the update count (the warm-up goes on where it was); the decay
        stays the one this EMA was built with, so a resumed run may change it."""
        for key, mine in (("shadow", self.shadow), ("buffers", self.buffers)):
            theirs = state[key]
            if set(theirs) != set(mine):
                missing, unexpected = sorted(set(mine) - set(theirs)), sorted(set(theirs) - set(mine))
                raise KeyError(f"EMA {key} do not match the model: missing {missing[:5]}, unexpected {unexpected[:5]}")
            for name, value in theirs.items():
                mine[name].copy_(value)
        self.num_updates = int(state["num_updates"])

    def _named_tensors(self, module: nn.Module) -> dict[str, torch.Tensor]:
        params = dict(module.named_parameters())
        missing = set(self.shadow) - set(params)
        if missing:
            raise KeyError(f"the module lacks EMA parameters {sorted(missing)[:5]}: not the module this EMA was built from")
        return params
