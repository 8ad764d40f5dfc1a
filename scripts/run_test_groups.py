"""`make test`: the test groups as separate pytest processes, one after the other, each reporting
its wall time and the peak RSS of its largest process (pytest itself, or a ComfyUI server or
model-generation subprocess it waited for).

    python scripts/run_test_groups.py core host web [-- extra pytest arguments]

Separate processes give their memory back before the next group starts, so the suite's peak is
the largest group's, not their sum. Every group runs; the exit status is 1 if any failed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RSS_BUDGET_GB = 4.0  # the suite runs on a 2-core, 24 GiB machine beside other work; reported, not enforced:
# the figure moves with the allocator and the torch build


def run_group(group: str, pytest_args: list[str]) -> tuple[int, float, float]:
    """-> (exit status, seconds, peak RSS in GB of the largest process the group ran).

    os.wait4 gives this one child's resource usage, which covers the descendants it waited for
    (getrusage(RUSAGE_CHILDREN) would be a running maximum over every group so far)."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "pytest", f"tests/{group}", *pytest_args], cwd=REPO_ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, time.perf_counter() - started, usage.ru_maxrss * 1024 / 1e9  # ru_maxrss: KiB on Linux


def main(argv: list[str]) -> int:
    groups, pytest_args = (argv[: argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    rows, failed = [], False
    for group in groups:
        print(f"== tests/{group}", flush=True)
        status, seconds, peak = run_group(group, pytest_args)
        failed |= status != 0
        rows.append((group, "passed" if status == 0 else f"FAILED ({status})", seconds, peak))
    print("\n== test groups: wall time and peak RSS of the largest process")
    for group, result, seconds, peak in rows:
        over = f"  (over the suite's {RSS_BUDGET_GB:g} GB budget)" if peak > RSS_BUDGET_GB else ""
        print(f"  tests/{group:<5} {result:<12} {seconds / 60:5.1f} min  peak RSS {peak:.2f} GB{over}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
