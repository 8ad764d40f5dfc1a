"""Runs the JS unit tests (node's built-in runner: tests/web/*.test.mjs) as part of pytest."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def test_node_unit_tests_pass():
    if shutil.which("node") is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("node is not installed: the JS unit tests cannot run")
        pytest.skip("node is not installed")
    tests = sorted(str(p) for p in HERE.glob("*.test.mjs"))
    done = subprocess.run(["node", "--test", *tests], cwd=HERE, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
