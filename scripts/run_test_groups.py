"""`make test`: the test groups as separate pytest processes, one after the other, each reporting
its wall time, the peak RSS of its largest process (pytest itself, or a ComfyUI server or
model-generation subprocess it waited for) and how far the temp dir's disk filled while it ran.

    python scripts/run_test_groups.py core host web [-- extra pytest arguments]

Separate processes give their memory back before the next group starts, so the suite's peak is
the largest group's, not their sum. Every group runs; the exit status is 1 if any failed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RSS_BUDGET_GB = 4.0  # the suite runs on a 2-core, 24 GiB machine beside other work; reported, not enforced:
# the figure moves with the allocator and the torch build


class GroupWatch:
    """While a group runs, every half second: the largest growth of the used space on the temp
    dir's file system (where the tests write their models; it counts every writer on that disk),
    and the peak RSS (VmHWM) of each process in the group's tree, so the summary can name the
    largest one. A process that lives under half a second can be missed; wait4's figure cannot."""

    def __init__(self, root_pid: int, path: str = tempfile.gettempdir()) -> None:
        self.root_pid, self.path = root_pid, path
        self.peak_disk_growth = 0
        self.process_peaks: dict[int, tuple[int, str]] = {}  # pid -> (VmHWM in KiB, command line)
        self._stop = threading.Event()

    def _used(self) -> int:
        return shutil.disk_usage(self.path).used

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        tree, todo = [], [self.root_pid]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo.extend(children.get(pid, []))
        return tree

    def _record_processes(self) -> None:
        for pid in self._tree():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            except OSError:
                continue
            if "VmHWM:" in status:
                hwm = int(status.split("VmHWM:")[1].split()[0])
                if hwm > self.process_peaks.get(pid, (0, ""))[0]:
                    self.process_peaks[pid] = (hwm, command)

    def _sample(self, start: int) -> None:
        while not self._stop.wait(0.5):
            self.peak_disk_growth = max(self.peak_disk_growth, self._used() - start)
            self._record_processes()

    def largest(self) -> tuple[float, str]:
        """(GB, command line) of the largest process seen."""
        hwm, command = max(self.process_peaks.values(), default=(0, ""))
        return hwm * 1024 / 1e9, command

    def __enter__(self) -> "GroupWatch":
        self._thread = threading.Thread(target=self._sample, args=(self._used(),), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def free_gb(path: str = tempfile.gettempdir()) -> float:
    return shutil.disk_usage(path).free / 1e9


def run_group(group: str, pytest_args: list[str]) -> tuple[int, float, float, float, str]:
    """-> (exit status, seconds, peak RSS in GB of the largest process the group ran, peak disk
    growth in GB, which process that peak was).

    os.wait4 gives this one child's resource usage, which covers the descendants it waited for
    (getrusage(RUSAGE_CHILDREN) would be a running maximum over every group so far)."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "pytest", f"tests/{group}", *pytest_args], cwd=REPO_ROOT)
    with GroupWatch(process.pid) as watch:
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    seen_gb, command = watch.largest()
    which = f"{command[:90]} ({seen_gb:.2f} GB)" if command else "not seen"
    return process.returncode, seconds, usage.ru_maxrss * 1024 / 1e9, watch.peak_disk_growth / 1e9, which  # ru_maxrss: KiB


def main(argv: list[str]) -> int:
    groups, pytest_args = (argv[: argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    rows, failed = [], False
    for group in groups:
        print(f"== tests/{group} ({free_gb():.1f} GB free in {tempfile.gettempdir()})", flush=True)
        status, seconds, peak, disk, which = run_group(group, pytest_args)
        failed |= status != 0
        rows.append((group, "passed" if status == 0 else f"FAILED ({status})", seconds, peak, disk, which))
    print("\n== test groups: wall time, peak RSS of the largest process, peak growth of the temp disk's use")
    for group, result, seconds, peak, disk, which in rows:
        over = f"  (over the suite's {RSS_BUDGET_GB:g} GB budget)" if peak > RSS_BUDGET_GB else ""
        print(f"  tests/{group:<5} {result:<12} {seconds / 60:5.1f} min  peak RSS {peak:.2f} GB  disk +{disk:.2f} GB{over}")
        print(f"                largest process: {which}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
