"""What the registry, ComfyUI-Manager and CI read: pyproject's [tool.comfy], the publish workflow,
install.py's OpenCV choice, and the lint wiring."""

import importlib.util
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
OPENCV = re.compile(r"^\s*opencv[-_](contrib[-_])?python([-_]headless)?\b", re.I | re.M)


def _install_module():
    spec = importlib.util.spec_from_file_location("truepose_install", REPO / "install.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_icon_url_names_a_file_of_this_repository():
    icon = urlparse(PYPROJECT["tool"]["comfy"]["Icon"])
    repo = urlparse(PYPROJECT["project"]["urls"]["Repository"]).path.strip("/")
    assert icon.scheme == "https" and icon.netloc == "raw.githubusercontent.com"
    owner, name, branch, *path = icon.path.strip("/").split("/")
    assert f"{owner}/{name}" == repo and branch == "main"
    file = REPO.joinpath(*path)
    assert file.suffix in (".svg", ".png") and file.is_file() and file.stat().st_size < 64_000
    if file.suffix == ".svg":
        assert file.read_text().lstrip().startswith("<svg")


def test_publish_workflow_uses_the_registry_action_with_the_secret():
    text = (REPO / ".github" / "workflows" / "publish-node.yml").read_text()
    assert "uses: Comfy-Org/publish-node-action@v1" in text
    assert "personal_access_token: ${{ secrets.REGISTRY_ACCESS_TOKEN }}" in text
    assert "ruff check ." in text and "needs: lint" in text


def test_no_fixed_opencv_wheel_in_the_pack_requirements():
    assert not OPENCV.search((REPO / "requirements.txt").read_text())
    assert not any(OPENCV.search(d) for d in PYPROJECT["project"]["dependencies"])


def test_install_keeps_the_installed_opencv_and_adds_what_controlnet_aux_would():
    install = _install_module()
    assert install.plan([]) == ("opencv-python>=4.8", None)
    for one in install.OPENCV_WHEELS:
        assert install.plan([one]) == (None, None), one
    wanted, warning = install.plan(["opencv-python", "opencv-python-headless"])
    assert wanted is None and "pip uninstall -y opencv-python-headless" in warning


def test_this_environment_has_exactly_one_opencv_wheel():
    install = _install_module()
    found = install.installed_opencv()
    assert len(found) == 1, f"{found}: two cv2 wheels overwrite each other"
    assert metadata.version(found[0])


def test_ci_lints_then_runs_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert "make lint" in ci and "make test" in ci and ci.index("make lint") < ci.index("make test")
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^lint:.*\n\t\$\(VENV\)/bin/ruff check \.$", makefile, re.M)
    pinned = (REPO / "requirements" / "constraints.txt").read_text()
    assert re.search(r"^ruff==\d+\.\d+\.\d+$", pinned, re.M) and "ruff" in (REPO / "requirements" / "host.txt").read_text().split()
    assert {"E", "W", "F"} <= set(PYPROJECT["tool"]["ruff"]["lint"]["select"])


def test_python_version_floor_matches_ruff_target():
    assert PYPROJECT["project"]["requires-python"] == ">=3.10" and PYPROJECT["tool"]["ruff"]["target-version"] == "py310"
    assert sys.version_info >= (3, 10)
