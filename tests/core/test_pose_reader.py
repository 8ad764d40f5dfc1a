"""The validated POSE_KEYPOINT reader: controlnet_aux's rules, missing points, canvases, and a clear error for every malformed pose."""

import json
import tracemalloc

import numpy as np
import pytest

from truepose_core.errors import TruePoseInputError
from truepose_core.pose import parse_pose_keypoint, render_frame

W, H = 200, 300
STANDING = [
    (100, 50), (100, 80), (80, 82), (72, 120), (70, 155), (120, 82), (128, 120), (130, 155),
    (88, 160), (87, 215), (87, 265), (112, 160), (113, 215), (113, 265), (96, 46), (104, 46), (92, 48), (108, 48),
]


def flat(points, scale=(1.0, 1.0), c=1.0):
    return [v for x, y in points for v in (x / scale[0], y / scale[1], c)]


def frame(person=None, **canvas):
    canvas = canvas or {"canvas_width": W, "canvas_height": H}
    return {"people": [person if person is not None else {"pose_keypoints_2d": flat(STANDING, (W, H))}], **canvas}


def lit(f):
    return int(render_frame(f, f.width, f.height).reshape(-1, 3).any(axis=1).sum())


def test_each_part_decides_pixels_or_normalised_on_its_own():
    hand = [(100 + k, 150 + k) for k in range(21)]
    person = {"pose_keypoints_2d": flat(STANDING), "hand_left_keypoints_2d": flat(hand, (W, H))}  # pixel body, normalised hand
    p = parse_pose_keypoint(frame(person))[0].people[0]
    np.testing.assert_allclose(p.body[0], (100, 50))
    np.testing.assert_allclose(p.left_hand[3], (103, 153))
    assert p.body.dtype == np.float64 and p.left_hand.dtype == np.float64


def test_a_pixel_pose_with_hands_only_is_read_as_pixels():
    hand = [(100 + k, 150 + k) for k in range(21)]
    p = parse_pose_keypoint(frame({"pose_keypoints_2d": [0.0] * 54, "hand_right_keypoints_2d": flat(hand)}))[0].people[0]
    np.testing.assert_allclose(p.right_hand[20], (120, 170))
    assert np.isnan(p.body).all()


@pytest.mark.parametrize("bad", [float("nan"), None, float("inf"), 1e999, -float("inf")])
def test_a_nan_null_or_infinite_value_is_one_missing_point_not_a_format_flip(bad):
    person = {"pose_keypoints_2d": flat(STANDING, (W, H))}
    person["pose_keypoints_2d"][4 * 3] = bad
    f = parse_pose_keypoint(frame(person))[0]
    assert np.isnan(f.people[0].body[4]).all()
    np.testing.assert_allclose(f.people[0].body[0], (100, 50))
    assert lit(f) > 3000
    text = json.dumps(frame(person)).replace("NaN", "NaN")  # the JSON spelling (NaN, Infinity, null) reads the same
    assert np.isnan(parse_pose_keypoint(text)[0].people[0].body[4]).all()


def test_a_wrist_just_past_the_right_edge_keeps_the_pose_normalised():
    person = {"pose_keypoints_2d": flat(STANDING, (W, H))}
    person["pose_keypoints_2d"][4 * 3] = 1.03
    f = parse_pose_keypoint(frame(person))[0]
    np.testing.assert_allclose(f.people[0].body[4], (1.03 * W, 155), atol=1e-9)
    assert lit(f) > 3000  # the reference reads this as pixels: ~20 lit pixels in the corner
    tiny = parse_pose_keypoint(frame(person, canvas_width=32, canvas_height=32))[0]
    np.testing.assert_allclose(tiny.people[0].body[4], (1.03, 155 / H))  # below 64 px: controlnet_aux's rule exactly


def test_confidence_below_or_at_zero_is_missing_and_real_scores_are_kept():
    body = flat(STANDING)
    body[2], body[5], body[8] = 0.0, -1.0, 0.4
    p = parse_pose_keypoint(frame({"pose_keypoints_2d": body}))[0].people[0]
    assert np.isnan(p.body[[0, 1]]).all() and np.isfinite(p.body[2]).all()
    assert p.scores["body"][2] == 0.4 and np.isnan(p.scores["body"][0])
    assert np.isnan(p.part("body", 1.0)[2]).all() and np.isfinite(p.part("body", 0.3)[2]).all()
    assert "body" not in parse_pose_keypoint(frame())[0].people[0].scores  # c = 1 everywhere: no score table


