"""Pose nodes in the host with other tools' pose data and hostile input: every consumer reads
through the one validated reader, files stay inside ComfyUI's folders, errors name node, input and fix."""

import json
import os

import numpy as np
import pytest

from repo_paths import REPO_ROOT

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "pose"


def node(host, name):
    return host.nodes.NODE_CLASS_MAPPINGS[name]()


def fixture(name):
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def input_dir(host):
    import folder_paths

    path = folder_paths.get_input_directory()
    os.makedirs(os.path.join(path, "truepose_test"), exist_ok=True)
    return path


def test_load_pose_json_reads_inside_the_input_folder_only(host, input_dir, tmp_path):
    inside = os.path.join(input_dir, "truepose_test", "dw.json")
    with open(inside, "w") as f:
        f.write((FIXTURES / "dwpose_pixels.json").read_text())
    (poses,) = node(host, "TruePose_LoadPoseJSON").load("truepose_test/dw.json")
    assert poses[0]["canvas_width"] == 320 and max(poses[0]["people"][0]["pose_keypoints_2d"][0::3]) <= 1.0

    outside = tmp_path / "secret.json"
    outside.write_text((FIXTURES / "dwpose_pixels.json").read_text())
    link = os.path.join(input_dir, "truepose_test", "link.json")
    if not os.path.lexists(link):
        os.symlink(outside, link)
    climb = os.path.relpath(outside, input_dir)
    for name in (climb, str(outside), "truepose_test/link.json"):
        with pytest.raises(ValueError,
            match=(r"TruePose_LoadPoseJSON: input 'pose_json': '.*' is outside ComfyUI's input folder.*Fix: copy the .json file into "
                r"ComfyUI/input")):
            node(host, "TruePose_LoadPoseJSON").load(name)


def test_load_pose_json_reports_a_file_that_is_not_utf8(host, input_dir):
    path = os.path.join(input_dir, "truepose_test", "latin1.json")
    with open(path, "wb") as f:
        f.write(b'[{"people": [], "canvas_width": 8, "canvas_height": 8, "note": "caf\xe9"}]')
    with pytest.raises(ValueError, match=r"TruePose_LoadPoseJSON: input 'pose_json': the pose JSON is not UTF-8 text"):
        node(host, "TruePose_LoadPoseJSON").load("truepose_test/latin1.json")


@pytest.mark.parametrize("prefix", ["../outside/pose", "/tmp/pose", "truepose/../../pose", ""])
def test_save_pose_json_names_its_prefix_and_the_fix(host, prefix):
    with pytest.raises(ValueError,
        match=r"TruePose_SavePoseJSON: input 'filename_prefix': the prefix .*Fix: use a relative prefix such as 'truepose/pose'"):
        node(host, "TruePose_SavePoseJSON").save(fixture("dwpose_pixels.json"), prefix)


def test_render_pose_with_cmu_json_needs_a_size_and_a_lower_min_confidence(host):
    render = node(host, "TruePose_RenderPose").render
    cmu = fixture("cmu_body25.json")
    with pytest.raises(ValueError,
        match=r"TruePose_RenderPose: input 'pose_keypoint': frame 0 has no canvas_width / canvas_height.*set the node's width and height"):
        render(cmu, 0, 0, 1.0)
    with pytest.raises(ValueError,
        match=r"TruePose_RenderPose: input 'min_confidence': frame 0: every body point has a confidence below min_confidence = 1"):
        render(cmu, 320, 448, 1.0)
    (image,) = render(cmu, 320, 448, 1.0, min_confidence=0.3)
    assert image.shape == (1, 448, 320, 3) and (image.sum(-1) > 0).sum() > 3000


def test_render_pose_draws_no_corner_lines_for_openpose_missing_points(host):
    (image,) = node(host, "TruePose_RenderPose").render(fixture("openpose_preprocessor.json"), 0, 0, 1.0)
    assert image.shape == (1, 448, 320, 3)
    assert image[0, :8, :8].sum() == 0 and (image[0].sum(-1) > 0).sum() > 3000


def test_render_pose_refuses_a_huge_canvas_unless_given_a_size(host):
    big = {"people": fixture("openpose_normalised.json")[0]["people"], "canvas_width": 12000, "canvas_height": 9000}
    with pytest.raises(ValueError, match=r"TruePose_RenderPose: input 'width': the output would be 12000x9000.*Fix: set width and height"):
        node(host, "TruePose_RenderPose").render(big, 0, 0, 1.0)
    (image,) = node(host, "TruePose_RenderPose").render(big, 320, 240, 1.0)
    assert image.shape == (1, 240, 320, 3) and image.max() > 0


def test_align_pose_near_the_border_keeps_the_canvas_and_stays_normalised(host):
    driving = fixture("align_near_border.json")
    (aligned,) = node(host, "TruePose_AlignPose").align(fixture("dwpose_pixels.json"), driving, "scale_translate")
    assert (aligned[0]["canvas_width"], aligned[0]["canvas_height"]) == (320, 448)
    flat = np.array(aligned[0]["people"][0]["pose_keypoints_2d"]).reshape(18, 3)
    assert np.abs(flat[:, :2]).max() <= 1.0 and (flat[:, 2] == 1.0).sum() == 18
    (image,) = node(host, "TruePose_RenderPose").render(aligned, 0, 0, 1.0)
    assert (image[0].sum(-1) > 0).sum() > 3000
    with pytest.raises(ValueError, match=r"TruePose_AlignPose: input 'driving': frame 0: people is None"):
        node(host, "TruePose_AlignPose").align(fixture("dwpose_pixels.json"), {"people": None, "canvas_width": 8, "canvas_height": 8},
            "scale_translate")


def test_pose_to_layout_and_the_editor_read_the_same_validated_poses(host):
    pixels_no_canvas = {"people": fixture("dwpose_pixels.json")[0]["people"]}
    layout, person = node(host, "TruePose_PoseToLayout").layout(pixels_no_canvas, 320, 448)
    assert layout.labels.shape == (1, 448, 320) and person.sum() > 1000
    with pytest.raises(ValueError, match=r"TruePose_PoseToLayout: input 'pose_keypoint': frame 0 has no canvas_width"):
        node(host, "TruePose_PoseToLayout").layout(pixels_no_canvas, 0, 0)
    editor = node(host, "TruePose_PoseEditor")
    with pytest.raises(ValueError, match=r"TruePose_PoseEditor: input 'pose_store': frame 0, person 0, pose_keypoints_2d: value 0 is 'x'"):
        editor.edit(json.dumps([{"people": [{"pose_keypoints_2d": ["x"] * 54}], "canvas_width": 8, "canvas_height": 8}]), 256, 256)
    out = editor.edit("", 320, 448, pose_keypoint=fixture("openpose_preprocessor.json"))
    hand = np.array(out["result"][0][0]["people"][0]["hand_left_keypoints_2d"]).reshape(21, 3)
    assert (hand[[4, 8, 12]] == 0).all() and (hand[:4, 2] == 1).all()  # undetected peaks come out missing
