"""The offline quick parser on a real photo (scikit-image's astronaut, a waist-up portrait)."""

import sys

import numpy as np
import pytest
import torch

from truepose_core.parsing.labels import LIP_NAMES
from truepose_core.parsing.quick_geometry import L_HIP, L_SH, NOSE, R_HIP, R_SH, Landmarks

from truepose_core.errors import TruePoseInputError
from truepose_core.parsing.quick import QuickParser

LIP = {n: i for i, n in enumerate(LIP_NAMES)}


@pytest.fixture(scope="module")
def astronaut():
    mp = pytest.importorskip("mediapipe")
    rgb = pytest.importorskip("skimage.data").astronaut()
    with mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1) as pose:
        found = pose.process(rgb)
    assert found.pose_landmarks is not None, "MediaPipe found no person in the astronaut photo"
    landmarks = Landmarks.from_mediapipe(found.pose_landmarks, rgb.shape[:2])
    image = torch.from_numpy(rgb).float()[None] / 255
    batch = torch.cat([image, image.flip(2)])  # the mirrored photo as a second, different frame
    seen = []
    result = QuickParser().parse(batch, on_frame=seen.append)
    assert seen == [0, 1]
    return landmarks, result


def around(labels, point, radius):
    x, y = (int(round(v)) for v in point)
    return labels[max(y - radius, 0) : y + radius + 1, max(x - radius, 0) : x + radius + 1]


def test_face_is_labelled_around_the_detected_nose(astronaut):
    landmarks, result = astronaut
    labels = result.parsing.labels[0].numpy()
    patch = around(labels, landmarks.xy[NOSE], 6)
    assert (patch == LIP["Face"]).mean() > 0.9
    hair_above = around(labels, landmarks.xy[NOSE] - [0, 70], 5)
    assert (hair_above == LIP["Hair"]).mean() > 0.5


def test_torso_is_upper_clothes(astronaut):
    landmarks, result = astronaut
    labels = result.parsing.labels[0].numpy()
    shoulders, hips = landmarks.mid(L_SH, R_SH), landmarks.mid(L_HIP, R_HIP)
    chest = shoulders + 0.4 * (hips - shoulders)
    assert (around(labels, chest, 10) == LIP["Upper-clothes"]).mean() > 0.9


def test_labels_stay_inside_the_person_and_the_frames_differ(astronaut):
    _, result = astronaut
    labels, person = result.parsing.labels, result.person_mask
    assert labels.shape == person.shape == (2, 512, 512) and result.parsing.label_set == "lip"
    assert not labels[person == 0].any()
    assert 0.2 < person[0].mean() < 0.8
    assert not torch.equal(labels[0], labels[1])
    # The mirrored frame is parsed as a mirrored person: same regions, about the same places.
    mirrored_back = labels[1].flip(1)
    same = (mirrored_back == labels[0]).float().mean()
    assert same > 0.9


def test_no_person_gives_an_empty_map():
    pytest.importorskip("mediapipe")
    blank = torch.full((1, 64, 48, 3), 0.5)
    result = QuickParser().parse(blank)
    assert result.parsing.labels.shape == (1, 64, 48) and not result.parsing.labels.any()
    assert np.isclose(float(result.person_mask.sum()), 0.0)


def test_missing_mediapipe_is_reported_when_the_parser_is_loaded(monkeypatch):
    monkeypatch.setitem(sys.modules, "mediapipe", None)  # makes `import mediapipe` fail
    with pytest.raises(TruePoseInputError, match="needs mediapipe.*mediapipe==0.10.21"):
        QuickParser()
