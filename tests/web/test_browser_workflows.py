"""Every shipped UI workflow, dropped onto the real frontend as a user would, in both renderers
(the classic canvas and Nodes 2.0): no node covers another, and the prompt the frontend would
queue (app.graphToPrompt) is the API twin the host tests execute, input by input."""

import json

import pytest
from comfy_server import REPO_ROOT

WORKFLOWS = REPO_ROOT / "workflows"
NAMES = sorted(p.stem for p in WORKFLOWS.glob("*.json"))


def _overlaps(boxes: list[dict]) -> list[tuple[str, str]]:
    found = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            ax, ay, aw, ah = a["box"]
            bx, by, bw, bh = b["box"]
            if ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah:
                found.append((a["title"], b["title"]))
    return found


@pytest.fixture(scope="module", params=["litegraph", "vue"])
def dropped(request, drive):
    return request.param, drive("shipped_workflows", mode=request.param)["workflows"]


def test_every_shipped_workflow_was_dropped(dropped):
    _, workflows = dropped
    assert sorted(workflows) == NAMES and len(NAMES) >= 5


@pytest.mark.parametrize("name", NAMES)
def test_no_node_covers_another(dropped, name):
    mode, workflows = dropped
    boxes = workflows[name]["boxes"]
    ui = json.loads((WORKFLOWS / f"{name}.json").read_text())
    assert len(boxes) == len(ui["nodes"])
    assert all(b["box"] and b["box"][2] > 0 and b["box"][3] > 0 for b in boxes), f"{mode}: a node was not rendered: {boxes}"
    assert _overlaps(boxes) == [], f"{mode}: overlapping nodes in {name}"


@pytest.mark.parametrize("name", NAMES)
def test_queued_prompt_is_the_api_twin(dropped, name):
    mode, workflows = dropped
    queued = workflows[name]["prompt"]
    twin = json.loads((WORKFLOWS / "api" / f"{name}.json").read_text())
    assert sorted(queued, key=int) == sorted(twin, key=int), f"{mode}: node ids"
    for nid, node in twin.items():
        assert queued[nid]["class_type"] == node["class_type"], nid
        assert queued[nid]["inputs"] == node["inputs"], f"{mode}: node {nid} ({node['class_type']})"
