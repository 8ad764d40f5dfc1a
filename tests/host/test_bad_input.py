"""Bad input: a clear error naming the node, the input and the fix; nothing stays patched."""

import pytest
import torch

from comfy_host import PromptInvalid
from graphs import pose_transfer
from repo_paths import pack


def failure(host, prompt) -> str:
    result = host.run(prompt)
    assert not result.success and result.error is not None, "the graph should have failed"
    return result.error["exception_message"].rstrip("\n")


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
    assert "TruePose_EncodeSource" in message and "'parsing'" in message and "3 parsing maps for a source image batch of 2" in message
    assert torch.equal(plain(host, testing), baseline)


def test_parsing_of_another_aspect_ratio(host, testing, baseline):
    prompt = pose_transfer()
    prompt["40"] = {
        "class_type": "ImageScale",
        "inputs": {"image": ["5", 0], "upscale_method": "nearest-exact", "width": 128, "height": 128, "crop": "disabled"},
    }
    prompt["6"]["inputs"]["palette_image"] = ["40", 0]
    message = failure(host, prompt)
    assert message.startswith("TruePose_EncodeSource: input 'parsing': it is 128x128 but the image is 256x352 (another aspect ratio); it "
        "would be stretched. Fix:")
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
    full = pose_transfer()
    prompt = {n: full[n] for n in ("1", "2", "4", "5", "6", "7")}  # up to Encode Source: nothing is sampled
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


# --- issue 16: every bad input outside the pose path gets a named, actionable error ---

NAN = float("nan")


def _apply(host, **overrides):
    """TruePose_Apply called as ComfyUI calls it; the float guard runs before anything needs a model."""
    inputs = dict(model=_DiTLikePatcher(), source=None, face=1.0, hair=1.0, upper=1.0, lower=1.0, skin=1.0, shoes=1.0,
                  fusion="joint", start_percent=0.0, end_percent=1.0)
    inputs.update(overrides)
    node = host.nodes.NODE_CLASS_MAPPINGS["TruePose_Apply"]()
    return getattr(node, node.FUNCTION)(**inputs)


def test_nan_schedule_in_a_graph_is_named_not_an_index_error(host):
    message = failure(host, pose_transfer(start_percent=NAN))  # ComfyUI's own validation lets NaN through
    assert message == "TruePose_Apply: input 'start_percent': the value is NaN (not a number). Fix: set it between 0 and 1."


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"end_percent": NAN}, "input 'end_percent': the value is NaN (not a number). Fix: set it between 0 and 1."),
        ({"face": NAN}, "input 'face': the value is NaN (not a number). Fix: set it between 0 and 3."),
        ({"upper": float("inf")}, "input 'upper': inf is outside the allowed range. Fix: set it between 0 and 3."),
        ({"caa_strength": -1.0}, "input 'caa_strength': -1.0 is outside the allowed range. Fix: set it between 0 and 3."),
        ({"background": "lots"}, "input 'background': 'lots' is not a number. Fix: set it between 0 and 3."),
    ],
)
def test_float_widgets_are_checked_against_their_declared_range(host, overrides, message):
    with pytest.raises(ValueError) as info:
        _apply(host, **overrides)
    assert str(info.value) == f"TruePose_Apply: {message}"


def test_every_float_widget_of_the_pack_is_guarded(host):
    validation = pack("validation")
    guarded = {name for name, cls in host.nodes.NODE_CLASS_MAPPINGS.items()
               if name.startswith("TruePose_") and validation.float_widgets(cls)}
    assert {"TruePose_Apply", "TruePose_RenderPose"} <= guarded
    for name in guarded:
        cls = host.nodes.NODE_CLASS_MAPPINGS[name]
        assert getattr(getattr(cls, cls.FUNCTION), "truepose_guarded", False), name


def test_render_pose_nan_stick_scale(host):
    node = host.nodes.NODE_CLASS_MAPPINGS["TruePose_RenderPose"]()
    with pytest.raises(ValueError,
        match=r"^TruePose_RenderPose: input 'stick_scale': the value is NaN \(not a number\)\. Fix: set it between 0\.25 and 8\.$"):
        node.render([], 64, 64, NAN)


def _layout_from(prompt, image_link, node_id="41"):
    prompt[node_id] = {"class_type": "TruePose_ParsingFromImage", "inputs": {"palette_image": image_link, "label_set": "lip"}}
    prompt["8"]["inputs"]["target_layout"] = [node_id, 0]
    return prompt


def test_target_layout_of_another_aspect_ratio_is_refused_while_sampling_naming_apply(host, testing, baseline):
    prompt = pose_transfer()
    prompt["40"] = {"class_type": "ImageScale",
        "inputs": {"image": ["5", 0], "upscale_method": "nearest-exact", "width": 128, "height": 128, "crop": "disabled"}}
    message = failure(host, _layout_from(prompt, ["40", 0]))
    assert message.startswith("TruePose_Apply: input 'target_layout': it is 128x128, another aspect ratio than the latent (a 16x22 token "
        "grid); it would be stretched.")
    assert "Fix: make the target layout at the output image size" in message
    assert torch.equal(plain(host, testing), baseline)


def test_target_layout_batch_that_does_not_match_the_latent_names_apply(host):
    prompt = pose_transfer(batch=2)
    prompt["40"] = {"class_type": "RepeatImageBatch", "inputs": {"image": ["5", 0], "amount": 3}}
    message = failure(host, _layout_from(prompt, ["40", 0]))
    assert message.startswith("TruePose_Apply: input 'target_layout': 3 images for a latent batch of 2.")


def test_source_batch_that_does_not_match_the_latent_names_apply(host):
    prompt = pose_transfer(source_batch=2, batch=3)
    message = failure(host, prompt)
    assert message.startswith("TruePose_Apply: input 'source': 2 images for a latent batch of 3.")


