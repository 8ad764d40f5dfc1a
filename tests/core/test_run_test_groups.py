"""`make test`'s runner: the peak it reports is the group's largest process, named, and the disk it filled."""

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import run_test_groups  # noqa: E402

# A parent that starts a child holding 300 MB, then holds 100 MB itself and writes a 50 MB file.
PARENT = """
import subprocess, sys, time
subprocess.run([sys.executable, "-c", "x = bytearray(300_000_000); x[::4096] = b'1' * len(x[::4096]); import time; time.sleep(1.5)"])
y = bytearray(100_000_000)
with open(sys.argv[1], "wb") as f:
    f.write(bytes(50_000_000)); f.flush(); import os; os.fsync(f.fileno())
time.sleep(1.5)
"""


def test_the_largest_process_of_the_tree_is_named_and_the_disk_growth_counted(tmp_path):
    scratch = tmp_path / "scratch.bin"
    process = subprocess.Popen([sys.executable, "-c", PARENT, str(scratch)])
    with run_test_groups.GroupWatch(process.pid, str(tmp_path)) as watch:
        _, status, usage = os.wait4(process.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    gb, command = watch.largest()
    assert "bytearray(300_000_000)" in command and 0.29 < gb < 0.5
    assert usage.ru_maxrss * 1024 / 1e9 >= 0.29  # wait4 counts the child the parent waited for
    assert watch.peak_disk_growth >= 45_000_000