def test_empty_lists_and_nulls_are_absent_parts():
    person = {"pose_keypoints_2d": flat(STANDING), "hand_left_keypoints_2d": [], "hand_right_keypoints_2d": None, "face_keypoints_2d": []}
    p = parse_pose_keypoint(frame(person))[0].people[0]
    assert p.left_hand is None and p.right_hand is None and p.face is None
    assert np.isnan(parse_pose_keypoint(frame({"pose_keypoints_2d": []}))[0].people[0].body).all()
    assert parse_pose_keypoint({"canvas_width": 8, "canvas_height": 8})[0].people == ()


def test_nested_triples_numpy_values_body25_and_68_point_faces_are_read():
    nested = {"pose_keypoints_2d": [[x, y, 1.0] for x, y in STANDING], "face_keypoints_2d": flat([(50 + k, 40) for k in range(68)])}
    p = parse_pose_keypoint(frame(nested))[0].people[0]
    np.testing.assert_allclose(p.body[17], STANDING[17])
    assert p.face.shape == (70, 2) and np.isnan(p.face[68:]).all()
    in_memory = {"pose_keypoints_2d": np.array([[x, y, 1.0] for x, y in STANDING], np.float32),
        "hand_left_keypoints_2d": [np.float32(5.0)] * 63}
    p = parse_pose_keypoint(frame(in_memory))[0].people[0]
    np.testing.assert_allclose(p.body[3], STANDING[3])
    np.testing.assert_allclose(p.left_hand[0], (5, 5))
    mixed = {"people": [{"pose_keypoints_2d": [None, None, None] + [np.float32(0.5)] * 51}], "canvas_width": np.int64(W),
        "canvas_height": np.int64(H)}
    p = parse_pose_keypoint(mixed)[0].people[0]
    assert np.isnan(p.body[0]).all() and np.allclose(p.body[1], (W / 2, H / 2))
    body25 = STANDING[:8] + [(100, 160)] + STANDING[8:] + [(0, 0)] * 6
    p = parse_pose_keypoint(frame({"pose_keypoints_2d": flat(body25)}))[0].people[0]
    np.testing.assert_allclose(p.body, np.array(STANDING, float))


def test_a_pose_without_canvas_uses_the_callers_canvas_never_1x1():
    with pytest.raises(TruePoseInputError,
        match=(r"frame 0 has no canvas_width / canvas_height.*Fix: add canvas_width and canvas_height to the frame \(the image size in "
            r"pixels\)\.$")):
        parse_pose_keypoint({"people": [{"pose_keypoints_2d": flat(STANDING)}]})
    with pytest.raises(TruePoseInputError, match="or set the node's width and height"):
        parse_pose_keypoint({"people": [{"pose_keypoints_2d": flat(STANDING)}]}, canvas_alternative=", or set the node's width and height")
    f = parse_pose_keypoint({"people": [{"pose_keypoints_2d": flat(STANDING)}]}, default_canvas=(W, H))[0]
    assert (f.width, f.height, f.canvas_given) == (W, H, False)
    np.testing.assert_allclose(f.people[0].body[0], (100, 50))
    f = parse_pose_keypoint({"people": [{"pose_keypoints_2d": flat(STANDING)}]}, pixels_without_canvas=True)[0]
    assert (f.width, f.height, f.canvas_given) == (131, 266, False)
    with pytest.raises(TruePoseInputError, match="normalised coordinates .* no canvas_width"):
        parse_pose_keypoint({"people": [{"pose_keypoints_2d": flat(STANDING, (W, H))}]}, pixels_without_canvas=True)


