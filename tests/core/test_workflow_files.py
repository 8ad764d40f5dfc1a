"""The shipped workflow files, without a browser: every UI workflow has its API twin and a Templates
thumbnail, its saved node boxes do not overlap, and the trained workflow names the files the trainer
writes. (tests/web/test_browser_workflows.py checks the same workflows in the real frontend.)"""

import json
from pathlib import Path

import cv2
from truepose_core.train.export import CHECKPOINT_NAME, TARGET_UNET_NAME

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / "workflows"
UI = sorted(WORKFLOWS.glob("*.json"))
TITLE = 30  # LiteGraph's title bar, above pos


def test_every_ui_workflow_has_an_api_twin_and_a_thumbnail():
    assert len(UI) >= 5
    for path in UI:
        assert (WORKFLOWS / "api" / path.name).is_file(), path.name
        thumbnail = cv2.imread(str(path.with_suffix(".jpg")))
        assert thumbnail is not None and thumbnail.shape[1] >= 320, f"{path.stem}.jpg (the Templates browser asks for it)"


def test_saved_node_boxes_do_not_overlap():
    for path in UI:
        nodes = json.loads(path.read_text())["nodes"]
        boxes = [(n["title"], n["pos"][0], n["pos"][1] - TITLE, n["size"][0], n["size"][1] + TITLE) for n in nodes]
        for i, (ta, ax, ay, aw, ah) in enumerate(boxes):
            for tb, bx, by, bw, bh in boxes[i + 1:]:
                assert not (ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah), f"{path.name}: {ta} / {tb}"


def test_trained_workflow_loads_what_the_trainer_exports():
    prompt = json.loads((WORKFLOWS / "api" / "truepose_trained.json").read_text())
    names = {n["class_type"]: n["inputs"] for n in prompt.values()}
    assert names["TruePose_ModelLoader"]["model_name"] == CHECKPOINT_NAME == "truepose.safetensors"
    assert names["UNETLoader"]["unet_name"] == TARGET_UNET_NAME == "target_unet.safetensors"


def test_sample_inputs_the_workflows_load_are_shipped():
    for path in (WORKFLOWS / "api").glob("*.json"):
        for node in json.loads(path.read_text()).values():
            if node["class_type"] == "LoadImage":
                assert (WORKFLOWS / "inputs" / node["inputs"]["image"]).is_file(), (path.name, node["inputs"]["image"])
