"""torch.distributed set-up for torchrun: NCCL on GPUs, gloo on CPU. One process = no-op."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class Runtime:
    rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def init_runtime() -> Runtime:
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Runtime(dist.get_rank() if world_size > 1 else 0, world_size, device)


def mean_across_ranks(value: torch.Tensor, runtime: Runtime) -> float:
    value = value.detach().float().clone()
    if runtime.distributed:
        dist.all_reduce(value)
        value /= runtime.world_size
    return float(value)


def parameter_digests(module: nn.Module, runtime: Runtime) -> list[str]:
    """One hash of all parameters per rank (DDP keeps them equal: a cheap check that it did)."""
    h = hashlib.sha256()
    for name, p in sorted(module.state_dict().items()):
        h.update(name.encode())
        h.update(p.detach().cpu().reshape(-1).contiguous().view(torch.uint8).numpy().tobytes())
    if not runtime.distributed:
        return [h.hexdigest()]
    digests: list[str] = [""] * runtime.world_size
    dist.all_gather_object(digests, h.hexdigest())
    return digests


def shutdown(runtime: Runtime) -> None:
    if runtime.distributed and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
