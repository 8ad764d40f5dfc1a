"""Trained mode in the host: the shipped trained workflow with an exported checkpoint, the pose
guider (input_block_patch), CAA through ComfyUI's CLIP_VISION (attn2), and their errors."""

import copy
import dataclasses
import json
import shutil
import subprocess
import sys

import pytest
import tiny_models
import torch

from repo_paths import REPO_ROOT, pack
from workflow_tools import find_nodes, load_api_workflow

STEPS = 2


def trained_prompt(seed: int = 7) -> dict:
    prompt = copy.deepcopy(load_api_workflow("truepose_trained"))
    (sampler,) = find_nodes(prompt, "KSampler")
    prompt[sampler]["inputs"].update(steps=STEPS, seed=seed)
    prompt["90"] = {"class_type": "TruePoseTest_Capture", "inputs": {"value": [sampler, 0], "name": "latent"}}
    prompt["91"] = {"class_type": "TruePoseTest_Capture", "inputs": {"value": ["40", 0], "name": "target_unet"}}
    return prompt


def sample(host, testing, prompt) -> torch.Tensor:
    result = host.run(prompt)
    assert result.success, result.error
    return testing.CAPTURED["latent"]["samples"].clone()


def test_the_pose_guider_steers_the_sample_and_the_callers_model_stays_clean(host, testing):
    with_pose = sample(host, testing, trained_prompt())
    other = trained_prompt()
    keypoints = json.loads(other["9"]["inputs"]["pose_json"])
    for person in keypoints[0]["people"]:
        points = person["pose_keypoints_2d"]
        person["pose_keypoints_2d"] = [v * 0.8 if i % 3 == 0 else v for i, v in enumerate(points)]  # move every x
    other["9"]["inputs"]["pose_json"] = json.dumps(keypoints)
    moved = sample(host, testing, other)
    unposed = trained_prompt()
    del unposed["8"]["inputs"]["pose_image"]
    without = sample(host, testing, unposed)
    assert torch.isfinite(with_pose).all()
    assert (with_pose - moved).abs().mean() > 1e-4  # another skeleton, another image
    assert (with_pose - without).abs().mean() > 1e-4
    options = testing.CAPTURED["target_unet"].model_options["transformer_options"]
    assert not options.get("patches", {}).get("input_block_patch") and not options.get("patches_replace", {}).get("attn1")


def test_pose_image_without_a_truepose_model_is_refused(host):
    prompt = trained_prompt()
    del prompt["8"]["inputs"]["truepose_model"]
    result = host.run(prompt)
    assert not result.success
    message = json.dumps(result.error)
    assert "TruePose_Apply" in message and "pose_image" in message and "Load TruePose Model" in message


def test_a_pose_image_of_another_aspect_ratio_is_refused_by_name(host):
    prompt = trained_prompt()
    prompt["10"]["inputs"].update(width=256, height=128)
    result = host.run(prompt)
    assert not result.success
    assert "pose_image" in json.dumps(result.error) and "aspect ratio" in json.dumps(result.error)


# --- CAA: a small CLIP vision model of ComfyUI's own class, and a checkpoint with CAA weights ---

CLIP_CONFIG = {
    "hidden_size": 64, "image_size": 224, "intermediate_size": 128, "num_attention_heads": 2, "num_hidden_layers": 2,
    "patch_size": 32, "projection_dim": 32, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5, "num_channels": 3,
    "model_type": "clip_vision_model",
}


@pytest.fixture(scope="module")
def clip_vision(host, tmp_path_factory):
    import comfy.clip_vision

    path = tmp_path_factory.mktemp("clip") / "config.json"
    path.write_text(json.dumps(CLIP_CONFIG))
    model = comfy.clip_vision.ClipVisionModel(str(path))
    g = torch.Generator().manual_seed(0)
    model.load_sd({k: torch.randn(v.shape, generator=g) * 0.05 for k, v in model.get_sd().items()})
    return model


@pytest.fixture
def caa_setup(host):
    """One test's models (over 1 GB with what sampling them loads), given back when it ends: the next
    test starts a training subprocess and loads an export of its own."""
    host.free_memory()  # the trained workflow's models: not needed here
    name = "truepose_caa_test.safetensors"
    tiny_models.in_subprocess(host.root, host.models_dir, "--truepose", str(host.models_dir / "truepose" / name),
                              str(host.models_dir / "unet" / "caa_test_unet.safetensors"), "--caa-embed-dim",
                              str(CLIP_CONFIG["projection_dim"]))
    model = host.nodes.UNETLoader().load_unet("caa_test_unet.safetensors", "default")[0]
    import comfy.sd
    from safetensors import safe_open

    checkpoint_path = host.folder_paths.get_full_path_or_raise("checkpoints", "v1-5-pruned-emaonly-fp16.safetensors")
    with safe_open(checkpoint_path, "pt") as f:  # its VAE only: the whole file would be read to take that from it
        prefix = "first_stage_model."
        vae = comfy.sd.VAE(sd={k[len(prefix):]: f.get_tensor(k) for k in f.keys() if k.startswith(prefix)})
    image = host.nodes.LoadImage().load_image("truepose_source.png")[0]
    palette = host.nodes.LoadImage().load_image("truepose_source_parsing.png")[0]
    parsing = pack("parsing").TruePose_ParsingFromImage().convert(palette, "lip")[0]
    checkpoint = pack("model_loader").TruePose_ModelLoader().load(name)[0]
    yield model, vae, image, parsing, checkpoint
    del model, vae, checkpoint
    host.free_memory()