def test_source_and_layout_batches_that_disagree_are_refused_at_apply_time(host, testing):
    prompt = pose_transfer(source_batch=2)
    prompt["40"] = {"class_type": "RepeatImageBatch", "inputs": {"image": ["5", 0], "amount": 3}}
    prompt["14"] = {"class_type": "TruePoseTest_Capture",
        "inputs": {"value": ["8", 0], "name": "model"}}  # no sampler: Apply itself refuses
    del prompt["20"]
    message = failure(host, _layout_from(prompt, ["40", 0]))
    assert message == (
        "TruePose_Apply: input 'target_layout': it has a batch of 3 but source has 2; each latent reads one of each. "
        "Fix: give every batched input the same batch size as the latent (or a batch of 1 to share it)."
    )


def test_lip_parsing_read_as_atr_is_refused(host):
    prompt = pose_transfer()
    prompt["6"]["inputs"]["label_set"] = "atr"
    message = failure(host, prompt)
    assert message.startswith(
        "TruePose_ParsingFromImage: input 'label_set': the map has regions in the colours of id 18 (Left-shoe), id 19 (Right-shoe), "
        "which the atr palette (18 classes) does not have: it is a lip map, not atr"
    )
    assert message.endswith("Fix: set label_set to 'lip' (the set of the parser that drew this map).")


def test_masks_of_different_sizes_and_nan_masks(host):
    node = host.nodes.NODE_CLASS_MAPPINGS["TruePose_ParsingFromMasks"]()
    with pytest.raises(ValueError, match=r"^TruePose_ParsingFromMasks: input 'upper': it is 48x64 but 'face' is 32x64\..*never stretched"):
        node.build(face=torch.ones(1, 64, 32), upper=torch.ones(1, 64, 48))
    with pytest.raises(ValueError, match=r"^TruePose_ParsingFromMasks: input 'hair': it holds NaN or infinite values\."):
        node.build(hair=torch.full((64, 64), NAN))


def test_sdxl_width_conditioning_into_an_sd15_encode_source(host, testing):
    full = pose_transfer()
    prompt = {n: full[n] for n in ("1", "4", "5", "6")}  # loaders and parsing only: nothing is sampled
    prompt["30"] = {"class_type": "TruePoseTest_Capture", "inputs": {"value": ["1", 0], "name": "model"}}
    prompt["31"] = {"class_type": "TruePoseTest_Capture", "inputs": {"value": ["1", 2], "name": "vae"}}
    prompt["32"] = {"class_type": "TruePoseTest_Capture", "inputs": {"value": ["4", 0], "name": "image"}}
    prompt["33"] = {"class_type": "TruePoseTest_Capture", "inputs": {"value": ["6", 0], "name": "parsing"}}
    assert host.run(prompt).success
    c = testing.CAPTURED
    sdxl_like = [[torch.zeros(1, 77, 2048), {"pooled_output": torch.zeros(1, 1280)}]]
    node = host.nodes.NODE_CLASS_MAPPINGS["TruePose_EncodeSource"]()
    with pytest.raises(ValueError) as info:
        node.encode(c["model"], c["vae"], c["image"], c["parsing"], conditioning=sdxl_like)
    assert str(info.value) == (
        "TruePose_EncodeSource: input 'conditioning': its text tokens are 2048 wide but this MODEL's cross-attention takes 768 "
        "(the prompt was encoded by another model family's CLIP, e.g. SDXL's into an SD1.5 model). "
        "Fix: encode the prompt with the CLIP of the checkpoint that gives this MODEL."
    )


def test_pose_editor_blames_pose_store_and_align_pose_blames_reference(host):
    editor = host.nodes.NODE_CLASS_MAPPINGS["TruePose_PoseEditor"]()
    with pytest.raises(ValueError, match=r"^TruePose_PoseEditor: input 'pose_store': not valid JSON"):
        editor.edit("{not json", 512, 768)
    align = host.nodes.NODE_CLASS_MAPPINGS["TruePose_AlignPose"]()
    good = [{"people": [], "canvas_width": 64, "canvas_height": 64}]
    with pytest.raises(ValueError, match=r"^TruePose_AlignPose: input 'reference': expected OpenPose frames"):
        align.align([], good, "scale_translate")
    with pytest.raises(ValueError, match=r"^TruePose_AlignPose: input 'driving': not valid JSON"):
        align.align(good, "{", "scale_translate")


def test_a_nan_checkpoint_is_refused_by_the_loader_naming_the_tensor(host):
    from dataclasses import asdict

    from truepose_core.models import TINY, SDUNet
    from truepose_core.models.checkpoint import CheckpointMeta, TruePoseCheckpoint, save_checkpoint
    from truepose_core.models.pose_guider import PoseGuider

    guider = PoseGuider(TINY.model_channels)
    meta = CheckpointMeta(base="tiny-test", unet_config=asdict(TINY), pose_guider=guider.config)
    with torch.device("meta"):
        keys = SDUNet(TINY).state_dict()
    unet = {k: torch.zeros(v.shape, dtype=torch.float16) for k, v in keys.items()}
    save_checkpoint(host.models_dir / "truepose" / "nan_gate.safetensors",
                    TruePoseCheckpoint(meta, unet, guider.state_dict(), {"face": torch.tensor(NAN)}))
    loader = host.nodes.NODE_CLASS_MAPPINGS["TruePose_ModelLoader"]()
    with pytest.raises(ValueError) as info:
        loader.load("nan_gate.safetensors")
    assert str(info.value).startswith(
        "TruePose_ModelLoader: input 'model_name': 'nan_gate.safetensors': tensor 'hpfa.gate.face' holds 1 NaN and 0 infinite values (of 1)"
    )
