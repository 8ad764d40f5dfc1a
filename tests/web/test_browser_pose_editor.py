"""The pose editor in the real frontend: scrub frames, match the source's proportions through the
local route, drag a joint with the mouse, hide one; the serialized widget and the node's output
after a run both carry the edit."""

import json

import pytest

EDITOR_NODE = "4"
PREVIEW_NODE = "5"
WRIST, LEFT_WRIST = 4, 7


def _point(frame: dict, k: int) -> list[float]:
    return frame["people"][0]["pose_keypoints_2d"][3 * k : 3 * k + 3]


@pytest.mark.parametrize("mode", ["litegraph", "vue"])
def test_edit_keypoint_then_run(drive, comfy_server, mode):
    facts = drive("pose_editor", mode=mode)

    assert facts["first"]["ok"] and facts["second"]["ok"], (facts["first"], facts["second"])
    assert facts["before"] == {"frames": 3, "store": "", "sliderMax": 2}, "the incoming 3-frame pose, nothing stored yet"
    assert facts["storeShown"] is False, "the pose_store widget is hidden (it holds the edit as JSON)"
    assert facts["matchStatus"] == "matched the source proportions"

    store = json.loads(facts["store"])
    assert facts["promptStore"] == facts["store"], "the queued prompt carries the hidden widget's value"
    assert len(store) == 3 and all((f["canvas_width"], f["canvas_height"]) == (256, 352) for f in store)
    frame = store[facts["dragged"]["frame"]]
    x, y, c = _point(frame, WRIST)
    ex, ey = facts["dragged"]["expected"]
    assert c == 1 and abs(x - ex) < 0.01 and abs(y - ey) < 0.01, ((x, y), (ex, ey))
    assert _point(frame, LEFT_WRIST)[2] == 0, "hidden: c = 0, the position kept for showing it again"

    prompt_id = facts["second"]["prompt_id"]
    outputs = comfy_server.get_json(f"/history/{prompt_id}")[prompt_id]["outputs"]
    result = outputs[EDITOR_NODE]["truepose_pose"][0]
    assert result["edited"] is True
    out = result["output"][facts["dragged"]["frame"]]
    ox, oy, oc = _point(out, WRIST)
    assert oc == 1 and abs(ox - x) < 1e-5 and abs(oy - y) < 1e-5
    assert _point(out, LEFT_WRIST) == [0.0, 0.0, 0.0], "a hidden joint leaves the node as missing"
    assert len(outputs[PREVIEW_NODE]["images"]) == 3, "one rendered skeleton per frame"
