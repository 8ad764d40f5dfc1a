"""The Templates browser lists the pack's workflows (ComfyUI serves custom_nodes/<pack>/workflows/)
and asks for one thumbnail per workflow, /api/workflow_templates/<pack folder>/<name>.jpg: every
one must be there (a missing file is a broken card and a 404 per workflow)."""

from pathlib import PurePosixPath
from urllib.parse import urlparse

from comfy_server import REPO_ROOT

NAMES = {p.stem for p in (REPO_ROOT / "workflows").glob("*.json")}


def test_server_lists_the_shipped_workflows_as_templates(comfy_server):
    assert set(comfy_server.get_json("/api/workflow_templates")["ComfyUI-TruePose"]) == NAMES


def test_templates_browser_gets_a_thumbnail_for_every_workflow(drive):
    facts = drive("templates")
    asked = {PurePosixPath(urlparse(r["url"]).path).stem: r for r in facts["asked"]}
    assert set(asked) == NAMES, "one thumbnail request per workflow"
    for name, response in asked.items():
        assert (response["status"], response["type"]) == (200, "image/jpeg"), (name, response)
