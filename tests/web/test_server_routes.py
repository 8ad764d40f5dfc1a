"""The pose editor's local route on the real server: validation (400 with a reason), a size cap,
finite JSON only, retargeting, and a server that keeps answering during a heavy call."""

import json
import threading
import time
import urllib.request

import pytest

from comfy_server import REPO_ROOT

ROUTE = "/truepose/pose/match_proportions"


def _pose(name: str):
    return json.loads((REPO_ROOT / "workflows" / "inputs" / name).read_text())


TARGET = _pose("truepose_target_pose.json")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[" * 50000 + b"]" * 50000, "nested far too deeply"),
        ([1, 2], "expected a JSON object"),
        ({"pose": []}, "missing reference and pose"),
        ({"reference": "x", "pose": "x", "mode": "warp"}, "unknown mode"),
        ({"reference": TARGET, "pose": TARGET, "mode": 5}, "unknown mode 5"),
        ({"reference": TARGET, "pose": {"people": [{"pose_keypoints_2d": [0.5, 0.5, 1]}], "canvas_width": 8, "canvas_height": 8}},
         "input 'pose': frame 0, person 0, pose_keypoints_2d: expected 18 points"),
        ({"reference": {"people": None, "canvas_width": 8, "canvas_height": 8}, "pose": TARGET},
            "input 'reference': frame 0: people is None"),
        ({"reference": TARGET, "pose": [{"people": [], "canvas_width": "wide", "canvas_height": 8}]}, "canvas_width is 'wide'"),
        ({"reference": {"people": [], "canvas_width": 8, "canvas_height": 8}, "pose": TARGET}, "no person"),
        (json.dumps({"reference": TARGET, "pose": TARGET}).replace("0.5", "Infinity", 1).encode(), "Infinity, which is not JSON"),
        (b'{"reference": NaN, "pose": 1}', "NaN, which is not JSON"),
    ],
)
def test_bad_input_is_a_400_with_the_reason(comfy_server, body, reason):
    status, answer = comfy_server.post_json(ROUTE, body)
    assert status == 400 and reason in answer["error"], answer


def test_a_body_over_the_cap_is_refused_with_json(comfy_server):
    status, answer = comfy_server.post_json(ROUTE, b" " * (17 * 1024 * 1024))
    assert status == 413 and "over 16 MiB" in answer["error"]


def test_match_proportions_retargets_onto_the_reference(comfy_server):
    reference, driving = _pose("truepose_target_pose.json"), _pose("truepose_pose_sequence.json")
    status, answer = comfy_server.post_json(ROUTE, {"reference": reference, "pose": driving, "mode": "limb_lengths"})
    assert status == 200, answer
    assert len(answer["pose"]) == len(driving)
    assert answer["pose"][0]["canvas_width"] == driving[0]["canvas_width"]
    values = [v for frame in answer["pose"] for p in frame["people"] for v in p["pose_keypoints_2d"]]
    assert values and all(0.0 <= v <= 1.0 for v in values)  # normalised, never flipped to pixels


def test_the_server_keeps_answering_during_a_heavy_call(comfy_server):
    sequence = _pose("truepose_pose_sequence.json")
    heavy = {"reference": TARGET, "pose": sequence * 3000}  # ~14 MiB, seconds of work
    body = json.dumps(heavy).encode()
    assert len(body) < 16 * 1024 * 1024
    done = {}

    def post():
        start = time.monotonic()
        done["status"], _ = comfy_server.post_json(ROUTE, body)
        done["seconds"] = time.monotonic() - start
        done["end"] = time.monotonic()

    worker = threading.Thread(target=post)
    worker.start()
    time.sleep(0.3)
    answered = []
    while worker.is_alive() and len(answered) < 5:
        start = time.monotonic()
        with urllib.request.urlopen(comfy_server.url + "/system_stats", timeout=10) as r:
            assert r.status == 200
        answered.append((time.monotonic() - start, time.monotonic()))
    worker.join(120)
    assert done["status"] == 200
    during = [latency for latency, at in answered if at < done["end"]]
    # blocked on the event loop, at most one request could finish before the heavy one
    assert len(during) >= 3, f"{len(during)} answers during the {done['seconds']:.2f} s call"
    assert max(during) < 2.0, (during, done["seconds"])


def test_editor_node_ships_its_default_skeleton(comfy_server):
    spec = comfy_server.get_json("/object_info/TruePose_PoseEditor")["TruePose_PoseEditor"]
    default = spec["input"]["required"]["pose_store"][1]["default_pose"]
    assert len(default[0]["people"][0]["pose_keypoints_2d"]) == 54
    assert spec["output"] == ["POSE_KEYPOINT", "IMAGE"]
