"""The SDXL-family test models: generated once per test session, lazily (only when an SDXL test
asks), under a session temp dir that ComfyUI's stock loaders are pointed at.

Import the fixture into a test module: `from sdxl_models import sdxl_models_fixture  # noqa: F401`.
"""

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


@pytest.fixture(scope="session", name="sdxl_models")
def sdxl_models_fixture(host, tmp_path_factory) -> dict[str, Path]:
    import folder_paths

    models_dir = tmp_path_factory.mktemp("sdxl_models")
    # A separate process: the generation's peak memory goes back to the system before the tests run.
    run = subprocess.run([sys.executable, str(SCRIPTS / "tiny_sdxl_models.py"), str(host.root), str(models_dir)],
                         capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stderr[-4000:]
    import tiny_sdxl_models

    paths = tiny_sdxl_models.install_tiny_sdxl_models(models_dir)  # only resolves the paths: all exist now
    for kind in ("checkpoints", "controlnet", "loras"):
        folder_paths.add_model_folder_path(kind, str(models_dir / kind))
    return paths
