"""POSE_KEYPOINT interop (normalised and pixel input), rendering colours and the target layout."""

import json

import numpy as np
import pytest

from truepose_core.errors import TruePoseInputError
from truepose_core.parsing.labels import LIP_NAMES
from truepose_core.pose import draw_layout, frames_to_pose_keypoint, parse_pose_keypoint, render_frame, require_people
from truepose_core.pose.skeleton import COLOURS, LIMBS

W, H = 200, 300
# A standing figure in pixels (DWPose style); index 17 (left ear) missing.
PIXELS = [
    (100, 50), (100, 80), (80, 82), (72, 120), (70, 155), (120, 82), (128, 120), (130, 155),
    (88, 160), (87, 215), (87, 265), (112, 160), (113, 215), (113, 265), (96, 46), (104, 46), (92, 48), None,
]


def dwpose_frame():
    flat = []
    for p in PIXELS:
        flat += [0.0, 0.0, 0.0] if p is None else [float(p[0]), float(p[1]), 1.0]
    return [{"people": [{"pose_keypoints_2d": flat, "face_keypoints_2d": None, "hand_left_keypoints_2d": None,
        "hand_right_keypoints_2d": None}], "canvas_width": W, "canvas_height": H}]


def openpose_frame():
    frame = dwpose_frame()
    flat = frame[0]["people"][0]["pose_keypoints_2d"]
    for i in range(0, len(flat), 3):
        flat[i] /= W
        flat[i + 1] /= H
    return frame


def test_pixel_and_normalised_inputs_read_the_same():
    a = parse_pose_keypoint(dwpose_frame())[0].people[0].body
    b = parse_pose_keypoint(openpose_frame())[0].people[0].body
    np.testing.assert_allclose(a, b, atol=1e-3, equal_nan=True)
    assert np.isnan(a[17]).all() and np.allclose(a[0], (100, 50))


def test_output_is_normalised_with_canvas_and_binary_confidence():
    out = frames_to_pose_keypoint(parse_pose_keypoint(json.dumps(dwpose_frame())))
    flat = np.array(out[0]["people"][0]["pose_keypoints_2d"]).reshape(-1, 3)
    assert out[0]["canvas_width"] == W and out[0]["canvas_height"] == H
    assert set(flat[:, 2].tolist()) == {0.0, 1.0} and flat[:, :2].max() <= 1.0
    assert flat[17].tolist() == [0.0, 0.0, 0.0]
    assert out[0]["people"][0]["hand_left_keypoints_2d"] is None


def test_bad_json_and_empty_poses_are_clear_errors():
    with pytest.raises(TruePoseInputError, match="not valid JSON"):
        parse_pose_keypoint("{people: ")
    with pytest.raises(TruePoseInputError, match="54 numbers|triples"):
        parse_pose_keypoint([{"people": [{"pose_keypoints_2d": [0.5, 0.5, 1.0]}], "canvas_width": 10, "canvas_height": 10}])
    empty = parse_pose_keypoint([{"people": [], "canvas_width": 10, "canvas_height": 10}])
    with pytest.raises(TruePoseInputError, match="frame 0 has no visible keypoint"):
        require_people(empty)


def test_render_uses_the_openpose_colours_in_rgb():
    frame = parse_pose_keypoint(dwpose_frame())[0]
    image = render_frame(frame, W, H)
    for k in (0, 1, 4, 10):  # joint discs: full colour
        x, y = PIXELS[k]
        assert tuple(image[y, x]) == COLOURS[k]
    # limb 8 (right knee -> ankle) at 60% colour, sampled between the joints
    a, b = LIMBS[8]
    mid = ((PIXELS[a][0] + PIXELS[b][0]) // 2, (PIXELS[a][1] + PIXELS[b][1]) // 2)
    assert tuple(image[mid[1], mid[0]]) == tuple(int(c * 0.6) for c in COLOURS[8])
    assert image[5, 5].sum() == 0  # black canvas


def test_render_scales_to_another_size_and_every_frame_renders():
    frames = parse_pose_keypoint(dwpose_frame() * 3)
    images = [render_frame(f, W * 2, H * 2) for f in frames]
    assert len(images) == 3 and images[0].shape == (H * 2, W * 2, 3)
    x, y = PIXELS[1]
    assert tuple(images[2][y * 2, x * 2]) == COLOURS[1]


def test_layout_puts_parts_where_the_skeleton_is():
    labels = draw_layout(parse_pose_keypoint(dwpose_frame())[0], W, H)
    name = lambda x, y: LIP_NAMES[labels[y, x]]  # noqa: E731
    assert name(100, 52) == "Face"
    assert name(100, 120) == "Upper-clothes"  # between shoulders and hips
    assert name(87, 240) == "Pants"
    assert name(71, 145) == "Right-arm"
    for shoulder_or_hip in (2, 5, 8, 11):
        assert name(*PIXELS[shoulder_or_hip]) in ("Upper-clothes", "Pants")
    for head_point in (0, 14, 15, 16):
        assert name(*PIXELS[head_point]) in ("Face", "Hair")
    assert labels[0, 0] == 0 and labels.shape == (H, W)


def test_layout_of_a_pose_reaching_past_the_canvas_is_clipped_to_it():
    points = [(x * 3 - 200, y) if x else None for x, y in ((p or (0, 0)) for p in PIXELS)]
    flat = []
    for p in points:
        flat += [0.0, 0.0, 0.0] if p is None else [float(p[0]), float(p[1]), 1.0]
    frame = parse_pose_keypoint([{"people": [{"pose_keypoints_2d": flat}], "canvas_width": W, "canvas_height": H}])[0]
    labels = draw_layout(frame, W, H)
    assert labels.shape == (H, W) and labels.any()
