"""Trained mode in the host: models/truepose loader, SourceNet weights for the bank, gates in Apply."""

from dataclasses import asdict

import pytest
import torch

from graphs import CHECKPOINT
from repo_paths import pack
from truepose_core.models import TINY, SDUNet, UNetConfig
from truepose_core.models.checkpoint import CheckpointMeta, TruePoseCheckpoint, save_checkpoint
from truepose_core.models.pose_guider import PoseGuider


@pytest.fixture(scope="module")
def sd15(host):
    model, _clip, vae = host.nodes.CheckpointLoaderSimple().load_checkpoint(CHECKPOINT)[:3]
    image = host.nodes.LoadImage().load_image("truepose_source.png")[0]
    palette = host.nodes.LoadImage().load_image("truepose_source_parsing.png")[0]
    parsing = pack("parsing").TruePose_ParsingFromImage().convert(palette, "lip")[0]
    return model, vae, image, parsing


def write_checkpoint(host, name: str, source_unet: dict, gates: dict, config=TINY) -> str:
    guider = PoseGuider(config.model_channels)
    meta = CheckpointMeta(base="tiny-test", unet_config=asdict(config), pose_guider=guider.config)
    gates = {r: torch.tensor(g) for r, g in gates.items()}
    save_checkpoint(host.models_dir / "truepose" / name, TruePoseCheckpoint(meta, source_unet, guider.state_dict(), gates))
    return name


def unet_weights(model) -> dict:
    """fp16, as the tiny base checkpoint stores them (exact): half the disk of fp32."""
    prefix = "diffusion_model."
    return {k[len(prefix):]: v.detach().half() for k, v in model.model.state_dict().items() if k.startswith(prefix)}


def tokens(bank) -> dict:
    return {(r, b): t for r, per_block in bank.tokens.items() for b, images in per_block.items() for t in images}


def encode(sd15, truepose_model=None):
    model, vae, image, parsing = sd15
    return pack("source").TruePose_EncodeSource().encode(model, vae, image, parsing, truepose_model=truepose_model)[0]


def test_loader_lists_models_truepose_and_loads_by_key_signature(host, sd15):
    loader = pack("model_loader")
    name = write_checkpoint(host, "mine.safetensors", unet_weights(sd15[0]), {"face": 0.5})
    (host.models_dir / "truepose" / "not_truepose.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    choices = loader.TruePose_ModelLoader.INPUT_TYPES()["required"]["model_name"][0]
    assert name in choices and "not_truepose.safetensors" in choices
    assert loader.TruePose_ModelLoader().load(name)[0].gate_values() == {"face": 0.5}
    with pytest.raises(ValueError, match="TruePose_ModelLoader.*not a TruePose checkpoint"):
        loader.TruePose_ModelLoader().load("not_truepose.safetensors")
    loader.register_model_folder()  # idempotent: no second entry for the same folder
    paths = host.folder_paths.folder_names_and_paths["truepose"][0]
    assert len(paths) == len(set(paths))


def test_sourcenet_weights_come_from_the_checkpoint_and_model_is_untouched(host, sd15):
    load = pack("model_loader").TruePose_ModelLoader().load
    own = load(write_checkpoint(host, "own.safetensors", unet_weights(sd15[0]), {"face": 1.0}))[0]
    changed_weights = {k: v * 1.5 if "attn1.to_q" not in k else v for k, v in unet_weights(sd15[0]).items()}
    changed = load(write_checkpoint(host, "changed.safetensors", changed_weights, {"face": 1.0}))[0]
    plain = tokens(encode(sd15))
    same = tokens(encode(sd15, own))
    other = tokens(encode(sd15, changed))
    again = tokens(encode(sd15))
    assert set(same) == set(plain) == set(other)
    for key in plain:
        torch.testing.assert_close(same[key], plain[key], atol=2e-3, rtol=2e-3)  # fp16 patch round trip
        assert torch.equal(again[key], plain[key]), "the caller's MODEL was changed"
    assert any(not torch.allclose(other[k], plain[k], atol=1e-2) for k in plain)


def test_a_checkpoint_of_another_architecture_is_refused(host, sd15):
    micro = UNetConfig(model_channels=32, channel_mult=(1, 2), num_res_blocks=1, transformer_depth=(1, 1), num_heads=4, context_dim=768)
    small = SDUNet(micro).state_dict()  # a consistent file, for another UNet than the sampler's
    ckpt = pack("model_loader").TruePose_ModelLoader().load(write_checkpoint(host, "small.safetensors", small, {"face": 1.0}, micro))[0]
    with pytest.raises(ValueError, match="does not fit this MODEL"):
        encode(sd15, ckpt)


def test_apply_takes_the_learned_gates_and_fusion(host, sd15):
    ckpt = pack("model_loader").TruePose_ModelLoader().load(
        write_checkpoint(host, "gates.safetensors", unet_weights(sd15[0]), {"face": 0.25, "upper": 0.75})
    )[0]
    source = encode(sd15)
    apply = pack("apply").TruePose_Apply().apply
    patched = apply(sd15[0], source, 1, 1, 1, 1, 1, 1, "joint", 0.0, 1.0, truepose_model=ckpt)[0]
    config = next(iter(pack("patch_chain").installed_truepose(patched).attn1.values())).runtime.config
    assert config.fusion == "gated" and dict(config.gates) == {"face": 0.25, "upper": 0.75}
    assert config.weight("face") == 0.25 and config.weight("lower") == 1.0