BODY = flat(STANDING)
MALFORMED = [
    ({"people": None, "canvas_width": 8, "canvas_height": 8},
        r"frame 0: people is None \(NoneType\), not a list\. Fix: give 'people': \[\]"),
    ({"people": [[1, 2]], "canvas_width": 8, "canvas_height": 8}, r"frame 0, person 0 is \[1, 2\] \(list\), not an object"),
    ({"people": [{"pose_keypoints_2d": [0.5] * 53}], "canvas_width": 8, "canvas_height": 8},
        r"frame 0, person 0, pose_keypoints_2d: expected 18 points \(54 numbers\) or 25 .* got 53"),
    ({"people": [{"pose_keypoints_2d": ["0.5"] * 54}], "canvas_width": 8, "canvas_height": 8},
        r"pose_keypoints_2d: value 0 is '0\.5' \(str\), not a number\. Fix: keypoint lists hold numbers"),
    ({"people": [], "canvas_width": "wide", "canvas_height": 8},
        r"frame 0: canvas_width is 'wide', not a number\. Fix: set canvas_width to the image size"),
    ("[" * 100000 + "]" * 100000, r"nested far too deeply"),
    (b'[{"people": [], "canvas_width": 8, "canvas_height": 8, "note": "\xff"}]', r"not UTF-8 text .*Fix: save the file as UTF-8"),
    ('[{"people": [], "canvas_width": Infinity, "canvas_height": 8}]', r"frame 0: canvas_width is inf, not a whole number of pixels"),
    ('[{"people": [], "canvas_width": 8, "canvas_height": NaN}]', r"frame 0: canvas_height is nan, not a whole number"),
    ({"people": [{"pose_keypoints_2d": [1e12, 5.0, 1.0] + BODY[3:]}], "canvas_width": 8, "canvas_height": 8},
        r"frame 0, person 0, pose_keypoints_2d: point 0 is at \(1e\+12, 5\), beyond"),
    ({"people": [], "canvas_width": 100000, "canvas_height": 100000}, r"canvas_width = 100000 is outside 1\.\.16384 pixels"),
    ({"people": [{"pose_keypoints_2d": BODY}] * 300, "canvas_width": 8, "canvas_height": 8}, r"frame 0 has 300 people; at most 256"),
    ([{"people": [], "canvas_width": 8, "canvas_height": 8},
        {"people": [{"hand_left_keypoints_2d": [1.0] * 60}], "canvas_width": 8, "canvas_height": 8}],
     r"frame 1, person 0, hand_left_keypoints_2d: expected 21 points \(63 numbers\), got 60"),
    ({"people": [{"face_keypoints_2d": "none"}], "canvas_width": 8, "canvas_height": 8},
        r"frame 0, person 0, face_keypoints_2d is 'none' \(str\), not a list"),
    ({"people": [], "canvas_width": 512.5, "canvas_height": 8}, r"canvas_width is 512\.5, not a whole number"),
    ({"people": [], "canvas_width": 8}, r"only one of canvas_width / canvas_height"),
    ([], r"expected OpenPose frames.*got an empty list"),
    (42, r"got 42 \(int\)"),
    (["frame"], r"frame 0 is 'frame' \(str\), not an object"),
    ("{people: ", r"not valid JSON \(Expecting property name .* line 1, column 2\)"),
    ({"animals": [[[1, 2, 1]] * 17], "canvas_width": 8, "canvas_height": 8}, r"animal keypoints \(ap10k\)"),
    ({"people": [{"pose_keypoints_2d": [1.0] * 53 + [{}]}], "canvas_width": 8, "canvas_height": 8}, r"value 53 is \{\} \(dict\)"),
]


@pytest.mark.parametrize(("value", "message"), MALFORMED, ids=[str(i) for i in range(len(MALFORMED))])
def test_every_malformed_pose_is_a_clear_error(value, message):
    with pytest.raises(TruePoseInputError, match=message) as caught:
        parse_pose_keypoint(value, "driving")
    assert str(caught.value).startswith("input 'driving': ") and " Fix: " in str(caught.value)


def test_parsing_is_vectorised_memory_stays_proportional():
    rng = np.random.default_rng(0)
    person = {"pose_keypoints_2d": rng.uniform(0, 1, 54).tolist(), "face_keypoints_2d": rng.uniform(0, 1, 210).tolist(),
              "hand_left_keypoints_2d": rng.uniform(0, 1, 63).tolist(), "hand_right_keypoints_2d": rng.uniform(0, 1, 63).tolist()}
    frames = [{"people": [person], "canvas_width": 64, "canvas_height": 64}] * 2000
    numbers = 2000 * 390
    tracemalloc.start()
    parsed = parse_pose_keypoint(frames)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(parsed) == 2000 and parsed[-1].people[0].face.shape == (70, 2)
    assert peak < 12 * 8 * numbers, f"{peak / 1e6:.0f} MB for {numbers} numbers"  # a few float64 copies, no per-number Python objects
