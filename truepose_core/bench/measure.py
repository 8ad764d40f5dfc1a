"""Interleaved, repeated timing of the step variants, and memory readings."""

from __future__ import annotations

import resource
import statistics
import sys
import time
from collections.abc import Callable

import torch


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed_ms(fn: Callable[[], object], device: torch.device) -> float:
    synchronize(device)
    start = time.perf_counter()
    fn()
    synchronize(device)
    return (time.perf_counter() - start) * 1e3


def interleaved_medians(
    steps: dict[str, Callable[[], object]], repeats: int, device: torch.device, warm_up: tuple[str, ...] = ()
) -> tuple[dict[str, float], dict[str, list[float]]]:
    """Round-robin over the variants, so drift (thermals, other load) hits all of them alike.

    `warm_up`: variants run once untimed first (per-run caches, allocator, kernel selection).
    """
    for name in warm_up:
        steps[name]()
    synchronize(device)
    samples: dict[str, list[float]] = {name: [] for name in steps}
    names = list(steps)
    for round_index in range(repeats):
        # Rotate the order: no variant always runs right after the same one (e.g. after the
        # naive step's large frees, the next step pays the page faults of re-growing the heap).
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(timed_ms(steps[name], device))
    return {name: statistics.median(values) for name, values in samples.items()}, samples


def peak_memory_mb(device: torch.device) -> float:
    """Peak RSS of this process on CPU; peak allocated tensor memory on CUDA."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS, KiB on Linux
