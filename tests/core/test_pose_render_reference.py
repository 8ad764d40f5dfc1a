"""Render Pose against controlnet_aux's drawing rules, written here as facts (never from our renderer).

Facts (comfyui_controlnet_aux dwpose/util.py draw_bodypose / draw_handpose / draw_facepose and
dwpose/__init__.py decode_json_as_poses; ControlNet 1.1's annotator draws the same):
- a point is present when c >= 1.0; normalised vs pixel is decided per part (every |x|, |y| <= 1);
- limbs: cv2.ellipse2Poly(centre = int of the mean, axes = (int(length / 2), 4), int(angle)),
  filled at int(0.6 * colour); joints: radius-4 discs at (int(x), int(y)) in full colour;
- hands: edge i in the HSV(i / 20) colour, thickness 2, radius-4 blue joints; a hand point
  with int(x) <= 0 or int(y) <= 0 is not drawn, nor its edges; face: radius-3 white dots, same rule;
- people one after another: body, left hand, right hand, face.
"""

import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from truepose_core.pose import parse_pose_keypoint, render_frame

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pose"

LIMBS_1_BASED = [[2, 3], [2, 6], [3, 4], [4, 5], [6, 7], [7, 8], [2, 9], [9, 10], [10, 11], [2, 12], [12, 13], [13, 14], [2, 1], [1, 15],
    [15, 17], [1, 16], [16, 18]]
COLOURS = [
    [255, 0, 0], [255, 85, 0], [255, 170, 0], [255, 255, 0], [170, 255, 0], [85, 255, 0], [0, 255, 0], [0, 255, 85], [0, 255, 170],
    [0, 255, 255], [0, 170, 255], [0, 85, 255], [0, 0, 255], [85, 0, 255], [170, 0, 255], [255, 0, 255], [255, 0, 170], [255, 0, 85],
]
HAND_EDGES = [[0, 1], [1, 2], [2, 3], [3, 4], [0, 5], [5, 6], [6, 7], [7, 8], [0, 9], [9, 10], [10, 11], [11, 12], [0, 13], [13, 14],
    [14, 15], [15, 16], [0, 17], [17, 18], [18, 19], [19, 20]]
# the colour OpenCV writes for HSV(i / 20, 1, 1) * 255 (floats, rounded by OpenCV)
HAND_EDGE_RGB = [
    (255, 0, 0), (255, 77, 0), (255, 153, 0), (255, 229, 0), (204, 255, 0), (128, 255, 0), (51, 255, 0), (0, 255, 25), (0, 255, 102),
    (0, 255, 179),
    (0, 255, 255), (0, 178, 255), (0, 102, 255), (0, 25, 255), (51, 0, 255), (128, 0, 255), (204, 0, 255), (255, 0, 230), (255, 0, 153),
    (255, 0, 77),
]


def spec_points(flat, width, height):
    """decode_json_as_poses + is_normalized, per part: pixel (x, y) floats or None."""
    if not flat:
        return None
    triples = [flat[i : i + 3] for i in range(0, len(flat), 3)]
    present = [(x, y) for x, y, c in triples if c >= 1.0]
    scale = (width, height) if present and all(abs(x) <= 1 and abs(y) <= 1 for x, y in present) else (1.0, 1.0)
    return [(x * scale[0], y * scale[1]) if c >= 1.0 else None for x, y, c in triples]


