"""Retargeting, layout converters and the offline estimator on a real photo."""

from pathlib import Path

import numpy as np
import pytest

from truepose_core.errors import TruePoseInputError
from truepose_core.pose import Person, PoseFrame, align_frames, coco17_to_coco18, mediapipe33_to_coco18
from truepose_core.pose.align import _TREE
from truepose_core.synthetic import default_pose

W, H = 256, 352


def frame(points, width=W, height=H):
    return PoseFrame(width, height, (Person(np.asarray(points, np.float32)),))


def bones(k):
    return {(p, c): float(np.linalg.norm(k[c] - k[p])) for p, cs in _TREE.items() for c in cs}


@pytest.mark.parametrize("mode", ["scale_translate", "limb_lengths"])
def test_identity_reference_gives_the_driving_pose_back(mode):
    pose = frame(default_pose(W, H, arms_up=True))
    out = align_frames(pose, [pose], mode)[0].people[0].body
    np.testing.assert_allclose(out, pose.people[0].body, atol=1e-3)


def test_scale_translate_keeps_bone_length_ratios_and_takes_the_reference_height():
    reference = default_pose(W, H)
    driving = (default_pose(W, H, arms_up=True) - [128, 176]) * 0.6 + [90, 150]  # smaller, elsewhere
    out = align_frames(frame(reference), [frame(driving)], "scale_translate")[0].people[0].body
    before, after = bones(driving), bones(out)
    ratios = np.array([after[b] / before[b] for b in before if before[b] > 0])
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-4)  # one uniform scale
    np.testing.assert_allclose(ratios[0], 1 / 0.6, rtol=1e-3)
    np.testing.assert_allclose(out[1], reference[1], atol=1e-3)  # on the reference's neck


def test_limb_lengths_gives_every_bone_the_reference_length_along_the_driving_direction():
    reference = default_pose(W, H)
    reference[[9, 10, 12, 13], 1] += 30  # long legs
    driving = default_pose(W, H, arms_up=True)
    out = align_frames(frame(reference), [frame(driving)], "limb_lengths")[0].people[0].body
    ref_bones, out_bones = bones(reference), bones(out)
    for bone, length in ref_bones.items():
        assert abs(out_bones[bone] - length) < 1e-2, bone
    up = out[4] - out[3]
    assert up[1] < 0  # the forearm still points up, as in the driving pose


def test_reference_on_another_canvas_is_mapped_by_height_share():
    reference = default_pose(W * 2, H * 2)
    driving = default_pose(W, H)
    out = align_frames(frame(reference, W * 2, H * 2), [frame(driving)], "scale_translate")[0].people[0].body
    np.testing.assert_allclose(out, driving, atol=1e-2)


def test_missing_points_stay_missing_and_an_empty_reference_is_an_error():
    driving = default_pose(W, H)
    driving[4] = np.nan
    out = align_frames(frame(default_pose(W, H)), [frame(driving)], "limb_lengths")[0].people[0].body
    assert np.isnan(out[4]).all() and np.isfinite(out[3]).all()
    with pytest.raises(TruePoseInputError, match="reference"):
        align_frames(PoseFrame(W, H, ()), [frame(driving)])


def test_converters_synthesise_the_neck():
    coco17 = np.arange(34, dtype=np.float32).reshape(17, 2)
    k = coco17_to_coco18(coco17)
    np.testing.assert_allclose(k[1], (coco17[5] + coco17[6]) / 2)
    assert tuple(k[2]) == tuple(coco17[6]) and tuple(k[15]) == tuple(coco17[1])
    mp33 = np.arange(66, dtype=np.float32).reshape(33, 2)
    mp33[12] = np.nan
    k = mediapipe33_to_coco18(mp33)
    assert np.isnan(k[1]).all() and np.isnan(k[2]).all()  # no neck without both shoulders
    assert tuple(k[8]) == tuple(mp33[24])


def test_estimator_finds_the_astronaut():
    pytest.importorskip("mediapipe", reason="mediapipe==0.10.21 is installed by scripts/setup_host.sh")
    data = pytest.importorskip("skimage.data")
    from truepose_core.pose import estimate_poses

    image = np.asarray(data.astronaut())
    frames = estimate_poses(np.stack([image, np.zeros_like(image)]))
    assert len(frames) == 2 and frames[1].people == ()
    k = frames[0].people[0].body
    nose, neck = k[0], k[1]
    assert 160 < nose[0] < 260 and 60 < nose[1] < 160  # the face is in the upper middle of the photo
    assert neck[1] > nose[1]


BASKETBALL = Path("/usr/share/doc/opencv-doc/examples/data")


@pytest.mark.skipif(not (BASKETBALL / "basketball1.png").exists(), reason="Debian's opencv-doc is not installed (.ci/run installs it)")
def test_estimator_on_the_same_player_in_two_poses():
    pytest.importorskip("mediapipe", reason="mediapipe==0.10.21 is installed by scripts/setup_host.sh")
    import cv2

    from truepose_core.pose import estimate_poses

    images = np.stack([cv2.imread(str(BASKETBALL / f"basketball{i}.png"))[..., ::-1] for i in (1, 2)])
    frames = estimate_poses(images)
    bodies = [f.people[0].body for f in frames]
    for k in bodies:
        assert k[0][1] < k[1][1] < k[8][1] < k[10][1]  # head above neck above hip above ankle
        assert k[1][0] < images.shape[2] / 2  # the player stands in the left half
    # the same person: retargeting pose 2 onto pose 1 changes bone lengths only a little
    aligned = align_frames(frames[0], [frames[1]], "limb_lengths")[0].people[0].body
    assert np.nanmax(np.abs(aligned - bodies[1])) < 0.1 * images.shape[1]
