"""`make demo`: run TruePose headless in a real ComfyUI and write the PNGs.

1. The trained demo model (demo_model/, scripts/demo_model.py), always: workflow (e),
   truepose_trained, re-poses held-out synthetic people (never seen in training) into new poses;
   writes each output, a sheet (source | target skeleton | output | ground truth) and prints SSIM
   and face / upper / lower region SSIM against the ground truth. TRUEPOSE_DEMO_PAIRS (default 3)
   and TRUEPOSE_DEMO_STEPS (default 20) size it.
2. The training-free SD1.5 pose-transfer workflow. With TRUEPOSE_MODELS_DIR (or COMFYUI_MODELS_DIR)
   pointing at a ComfyUI models folder it uses your real SD1.5 checkpoint and OpenPose ControlNet
   (names in the workflow, or TRUEPOSE_CKPT / TRUEPOSE_CONTROLNET). Otherwise it says so and falls
   back to small GENERATED weights: the pipeline is real, the pictures are noise-like.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "scripts"))

from comfy_host import ComfyHost, quiet_logging  # noqa: E402
from workflow_tools import find_nodes, load_api_workflow  # noqa: E402

WORKFLOW = "truepose_pose_transfer"


def _use_real_models(host: ComfyHost, prompt: dict) -> bool:
    models_dir = os.environ.get("TRUEPOSE_MODELS_DIR") or os.environ.get("COMFYUI_MODELS_DIR")
    if not models_dir:
        return False
    base = Path(models_dir).expanduser()
    for kind in ("checkpoints", "controlnet"):
        host.folder_paths.add_model_folder_path(kind, str(base / kind), is_default=True)
    wanted = {
        ("CheckpointLoaderSimple", "ckpt_name", "checkpoints", os.environ.get("TRUEPOSE_CKPT")),
        ("ControlNetLoader", "control_net_name", "controlnet", os.environ.get("TRUEPOSE_CONTROLNET")),
    }
    for class_type, field, kind, override in wanted:
        for nid in find_nodes(prompt, class_type):
            name = override or prompt[nid]["inputs"][field]
            if host.folder_paths.get_full_path(kind, name) is None:
                print(
                    f"demo: {name} not found in {base / kind} (set {'TRUEPOSE_CKPT' if kind == 'checkpoints' else 'TRUEPOSE_CONTROLNET'})")
                return False
            prompt[nid]["inputs"][field] = name
    return True


def trained_demo(host: ComfyHost, out_dir: Path) -> bool:
    """Workflow (e) with the shipped demo model on held-out synthetic pairs."""
    import demo_model
    import torch

    pairs = int(os.environ.get("TRUEPOSE_DEMO_PAIRS", "3"))
    steps = int(os.environ.get("TRUEPOSE_DEMO_STEPS", str(demo_model.SAMPLER["steps"])))
    demo_model.install_demo_model(host.models_dir)
    print(f"demo: the trained demo TruePose model (synthetic people, {demo_model.WIDTH}x{demo_model.HEIGHT}) re-poses "
          f"{pairs} held-out person(s) in workflow (e), {steps} steps")
    outputs, items = [], []
    for index in range(pairs):
        try:
            output, item, png = demo_model.run_pair(host, index, steps=steps)
        except RuntimeError as e:
            print(f"demo: {e}")
            return False
        shutil.copy(png, out_dir / f"truepose_demo_{index:02d}.png")
        row = demo_model.metrics_row(output[None], [item])
        print(f"  pair {index}: " + "  ".join(f"{k} {v:.3f}" for k, v in row.items()))
        outputs.append(output)
        items.append(item)
    sheet = demo_model.write_sheet(out_dir / "truepose_demo_sheet.png", torch.stack(outputs), items)
    mean = demo_model.metrics_row(torch.stack(outputs), items)
    print("demo: mean over the pairs: " + "  ".join(f"{k} {v:.3f}" for k, v in mean.items()))
    print(f"demo: sheet (source | target skeleton | output | ground truth): {sheet}")
    return True


def main() -> int:
    out_dir = Path(os.environ.get("TRUEPOSE_DEMO_OUT", "demo_output")).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.time()
    import torch

    import tiny_models

    host = ComfyHost(REPO_ROOT / ".host" / "demo-root", cpu=not torch.cuda.is_available())
    quiet_logging()
    tiny_models.install_tiny_models(host.models_dir)  # the trained workflow's (zeroed) text encoder, and the fallback below
    if not trained_demo(host, out_dir):
        return 1
    prompt = load_api_workflow(WORKFLOW)
    if _use_real_models(host, prompt):
        print("demo: using your models")
    else:
        print("demo: NO real models given -> using small GENERATED SD1.5-format weights (random): the graph, "
              "TruePose and the sampler run for real, but the output image is noise-like. "
              "Set TRUEPOSE_MODELS_DIR=/path/to/ComfyUI/models for real results.")
        for nid in find_nodes(prompt, "KSampler"):
            prompt[nid]["inputs"]["steps"] = min(prompt[nid]["inputs"]["steps"], 4)  # noise in, noise out: keep it short
    for f in (REPO_ROOT / "workflows" / "inputs").iterdir():
        shutil.copy(f, host.input_dir / f.name)
    before = set((host.root / "output").rglob("*.png"))
    result = host.run(prompt)
    if not result.success:
        print(f"demo: the workflow failed: {result.error}")
        return 1
    written = []
    for png in sorted(set((host.root / "output").rglob("*.png")) - before):
        target = out_dir / png.name
        shutil.copy(png, target)
        written.append(target)
    print(f"demo: {len(written)} image(s) in {out_dir} ({time.time() - started:.1f} s):")
    for path in written:
        print(f"  {path}")
    return 0 if written else 1


if __name__ == "__main__":
    raise SystemExit(main())
