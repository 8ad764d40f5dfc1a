"""Bad input: a clear error naming the node, the input and the fix; nothing stays patched."""

import pytest
import torch

from comfy_host import PromptInvalid
from graphs import pose_transfer


def failure(host, prompt) -> str:
    result = host.run(prompt)
    assert not result.success and result.error is not None, "the graph should have failed"
    return result.error["exception_message"]


def plain(host, testing):
    assert host.run(pose_transfer(truepose=False)).success
    return testing.CAPTURED["latent"]["samples"].clone()


@pytest.fixture(scope="module")
def baseline(host):
    import sys

    testing = next(m for n, m in sys.modules.items() if n.endswith("testing_nodes") and hasattr(m, "CAPTURED"))
    return plain(host, testing)


def test_parsing_batch_that_does_not_match_the_images(host, testing, baseline):
    prompt = pose_transfer(source_batch=2)
    prompt["40"] = {"class_type": "RepeatImageBatch", "inputs": {"image": ["5", 0], "amount": 3}}
    prompt["6"]["inputs"]["palette_image"] = ["40", 0]
    message = failure(host, prompt)
    assert "TruePose_EncodeSource" in message and "'parsing'" in message and "3 parsing maps for 2 source images" in message
    assert torch.equal(plain(host, testing), baseline)


def test_parsing_of_another_aspect_ratio(host, testing, baseline):
    prompt = pose_transfer()
    prompt["40"] = {
        "class_type": "ImageScale",
        "inputs": {"image": ["5", 0], "upscale_method": "nearest-exact", "width": 128, "height": 128, "crop": "disabled"},
    }
    prompt["6"]["inputs"]["palette_image"] = ["40", 0]
    message = failure(host, prompt)
    assert "TruePose_EncodeSource" in message and "different aspect ratio" in message and "Fix:" in message
    assert torch.equal(plain(host, testing), baseline)


def test_empty_parsing_means_no_person(host, testing, baseline):
    prompt = pose_transfer()
    prompt["40"] = {"class_type": "SolidMask", "inputs": {"value": 0.0, "width": 256, "height": 352}}
    prompt["6"] = {"class_type": "TruePose_ParsingFromMasks", "inputs": {"face": ["40", 0]}}
    message = failure(host, prompt)
    assert "TruePose_EncodeSource" in message and "no person" in message
    assert torch.equal(plain(host, testing), baseline)


def test_a_photo_fed_as_parsing(host, testing):
    prompt = pose_transfer()
    prompt["6"]["inputs"]["palette_image"] = ["4", 0]
    message = failure(host, prompt)
    assert "TruePose_ParsingFromImage" in message and "'palette_image'" in message and "not a lip palette map" in message


def test_unknown_label_set_is_refused_before_anything_runs(host):
    prompt = pose_transfer()
    prompt["6"]["inputs"]["label_set"] = "coco"
    with pytest.raises(PromptInvalid) as info:
        host.run(prompt)
    assert "label_set" in str(info.value)


def test_tiny_source_image(host):
    prompt = pose_transfer()
    for node, size in (("4", 48), ("5", 48)):
        prompt[f"4{node}"] = {
            "class_type": "ImageScale",
            "inputs": {"image": [node, 0], "upscale_method": "nearest-exact", "width": size, "height": 66, "crop": "disabled"},
        }
    prompt["7"]["inputs"]["image"] = ["44", 0]
    prompt["6"]["inputs"]["palette_image"] = ["45", 0]
    assert "at least 64 pixels" in failure(host, prompt)


class _FakeSampling:
    def percent_to_sigma(self, percent):
        return 1.0 - percent


class _DiTLikePatcher:
    """What a DiT MODEL looks like to the pack: no input/middle/output UNet blocks."""

    def __init__(self):
        self.model = type("M", (), {"diffusion_model": torch.nn.Linear(4, 4)})()

    def get_model_object(self, name):
        return _FakeSampling()


def test_a_model_that_is_not_a_unet(host):
    apply = host.nodes.NODE_CLASS_MAPPINGS["TruePose_Apply"]()
    with pytest.raises(ValueError, match=r"TruePose_Apply: input 'model': this model \(Linear\) is not a UNet.*Fix: use an SD1.5 or SDXL"):
        apply.apply(
            _DiTLikePatcher(),
            source=None,
            face=1,
            hair=1,
            upper=1,
            lower=1,
            skin=1,
            shoes=1,
            fusion="joint",
            start_percent=0.0,
            end_percent=1.0,
        )


def test_source_from_another_architecture(host, testing):
    prompt = pose_transfer()
    prompt["30"] = {"class_type": "TruePoseTest_Capture", "inputs": {"value": ["1", 0], "name": "model"}}
    prompt["31"] = {"class_type": "TruePoseTest_Capture", "inputs": {"value": ["7", 0], "name": "source"}}
    assert host.run(prompt).success
    model, source = testing.CAPTURED["model"], testing.CAPTURED["source"]
    block = source.blocks[0]
    foreign = type(source)(source.tokens, {**source.channels, block: 999}, source.num_images)
    apply = host.nodes.NODE_CLASS_MAPPINGS["TruePose_Apply"]()
    with pytest.raises(ValueError, match="TruePose_Apply: input 'source': .*different UNet architecture"):
        apply.apply(model, foreign, face=1, hair=1, upper=1, lower=1, skin=1, shoes=1, fusion="joint", start_percent=0.0, end_percent=1.0)
    assert not model.model_options["transformer_options"].get("patches_replace", {}).get("attn1")


def test_schedule_that_ends_before_it_starts(host):
    prompt = pose_transfer(start_percent=0.8, end_percent=0.2)
    message = failure(host, prompt)
    assert "TruePose_Apply" in message and "start_percent" in message
