"""Pose Editor and parsing previews in the in-process host (the browser side: tests/web)."""

import json
import os

import torch

from repo_paths import REPO_ROOT


def _editor(host):
    return host.nodes.NODE_CLASS_MAPPINGS["TruePose_PoseEditor"]()


def test_empty_store_outputs_the_default_skeleton_sized_to_the_canvas(host):
    out = _editor(host).edit("", 320, 480)
    pose, image = out["result"]
    assert len(pose) == 1 and (pose[0]["canvas_width"], pose[0]["canvas_height"]) == (320, 480)
    assert image.shape == (1, 480, 320, 3) and image.max() > 0
    payload = out["ui"]["truepose_pose"][0]
    assert payload["input"] is None and payload["edited"] is False and payload["output"] == pose


def test_incoming_pose_passes_through_until_edited(host):
    sequence = json.loads((REPO_ROOT / "workflows" / "inputs" / "truepose_pose_sequence.json").read_text())
    out = _editor(host).edit("", 256, 352, pose_keypoint=sequence)
    pose, image = out["result"]
    assert len(pose) == len(sequence) == image.shape[0]
    assert pose[1]["people"][0]["pose_keypoints_2d"] == sequence[1]["people"][0]["pose_keypoints_2d"]

    edited = json.loads(json.dumps(pose))
    edited[0]["people"][0]["pose_keypoints_2d"][12:15] = [0.25, 0.5, 1]  # move the right wrist
    edited[0]["people"][0]["pose_keypoints_2d"][21:24] = [0.7, 0.5, 0]  # hide the left wrist
    out = _editor(host).edit(json.dumps(edited), 256, 352, pose_keypoint=sequence)
    flat = out["result"][0][0]["people"][0]["pose_keypoints_2d"]
    assert flat[12:15] == [0.25, 0.5, 1.0] and flat[21:24] == [0.0, 0.0, 0.0]
    assert out["ui"]["truepose_pose"][0]["edited"] is True


def test_background_frames_are_saved_as_previews(host):
    out = _editor(host).edit("", 64, 64, bg_image=torch.rand(2, 40, 30, 3))
    refs = out["ui"]["truepose_pose"][0]["backgrounds"]
    assert len(refs) == 2 and all(os.path.isfile(os.path.join(host.folder_paths.get_temp_directory(), r["filename"])) for r in refs)


def test_parsing_nodes_send_a_preview_and_keep_their_outputs(host):
    cls = host.nodes.NODE_CLASS_MAPPINGS["TruePose_ParsingFromMasks"]
    face = torch.zeros(1, 16, 12)
    face[:, 2:6, 4:8] = 1
    out = getattr(cls(), cls.FUNCTION)(face=face)
    (parsing,) = out["result"]
    assert parsing.labels.shape == (1, 16, 12)
    (entry,) = out["ui"]["truepose_parsing"]
    assert [label["name"] for label in entry["labels"]] == ["Background", "Face"]
    assert entry["labels"][1]["color"] == [192, 0, 128] and entry["source"] is None
    assert (parsing.labels == cls().build(face=face)[0].labels).all(), "the direct method is unchanged"
