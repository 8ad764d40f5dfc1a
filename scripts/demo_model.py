"""The shipped demo TruePose model: what it is, where it lives, and how it becomes ComfyUI files.

The repo holds the trained weights compactly (demo_model/truepose_demo.safetensors: the NARROW
TargetNet / SourceNet, pose guider, gates and the narrow TAESD halves). `install_demo_model`
expands them EXACTLY (truepose_core/train/narrow.py, taesd.py) into the three files ComfyUI's
stock loaders and Load TruePose Model read:

  models/unet/truepose_demo_target_unet.safetensors   UNETLoader (an SD1.5-detected UNet)
  models/vae/truepose_demo_vae.safetensors            VAELoader (a TAESD-architecture VAE)
  models/truepose/truepose_demo.safetensors           TruePose_ModelLoader

The zero padding that makes them SD1.5-wide would make the repo files ~18x larger, so it is
done at install time (a few seconds), like the tiny test models.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from truepose_core.models.checkpoint import CheckpointMeta, TruePoseCheckpoint, save_checkpoint  # noqa: E402
from truepose_core.train.narrow import narrow_config, widen_pose_guider, widen_unet, wide_config  # noqa: E402
from truepose_core.train.taesd import TAESD  # noqa: E402

DEMO_FILE = REPO_ROOT / "demo_model" / "truepose_demo.safetensors"
UNET_NAME = "truepose_demo_target_unet.safetensors"
VAE_NAME = "truepose_demo_vae.safetensors"
TRUEPOSE_NAME = "truepose_demo.safetensors"
HEIGHT, WIDTH = 256, 192  # image size the model was trained at (at 96x128 the 8x latent itself caps clothes SSIM at ~0.3)
TEST_SEED_OFFSET = 7919  # held-out people: the synthetic generator under this seed (training seeds are 0, 1, 2...)


def save_compact(path: Path, model, taesd: TAESD, recipe: dict) -> Path:
    """model: a TruePoseTrainModel with narrow (diluted) UNets."""
    tensors: dict[str, torch.Tensor] = {}
    for prefix, module in (("target_unet.", model.target_unet), ("source_unet.", model.source_unet), ("pose_guider.", model.pose_guider)):
        tensors.update({prefix + k: v.detach().to(torch.float16) for k, v in module.state_dict().items()})
    tensors.update({f"gate.{r}": g.detach().float().reshape(()) for r, g in model.gates.items()})
    meta = {
        "unet_config": json.dumps(asdict(model.target_unet.config)), "pose_guider": json.dumps(model.pose_guider.config),
        "taesd_widths": json.dumps(list(taesd.widths)), "recipe": json.dumps(recipe),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors.update({"taesd.encoder." + k: v.to(torch.float16) for k, v in taesd.encoder.state_dict().items()})
    tensors.update({"taesd.decoder." + k: v.to(torch.float16) for k, v in taesd.decoder.state_dict().items()})
    tensors.update({"taesd.vae_scale": taesd.vae_scale.float().clone(), "taesd.vae_shift": taesd.vae_shift.float().clone()})
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(path), metadata=meta)
    return path


def load_compact(path: Path = DEMO_FILE) -> dict:
    """-> {"unet_config", "pose_guider", "target_unet", "source_unet", "pose_guider_state", "gates", "taesd", "recipe"}."""
    from truepose_core.models.sd_unet import UNetConfig

    with safe_open(str(path), "pt") as f:
        meta = dict(f.metadata() or {})
    tensors = load_file(str(path))

    def part(prefix: str) -> dict[str, torch.Tensor]:
        return {k[len(prefix):]: v.float() for k, v in tensors.items() if k.startswith(prefix)}

    fields = json.loads(meta["unet_config"])
    config = UNetConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})
    widths = json.loads(meta["taesd_widths"])
    taesd = TAESD(4, widths[0], widths[1])
    taesd.encoder.load_state_dict(part("taesd.encoder."))
    taesd.decoder.load_state_dict(part("taesd.decoder."))
    taesd.vae_scale.fill_(float(tensors["taesd.vae_scale"]))
    taesd.vae_shift.fill_(float(tensors["taesd.vae_shift"]))
    return {
        "unet_config": config, "pose_guider": json.loads(meta["pose_guider"]), "target_unet": part("target_unet."),
        "source_unet": part("source_unet."), "pose_guider_state": part("pose_guider."), "gates": part("gate."),
        "taesd": taesd, "recipe": json.loads(meta["recipe"]),
    }


def narrow_model(compact: dict, hpfa: bool = True):
    """The trained TruePoseTrainModel (narrow, diluted norms) from the compact file."""
    from truepose_core.train.narrow import dilute_norms
    from truepose_core.train.model import TruePoseTrainModel

    config = compact["unet_config"]
    regions = tuple(compact["gates"])
    model = TruePoseTrainModel(config, pose_downsample=compact["pose_guider"]["downsample"], regions=regions, hpfa=hpfa)
    dilute_norms(model.target_unet, config.model_channels)
    dilute_norms(model.source_unet, config.model_channels)
    model.target_unet.load_state_dict(compact["target_unet"])
    model.source_unet.load_state_dict(compact["source_unet"])
    model.pose_guider.load_state_dict(compact["pose_guider_state"])
    with torch.no_grad():
        for region, gate in model.gates.items():
            gate.copy_(compact["gates"][region])
    return model.eval()


def install_demo_model(models_dir: str | Path, source: Path = DEMO_FILE) -> dict[str, Path]:
    """Writes the three ComfyUI files under models_dir (skipped when already newer than `source`)."""
    models_dir = Path(models_dir)
    out = {
        "unet": models_dir / "unet" / UNET_NAME, "vae": models_dir / "vae" / VAE_NAME, "truepose": models_dir / "truepose" / TRUEPOSE_NAME,
    }
    if all(p.is_file() and p.stat().st_mtime >= source.stat().st_mtime for p in out.values()):
        return out
    compact = load_compact(source)
    narrow = compact["unet_config"]
    wide = wide_config(narrow)
    out["unet"].parent.mkdir(parents=True, exist_ok=True)
    target = widen_unet(compact["target_unet"], narrow)
    save_file({k: v.to(torch.float16).contiguous() for k, v in target.items()}, str(out["unet"]),
              metadata={"truepose": "demo TargetNet trained on the synthetic people (scripts/train_demo_model.py)"})
    compact["taesd"].save(out["vae"])
    guider = dict(compact["pose_guider"], out_channels=wide.model_channels)
    checkpoint = TruePoseCheckpoint(
        meta=CheckpointMeta(base="sd15-truepose-demo", unet_config=asdict(wide), pose_guider=guider, fusion="gated"),
        source_unet={k: v.to(torch.float16) for k, v in widen_unet(compact["source_unet"], narrow).items()},
        pose_guider={k: v.to(torch.float16) for k, v in widen_pose_guider(compact["pose_guider_state"], narrow).items()},
        gates={r: g.reshape(()) for r, g in compact["gates"].items()},
    )
    save_checkpoint(out["truepose"], checkpoint)
    return out


def narrow_demo_config(width: int = 64):
    return narrow_config(width)


# --- running it in a real ComfyUI host: workflow (e), truepose_trained, on held-out synthetic people ---

SAMPLER = {"steps": 20, "cfg": 1.0, "sampler_name": "euler", "scheduler": "normal"}
VAE_NODE = "50"


def held_out_pair(index: int) -> dict[str, torch.Tensor]:
    """Pair `index` of the held-out people (never seen in training)."""
    from truepose_core.synthetic import SyntheticPairs

    return SyntheticPairs(index + 1, WIDTH, HEIGHT, TEST_SEED_OFFSET)[index]


def write_inputs(input_dir: Path, item: dict, stem: str) -> tuple[str, str]:
    """The pair's source image and its LIP palette parsing as PNGs in ComfyUI's input folder."""
    from PIL import Image

    from truepose_core.parsing.palette import labels_to_palette_image

    source = (item["source_image"].permute(1, 2, 0).numpy() * 255).round().astype("uint8")
    palette = (labels_to_palette_image(item["source_parsing"][None])[0].numpy() * 255).round().astype("uint8")
    names = (f"{stem}_source.png", f"{stem}_source_parsing.png")
    Image.fromarray(source, "RGB").save(Path(input_dir) / names[0])
    Image.fromarray(palette, "RGB").save(Path(input_dir) / names[1])
    return names


def demo_prompt(source_name: str, parsing_name: str, target_keypoints, seed: int = 42, prefix: str = "truepose/demo", **sampler) -> dict:
    """Workflow (e) with the demo model: its TargetNet, VAE and TruePose checkpoint, the target pose
    as POSE_KEYPOINT JSON. The checkpoint loader only supplies the text encoder, whose output the
    workflow zeroes (the model was trained without text)."""
    from truepose_core.pose import Person, PoseFrame, frames_to_pose_keypoint
    from workflow_tools import load_api_workflow

    prompt = load_api_workflow("truepose_trained")
    prompt[VAE_NODE] = {"class_type": "VAELoader", "inputs": {"vae_name": VAE_NAME}, "_meta": {"title": "Demo VAE (TAESD architecture)"}}
    prompt["7"]["inputs"]["vae"] = [VAE_NODE, 0]
    prompt["15"]["inputs"]["vae"] = [VAE_NODE, 0]
    prompt["40"]["inputs"]["unet_name"] = UNET_NAME
    prompt["41"]["inputs"]["model_name"] = TRUEPOSE_NAME
    prompt["8"]["inputs"]["background"] = 1.0  # trained reading the source backdrop (it is per person here)
    prompt["4"]["inputs"]["image"] = source_name
    prompt["5"]["inputs"]["image"] = parsing_name
    frame = PoseFrame(WIDTH, HEIGHT, (Person(np.asarray(target_keypoints, np.float32)),))
    prompt["9"]["inputs"]["pose_json"] = json.dumps(frames_to_pose_keypoint([frame]))
    # the skeleton the model was trained on (SyntheticPairs renders with stick_scale max(0.25, width / 512))
    prompt["10"]["inputs"].update(width=WIDTH, height=HEIGHT, stick_scale=max(0.25, WIDTH / 512))
    prompt["13"]["inputs"].update(width=WIDTH, height=HEIGHT, batch_size=1)
    prompt["14"]["inputs"].update({**SAMPLER, **sampler, "seed": seed})
    prompt["16"]["inputs"]["filename_prefix"] = prefix
    return prompt


def run_pair(host, index: int, seed: int = 42, **sampler) -> tuple[torch.Tensor, dict, Path]:
    """Re-poses held-out person `index` in the host -> (output (3, H, W) in [0, 1], the pair, the PNG)."""
    from PIL import Image

    item = held_out_pair(index)
    source_name, parsing_name = write_inputs(host.input_dir, item, f"truepose_demo_{index:04d}")
    prompt = demo_prompt(source_name, parsing_name, item["target_keypoints"].numpy(), seed, f"truepose/demo_{index:04d}", **sampler)
    result = host.run(prompt)
    if not result.success:
        raise RuntimeError(f"the trained demo workflow failed on pair {index}: {result.error}")
    image = result.outputs["16"]["images"][0]
    path = host.root / "output" / image.get("subfolder", "") / image["filename"]
    with Image.open(path) as png:
        output = torch.from_numpy(np.asarray(png.convert("RGB")).copy()).permute(2, 0, 1).float() / 255.0
    return output, item, path


def metrics_row(generated: torch.Tensor, items: list[dict]) -> dict:
    """SSIM, PSNR and face / upper / lower region SSIM of host outputs against the ground truth."""
    from truepose_core.eval import evaluate_tensors

    truth = torch.stack([it["target_image"] for it in items])
    parsing = torch.stack([it["target_parsing"] for it in items]).long()
    metrics = evaluate_tensors(generated, truth, parsing)
    regions = metrics["region_ssim"]["regions"]
    return {"ssim": metrics["ssim"], "psnr": metrics["psnr"], **{r: regions[r]["value"] for r in ("face", "upper", "lower")}}


def write_sheet(path: Path, outputs: torch.Tensor, items: list[dict]) -> Path:
    """One row per pair: source | target skeleton | output | ground truth."""
    from truepose_core.train.grid import write_grid

    stack = {k: torch.stack([it[k] for it in items]) for k in ("source_image", "target_pose", "target_image")}
    return write_grid(path, stack["source_image"], stack["target_pose"], outputs, stack["target_image"])
