"""Pose data in each tool's real format (tests/fixtures/pose/make_fixtures.py) reads, renders and re-emits right."""

import json
from pathlib import Path

import numpy as np
import pytest

from truepose_core.errors import TruePoseInputError
from truepose_core.pose import frames_to_pose_keypoint, parse_pose_keypoint, render_frame, require_people

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pose"
W, H = 320, 448


def raw(name):
    return json.loads((FIXTURES / name).read_text())


def load(name, **kw):
    return parse_pose_keypoint((FIXTURES / name).read_text(), **kw)[0]


def lit(image):
    return int(image.reshape(-1, 3).any(axis=1).sum())


def test_dwpose_pixels_and_normalised_openpose_read_as_the_same_pose():
    dw, op = load("dwpose_pixels.json"), load("openpose_normalised.json")
    assert (dw.width, dw.height) == (op.width, op.height) == (W, H)
    for field in ("body", "face", "left_hand", "right_hand"):
        np.testing.assert_allclose(getattr(dw.people[0], field), getattr(op.people[0], field), atol=2e-3, equal_nan=True)
    assert dw.people[0].body.dtype == np.float64 and dw.people[0].face.shape == (70, 2) and dw.people[0].left_hand.shape == (21, 2)
    assert np.isnan(dw.people[0].body[17]).all()
    assert np.isnan(dw.people[0].left_hand[[4, 8]]).all()  # fingertips above the image: hidden, as controlnet_aux does


def test_openpose_preprocessor_undetected_peaks_are_missing():
    person = load("openpose_preprocessor.json").people[0]
    reference = load("dwpose_pixels.json").people[0]
    assert np.isnan(person.left_hand[[4, 8, 12]]).all() and np.isnan(person.right_hand[20]).all()
    assert np.isnan(person.face[30]).all()  # x = -1 / W with a real y
    assert np.isfinite(person.left_hand[[0, 1, 2, 3]]).all()
    np.testing.assert_allclose(person.body, reference.body, atol=1e-3, equal_nan=True)
    image = render_frame(load("openpose_preprocessor.json"), W, H)
    assert not image[:8, :8].any()  # no lines to the top-left corner, no dots there


def test_cmu_body25_json_needs_a_canvas_and_maps_onto_coco18():
    with pytest.raises(TruePoseInputError, match="frame 0 has no canvas_width / canvas_height"):
        load("cmu_body25.json")
    frame = load("cmu_body25.json", default_canvas=(W, H))
    person, dw = frame.people[0], load("dwpose_pixels.json").people[0]
    np.testing.assert_allclose(person.body[:17], dw.body[:17], atol=1e-3)  # BODY_25's mid-hip and feet are dropped
    assert np.isnan(person.body[17]).all()
    body25 = np.array(raw("cmu_body25.json")["people"][0]["pose_keypoints_2d"]).reshape(25, 3)
    np.testing.assert_allclose(person.scores["body"][:17], body25[[0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17], 2])
    assert person.scores["face"].max() < 1


def test_cmu_confidences_are_kept_and_drawn_only_above_min_confidence():
    frame = load("cmu_body25.json", default_canvas=(W, H))
    assert lit(render_frame(frame, W, H, min_confidence=1.0)) == 0  # controlnet_aux's default: c >= 1
    assert lit(render_frame(frame, W, H, min_confidence=0.3)) > 3000
    with pytest.raises(TruePoseInputError, match=r"confidence below min_confidence = 1 \(highest 0\.9.*lower min_confidence"):
        require_people([frame], "min_confidence", 1.0)
    out = frames_to_pose_keypoint([frame])[0]["people"][0]
    assert 0.3 < min(c for c in out["pose_keypoints_2d"][2::3] if c > 0) < 1  # written with its scores


def test_align_pose_output_near_the_border_stays_normalised():
    frame = load("align_near_border.json")
    body = frame.people[0].body
    np.testing.assert_allclose(body[4], (1.03 * W, 0.11 * H), atol=0.01)  # the wrist past the right edge, in place
    assert lit(render_frame(frame, W, H)) > 3000  # not a collapsed skeleton in the corner
    out = np.array(frames_to_pose_keypoint([frame])[0]["people"][0]["pose_keypoints_2d"]).reshape(18, 3)
    assert np.abs(out[:, :2]).max() <= 1.0  # every reader takes it as normalised
    np.testing.assert_allclose(out[4], (1.0, 0.11, 1.0))
    np.testing.assert_allclose(out[10, 1], 1.0)


def test_emitting_keeps_face_and_hands_normalised():
    out = frames_to_pose_keypoint([load("dwpose_pixels.json")])[0]["people"][0]
    assert len(out["face_keypoints_2d"]) == 210 and len(out["hand_right_keypoints_2d"]) == 63
    assert max(out["hand_left_keypoints_2d"][0::3]) <= 1.0
    assert out["hand_left_keypoints_2d"][4 * 3 : 4 * 3 + 3] == [0.0, 0.0, 0.0]  # the hidden fingertip is written as missing
    again = parse_pose_keypoint(frames_to_pose_keypoint([load("dwpose_pixels.json")]))[0].people[0]
    np.testing.assert_allclose(again.face, load("dwpose_pixels.json").people[0].face, atol=1e-3)