def caa_latent(host, model, source, checkpoint, caa_strength: float) -> torch.Tensor:
    patched = pack("apply").TruePose_Apply().apply(
        model, source, 1, 1, 1, 1, 1, 1, "gated", 0.0, 1.0, truepose_model=checkpoint, caa_strength=caa_strength
    )[0]
    positive = [[torch.zeros(1, 77, 768), {}]]
    latent = {"samples": torch.zeros(1, 4, 22, 16)}
    return host.nodes.common_ksampler(patched, 3, STEPS, 2.0, "euler", "normal", positive, positive, latent)[0]["samples"]


def test_caa_region_tokens_from_comfyui_clip_vision_reach_cross_attention(host, clip_vision, caa_setup):
    model, vae, image, parsing, checkpoint = caa_setup
    assert checkpoint.meta.caa["embed_dim"] == CLIP_CONFIG["projection_dim"]
    encode = pack("source").TruePose_EncodeSource().encode
    source = encode(model, vae, image, parsing, truepose_model=checkpoint, clip_vision=clip_vision)[0]
    assert source.clip is not None and source.clip.embeds.shape == (1, 6, CLIP_CONFIG["projection_dim"])
    assert source.clip.present[0].tolist()[:3] == [True, True, True]  # face, hair, upper in the sample person
    with_caa = caa_latent(host, model, source, checkpoint, 1.0)
    without = caa_latent(host, model, source, checkpoint, 0.0)
    assert torch.isfinite(with_caa).all() and (with_caa - without).abs().mean() > 1e-4
    assert not model.model_options["transformer_options"].get("patches_replace", {}).get("attn2")

    plain = dataclasses.replace(source, clip=None)  # what EncodeSource gives without a clip_vision input
    with pytest.raises(ValueError, match="TruePose_Apply.*trained with CAA.*clip_vision"):
        caa_latent(host, model, plain, checkpoint, 1.0)


def test_a_checkpoint_exported_by_training_drives_the_trained_workflow(host, testing, tmp_path):
    """`python -m truepose_core.train` (2 steps, SD1.5-width UNet, a small diffusers VAE) -> export ->
    models/truepose + models/unet -> the shipped trained workflow runs on it. The training runs in a
    process of its own, as users run it: its optimizer state never grows the test session's heap."""
    from diffusers import AutoencoderKL
    from safetensors.torch import load_file

    from truepose_core.train.export import CHECKPOINT_NAME, TARGET_UNET_NAME

    vae_dir = tmp_path / "vae"
    AutoencoderKL(
        block_out_channels=(8, 8, 8, 8), down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
        layers_per_block=1, latent_channels=4, norm_num_groups=4, sample_size=64,
    ).save_pretrained(vae_dir)
    run_dir = tmp_path / "run"
    config = {
        "out_dir": str(run_dir), "steps": 2, "batch_size": 2, "dataset_length": 4, "image_size": 64, "vae": str(vae_dir), "lr": 1e-3,
        "base": "sd15-tiny-test", "model_channels": 320, "channel_mult": [1], "num_res_blocks": 1, "num_heads": 8,
        "context_dim": 768, "log_every": 1,
    }
    (tmp_path / "train.json").write_text(json.dumps(config))
    done = subprocess.run([sys.executable, "-m", "truepose_core.train", "--config", str(tmp_path / "train.json")],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    shutil.move(run_dir / CHECKPOINT_NAME, host.models_dir / "truepose" / "trained_test.safetensors")
    target_unet = shutil.move(run_dir / TARGET_UNET_NAME, host.models_dir / "unet" / "trained_test_unet.safetensors")
    shutil.rmtree(run_dir)  # the optimizer state (600 MB) is not needed past this point

    prompt = trained_prompt(seed=11)
    prompt["40"]["inputs"]["unet_name"] = "trained_test_unet.safetensors"
    prompt["41"]["inputs"]["model_name"] = "trained_test.safetensors"
    prompt["92"] = {"class_type": "TruePoseTest_Capture", "inputs": {"value": ["41", 0], "name": "truepose_model"}}
    latent = sample(host, testing, prompt)
    assert torch.isfinite(latent).all()
    loaded = testing.CAPTURED["truepose_model"]
    assert loaded.meta.base == "sd15-tiny-test" and any(abs(g) > 0 for g in loaded.gate_values().values())
    exported = load_file(str(target_unet))
    name = "input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight"
    in_host = testing.CAPTURED["target_unet"].model.state_dict()["diffusion_model." + name]
    torch.testing.assert_close(in_host.float(), exported[name].float())
