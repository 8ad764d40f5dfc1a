"""One real ComfyUI host per test session, with the pack, tiny SD1.5-format models and inputs."""

import os
import shutil
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "scripts"))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # graphs.py

from comfy_host import ComfyHost, quiet_logging  # noqa: E402
from workflow_tools import load_api_workflow  # noqa: E402

TESTING_NODES = Path(__file__).resolve().parent / "testing_nodes"


@pytest.fixture(scope="session")
def host():
    root = Path(os.environ.get("TRUEPOSE_TEST_HOST_ROOT", REPO_ROOT / ".host" / "test-root"))
    h = ComfyHost(root, extra_custom_nodes=(TESTING_NODES,))
    quiet_logging()
    import tiny_models

    tiny_models.install_tiny_models(h.models_dir)
    for f in (REPO_ROOT / "workflows" / "inputs").iterdir():
        shutil.copy(f, h.input_dir / f.name)
    return h


@pytest.fixture
def testing():
    """The test-only node module as the host imported it (CAPTURED, PASSES)."""
    module = next(m for name, m in sys.modules.items() if name.endswith("testing_nodes") and hasattr(m, "CAPTURED"))
    module.CAPTURED.clear()
    module.PASSES.update(source=0, sample=0)
    return module


@pytest.fixture
def workflow():
    return load_api_workflow


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/host" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.host)
