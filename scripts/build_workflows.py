"""Writes the shipped workflows: the API-format twins (workflows/api/) and, from them, the
UI-format files the ComfyUI frontend loads (workflows/*.json). `make workflows` runs it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "scripts"))

from workflow_tools import API_DIR, write_ui_twins  # noqa: E402

CHECKPOINT = "v1-5-pruned-emaonly-fp16.safetensors"
CONTROLNET = "control_v11p_sd15_openpose_fp16.safetensors"
# the names the trainer writes (python -m truepose_core.train -> truepose_core/train/export.py)
TRUEPOSE_MODEL = "truepose.safetensors"
TARGET_UNET = "target_unet.safetensors"
WIDTH, HEIGHT = 256, 352
SDXL_CHECKPOINT = "sd_xl_base_1.0.safetensors"  # or any SDXL-family checkpoint (Pony, Illustrious, NoobAI ...)
SDXL_CONTROLNET = "xinsir_controlnet_openpose_sdxl_1.0.safetensors"
SDXL_WIDTH, SDXL_HEIGHT = 832, 1216  # an SDXL portrait bucket
TARGET_POSE = json.dumps(json.loads((REPO_ROOT / "workflows" / "inputs" / "truepose_target_pose.json").read_text()))
REGIONS = {"face": 1.0, "hair": 1.0, "upper": 1.0, "lower": 1.0, "skin": 0.8, "shoes": 0.8}


def node(class_type: str, title: str, **inputs) -> dict:
    return {"class_type": class_type, "inputs": inputs, "_meta": {"title": title}}


def pose_transfer() -> dict:
    """(a) training-free pose transfer with an OpenPose ControlNet."""
    return {
        "1": node("CheckpointLoaderSimple", "SD1.5 checkpoint", ckpt_name=CHECKPOINT),
        "2": node("CLIPTextEncode", "Positive", text="a photo of a person, full body, best quality", clip=["1", 1]),
        "3": node("CLIPTextEncode", "Negative", text="blurry, deformed, low quality", clip=["1", 1]),
        "4": node("LoadImage", "Source person", image="truepose_source.png"),
        "5": node("LoadImage", "Source parsing (LIP palette)", image="truepose_source_parsing.png"),
        "6": node("TruePose_ParsingFromImage", "Parsing from palette", palette_image=["5", 0], label_set="lip"),
        "7": node("TruePose_EncodeSource", "SourceNet (runs once)", model=["1", 0], vae=["1", 2], image=["4", 0],
                  parsing=["6", 0], conditioning=["2", 0], dilate_regions=False),
        "9": node("TruePose_LoadPoseJSON", "Target pose", pose_json=TARGET_POSE),
        "10": node("TruePose_RenderPose", "Render skeleton", pose_keypoint=["9", 0], width=WIDTH, height=HEIGHT, stick_scale=1.0,
                   body=True, hands=True, face=True, min_confidence=1.0),
        "17": node("TruePose_PoseToLayout", "Target layout from pose", pose_keypoint=["9", 0], width=WIDTH, height=HEIGHT),
        "8": node("TruePose_Apply", "Apply TruePose", model=["1", 0], source=["7", 0], **REGIONS, fusion="joint",
                  start_percent=0.0, end_percent=1.0, target_layout=["17", 0], background=0.0, uncond_reads_source=False,
                  caa_strength=1.0),
        "11": node("ControlNetLoader", "OpenPose ControlNet", control_net_name=CONTROLNET),
        "12": node("ControlNetApplyAdvanced", "Apply ControlNet", positive=["2", 0], negative=["3", 0], control_net=["11", 0],
                   image=["10", 0], strength=1.0, start_percent=0.0, end_percent=1.0),
        "13": node("EmptyLatentImage", "Latent", width=WIDTH, height=HEIGHT, batch_size=1),
        "14": node("KSampler", "KSampler", model=["8", 0], seed=42, steps=25, cfg=3.0, sampler_name="euler",
                   scheduler="normal", positive=["12", 0], negative=["12", 1], latent_image=["13", 0], denoise=1.0),
        "15": node("VAEDecode", "Decode", samples=["14", 0], vae=["1", 2]),
        "16": node("SaveImage", "Save", images=["15", 0], filename_prefix="truepose/pose_transfer"),
    }


def pose_transfer_upscale() -> dict:
    """(b) (a) + a latent upscale and a second, low-denoise TruePose pass (hires fix)."""
    g = pose_transfer()
    g["16"]["inputs"]["filename_prefix"] = "truepose/upscale_base"
    g["20"] = node("LatentUpscaleBy", "Upscale latent x1.5", samples=["14", 0], upscale_method="nearest-exact", scale_by=1.5)
    g["21"] = node("KSampler", "Hires pass", model=["8", 0], seed=43, steps=12, cfg=3.0, sampler_name="euler",
                   scheduler="normal", positive=["12", 0], negative=["12", 1], latent_image=["20", 0], denoise=0.5)
    g["22"] = node("VAEDecode", "Decode hires", samples=["21", 0], vae=["1", 2])
    g["23"] = node("SaveImage", "Save hires", images=["22", 0], filename_prefix="truepose/upscaled")
    return g


def pose_transfer_face_inpaint() -> dict:
    """(c) (a) + re-sample the face region (mask from the target layout) with a stronger face."""
    g = pose_transfer()
    g["16"]["inputs"]["filename_prefix"] = "truepose/inpaint_base"
    g["30"] = node("TruePose_ParsingToMask", "Face mask", parsing=["17", 0], labels="face_hair", grow=6, blur=3, invert=False)
    g["31"] = node("VAEEncode", "Encode result", pixels=["15", 0], vae=["1", 2])
    g["32"] = node("SetLatentNoiseMask", "Mask latent", samples=["31", 0], mask=["30", 0])
    g["33"] = node("TruePose_Apply", "TruePose: face first", model=["1", 0], source=["7", 0], face=1.5, hair=1.0, upper=0.0,
                   lower=0.0, skin=0.0, shoes=0.0, fusion="joint", start_percent=0.0, end_percent=1.0,
                   target_layout=["17", 0], background=0.0, uncond_reads_source=False, caa_strength=1.0)
    g["34"] = node("KSampler", "Inpaint face", model=["33", 0], seed=44, steps=15, cfg=3.0, sampler_name="euler",
                   scheduler="normal", positive=["12", 0], negative=["12", 1], latent_image=["32", 0], denoise=0.6)
    g["35"] = node("VAEDecode", "Decode inpainted", samples=["34", 0], vae=["1", 2])
    g["36"] = node("SaveImage", "Save inpainted", images=["35", 0], filename_prefix="truepose/face_inpaint")
    return g


def multi_pose() -> dict:
    """(d) one encoded source, several target poses: the poses are a batch, the bank is computed once."""
    g = pose_transfer()
    sequence = json.dumps(json.loads((REPO_ROOT / "workflows" / "inputs" / "truepose_pose_sequence.json").read_text()))
    g["9"] = node("TruePose_LoadPoseJSON", "Target poses (3 frames)", pose_json=sequence)
    g["13"]["inputs"]["batch_size"] = 3
    g["16"]["inputs"]["filename_prefix"] = "truepose/multi_pose"
    return g


def trained() -> dict:
    """(e) trained mode: the exported TargetNet (models/unet) and TruePose checkpoint (models/truepose).
    The pose guider takes the skeleton (no ControlNet); the prompt is zeroed as in training."""
    g = pose_transfer()
    for nid in ("11", "12", "17"):
        del g[nid]
    g["40"] = node("UNETLoader", "TargetNet (exported UNet)", unet_name=TARGET_UNET, weight_dtype="default")
    g["41"] = node("TruePose_ModelLoader", "TruePose checkpoint", model_name=TRUEPOSE_MODEL)
    g["42"] = node("ConditioningZeroOut", "No prompt (as trained)", conditioning=["2", 0])
    g["7"]["inputs"].update(model=["40", 0], truepose_model=["41", 0])
    del g["7"]["inputs"]["conditioning"]
    g["8"] = node("TruePose_Apply", "Apply TruePose (trained)", model=["40", 0], source=["7", 0], **{r: 1.0 for r in REGIONS},
                  fusion="gated", start_percent=0.0, end_percent=1.0, background=0.0, uncond_reads_source=False,
                  truepose_model=["41", 0], pose_image=["10", 0], caa_strength=1.0)
    g["14"]["inputs"].update(positive=["42", 0], negative=["42", 0], cfg=2.5)
    g["16"]["inputs"]["filename_prefix"] = "truepose/trained"
    return g


def sdxl_pose_transfer() -> dict:
    """(f) (a) and (b) on an SDXL-family checkpoint: an SDXL OpenPose ControlNet with thicker
    sticks, the 832x1216 bucket, then the x1.5 latent upscale and low-denoise pass."""
    g = pose_transfer_upscale()
    g["1"] = node("CheckpointLoaderSimple", "SDXL checkpoint", ckpt_name=SDXL_CHECKPOINT)
    g["11"] = node("ControlNetLoader", "OpenPose ControlNet (SDXL)", control_net_name=SDXL_CONTROLNET)
    for nid in ("10", "17", "13"):
        g[nid]["inputs"].update(width=SDXL_WIDTH, height=SDXL_HEIGHT)
    g["10"]["inputs"]["stick_scale"] = 2.0
    g["12"]["inputs"]["strength"] = 0.9
    g["14"]["inputs"].update(steps=30, cfg=5.0, sampler_name="dpmpp_2m", scheduler="karras")
    g["21"]["inputs"].update(steps=15, cfg=5.0, sampler_name="dpmpp_2m", scheduler="karras", denoise=0.45)
    g["16"]["inputs"]["filename_prefix"] = "truepose/sdxl_base"
    g["23"]["inputs"]["filename_prefix"] = "truepose/sdxl_upscaled"
    return g


WORKFLOWS = {
    "truepose_pose_transfer": pose_transfer,
    "truepose_pose_transfer_upscale": pose_transfer_upscale,
    "truepose_pose_transfer_face_inpaint": pose_transfer_face_inpaint,
    "truepose_multi_pose": multi_pose,
    "truepose_trained": trained,
    "truepose_sdxl_pose_transfer": sdxl_pose_transfer,
}


def main() -> None:
    API_DIR.mkdir(parents=True, exist_ok=True)
    for name, build in WORKFLOWS.items():
        (API_DIR / f"{name}.json").write_text(json.dumps(build(), indent=1) + "\n")
    from comfy_host import ComfyHost, quiet_logging

    host = ComfyHost(REPO_ROOT / ".host" / "build-root")
    quiet_logging()
    for path in write_ui_twins(host.nodes.NODE_CLASS_MAPPINGS):
        print(f"wrote {path.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
