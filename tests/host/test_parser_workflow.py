"""The built-in parser in a real graph: photo -> Human Parse -> Encode Source -> Apply -> KSampler."""

import numpy as np
import pytest
from PIL import Image

from graphs import pose_transfer

pytest.importorskip("mediapipe", reason="the quick parser needs mediapipe==0.10.21 (installed by scripts/setup_host.sh)")
skimage_data = pytest.importorskip("skimage.data", reason="the astronaut photo ships with scikit-image")


@pytest.fixture(scope="module")
def astronaut(host):
    name = "truepose_test_astronaut.png"
    Image.fromarray(np.asarray(skimage_data.astronaut())).resize((256, 256)).save(host.input_dir / name)
    return name


def test_quick_parser_drives_the_source_encoding_and_sampling(host, testing, astronaut):
    prompt = pose_transfer(width=128, height=128)
    prompt["4"]["inputs"]["image"] = astronaut
    prompt["50"] = {"class_type": "TruePose_ParserLoader", "inputs": {"model_name": "quick (mediapipe, offline)", "device": "cpu"}}
    prompt["51"] = {"class_type": "TruePose_HumanParse", "inputs": {"parser": ["50", 0], "image": ["4", 0], "flip_tta": False}}
    prompt["6"] = {"class_type": "TruePoseTest_Capture", "inputs": {"value": ["51", 0], "name": "parsing"}}
    prompt["7"]["inputs"]["parsing"] = ["51", 0]
    prompt["12"]["inputs"]["image"] = ["51", 1]  # the palette preview as a (meaningless) control hint
    result = host.run(prompt)
    assert result.success, result.error
    parsing = testing.CAPTURED["parsing"]
    assert parsing.size == (256, 256) and {13, 2} <= set(parsing.labels.unique().tolist())  # face and hair found
    assert np.isfinite(testing.CAPTURED["latent"]["samples"].numpy()).all()
