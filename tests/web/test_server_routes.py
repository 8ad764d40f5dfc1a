"""The pose editor's local route on the real server: validation (400 with a reason) and retargeting."""

import json

import pytest

from comfy_server import REPO_ROOT

ROUTE = "/truepose/pose/match_proportions"


def _pose(name: str):
    return json.loads((REPO_ROOT / "workflows" / "inputs" / name).read_text())



@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not JSON"),
        ([1, 2], "expected a JSON object"),
        ({"pose": []}, "missing reference and pose"),
        ({"reference": "x", "pose": "x", "mode": "warp"}, "unknown mode"),
        ({"reference": _pose("truepose_target_pose.json"), "pose": {"people": [{"pose_keypoints_2d": [0.5, 0.5, 1]}], "canvas_width": 8,
            "canvas_height": 8}},
         "expected 18"),
        ({"reference": {"people": [], "canvas_width": 8, "canvas_height": 8}, "pose": _pose("truepose_target_pose.json")}, "no person"),
    ],
)
def test_bad_input_is_a_400_with_the_reason(comfy_server, body, reason):
    status, answer = comfy_server.post_json(ROUTE, body)
    assert status == 400 and reason in answer["error"], answer


def test_match_proportions_retargets_onto_the_reference(comfy_server):
    reference, driving = _pose("truepose_target_pose.json"), _pose("truepose_pose_sequence.json")
    status, answer = comfy_server.post_json(ROUTE, {"reference": reference, "pose": driving, "mode": "limb_lengths"})
    assert status == 200, answer
    assert len(answer["pose"]) == len(driving)
    assert answer["pose"][0]["canvas_width"] == driving[0]["canvas_width"]


def test_editor_node_ships_its_default_skeleton(comfy_server):
    spec = comfy_server.get_json("/object_info/TruePose_PoseEditor")["TruePose_PoseEditor"]
    default = spec["input"]["required"]["pose_store"][1]["default_pose"]
    assert len(default[0]["people"][0]["pose_keypoints_2d"]) == 54
    assert spec["output"] == ["POSE_KEYPOINT", "IMAGE"]
