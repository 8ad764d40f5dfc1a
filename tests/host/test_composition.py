"""Apply TruePose composed with the host's stock model-patch nodes and IPAdapter-style attn2 replaces.

Every cell (patch x order x mode) runs a real prompt and asserts:
(a) it runs;
(b) TruePose still reads its source at every block (HPFA attn1 and, trained, CAA attn2) where it
    reads alone (a spy on TruePose's runtimes counts the reads per block);
(c) the other patch still changes the output by a comparable amount (its effect with TruePose,
    |TP+P - TP|, against its effect alone, |P - base|), and TruePose's own effect survives too.
Orders: the patch before Encode Source (so the SourceNet runs patched too), between Encode Source
and Apply, and after Apply. Modes: training-free, and trained with CAA (a checkpoint with CAA
weights, a small CLIP vision model). Tiny models, 64x64 px, 1 step (2 in the hires-fix chain).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from pathlib import Path

import pytest
import torch

from graphs import CHECKPOINT, REGIONS

MODES = ("free", "trained")
ORDERS = ("before_encode", "before_apply", "after_apply")
LORA = "truepose_composition_lora.safetensors"
TRUEPOSE_CKPT, TRUEPOSE_UNET = "truepose_composition_caa.safetensors", "truepose_composition_unet.safetensors"
IPADAPTER_FILE = "truepose_test_ip-adapter_sd15.safetensors"
IPADAPTER_PLUS = Path(os.environ.get("TRUEPOSE_IPADAPTER_PLUS", "/work/.mirror/cubiq+ComfyUI_IPAdapter_plus/repo"))
RESULTS: list[dict] = []
RESULTS_FILE = Path(__file__).resolve().parents[2] / ".host" / "composition_matrix.json"

# name -> (class_type, widget inputs, extra links); "mask": the patch only acts on a masked latent
PATCHES: dict[str, dict] = {
    "LoraLoader": {"inputs": {"lora_name": LORA, "strength_model": 1.0, "strength_clip": 0.0}, "clip": True},
    "FreeU": {"inputs": {"b1": 1.3, "b2": 1.4, "s1": 0.9, "s2": 0.2}},
    "FreeU_V2": {"inputs": {"b1": 1.3, "b2": 1.4, "s1": 0.9, "s2": 0.2}},
    "PerturbedAttentionGuidance": {"inputs": {"scale": 3.0}},
    "SelfAttentionGuidance": {"inputs": {"scale": 0.5, "blur_sigma": 2.0}},
    "HyperTile": {"inputs": {"tile_size": 32, "swap_size": 1, "max_depth": 0, "scale_depth": False}},
    "PatchModelAddDownscale": {"inputs": {
        "block_number": 1, "downscale_factor": 2.0, "start_percent": 0.0, "end_percent": 0.35, "downscale_after_skip": True,
        "downscale_method": "bicubic", "upscale_method": "bicubic"}},
    "TomePatchModel": {"inputs": {"ratio": 0.5}},
    "ModelSamplingDiscrete": {"inputs": {"sampling": "v_prediction", "zsnr": False}},
    "RescaleCFG": {"inputs": {"multiplier": 0.7}},
    "DifferentialDiffusion": {"inputs": {"strength": 1.0}, "mask": True},  # masked latent, 2 steps (at 1 it keeps the input)
    "UNetSelfAttentionMultiply": {"inputs": {"q": 1.0, "k": 1.3, "v": 1.2, "out": 0.8}},
    "UNetCrossAttentionMultiply": {"inputs": {"q": 1.0, "k": 1.3, "v": 1.2, "out": 0.8}},
    "IPAdapterStandIn_sd15": {"class_type": "TruePoseTest_IPAdapterStandIn", "inputs": {"keys": "sd15", "weight": 1.0, "stack": 2}},
    "IPAdapterStandIn_sdxl": {"class_type": "TruePoseTest_IPAdapterStandIn", "inputs": {"keys": "sdxl", "weight": 1.0, "stack": 2}},
}


def _ipadapter_plus(p: dict, model: list, node_id: str) -> list:
    """The real ComfyUI_IPAdapter_plus: two IPAdapter Advanced nodes stacked (the second `.add`s)."""
    p["50"] = {"class_type": "IPAdapterModelLoader", "inputs": {"ipadapter_file": IPADAPTER_FILE}}
    p["42"] = {"class_type": "TruePoseTest_TinyClipVision", "inputs": {}}
    for i in range(2):
        p[f"{node_id}{i}"] = {"class_type": "IPAdapterAdvanced", "inputs": {
            "model": model, "ipadapter": ["50", 0], "image": ["24", 0], "clip_vision": ["42", 0], "weight": 0.5,
            "weight_type": "linear", "combine_embeds": "concat", "start_at": 0.0, "end_at": 1.0, "embeds_scaling": "V only"}}
        model = [f"{node_id}{i}", 0]
    return model


PATCHES["IPAdapter_plus"] = {"build": _ipadapter_plus, "pack": True}


def _add_patch(p: dict, name: str, model: list, node_id: str) -> list:
    spec = PATCHES[name]
    if "build" in spec:
        return spec["build"](p, model, node_id)
    inputs = {"model": model, **spec["inputs"]}
    if spec.get("clip"):
        inputs["clip"] = ["1", 1]
    p[node_id] = {"class_type": spec.get("class_type", name), "inputs": inputs}
    return [node_id, 0]


def prompt(mode: str, patch: str | None = None, order: str | None = None, truepose: bool = True, mask: bool = False) -> dict:
    """Source (scaled to 64x88) -> parsing -> [patch] -> Encode Source -> [patch] -> Apply -> [patch] -> spy -> KSampler."""
    p = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": CHECKPOINT}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "a person in a striped shirt", "clip": ["1", 1]}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["1", 1]}},
        "4": {"class_type": "LoadImage", "inputs": {"image": "truepose_source.png"}},
        "5": {"class_type": "LoadImage", "inputs": {"image": "truepose_source_parsing.png"}},
        "24": {"class_type": "ImageScale",
            "inputs": {"image": ["4", 0], "upscale_method": "area", "width": 64, "height": 88, "crop": "disabled"}},
        "25": {"class_type": "ImageScale",
            "inputs": {"image": ["5", 0], "upscale_method": "nearest-exact", "width": 64, "height": 88, "crop": "disabled"}},
        "6": {"class_type": "TruePose_ParsingFromImage", "inputs": {"palette_image": ["25", 0], "label_set": "lip"}},
        "13": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "20": {"class_type": "TruePoseTest_Capture", "inputs": {"value": ["14", 0], "name": "latent"}},
    }
    model = ["1", 0]
    if mode == "trained":
        p["40"] = {"class_type": "UNETLoader", "inputs": {"unet_name": TRUEPOSE_UNET, "weight_dtype": "default"}}
        p["41"] = {"class_type": "TruePose_ModelLoader", "inputs": {"model_name": TRUEPOSE_CKPT}}
        p["42"] = {"class_type": "TruePoseTest_TinyClipVision", "inputs": {}}
        model = ["40", 0]
    if patch and order == "before_encode":
        model = _add_patch(p, patch, model, "30")
    if truepose:
        p["7"] = {"class_type": "TruePose_EncodeSource", "inputs": {
            "model": model, "vae": ["1", 2], "image": ["24", 0], "parsing": ["6", 0], "conditioning": ["2", 0]}}
        if patch and order == "before_apply":
            model = _add_patch(p, patch, model, "31")
        p["8"] = {"class_type": "TruePose_Apply", "inputs": {
            "model": model, "source": ["7", 0], **{r: 1.0 for r in REGIONS}, "fusion": "joint",
            "start_percent": 0.0, "end_percent": 1.0}}
        if mode == "trained":
            p["7"]["inputs"].update(truepose_model=["41", 0], clip_vision=["42", 0])
            p["8"]["inputs"].update(truepose_model=["41", 0], caa_strength=1.0)
        model = ["8", 0]
        if patch and order == "after_apply":
            model = _add_patch(p, patch, model, "32")
        p["9"] = {"class_type": "TruePoseTest_Spy", "inputs": {"model": model}}
        model = ["9", 0]
    elif patch and order != "before_encode":
        model = _add_patch(p, patch, model, "31")
    latent = ["13", 0]
    if mask:
        p["26"] = {"class_type": "LoadImageMask", "inputs": {"image": "truepose_source_parsing.png", "channel": "red"}}
        p["27"] = {"class_type": "SetLatentNoiseMask", "inputs": {"samples": latent, "mask": ["26", 0]}}
        latent = ["27", 0]
    p["14"] = {"class_type": "KSampler", "inputs": {
        "model": model, "seed": 7, "steps": 2 if mask else 1, "cfg": 3.0, "sampler_name": "euler", "scheduler": "normal",
        "positive": ["2", 0], "negative": ["3", 0], "latent_image": latent, "denoise": 1.0}}
    return p


def write_lora(path: Path, unet_state: dict) -> None:
    """A rank-4 LoRA (kohya key names) on every attention projection of the tiny UNet."""
    from safetensors.torch import save_file

    g = torch.Generator().manual_seed(11)
    sd = {}
    for key, w in unet_state.items():
        if ".transformer_blocks." in key and key.endswith(".weight") and w.ndim == 2 and (".attn1." in key or ".attn2." in key):
            name = "lora_unet_" + key[len("diffusion_model."):-len(".weight")].replace(".", "_")
            sd[name + ".lora_down.weight"] = torch.randn(4, w.shape[1], generator=g) * 0.05
            sd[name + ".lora_up.weight"] = torch.randn(w.shape[0], 4, generator=g) * 0.05
            sd[name + ".alpha"] = torch.tensor(4.0)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(sd, str(path))


@pytest.fixture(scope="module")
def matrix(host, tmp_path_factory):
    import tiny_models

    # the loader's own copy of the checkpoint must not outlive this line: the generator's frame would keep it for the module
    write_lora(host.models_dir / "loras" / LORA, host.nodes.CheckpointLoaderSimple().load_checkpoint(CHECKPOINT)[0].model.state_dict())
    tiny_models.write_truepose(host.models_dir / "truepose" / TRUEPOSE_CKPT, host.models_dir / "unet" / TRUEPOSE_UNET, caa_embed_dim=32)
    host.folder_paths.filename_list_cache.clear() if hasattr(host.folder_paths, "filename_list_cache") else None
    runs = Runs(host)
    runs.ipadapter_plus = _load_ipadapter_plus(host, tmp_path_factory.mktemp("ipadapter_plus"))
    started = time.monotonic()
    yield runs
    RESULTS_FILE.parent.mkdir(exist_ok=True)
    RESULTS_FILE.write_text(json.dumps({"seconds": round(time.monotonic() - started, 1), "cells": RESULTS}, indent=1))


def write_ipadapter(path: Path, inner_dims: dict[str, int], clip_dim: int = 32, context_dim: int = 768) -> None:
    """A random IP-Adapter (the plain SD1.5 kind) with the key layout IPAdapter_plus reads:
    image_proj.{proj,norm}, ip_adapter.<n>.to_{k,v}_ip for its 16 SD1.5 layers."""
    from safetensors.torch import save_file

    g = torch.Generator().manual_seed(13)
    sd = {
        "image_proj.proj.weight": torch.randn(4 * context_dim, clip_dim, generator=g) * 0.05,
        "image_proj.proj.bias": torch.zeros(4 * context_dim),
        "image_proj.norm.weight": torch.ones(context_dim), "image_proj.norm.bias": torch.zeros(context_dim),
    }
    for n in range(16):
        for kv in ("k", "v"):
            sd[f"ip_adapter.{2 * n + 1}.to_{kv}_ip.weight"] = torch.randn(inner_dims.get(str(2 * n + 1), 320), context_dim,
                generator=g) * 0.05
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(sd, str(path))


def _load_ipadapter_plus(host, tmp: Path) -> bool:
    """Export the read-only mirror of ComfyUI_IPAdapter_plus into a temp dir and load it into the
    running host as a custom node (its code is never copied into this repo)."""
    if not IPADAPTER_PLUS.exists():
        return False
    if "IPAdapterAdvanced" in host.nodes.NODE_CLASS_MAPPINGS:
        return True
    target = tmp / "ComfyUI_IPAdapter_plus"
    target.mkdir()
    archive = subprocess.run(["git", "-C", str(IPADAPTER_PLUS), "archive", "HEAD"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    write_ipadapter(host.models_dir / "ipadapter" / IPADAPTER_FILE, {})
    loaded = host.nodes.load_custom_node(str(target), ignore=set())
    if asyncio.iscoroutine(loaded):
        loaded = asyncio.run(loaded)
    return "IPAdapterAdvanced" in host.nodes.NODE_CLASS_MAPPINGS


class Runs:
    """Runs prompts; the references (base, TruePose alone, patch alone) once each."""

    def __init__(self, host) -> None:
        self.host = host
        self.cache: dict = {}

    def run(self, p: dict) -> tuple[torch.Tensor, dict]:
        import sys

        testing = next(m for n, m in sys.modules.items() if n.endswith("testing_nodes") and hasattr(m, "CAPTURED"))
        spy = next(m for n, m in sys.modules.items() if n.endswith("testing_nodes.composition"))
        for counter in (spy.SPY["attn1"], spy.SPY["attn2"]):
            counter.clear()
        torch.manual_seed(0)  # ToMe draws its merge pattern from the global generator
        result = self.host.run(p)
        assert result.success, result.error
        reads = {k: dict(spy.SPY[k]) for k in ("attn1", "attn2")}
        return testing.CAPTURED["latent"]["samples"].clone(), reads

    def reference(self, mode: str, patch: str | None, truepose: bool, mask: bool):
        key = (mode, patch, truepose, mask)
        if key not in self.cache:
            self.cache[key] = self.run(prompt(mode, patch, "before_apply", truepose=truepose, mask=mask))
        return self.cache[key]


def _mean_abs(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().mean())


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("patch", list(PATCHES))
@pytest.mark.parametrize("mode", MODES)
def test_truepose_composes_with_the_patch(matrix, mode, patch, order):
    if PATCHES[patch].get("pack") and not matrix.ipadapter_plus:
        pytest.skip(f"ComfyUI_IPAdapter_plus not found at {IPADAPTER_PLUS} (set TRUEPOSE_IPADAPTER_PLUS to a checkout)")
    mask = bool(PATCHES[patch].get("mask"))
    base, _ = matrix.reference(mode, None, False, mask)
    alone, alone_reads = matrix.reference(mode, None, True, mask)
    other, _ = matrix.reference(mode, patch, False, mask)
    both, reads = matrix.run(prompt(mode, patch, order, mask=mask))  # (a) it runs

    assert torch.isfinite(both).all()
    assert alone_reads["attn1"] and (mode == "free" or alone_reads["attn2"])
    missing = {k: sorted(set(alone_reads[k]) - set(reads[k])) for k in ("attn1", "attn2")}
    assert not missing["attn1"] and not missing["attn2"], f"TruePose stopped reading its source at {missing}"  # (b)

    other_alone, other_with = _mean_abs(other, base), _mean_abs(both, alone)
    # TruePose's effect relative to the output's size: ModelSamplingDiscrete (v-prediction) rescales every model output
    truepose_alone, truepose_with = _mean_abs(alone, base) / float(base.abs().mean()), _mean_abs(both, other) / float(other.abs().mean())
    RESULTS.append({"mode": mode, "patch": patch, "order": order, "other_alone": other_alone, "other_with_truepose": other_with,
                    "truepose_alone_rel": truepose_alone, "truepose_with_other_rel": truepose_with,
                    "blocks": {k: len(reads[k]) for k in reads}})
    assert other_alone > 1e-4, f"{patch} does nothing on this graph even alone"
    # (c) not switched off nor weakened; it may act more (RescaleCFG grows when TruePose moves the cond prediction)
    assert other_with > 0.25 * other_alone, f"{patch}'s effect {other_alone:.4f} alone became {other_with:.4f} with TruePose"
    assert truepose_with > 0.25 * truepose_alone, f"TruePose's relative effect {truepose_alone:.4f} became {truepose_with:.4f} with {patch}"


# --- chains: hires fix, inpainting, several Apply TruePose -------------------------------------


def _hires(p: dict) -> dict:
    """A second KSampler on the upscaled latent, same MODEL, denoise 0.5 (hires fix)."""
    p["15"] = {"class_type": "LatentUpscaleBy", "inputs": {"samples": ["14", 0], "upscale_method": "bilinear", "scale_by": 1.5}}
    p["16"] = dict(p["14"], inputs=dict(p["14"]["inputs"], latent_image=["15", 0], denoise=0.5, seed=8))
    p["20"]["inputs"]["value"] = ["16", 0]
    return p


def _inpaint(p: dict) -> dict:
    """VAE Encode (for Inpainting) of a picture, DifferentialDiffusion on the sampler's MODEL."""
    p["28"] = {"class_type": "ImageScale",
        "inputs": {"image": ["4", 0], "upscale_method": "area", "width": 64, "height": 64, "crop": "center"}}
    p["26"] = {"class_type": "LoadImageMask", "inputs": {"image": "truepose_source_parsing.png", "channel": "red"}}
    p["29"] = {"class_type": "VAEEncodeForInpaint", "inputs": {"pixels": ["28", 0], "vae": ["1", 2], "mask": ["26", 0], "grow_mask_by": 2}}
    p["14"]["inputs"]["latent_image"] = ["29", 0]
    return p


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("chain", ["hires_fix", "inpainting"])
def test_hires_fix_and_inpainting_chains(matrix, mode, chain):
    build = _hires if chain == "hires_fix" else _inpaint
    base, _ = matrix.run(build(prompt(mode, truepose=False)))
    out, reads = matrix.run(build(prompt(mode, "DifferentialDiffusion" if chain == "inpainting" else None, "after_apply")))
    _, alone_reads = matrix.reference(mode, None, True, False)
    assert torch.isfinite(out).all() and _mean_abs(out, base) > 1e-4
    assert set(reads["attn1"]) == set(alone_reads["attn1"]) and set(reads["attn2"]) == set(alone_reads["attn2"])
    if chain == "hires_fix":  # both samplers read the source: twice the reads of one
        assert all(reads["attn1"][b] >= 2 * n for b, n in alone_reads["attn1"].items())


