"""Browser tests: a real ComfyUI server on 127.0.0.1 and Debian's chromium driven by playwright-core.

Install what they need with scripts/setup_web_tests.sh. Without chromium or node_modules they fail
in CI (CI=true) and skip locally, with the reason.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # comfy_server.py (pytest runs with --import-mode=importlib)

from comfy_server import REPO_ROOT, ComfyServer  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
DRIVER = HERE / "browser_driver.mjs"
# TRUEPOSE_SCREENSHOTS=docs/screenshots refreshes the README's images; by default they go to a temp dir.
SCREENSHOTS = os.environ.get("TRUEPOSE_SCREENSHOTS")
DRIVER_TIMEOUT_S = 150


def pytest_configure(config):
    config.addinivalue_line("markers", "web: runs a ComfyUI server (and a browser) on 127.0.0.1")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/web" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.web)


def _missing_browser_tools() -> str | None:
    if not Path(CHROMIUM).is_file():
        return f"no chromium at {CHROMIUM}"
    if shutil.which("node") is None:
        return "no node on PATH"
    if not (HERE / "node_modules" / "playwright-core").is_dir():
        return "no tests/web/node_modules/playwright-core"
    return None


@pytest.fixture(scope="session")
def browser_tools():
    missing = _missing_browser_tools()
    if missing:
        message = f"browser tests need chromium, node and playwright-core: {missing}. Run scripts/setup_web_tests.sh."
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def comfy_server():
    root = Path(os.environ.get("TRUEPOSE_WEB_HOST_ROOT", REPO_ROOT / ".host" / "web-root"))
    server = ComfyServer(root).start()
    yield server
    server.stop()


def screenshots_dir(tmp_path_factory) -> Path:
    return REPO_ROOT / SCREENSHOTS if SCREENSHOTS else tmp_path_factory.mktemp("screenshots")  # relative: to the repo


@pytest.fixture
def drive(browser_tools, comfy_server, tmp_path_factory):
    """Run one scenario of browser_driver.mjs; returns its facts (dict)."""

    def run(scenario: str) -> dict:
        shots = screenshots_dir(tmp_path_factory)
        shots.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            ["node", str(DRIVER), scenario, comfy_server.url, str(shots)],
            cwd=HERE, capture_output=True, text=True, timeout=DRIVER_TIMEOUT_S,
        )
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        facts = json.loads(lines[-1]) if lines else {"failure": f"no result (exit {done.returncode})"}
        if "failure" in facts:
            pytest.fail(f"{scenario}: {facts['failure']}\n{done.stderr[-3000:]}\nserver log:\n{comfy_server.log_tail()}")
        assert facts["errors"] == [], f"errors in the page: {facts['errors']}"
        return facts

    return run
