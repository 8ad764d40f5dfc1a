"""API-format prompts for the host tests, built from small parts (ids are strings, links [id, slot])."""

from __future__ import annotations

import copy

CHECKPOINT = "v1-5-pruned-emaonly-fp16.safetensors"
CONTROLNET = "control_v11p_sd15_openpose_fp16.safetensors"
REGIONS = ("face", "hair", "upper", "lower", "skin", "shoes")


def pose_transfer(
    *, width=128, height=176, batch=1, steps=2, cfg=3.0, strength=1.0, fusion="joint", truepose=True,
    count_passes=False, sabotage=None, text="a person in a striped shirt", start_percent=0.0, end_percent=1.0, source_batch=1, layout=False,
) -> dict:
    """Source person -> parsing -> EncodeSource -> Apply -> ControlNet -> KSampler; captures the latent."""
    model = ["1", 0]
    p = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": CHECKPOINT}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": text, "clip": ["1", 1]}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["1", 1]}},
        "4": {"class_type": "LoadImage", "inputs": {"image": "truepose_source.png"}},
        "5": {"class_type": "LoadImage", "inputs": {"image": "truepose_source_parsing.png"}},
        "6": {"class_type": "TruePose_ParsingFromImage", "inputs": {"palette_image": ["5", 0], "label_set": "lip"}},
        "11": {"class_type": "ControlNetLoader", "inputs": {"control_net_name": CONTROLNET}},
        "12": {"class_type": "ControlNetApplyAdvanced", "inputs": {
            "positive": ["2", 0], "negative": ["3", 0], "control_net": ["11", 0], "image": ["5", 0],
            "strength": 1.0, "start_percent": 0.0, "end_percent": 1.0}},
        "13": {"class_type": "EmptyLatentImage", "inputs": {"width": width, "height": height, "batch_size": batch}},
        "20": {"class_type": "TruePoseTest_Capture", "inputs": {"value": ["14", 0], "name": "latent"}},
    }
    if count_passes:
        p["9"] = {"class_type": "TruePoseTest_CountPasses", "inputs": {"model": model}}
        model = ["9", 0]
    sampler_model = model
    if truepose:
        image = ["4", 0]
        if source_batch > 1:
            p["10"] = {"class_type": "RepeatImageBatch", "inputs": {"image": image, "amount": source_batch}}
            image = ["10", 0]
        p["7"] = {"class_type": "TruePose_EncodeSource", "inputs": {
            "model": model, "vae": ["1", 2], "image": image, "parsing": ["6", 0], "conditioning": ["2", 0]}}
        p["8"] = {"class_type": "TruePose_Apply", "inputs": {
            "model": model, "source": ["7", 0], **{r: strength for r in REGIONS}, "fusion": fusion,
            "start_percent": start_percent, "end_percent": end_percent}}
        if layout:
            p["8"]["inputs"]["target_layout"] = ["6", 0]
        sampler_model = ["8", 0]
    if sabotage:
        p["15"] = {"class_type": "TruePoseTest_Sabotage", "inputs": {"model": sampler_model, "mode": sabotage, "at_call": 2}}
        sampler_model = ["15", 0]
    p["14"] = {"class_type": "KSampler", "inputs": {
        "model": sampler_model, "seed": 7, "steps": steps, "cfg": cfg, "sampler_name": "euler", "scheduler": "normal",
        "positive": ["12", 0], "negative": ["12", 1], "latent_image": ["13", 0], "denoise": 1.0}}
    return p


def with_inputs(prompt: dict, node_id: str, **inputs) -> dict:
    out = copy.deepcopy(prompt)
    out[node_id]["inputs"].update(inputs)
    return out


def truepose_runtimes(patched_model) -> list:
    """The TruePose attention runtimes (per-run caches) registered on a MODEL (attn1 and attn2)."""
    from repo_paths import pack

    installed = pack("patch_chain").installed_truepose(patched_model)
    return [p.runtime for p in installed.patches if hasattr(p, "runtime")] if installed else []