def test_a_second_apply_replaces_the_first_and_says_so(matrix, caplog):
    """One TruePose per MODEL: the later Apply TruePose wins, entirely, and the log says so."""
    p = prompt("free")
    p["10"] = dict(p["8"], inputs=dict(p["8"]["inputs"], model=["8", 0], face=0.5, upper=0.0, lower=0.0))
    p["9"]["inputs"]["model"] = ["10", 0]
    with caplog.at_level("WARNING"):
        twice, reads = matrix.run(p)
    assert any("replaces it" in r.getMessage() and "Merge Sources" in r.getMessage() for r in caplog.records)
    single = prompt("free")
    single["8"]["inputs"].update(face=0.5, upper=0.0, lower=0.0)
    once, once_reads = matrix.run(single)
    torch.testing.assert_close(twice, once)  # exactly the second's settings, none of the first left
    assert reads == once_reads
    off = prompt("free")
    off["10"] = dict(p["8"], inputs=dict(p["8"]["inputs"], model=["8", 0], **{r: 0.0 for r in REGIONS}))
    off["9"]["inputs"]["model"] = ["10", 0]
    base, _ = matrix.reference("free", None, False, False)
    latent, off_reads = matrix.run(off)
    assert torch.equal(latent, base) and not off_reads["attn1"]  # a later all-zero Apply turns TruePose off


@pytest.mark.parametrize("patch", ["TomePatchModel", "HyperTile"])
def test_the_reference_pass_skips_token_mergers_so_the_bank_holds_the_unets_own_tokens(matrix, patch):
    def bank(with_patch: bool):
        p = prompt("free", patch if with_patch else None, "before_encode")
        p["21"] = {"class_type": "TruePoseTest_Capture", "inputs": {"value": ["7", 0], "name": "bank"}}
        matrix.run(p)
        import sys

        testing = next(m for n, m in sys.modules.items() if n.endswith("testing_nodes") and hasattr(m, "CAPTURED"))
        return testing.CAPTURED["bank"]

    plain, patched = bank(False), bank(True)
    assert plain.blocks == patched.blocks and plain.regions == patched.regions
    for region in plain.regions:
        for block in plain.blocks:
            torch.testing.assert_close(patched.region_tokens(region, block, 0), plain.region_tokens(region, block, 0))
