"""A pytest plugin that prints, after every test, the RSS of the test process now and its peak
DURING that test (the peak is reset after each line, via /proc/self/clear_refs), and the largest
child process waited for so far (model generation, training, a ComfyUI server): where a group's
memory peak comes from.

    PYTHONPATH=scripts .venv/bin/python -m pytest tests/host -p pytest_rss_probe -s | grep '\\[rss\\]'

RSS_PROBE_LOG=/some/file appends the lines there instead, so a run without -s (as make test
runs) can be probed.

A child started by a large process reports at least that process's RSS at the moment it was
spawned (its address space before exec), so compare a child's figure with its own process's.
"""

import os
import resource


def _status_mb(field: str) -> int:
    with open("/proc/self/status") as f:
        return int(f.read().split(f"{field}:")[1].split()[0]) // 1024


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # VmHWM := VmRSS


def pytest_runtest_logstart(nodeid, location):
    _reset_peak()


def pytest_runtest_logfinish(nodeid, location):
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    line = f"[rss] {nodeid}: now {_status_mb('VmRSS')} MB, peak in this test {_status_mb('VmHWM')} MB, largest child so far {children} MB"
    if os.environ.get("RSS_PROBE_LOG"):
        with open(os.environ["RSS_PROBE_LOG"], "a") as f:
            f.write(line + "\n")
    else:
        print("\n" + line, flush=True)
