"""CLI: python -m truepose_core.bench [--arch sd15|sdxl] [--device cpu|cuda] [--size 256 | 512x352 ...] [--json]."""

from __future__ import annotations

import argparse
import os
import platform

import torch

from ..models import SD15, SDXL, SDXL_TINY
from .report import json_line, table
from .run import bench_size
from .workload import SOURCE_BLOCKS_NOTE, TINY_BENCH, bank_bytes

ARCHS = {"sd15": (SD15, TINY_BENCH, "SD1.5 UNet"), "sdxl": (SDXL, SDXL_TINY, "SDXL UNet")}
REFERENCE_SIZE = (1024, 1024)  # the bank size is also reported here (SDXL's native size)

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def parse_size(text: str) -> tuple[int, int]:
    """"512" -> (512, 512); "512x352" -> height 512, width 352 (pixels, multiples of 8)."""
    h, _, w = text.lower().partition("x")
    height, width = int(h), int(w or h)
    if height % 8 or width % 8:
        raise argparse.ArgumentTypeError(f"size {text}: height and width must be multiples of 8")
    return height, width


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m truepose_core.bench", description=__doc__)
    p.add_argument("--arch", choices=tuple(ARCHS), default="sd15", help="the UNet architecture (random weights)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--size", type=parse_size, nargs="+", help="default: 256 on cpu; 512 512x352 on cuda")
    p.add_argument("--repeats", type=int, default=3, help="timed rounds (median); one warm-up round precedes them")
    p.add_argument("--dtype", choices=tuple(DTYPES), help="default: float32 on cpu, float16 on cuda")
    p.add_argument("--threads", type=int, help="CPU threads (default: the cores this process may use)")
    p.add_argument("--tiny", action="store_true", help="a toy UNet of the arch's layout at 64x64: same code paths, for tests")
    p.add_argument("--json", action="store_true", help="end with one JSON line")
    return p.parse_args(argv)


def available_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def device_name(device: torch.device, threads: int) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu: {cpu_model()}, {threads} threads"


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device available")
    dtype = DTYPES[args.dtype or ("float16" if device.type == "cuda" else "float32")]
    threads = args.threads or available_cores()
    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)  # random weights can produce denormals, which are slow on CPU
    full, toy, arch_name = ARCHS[args.arch]
    config = toy if args.tiny else full
    sizes = args.size or ([(64, 64)] if args.tiny else [(256, 256)] if device.type == "cpu" else [(512, 512), (512, 352)])
    with torch.inference_mode():
        results = [bench_size(config, h, w, device, dtype, args.repeats) for h, w in sizes]
    name = device_name(device, threads)
    model = f"tiny {args.arch} UNet" if args.tiny else f"{arch_name} (random weights)"
    header = f"TruePose step cost, {model}, batch 2 (CFG), {str(dtype).removeprefix('torch.')}, {name}, median of {args.repeats}"
    print(table(results, header))
    print(
        "ms: medians. TP = the slower of joint / gated, 4 regions on (face, hair, upper, lower); naive = reference "
        "UNet every step, all its tokens. TP/plain best: ratio of the fastest samples (robust to load bursts)."
    )
    reference = bank_bytes(config, *REFERENCE_SIZE, torch.empty((), dtype=dtype).element_size()) / 2**20
    print(f"bank per source at {REFERENCE_SIZE[0]}x{REFERENCE_SIZE[1]}: {reference:.1f} MiB in {str(dtype).removeprefix('torch.')} "
        f"({SOURCE_BLOCKS_NOTE})")
    if args.json:
        print(json_line(results, {"arch": args.arch, "device": name, "dtype": str(dtype).removeprefix("torch."), "repeats": args.repeats,
                                  "threads": threads, "torch": torch.__version__, "tiny": args.tiny,
                                  "bank_mb_per_source_1024x1024": reference}))


if __name__ == "__main__":
    main()
