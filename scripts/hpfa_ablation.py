"""The method's claim on data we control: train the same model with and without HPFA (same seed,
steps and data), then sample held-out synthetic pairs and compare SSIM / PSNR and region SSIM on
face, upper and lower clothes against the ground truth.

    .venv/bin/python scripts/hpfa_ablation.py --out runs/ablation --steps 1500 [--set image_size=64 ...]

Writes runs/ablation/ablation.json and prints a table (this is what the README and the closing
note quote). CPU works; expect minutes per 1000 steps with the default micro UNet.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from truepose_core.eval import evaluate_tensors  # noqa: E402
from truepose_core.train.config import TrainConfig  # noqa: E402
from truepose_core.train.generate import generate  # noqa: E402
from truepose_core.train.loop import STATE_NAME, build_model, build_parts, train  # noqa: E402
from truepose_core.train.samples import held_out_batch  # noqa: E402


def _value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def run(config: TrainConfig, pairs: int, steps: int, cfg: float) -> dict:
    result = train(config)
    device = torch.device("cpu")
    parts = build_parts(config, device)
    model = build_model(config, parts)
    model.load_state_dict(torch.load(Path(config.out_dir) / STATE_NAME, map_location=device, weights_only=True)["model"])
    batch = held_out_batch(config, pairs)
    generated = torch.cat([
        generate(model, {k: v[i:i + 16] for k, v in batch.items()}, parts, device, steps=steps, cfg_scale=cfg, seed=i)
        for i in range(0, len(batch["source_image"]), 16)
    ])
    metrics = evaluate_tensors(generated, batch["target_image"], batch["target_parsing"].long())
    n = max(1, len(result.losses) // 20)
    return {
        "loss_first": sum(result.losses[:n]) / n, "loss_last": sum(result.losses[-n:]) / n, "loss_window": n,
        "metrics": metrics,
    }


def ceiling(config: TrainConfig, pairs: int) -> dict:
    """The best any model can score through this latent codec: decode(encode(ground truth))."""
    parts = build_parts(config, torch.device("cpu"))
    batch = held_out_batch(config, pairs)
    with torch.no_grad():
        reconstructed = parts.latent.decode(parts.latent.encode(batch["target_image"])).clamp(0, 1)
    return {"metrics": evaluate_tensors(reconstructed, batch["target_image"], batch["target_parsing"].long())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/ablation")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--pairs", type=int, default=64, help="held-out pairs to sample")
    parser.add_argument("--sample-steps", type=int, default=25)
    parser.add_argument("--cfg", type=float, default=1.0)
    parser.add_argument("--set", nargs="*", default=[], help="TrainConfig overrides, name=value")
    args = parser.parse_args()
    overrides = dict(item.split("=", 1) for item in args.set)
    base = TrainConfig(steps=args.steps, log_every=50, save_every=10**9, **{k: _value(v) for k, v in overrides.items()})
    report = {"latent_ceiling": ceiling(base, args.pairs)}
    for name, hpfa in (("with_hpfa", True), ("without_hpfa", False)):
        config = replace(base, out_dir=str(Path(args.out) / name), hpfa=hpfa, resume=False)
        report[name] = run(config, args.pairs, args.sample_steps, args.cfg)
    report["settings"] = {**base.to_dict(), "pairs": args.pairs, "sample_steps": args.sample_steps, "cfg": args.cfg}
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "ablation.json").write_text(json.dumps(report, indent=1, default=str))
    print(f"{'':14} {'loss start':>10} {'loss end':>9} {'SSIM':>6} {'PSNR':>6} {'face':>6} {'upper':>6} {'lower':>6}")
    for name in ("with_hpfa", "without_hpfa", "latent_ceiling"):
        r, m = report[name], report[name]["metrics"]
        losses = f"{r['loss_first']:10.4f} {r['loss_last']:9.4f}" if "loss_first" in r else f"{'':10} {'':9}"
        print(f"{name:14} {losses} " + " ".join(f"{v:6.3f}" for v in _row(m)))


def _row(metrics: dict) -> list[float]:
    regions = metrics["region_ssim"].get("regions", {})

    def pick(name: str) -> float:
        value = regions.get(name, {}).get("value")
        return float("nan") if value is None else float(value)

    return [metrics["ssim"], metrics["psnr"], pick("face"), pick("upper"), pick("lower")]


if __name__ == "__main__":
    main()
