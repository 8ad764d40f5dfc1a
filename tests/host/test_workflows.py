"""Every shipped workflow: the UI file matches the node schemas and its API twin, and the twin runs."""

import copy
import json

import pytest

from workflow_tools import WORKFLOWS, api_workflow_names, find_nodes, load_api_workflow, ui_problems, ui_to_api

NAMES = api_workflow_names()
TEST_STEPS = 2  # the shipped step counts are for real models; the graph is the same


def strip_meta(prompt: dict) -> dict:
    return {nid: {"class_type": n["class_type"], "inputs": n["inputs"]} for nid, n in prompt.items()}


def test_the_three_workflows_are_shipped():
    assert {"truepose_pose_transfer", "truepose_pose_transfer_upscale", "truepose_pose_transfer_face_inpaint"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_ui_file_matches_the_schemas_and_its_api_twin(host, name):
    ui = json.loads((WORKFLOWS / f"{name}.json").read_text())
    mappings = host.nodes.NODE_CLASS_MAPPINGS
    assert ui_problems(ui, mappings) == []
    assert strip_meta(ui_to_api(ui, mappings)) == strip_meta(load_api_workflow(name))


@pytest.mark.parametrize("name", NAMES)
def test_api_workflow_executes_in_the_host(host, name):
    prompt = copy.deepcopy(load_api_workflow(name))
    for nid in find_nodes(prompt, "KSampler"):
        prompt[nid]["inputs"]["steps"] = TEST_STEPS
    before = set((host.root / "output").rglob("*.png"))
    result = host.run(prompt)
    assert result.success, result.error
    saved = set((host.root / "output").rglob("*.png")) - before
    assert len(saved) == len(find_nodes(prompt, "SaveImage"))
