"""The TruePose checkpoint: round trip, detection by keys, clear errors for wrong or damaged files."""

from dataclasses import asdict

import pytest
import torch
from safetensors.torch import save_file

from truepose_core.errors import TruePoseInputError
from truepose_core.caa import CAAProjection
from truepose_core.models import SDUNet, UNetConfig
from truepose_core.models.checkpoint import (
    CheckpointMeta,
    TruePoseCheckpoint,
    is_truepose_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from truepose_core.models.pose_guider import PoseGuider
from truepose_core.parsing.schp import AugmentCE2P

MICRO = UNetConfig(model_channels=32, channel_mult=(1, 2), num_res_blocks=1, transformer_depth=(1, 1), num_heads=4, context_dim=16)


@pytest.fixture(scope="module")
def checkpoint() -> TruePoseCheckpoint:
    torch.manual_seed(0)
    guider = PoseGuider(MICRO.model_channels, downsample=4)
    torch.nn.init.normal_(guider.conv_out.weight)  # not all zeros, so the round trip proves something
    projection = CAAProjection(8, MICRO.context_dim)
    meta = CheckpointMeta(
        base="synthetic-micro", unet_config=asdict(MICRO), pose_guider=guider.config,
        blocks=(("input", 1, 0), ("output", 3, 0)), caa={**projection.config, "clip_model": "ViT-B-32"},
    )
    gates = {"face": torch.tensor(0.25), "upper": torch.tensor(-0.5)}
    return TruePoseCheckpoint(meta, SDUNet(MICRO).state_dict(), guider.state_dict(), gates, projection.state_dict())


def test_round_trip_gives_identical_tensors_and_metadata(checkpoint, tmp_path):
    path = save_checkpoint(tmp_path / "any name at all.safetensors", checkpoint)
    loaded = load_checkpoint(path)
    assert loaded.meta == checkpoint.meta
    for part in ("source_unet", "pose_guider", "gates", "caa"):
        original, back = getattr(checkpoint, part), getattr(loaded, part)
        assert set(back) == set(original), part
        for key in original:
            assert back[key].dtype == original[key].dtype and torch.equal(back[key], original[key].reshape(back[key].shape)), key
    assert loaded.gate_values() == {"face": 0.25, "upper": -0.5}
    # the weights build the networks they came from
    assert loaded.meta.source_unet_config() == MICRO
    SDUNet(loaded.meta.source_unet_config()).load_state_dict(loaded.source_unet)
    PoseGuider(**loaded.meta.pose_guider).load_state_dict(loaded.pose_guider)
    caa = loaded.meta.caa
    CAAProjection(caa["embed_dim"], caa["context_dim"], caa["regions"]).load_state_dict(loaded.caa)


def test_caa_weights_without_their_metadata_are_refused(checkpoint, tmp_path):
    from dataclasses import replace

    path = save_checkpoint(tmp_path / "no_caa_meta.safetensors", replace(checkpoint, meta=replace(checkpoint.meta, caa=None)))
    with pytest.raises(TruePoseInputError, match="CAA metadata and CAA weights"):
        load_checkpoint(path)


def test_detection_is_by_key_signature(checkpoint):
    keys = set(checkpoint.flat())
    assert is_truepose_checkpoint(keys)
    assert not is_truepose_checkpoint({k for k in keys if not k.startswith("hpfa.")})
    assert not is_truepose_checkpoint({k.removeprefix("source_unet.") for k in keys})


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(TruePoseInputError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.safetensors")


def test_truncated_file_is_a_clear_error(checkpoint, tmp_path):
    path = save_checkpoint(tmp_path / "full.safetensors", checkpoint)
    data = path.read_bytes()
    for cut in (len(data) // 2, 5):
        short = tmp_path / f"short{cut}.safetensors"
        short.write_bytes(data[:cut])
        with pytest.raises(TruePoseInputError, match="damaged"):
            load_checkpoint(short)


def test_a_non_safetensors_file_is_a_clear_error(tmp_path):
    path = tmp_path / "model.safetensors"
    torch.save({"a": torch.zeros(2)}, path)
    with pytest.raises(TruePoseInputError, match="damaged or not a safetensors"):
        load_checkpoint(path)


def test_a_plain_unet_is_named_as_such(tmp_path):
    path = tmp_path / "truepose_model.safetensors"  # the name must not fool detection
    save_file(SDUNet(MICRO).state_dict(), str(path))
    with pytest.raises(TruePoseInputError, match="plain UNet"):
        load_checkpoint(path)


def test_a_human_parser_is_named_as_such(tmp_path):
    with torch.device("meta"):
        keys = list(AugmentCE2P(20).state_dict())
    path = tmp_path / "truepose.safetensors"
    save_file({k: torch.zeros(1) for k in keys}, str(path))
    with pytest.raises(TruePoseInputError, match="human-parsing"):
        load_checkpoint(path)


def test_truepose_keys_without_metadata_are_rejected(checkpoint, tmp_path):
    path = tmp_path / "bare.safetensors"
    save_file(checkpoint.flat(), str(path))
    with pytest.raises(TruePoseInputError, match="no TruePose metadata"):
        load_checkpoint(path)


def _write_edited(tmp_path, checkpoint, name, tensors=None, **meta_changes):
    """The checkpoint's file with some tensors and metadata strings replaced (as a careless edit would)."""
    flat = {**checkpoint.flat(), **(tensors or {})}
    meta = {**checkpoint.meta.to_strings(), **meta_changes}
    path = tmp_path / f"{name}.safetensors"
    save_file(flat, str(path), metadata=meta)
    return path


@pytest.mark.parametrize(
    ("meta_changes", "message"),
    [
        ({"format_version": "one"}, r"'bad\.safetensors': metadata format_version is 'one', not a whole number"),
        ({"format_version": "7"}, r"format version 7; this pack reads up to 1.*Fix: update the TruePose node pack"),
        ({"fusion": "multiply"},
            r"metadata fusion 'multiply' is not one of joint, gated \(the file is at fault, not Apply's fusion widget\)"),
        ({"label_set": "coco"}, r"metadata label_set 'coco' is not one of lip, atr, cihp, pascal"),
        ({"pose_guider": '{"out_channels": 32, "downsample": 4, "in_channels": 3, "base_width": 16, "dropout": 0.1}'},
         r"metadata pose_guider has unknown arguments \['dropout'\]"),
        ({"pose_guider": '{"out_channels": 32, "downsample": 3}'},
            r"metadata pose_guider is not a valid pose guider \(downsample must be a power of two"),
        ({"pose_guider": "[32]"}, r"metadata 'pose_guider' is a JSON list, expected a JSON dict"),
        ({"unet_config": "{not json"}, r"metadata 'unet_config' is not valid JSON"),
        ({"unet_config": '{"channel_mult": [1, 2], "transformer_depth": [1]}'}, r"metadata unet_config does not describe a UNet"),
        ({"unet_config": ('{"model_channels": 32, "channel_mult": [1, 2, 4], "num_res_blocks": 1, "transformer_depth": [1, 1, 1], '
            '"num_heads": 4, "context_dim": 16}')},
         r"its source_unet tensors do not match the network its metadata describes: missing"),
        ({"blocks": '[["sideways", 1, 0]]'}, r"metadata block \['sideways', 1, 0\] is not"),
        ({"region_groups": '{"face": [13, 99]}'}, r"region group 'face' holds \[13, 99\]"),
    ],
)
def test_bad_metadata_is_blamed_on_the_file(checkpoint, tmp_path, meta_changes, message):
    path = _write_edited(tmp_path, checkpoint, "bad", **meta_changes)
    with pytest.raises(TruePoseInputError, match=message) as info:
        load_checkpoint(path)
    assert info.value.input_name == "model_name" and info.value.fix


@pytest.mark.parametrize(
    ("tensors", "message"),
    [
        ({"pose_guider.conv_out.weight": torch.zeros(32, 64, 1, 1)},
         r"tensor 'pose_guider\.conv_out\.weight' has shape \[32, 64, 1, 1\]; its metadata implies \[32, 64, 3, 3\]"),
        ({"source_unet.out.2.weight": torch.zeros(4, 32, 1, 1)},
            r"tensor 'source_unet\.out\.2\.weight' has shape \[4, 32, 1, 1\]; its metadata implies \[4, 32, 3, 3\]"),
        ({"hpfa.gate.face": torch.tensor([0.5, 0.5])}, r"tensor 'hpfa\.gate\.face' has shape \[2\]; a gate is a single number"),
        ({"hpfa.gate.wings": torch.tensor(0.5)}, r"tensor 'hpfa\.gate\.wings' is the gate of an unknown region"),
        ({"caa.norm.weight": torch.ones(8)}, r"tensor 'caa\.norm\.weight' has shape \[8\]; its metadata implies \[16\]"),
        ({"hpfa.gate.face": torch.tensor(float("nan"))}, r"tensor 'hpfa\.gate\.face' holds 1 NaN and 0 infinite values \(of 1\)"),
        ({"source_unet.out.2.bias": torch.tensor([0.0, float("inf"), float("nan"), 1.0])},
         r"tensor 'source_unet\.out\.2\.bias' holds 1 NaN and 1 infinite values \(of 4\).*Fix: use an earlier checkpoint"),
    ],
)
def test_bad_tensors_are_named(checkpoint, tmp_path, tensors, message):
    path = _write_edited(tmp_path, checkpoint, "bad", tensors)
    with pytest.raises(TruePoseInputError, match=message):
        load_checkpoint(path)


def test_a_missing_pose_guider_tensor_is_named(checkpoint, tmp_path):
    flat = {k: v for k, v in checkpoint.flat().items() if k != "pose_guider.conv_out.bias"}
    path = tmp_path / "missing.safetensors"
    save_file(flat, str(path), metadata=checkpoint.meta.to_strings())
    with pytest.raises(TruePoseInputError,
        match=r"its pose_guider tensors do not match .*missing 1 \(e\.g\. 'pose_guider\.conv_out\.bias'\)"):
        load_checkpoint(path)
