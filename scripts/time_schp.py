"""Time one SCHP parse (the LIP network, 473x473, random weights: the time does not depend on them)
on this machine's CPU: wall time and process CPU time (wall exceeds CPU when other jobs share the
cores). Machine-dependent by nature: the README quotes one run with its machine.

usage: python scripts/time_schp.py [--threads 1] [--repeat 3]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from truepose_core.parsing.schp import AugmentCE2P  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    net = AugmentCE2P(20).eval()
    x = torch.randn(1, 3, 473, 473)
    times, cpu_times = [], []
    with torch.inference_mode():
        net(x)  # warm-up
        for _ in range(args.repeat):
            start, cpu_start = time.perf_counter(), time.process_time()
            net(x)
            times.append(time.perf_counter() - start)
            cpu_times.append(time.process_time() - cpu_start)
    cpu = platform.processor() or platform.machine()
    print(f"SCHP LIP 473x473, {args.threads} thread(s), {cpu}, torch {torch.__version__}: "
          f"median {statistics.median(times):.2f} s wall, {statistics.median(cpu_times):.2f} s CPU, of {args.repeat}")


if __name__ == "__main__":
    main()
