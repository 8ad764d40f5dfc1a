"""Every shipped workflow: the UI file, read as the frontend reads it against the host's /object_info
(not through the pack's own converters), means its API twin; and the twin runs."""

import copy
import json

import pytest

from workflow_tools import WORKFLOWS, api_workflow_names, find_nodes, load_api_workflow

NAMES = api_workflow_names()
# SDXL workflows need the (lazily generated) SDXL models and a smaller latent on CPU: test_sdxl.py runs them.
SD15_NAMES = [n for n in NAMES if "sdxl" not in n]
TEST_STEPS = 2  # the shipped step counts and sizes are for real models; the graph is the same


def for_tests(prompt: dict) -> dict:
    """The shipped graph with 2 steps and the target at half size (latent, skeleton and layout alike)."""
    prompt = copy.deepcopy(prompt)
    for node in prompt.values():
        inputs = node["inputs"]
        if node["class_type"] == "KSampler":
            inputs["steps"] = TEST_STEPS
        if isinstance(inputs.get("width"), int) and isinstance(inputs.get("height"), int):
            inputs.update(width=inputs["width"] // 2, height=inputs["height"] // 2)
    return prompt


def test_the_three_workflows_are_shipped():
    assert {"truepose_pose_transfer", "truepose_pose_transfer_upscale", "truepose_pose_transfer_face_inpaint"} <= set(NAMES)


FRONTEND_ONLY = {"Note", "MarkdownNote"}  # UI nodes the frontend never queues
WIDGET_TYPES = {"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"}


def object_info(host, class_type: str) -> dict:
    """What the host's GET /object_info says about a node (server.py node_info, without a server)."""
    cls = host.nodes.NODE_CLASS_MAPPINGS[class_type]
    if hasattr(cls, "GET_NODE_INFO_V1"):
        return cls.GET_NODE_INFO_V1()
    spec = cls.INPUT_TYPES()
    return {"input": spec, "input_order": {k: list(v) for k, v in spec.items()}, "output": list(cls.RETURN_TYPES)}


def schema_inputs(info: dict):
    for section in ("required", "optional"):
        for name in info["input_order"].get(section, []):
            spec = info["input"][section][name]
            yield name, spec[0], spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}


def types_match(link_type: str, input_type) -> bool:
    if isinstance(input_type, list) or link_type == "*" or input_type == "*":
        return True
    return link_type in str(input_type).split(",") or input_type in link_type.split(",")


def check_ui_against_api(ui: dict, api: dict, host) -> list[str]:
    """The frontend's reading of a UI workflow, from the UI file and /object_info alone: links by
    slot, widget values in schema order (plus the frontend's extra values: the seed control after
    an INT with control_after_generate, the upload button after image_upload), against the twin."""
    problems = []
    links = {link[0]: link for link in ui["links"]}
    queued = {str(n["id"]): n for n in ui["nodes"] if n["type"] not in FRONTEND_ONLY and n.get("mode", 0) not in (2, 4)}
    if set(queued) != set(api):
        return [f"UI nodes {sorted(queued)} but API nodes {sorted(api)}"]
    outputs = {nid: object_info(host, n["type"])["output"] for nid, n in queued.items()}
    for nid, n in queued.items():
        where = f"node {nid} ({n['type']})"
        if api[nid]["class_type"] != n["type"]:
            problems.append(f"{where}: API class {api[nid]['class_type']}")
            continue
        info = object_info(host, n["type"])
        slots = n.get("inputs", [])
        linked = {i["name"]: links[i["link"]] for i in slots if i.get("link") is not None}
        values = list(n.get("widgets_values") or [])
        expected: dict = {}
        for name, kind, opts in schema_inputs(info):
            if name in linked:
                link = linked[name]
                if slots[link[4]]["name"] != name:
                    problems.append(f"{where}: link {link[0]} enters slot {link[4]}, which is not {name}")
                if link[5] != outputs[str(link[1])][link[2]] or not types_match(link[5], kind):
                    problems.append(f"{where}.{name}: link type {link[5]}, source gives {outputs[str(link[1])][link[2]]}, input takes "
                        f"{kind}")
                expected[name] = [str(link[1]), link[2]]
            elif (isinstance(kind, list) or kind in WIDGET_TYPES) and not opts.get("forceInput"):
                if not values:
                    problems.append(f"{where}: no widget value left for {name}")
                    break
                expected[name] = values.pop(0)
                extras = int(bool(opts.get("control_after_generate"))) + int(bool(opts.get("image_upload")))
                del values[:extras]
        if values:
            problems.append(f"{where}: {len(values)} widget values left over: {values}")
        if expected != api[nid]["inputs"]:
            problems.append(f"{where}: the UI file means {expected}, the API twin says {api[nid]['inputs']}")
    targeted = sum(1 for link in ui["links"] if str(link[3]) in queued)
    wired = sum(1 for node in api.values() for v in node["inputs"].values() if isinstance(v, list))
    if targeted != wired:
        problems.append(f"{targeted} links in the UI file, {wired} linked inputs in the API twin")
    return problems


@pytest.mark.parametrize("name", NAMES)
def test_ui_file_means_what_its_api_twin_says(host, name):
    ui = json.loads((WORKFLOWS / f"{name}.json").read_text())
    assert check_ui_against_api(ui, load_api_workflow(name), host) == []


@pytest.mark.parametrize("name", SD15_NAMES)
def test_api_workflow_executes_in_the_host(host, name):
    prompt = for_tests(load_api_workflow(name))
    before = set((host.root / "output").rglob("*.png"))
    result = host.run(prompt)
    assert result.success, result.error
    saved = {p.relative_to(host.root / "output").as_posix() for p in set((host.root / "output").rglob("*.png")) - before}
    for nid in find_nodes(prompt, "SaveImage"):
        prefix = prompt[nid]["inputs"]["filename_prefix"]
        assert any(name.startswith(prefix + "_") for name in saved), f"{prefix}: no image saved"


def test_multi_pose_workflow_encodes_the_source_once_for_all_poses(host, testing):
    prompt = for_tests(load_api_workflow("truepose_multi_pose"))
    (loader,) = find_nodes(prompt, "CheckpointLoaderSimple")
    prompt["90"] = {"class_type": "TruePoseTest_CountPasses", "inputs": {"model": [loader, 0]}}
    for class_type in ("TruePose_EncodeSource", "TruePose_Apply"):
        for nid in find_nodes(prompt, class_type):
            prompt[nid]["inputs"]["model"] = ["90", 0]
    (sampler,) = find_nodes(prompt, "KSampler")
    prompt[sampler]["inputs"]["seed"] = 1234  # nothing cached from the other workflow tests
    prompt["2"]["inputs"]["text"] += ", counted"
    before = set((host.root / "output").rglob("*.png"))
    result = host.run(prompt)
    assert result.success, result.error
    assert len(set((host.root / "output").rglob("*.png")) - before) == 3  # one image per pose
    assert testing.PASSES["source"] == 1 and testing.PASSES["sample"] == TEST_STEPS
