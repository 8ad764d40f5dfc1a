"""A pytest plugin that prints, after every test, the RSS of the test process now and at its
peak, and the peak of the largest child process it has waited for (model generation, training,
a ComfyUI server): where a group's memory peak comes from.

    PYTHONPATH=scripts .venv/bin/python -m pytest tests/host -p pytest_rss_probe -s | grep '\\[rss\\]'
"""

import resource


def _current_mb() -> int:
    with open("/proc/self/status") as f:
        return int(f.read().split("VmRSS:")[1].split()[0]) // 1024


def pytest_runtest_logfinish(nodeid, location):
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    print(f"\n[rss] {nodeid}: now {_current_mb()} MB, peak {own} MB, largest child {children} MB", flush=True)