def spec_render(frame: dict) -> np.ndarray:
    width, height = frame["canvas_width"], frame["canvas_height"]
    image = np.zeros((height, width, 3), np.uint8)
    for person in frame["people"]:
        body = spec_points(person["pose_keypoints_2d"], width, height)
        for (a, b), colour in zip(LIMBS_1_BASED, COLOURS):
            p, q = body[a - 1], body[b - 1]
            if p is None or q is None:
                continue
            length = math.sqrt((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2)
            angle = math.degrees(math.atan2(p[1] - q[1], p[0] - q[0]))
            polygon = cv2.ellipse2Poly((int((p[0] + q[0]) / 2), int((p[1] + q[1]) / 2)), (int(length / 2), 4), int(angle), 0, 360, 1)
            cv2.fillConvexPoly(image, polygon, [int(c * 0.6) for c in colour])
        for point, colour in zip(body, COLOURS):
            if point is not None:
                cv2.circle(image, (int(point[0]), int(point[1])), 4, colour, -1)
        for key in ("hand_left_keypoints_2d", "hand_right_keypoints_2d"):
            hand = spec_points(person.get(key), width, height)
            if hand is None:
                continue
            pixel = [None if p is None or int(p[0]) <= 0 or int(p[1]) <= 0 else (int(p[0]), int(p[1])) for p in hand]
            for (a, b), colour in zip(HAND_EDGES, HAND_EDGE_RGB):
                if pixel[a] and pixel[b]:
                    cv2.line(image, pixel[a], pixel[b], colour, 2)
            for p in pixel:
                if p:
                    cv2.circle(image, p, 4, (0, 0, 255), -1)
        face = spec_points(person.get("face_keypoints_2d"), width, height)
        for p in face or ():
            if p is not None and int(p[0]) > 0 and int(p[1]) > 0:
                cv2.circle(image, (int(p[0]), int(p[1])), 3, (255, 255, 255), -1)
    return image


def ours(frame: dict, **kw) -> np.ndarray:
    parsed = parse_pose_keypoint(frame)[0]
    return render_frame(parsed, frame["canvas_width"], frame["canvas_height"], min_confidence=kw.pop("min_confidence", 1.0), **kw)


def body(points: dict, c=1.0) -> list[float]:
    flat = [0.0] * 54
    for k, (x, y) in points.items():
        flat[3 * k : 3 * k + 3] = [x, y, c]
    return flat


def frame(people, width=128, height=96) -> dict:
    return {"people": people, "canvas_width": width, "canvas_height": height}


def test_one_limb_is_a_filled_ellipse_at_60_percent_and_its_joints_full_colour():
    f = frame([{"pose_keypoints_2d": body({1: (100.0, 50.0), 2: (60.0, 50.0)})}])
    image = ours(f)
    expected = np.zeros_like(image)
    cv2.fillConvexPoly(expected, cv2.ellipse2Poly((80, 50), (20, 4), 0, 0, 360, 1), (153, 0, 0))  # limb 0 at 60 %
    cv2.circle(expected, (100, 50), 4, (255, 85, 0), -1)  # neck
    cv2.circle(expected, (60, 50), 4, (255, 170, 0), -1)  # right shoulder
    assert np.array_equal(image, expected)
    assert tuple(image[50, 80]) == (153, 0, 0) and tuple(image[50, 100]) == (255, 85, 0) and tuple(image[50, 60]) == (255, 170, 0)
    assert image[56, 80].sum() == 0 and image.reshape(-1, 3).any(axis=1).sum() > 200


def test_joint_positions_are_truncated_from_float64():
    # 0.29 * 100 is 28.999999999999996 in float64 (joint at x = 28) but 29.0 in float32
    f = frame([{"pose_keypoints_2d": body({0: (0.29, 0.5)})}], 100, 100)
    image = ours(f)
    expected = np.zeros_like(image)
    cv2.circle(expected, (28, 50), 4, (255, 0, 0), -1)
    assert np.array_equal(image, expected)
    assert image[50, 24].any() and not image[50, 33].any()


def test_hand_points_at_or_beyond_the_top_left_edge_hide_with_their_edges():
    points = [(60.0, 90.0)] + [(20.0 + 20 * ((k - 1) // 4), 80.0 - 14 * ((k - 1) % 4 + 1)) for k in range(1, 21)]
    hand = [v for x, y in points for v in (x, y, 1.0)]
    hand[4 * 3 + 1] = -3.8  # a fingertip just above the image (DWPose): int(y) <= 0
    hand[8 * 3 : 8 * 3 + 2] = [0.6, 30.0]  # int(x) == 0
    f = frame([{"pose_keypoints_2d": body({}), "hand_left_keypoints_2d": hand}])
    image = ours(f)
    assert np.array_equal(image, spec_render(f))
    assert not image[:3].any() and not image[:, :3].any()  # no sliver on the top or left edge
    edge_3_4 = HAND_EDGE_RGB[3]
    assert not (image == edge_3_4).all(axis=2).any()  # the edge to the hidden fingertip is gone
    assert (image == HAND_EDGE_RGB[2]).all(axis=2).any()


def test_openpose_undetected_hand_peaks_draw_nothing_in_the_corner():
    w, h = 160, 120
    hand = [v for k in range(21) for v in ((50 + k) / w, (60 + k) / h, 1.0)]
    for k in (3, 4, 9):
        hand[3 * k : 3 * k + 2] = [-1 / w, -1 / h]
    f = frame([{"pose_keypoints_2d": body({4: (50 / w, 60 / h)}), "hand_right_keypoints_2d": hand}], w, h)
    image = ours(f)
    assert np.array_equal(image, spec_render(f))
    assert not image[:20, :20].any()
    assert (image == (0, 0, 255)).all(axis=2).sum() > 100  # the detected joints are drawn


def test_face_dots_follow_the_same_rule():
    f = frame([{"pose_keypoints_2d": body({}),
        "face_keypoints_2d": [v for k in range(70) for v in ((0.7 if k == 0 else 10.0 + k), 20.0, 1.0)]}])
    image = ours(f)
    expected = np.zeros_like(image)
    for k in range(1, 70):
        cv2.circle(expected, (10 + k, 20), 3, (255, 255, 255), -1)
    assert np.array_equal(image, expected)


def test_body_points_beyond_the_border_still_draw_their_limbs():
    f = frame([{"pose_keypoints_2d": body({1: (-10.0, 40.0), 2: (30.0, 40.0), 8: (50.0, 130.0)})}])
    image = ours(f)
    assert np.array_equal(image, spec_render(f))
    assert tuple(image[40, 0]) == (153, 0, 0) and tuple(image[40, 30]) == (255, 170, 0)


def test_people_are_drawn_one_after_another():
    face = [v for k in range(70) for v in (60.0, 50.0, 1.0)]
    first = {"pose_keypoints_2d": body({}), "face_keypoints_2d": face}
    second = {"pose_keypoints_2d": body({1: (40.0, 50.0), 2: (80.0, 50.0)})}
    assert tuple(ours(frame([first, second]))[50, 60]) == (153, 0, 0)  # the second body covers the first face
    assert tuple(ours(frame([second, first]))[50, 60]) == (255, 255, 255)


def test_points_below_min_confidence_are_left_out():
    f = frame([{"pose_keypoints_2d": body({1: (100.0, 50.0), 2: (60.0, 50.0)}, c=0.9)}])
    assert not ours(f).any()  # controlnet_aux's default: c >= 1
    assert tuple(ours(f, min_confidence=0.5)[50, 80]) == (153, 0, 0)


@pytest.mark.parametrize("name", ["dwpose_pixels.json", "openpose_normalised.json", "openpose_preprocessor.json"])
def test_fixtures_render_as_the_reference_rules_say(name):
    f = json.loads((FIXTURES / name).read_text())[0]
    image = ours(f)
    assert np.array_equal(image, spec_render(f))
    assert image.reshape(-1, 3).any(axis=1).sum() > 3000


def test_the_dwpose_fixture_has_no_edge_slivers():
    f = json.loads((FIXTURES / "dwpose_pixels.json").read_text())[0]
    assert min(f["people"][0]["hand_left_keypoints_2d"][1::3]) < -3  # fingertips above the image
    image = ours(f)
    hidden = [k for k in range(21) if f["people"][0]["hand_left_keypoints_2d"][3 * k + 1] < 1]
    assert hidden == [4, 8]
    for edge in (3, 7):  # the edges to them (3-4 and 7-8) are not drawn
        assert not (image == HAND_EDGE_RGB[edge]).all(axis=2).any()
    x, y = (int(v) for v in f["people"][0]["pose_keypoints_2d"][3:5])
    assert tuple(image[y, x]) == (255, 85, 0)  # neck, full colour
