"""One real ComfyUI host per test session, with the pack, tiny SD1.5-format models and inputs.

The host's code tree is a private copy under .host/test-root (ignored by git); the generated
models live in a temp dir written once per session and removed after it, so a test run leaves
nothing in the repo. TRUEPOSE_TEST_MODELS_DIR names a folder to keep them in between sessions.
"""

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "scripts"))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # graphs.py

import tiny_models  # noqa: E402
from comfy_host import ComfyHost, quiet_logging  # noqa: E402
from workflow_tools import load_api_workflow  # noqa: E402

TESTING_NODES = Path(__file__).resolve().parent / "testing_nodes"
_BOOTED: list[ComfyHost] = []  # the session's host, once a test asked for it
_SESSION_FILES: set[Path] = set()  # the tiny models the host was booted with: kept for the whole session


@pytest.fixture(scope="session")
def models_dir():
    kept = os.environ.get("TRUEPOSE_TEST_MODELS_DIR")
    if kept:
        yield Path(kept)
        return
    path = Path(tempfile.mkdtemp(prefix="truepose-test-models-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def host(models_dir):
    root = Path(os.environ.get("TRUEPOSE_TEST_HOST_ROOT", REPO_ROOT / ".host" / "test-root"))
    # fp8 text encoders (a ComfyUI option low-memory users run with): SDXL's fixed-size CLIP-G is
    # 1.4 GB in fp16; TruePose never reads text-encoder weights, only the conditioning they produce.
    h = ComfyHost(root, extra_custom_nodes=(TESTING_NODES,), models_dir=models_dir, comfy_args={"fp8_e4m3fn_text_enc": True})
    quiet_logging()
    tiny_models.in_subprocess(h.root, h.models_dir)  # building them takes GBs that die with that process
    for f in (REPO_ROOT / "workflows" / "inputs").iterdir():
        shutil.copy(f, h.input_dir / f.name)
    _SESSION_FILES.update(_files(h.models_dir))
    _BOOTED.append(h)
    return h


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def _remove_files_added_since(root: Path, before: set[Path]) -> None:
    for path in _files(root) - before - _SESSION_FILES:
        path.unlink(missing_ok=True)


@pytest.fixture(scope="module", autouse=True)
def _free_the_host_after_each_module(models_dir):
    """No module inherits the models and node outputs another left in the host's caches, nor the
    model files its fixtures wrote (a TruePose export of the tiny UNet is 200 MB)."""
    before = _files(models_dir)
    yield
    if _BOOTED:
        _BOOTED[0].free_memory()
    _remove_files_added_since(models_dir, before)


@pytest.fixture(autouse=True)
def _remove_the_model_files_a_test_wrote(models_dir):
    before = _files(models_dir)
    yield
    _remove_files_added_since(models_dir, before)


@pytest.fixture
def testing():
    """The test-only node module as the host imported it (CAPTURED, PASSES)."""
    module = next(m for name, m in sys.modules.items() if name.endswith("testing_nodes") and hasattr(m, "CAPTURED"))
    module.CAPTURED.clear()
    module.PASSES.update(source=0, sample=0)
    yield module
    module.CAPTURED.clear()  # captured MODELs would otherwise live on into the next tests


@pytest.fixture
def workflow():
    return load_api_workflow


# The module with the group's largest peak runs first: the host's base RSS creeps by ~200 MiB across
# modules, and run late it took the group's peak to 3.9-4.1 GB (measured; first: 3.7-3.9 GB).
LARGEST_PEAK_FIRST = ("test_sdxl.py",)


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/host" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.host)
    items.sort(key=lambda item: Path(str(item.fspath)).name not in LARGEST_PEAK_FIRST)
