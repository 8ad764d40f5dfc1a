"""Pose nodes in the host: estimate on a photo, retarget a pose onto it, render and lay out."""

import json

import numpy as np
import pytest
import torch

from repo_paths import REPO_ROOT

pytest.importorskip("mediapipe", reason="mediapipe==0.10.21 is installed by scripts/setup_host.sh")
skimage_data = pytest.importorskip("skimage.data")


def node(host, name):
    return host.nodes.NODE_CLASS_MAPPINGS[name]()


def test_estimate_align_render_layout_chain(host):
    photo = torch.from_numpy(np.asarray(skimage_data.astronaut())).float()[None] / 255.0
    reference, skeleton = node(host, "TruePose_EstimatePose").estimate(photo, "error")
    assert skeleton.shape == (1, 512, 512, 3) and skeleton.max() > 0.9
    assert reference[0]["canvas_width"] == 512 and max(reference[0]["people"][0]["pose_keypoints_2d"][0::3]) <= 1.0
    (driving,) = node(host, "TruePose_LoadPoseJSON").load((REPO_ROOT / "workflows" / "inputs" / "truepose_target_pose.json").read_text())
    (aligned,) = node(host, "TruePose_AlignPose").align(reference, driving, "limb_lengths")
    assert aligned[0]["canvas_height"] == driving[0]["canvas_height"]
    (images,) = node(host, "TruePose_RenderPose").render(aligned, 0, 0, 1.0)
    layout, person = node(host, "TruePose_PoseToLayout").layout(aligned, 0, 0)
    assert images.shape[1:3] == layout.labels.shape[1:] and person.sum() > 0


def test_a_frame_without_a_person_is_an_error_unless_empty_poses_are_asked_for(host):
    black = torch.zeros(2, 64, 64, 3)
    with pytest.raises(ValueError, match=r"TruePose_EstimatePose: input 'image': no person found in frame\(s\) \[0, 1\]"):
        node(host, "TruePose_EstimatePose").estimate(black, "error")
    poses, _ = node(host, "TruePose_EstimatePose").estimate(black, "empty pose")
    assert [f["people"] for f in poses] == [[], []]
    with pytest.raises(ValueError, match="TruePose_PoseToLayout: input 'pose_keypoint': frame 0 has no visible keypoint"):
        node(host, "TruePose_PoseToLayout").layout(poses, 0, 0)
    with pytest.raises(ValueError, match="TruePose_RenderPose: input 'pose_keypoint': the pose is empty"):
        node(host, "TruePose_RenderPose").render(poses, 0, 0, 1.0)


def test_pose_json_round_trip_through_save_and_load(host):
    text = (REPO_ROOT / "workflows" / "inputs" / "truepose_pose_sequence.json").read_text()
    (poses,) = node(host, "TruePose_LoadPoseJSON").load(text)
    saved = node(host, "TruePose_SavePoseJSON").save(poses, "truepose_test/pose", False)
    path = host.root / "output" / saved["ui"]["text"][0]
    assert json.loads(path.read_text()) == poses and len(poses) == 3
    per_frame = node(host, "TruePose_SavePoseJSON").save(poses, "truepose_test/frames", True)["ui"]["text"]
    frames = [json.loads((host.root / "output" / p).read_text()) for p in per_frame]
    assert frames == poses
    (reloaded,) = node(host, "TruePose_LoadPoseJSON").load(json.dumps(frames[1]))
    assert reloaded == [poses[1]]
