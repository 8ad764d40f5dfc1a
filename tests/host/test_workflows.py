"""Every shipped workflow: the UI file matches the node schemas and its API twin, and the twin runs."""

import copy
import json

import pytest

from workflow_tools import WORKFLOWS, api_workflow_names, find_nodes, load_api_workflow, ui_problems, ui_to_api

NAMES = api_workflow_names()
# SDXL workflows need the (lazily generated) SDXL models and a smaller latent on CPU: test_sdxl.py runs them.
SD15_NAMES = [n for n in NAMES if "sdxl" not in n]
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


@pytest.mark.parametrize("name", SD15_NAMES)
def test_api_workflow_executes_in_the_host(host, name):
    prompt = copy.deepcopy(load_api_workflow(name))
    for nid in find_nodes(prompt, "KSampler"):
        prompt[nid]["inputs"]["steps"] = TEST_STEPS
    before = set((host.root / "output").rglob("*.png"))
    result = host.run(prompt)
    assert result.success, result.error
    saved = {p.relative_to(host.root / "output").as_posix() for p in set((host.root / "output").rglob("*.png")) - before}
    for nid in find_nodes(prompt, "SaveImage"):
        prefix = prompt[nid]["inputs"]["filename_prefix"]
        assert any(name.startswith(prefix + "_") for name in saved), f"{prefix}: no image saved"


def test_multi_pose_workflow_encodes_the_source_once_for_all_poses(host, testing):
    prompt = copy.deepcopy(load_api_workflow("truepose_multi_pose"))
    (loader,) = find_nodes(prompt, "CheckpointLoaderSimple")
    prompt["90"] = {"class_type": "TruePoseTest_CountPasses", "inputs": {"model": [loader, 0]}}
    for class_type in ("TruePose_EncodeSource", "TruePose_Apply"):
        for nid in find_nodes(prompt, class_type):
            prompt[nid]["inputs"]["model"] = ["90", 0]
    (sampler,) = find_nodes(prompt, "KSampler")
    prompt[sampler]["inputs"]["steps"] = TEST_STEPS
    prompt[sampler]["inputs"]["seed"] = 1234  # nothing cached from the other workflow tests
    prompt["2"]["inputs"]["text"] += ", counted"
    before = set((host.root / "output").rglob("*.png"))
    result = host.run(prompt)
    assert result.success, result.error
    assert len(set((host.root / "output").rglob("*.png")) - before) == 3  # one image per pose
    assert testing.PASSES["source"] == 1 and testing.PASSES["sample"] == TEST_STEPS
