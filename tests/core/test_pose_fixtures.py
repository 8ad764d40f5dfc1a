"""Interop fixtures (DWPose pixels, OpenPose normalised) and the frozen golden render."""

from pathlib import Path

import cv2
import numpy as np

from truepose_core.pose import frames_to_pose_keypoint, parse_pose_keypoint, render_frame
from truepose_core.pose.skeleton import COLOURS, FACE_COLOUR, HAND_JOINT_COLOUR

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pose"


def load(name):
    return parse_pose_keypoint((FIXTURES / name).read_text())[0]


def test_both_producer_styles_read_as_the_same_pose():
    dw, op = load("dwpose_pixels.json"), load("openpose_normalised.json")
    assert (dw.width, dw.height) == (op.width, op.height) == (320, 448)
    for field in ("body", "face", "left_hand", "right_hand"):
        np.testing.assert_allclose(getattr(dw.people[0], field), getattr(op.people[0], field), atol=2e-3, equal_nan=True)
    assert dw.people[0].face.shape == (70, 2) and dw.people[0].left_hand.shape == (21, 2)
    assert np.isnan(dw.people[0].body[17]).all()


def test_emitting_keeps_face_and_hands_normalised():
    out = frames_to_pose_keypoint([load("dwpose_pixels.json")])[0]["people"][0]
    assert len(out["face_keypoints_2d"]) == 210 and len(out["hand_right_keypoints_2d"]) == 63
    assert max(out["hand_left_keypoints_2d"][0::3]) <= 1.0
    again = parse_pose_keypoint(frames_to_pose_keypoint([load("dwpose_pixels.json")]))[0].people[0]
    np.testing.assert_allclose(again.face, load("dwpose_pixels.json").people[0].face, atol=1e-3)


def test_render_matches_the_golden_image_pixel_for_pixel():
    golden = cv2.imread(str(FIXTURES / "golden_render.png"))[..., ::-1]
    frame = load("dwpose_pixels.json")
    assert np.array_equal(render_frame(frame, frame.width, frame.height), golden)


def test_golden_image_has_the_anchor_colours_in_rgb_order():
    golden = cv2.imread(str(FIXTURES / "golden_render.png"))[..., ::-1]
    person = load("dwpose_pixels.json").people[0]
    x, y = person.body[1].astype(int)  # neck: drawn over by no hand or face point
    assert tuple(golden[y, x]) == COLOURS[1]
    wx, wy = person.right_hand[20].astype(int)  # a fingertip joint
    assert tuple(golden[wy, wx]) == HAND_JOINT_COLOUR
    fx, fy = person.face[17].astype(int)
    assert tuple(golden[fy, fx]) == FACE_COLOUR
