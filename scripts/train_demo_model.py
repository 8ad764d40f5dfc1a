"""Train the shipped demo TruePose model on the synthetic people, on a CPU.

    nice -n 5 .venv/bin/python scripts/train_demo_model.py --out runs/demo --seed 0 --taesd-steps 1500 \
        --taesd-crop 64 --width 64 --steps 1200 --eval-pairs 200 --sample-steps 20 --threads 2 --ship

Two stages, each resumable (state in --out) and deterministic for a given seed and step count:
  1. a TAESD-architecture VAE (narrow: encoder 16, decoder 32 channels, zero-padded to 64 on
     export) on synthetic images; its scale / shift are set so diffusion latents have std 1;
  2. TruePose (TargetNet + SourceNet + pose guider + HPFA gates) on cached latents of the
     synthetic pairs, epsilon MSE with 10% condition dropout, with NARROW UNets (width 64) that
     are exactly an SD1.5-wide UNet (truepose_core/train/narrow.py).
Then it samples --eval-pairs held-out pairs (other people: seed + 7919) and writes eval.json.
--ship writes demo_model/truepose_demo.safetensors and the loss curve docs/demo_model_loss.csv.
--no-hpfa / --hpfa-off: the ablation (scripts/hpfa_ablation.py runs this over seeds).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "scripts"))

import demo_model  # noqa: E402
from truepose_core.eval import evaluate_tensors  # noqa: E402
from truepose_core.synthetic import SyntheticPairs  # noqa: E402
from truepose_core.train.diffusion import NUM_TIMESTEPS, add_noise, alphas_cumprod  # noqa: E402
from truepose_core.train.generate import generate  # noqa: E402
from truepose_core.train.loop import Parts  # noqa: E402
from truepose_core.parsing.labels import REGION_NAMES  # noqa: E402
from truepose_core.train.model import DEFAULT_REGIONS, TruePoseTrainModel  # noqa: E402
from truepose_core.train.narrow import dilute_norms, narrow_config  # noqa: E402
from truepose_core.train.taesd import TAESD, TAESDLatent  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="runs/demo")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--pairs", type=int, default=4096, help="training pairs (people) in the synthetic set")
    p.add_argument("--vae", default="", help="reuse this trained VAE (a --out/taesd.safetensors) instead of stage 1")
    p.add_argument("--taesd-steps", type=int, default=600)
    p.add_argument("--taesd-batch", type=int, default=16)
    p.add_argument("--taesd-crop", type=int, default=48)
    p.add_argument("--taesd-lr", type=float, default=1e-3)
    p.add_argument("--width", type=int, default=64, help="narrow UNet width (its SD1.5 embedding is 320)")
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--cond-dropout", type=float, default=0.1)
    p.add_argument("--gate-lr", type=float, default=1e-2, help="learning rate of the HPFA gates (they start at 0)")
    p.add_argument("--no-hpfa", action="store_true", help="the ablation: TargetNet never reads SourceNet")
    p.add_argument("--no-background", action="store_true",
                   help=("HPFA without the background region (the pack's default for photos); the demo reads it: the synthetic backdrop is "
                       "per person"))
    p.add_argument("--max-minutes", type=float, default=0.0, help="stop stage 2 after this long (0: no limit); the steps done are recorded")
    p.add_argument("--stop-step", type=int, default=0,
        help="stop stage 2 after this step (same LR schedule as --steps): reproduces a --max-minutes run")
    p.add_argument("--eval-pairs", type=int, default=200)
    p.add_argument("--sample-steps", type=int, default=20)
    p.add_argument("--cfg", type=float, default=1.0)
    p.add_argument("--save-every", type=int, default=100)
    p.add_argument("--ship", action="store_true", help="write demo_model/truepose_demo.safetensors and docs/demo_model_loss.csv")
    p.add_argument("--ship-to", default=str(demo_model.DEMO_FILE), help="where --ship writes the compact model file")
    p.add_argument("--threads", type=int, default=1, help="1 is fastest on a shared CPU")
    return p.parse_args(argv)


def _log(out: Path, stage: str, step: int, loss: float, seconds: float) -> None:
    path = out / "loss.csv"
    new = not path.exists()
    with open(path, "a", newline="") as f:
        writer = csv.writer(f)
        if new:
            writer.writerow(["stage", "step", "loss", "seconds"])
        writer.writerow([stage, step, f"{loss:.6f}", f"{seconds:.1f}"])


def _images(data: SyntheticPairs, indices: list[int]) -> torch.Tensor:
    items = [data[i] for i in indices]
    return torch.stack([it[k] for it in items for k in ("source_image", "target_image")])


def _crops(images: torch.Tensor, size: int, g: torch.Generator) -> torch.Tensor:
    """Random size x size crops on the 8-pixel latent grid (the codec is local: crops train it as well, faster)."""
    _, _, h, w = images.shape
    out = []
    for image in images:
        top = int(torch.randint(0, (h - size) // 8 + 1, (1,), generator=g)) * 8
        left = int(torch.randint(0, (w - size) // 8 + 1, (1,), generator=g)) * 8
        out.append(image[:, top:top + size, left:left + size])
    return torch.stack(out)


def train_taesd(args, data: SyntheticPairs, out: Path) -> TAESD:
    path = out / "taesd.safetensors"
    if path.is_file():
        return TAESD.load(path)
    torch.manual_seed(args.seed)
    model = TAESD(4, encoder_width=16, decoder_width=32)
    opt = torch.optim.Adam(list(model.encoder.parameters()) + list(model.decoder.parameters()), lr=args.taesd_lr)
    probe = _images(data, list(range(4)))
    started = time.perf_counter()
    for step in range(args.taesd_steps):
        g = torch.Generator().manual_seed(args.seed * 1_000_003 + step)
        indices = torch.randint(0, len(data), (args.taesd_batch // 2,), generator=g).tolist()
        x = _crops(_images(data, indices), args.taesd_crop, g)
        raw = model.encoder(x)
        # small latent noise (relative to the latents' own scale): the decoder also meets imperfect sampled latents
        noisy = raw + 0.05 * raw.detach().std() * torch.randn(raw.shape, generator=g)
        decoded = model.decoder(noisy)
        loss = F.mse_loss(decoded, x) + 0.5 * (decoded - x).abs().mean()
        for group in opt.param_groups:
            group["lr"] = args.taesd_lr * min(1.0, (step + 1) / 20) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / args.taesd_steps)))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if (step + 1) % 10 == 0:
            _log(out, "taesd", step + 1, float(loss.detach()), time.perf_counter() - started)
            with torch.no_grad():
                psnr = -10 * math.log10(float(F.mse_loss(model.decoder(model.encoder(probe)).clamp(0, 1), probe)))
            print(f"taesd {step + 1}/{args.taesd_steps} loss {float(loss.detach()):.4f} probe PSNR {psnr:.2f} "
                  f"{time.perf_counter() - started:.0f}s", flush=True)
    with torch.no_grad():
        model.calibrate(model.encoder(_images(data, list(range(32)))))
    model.save(path, dtype=torch.float32)
    return model


class LatentCache:
    """Pairs -> (source latent, target latent, source parsing, target skeleton), encoded once."""

    def __init__(self, data: SyntheticPairs, latent: TAESDLatent) -> None:
        self.data, self.latent, self.items = data, latent, {}

    def batch(self, indices: list[int]) -> dict[str, torch.Tensor]:
        todo = [i for i in indices if i not in self.items]
        if todo:
            items = [self.data[i] for i in todo]
            images = torch.stack([it[k] for it in items for k in ("source_image", "target_image")])
            latents = self.latent.encode(images)
            for n, (i, it) in enumerate(zip(todo, items)):
                pose = (it["target_pose"] * 255).round().to(torch.uint8)
                self.items[i] = (latents[2 * n], latents[2 * n + 1], it["source_parsing"], pose)
        rows = [self.items[i] for i in indices]
        return {
            "source_latent": torch.stack([r[0] for r in rows]), "target_latent": torch.stack([r[1] for r in rows]),
            "source_parsing": torch.stack([r[2] for r in rows]), "target_pose": torch.stack([r[3] for r in rows]).float() / 255.0,
        }


def build_model(args) -> TruePoseTrainModel:
    torch.manual_seed(args.seed)
    config = narrow_config(args.width)
    regions = DEFAULT_REGIONS if args.no_background else REGION_NAMES
    model = TruePoseTrainModel(config, pose_downsample=TAESDLatent.factor, regions=regions, hpfa=not args.no_hpfa)
    dilute_norms(model.target_unet, args.width)
    dilute_norms(model.source_unet, args.width)
    model.source_unet.load_state_dict(model.target_unet.state_dict())
    return model


def train_truepose(args, model: TruePoseTrainModel, cache: LatentCache, out: Path) -> dict:
    state_path = out / "state.pt"
    gates = [p for p in model.gates.parameters() if p.requires_grad]
    others = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("gates.")]
    groups = [{"params": others, "base_lr": args.lr}] + ([{"params": gates, "base_lr": args.gate_lr, "weight_decay": 0.0}] if gates else [])
    params = others + gates
    opt = torch.optim.AdamW(groups, lr=args.lr, weight_decay=1e-2)
    step, spent = 0, 0.0
    if state_path.is_file():
        state = torch.load(state_path, map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        step, spent = int(state["step"]), float(state["seconds"])
    schedule = alphas_cumprod()
    n = len(cache.data)
    started = time.perf_counter() - spent
    model.train()

    def save() -> None:
        torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step,
                    "seconds": time.perf_counter() - started}, state_path)

    while step < args.steps:
        if args.stop_step and step >= args.stop_step:
            break
        if args.max_minutes and time.perf_counter() - started > args.max_minutes * 60:
            print(f"truepose: time limit reached at step {step}", flush=True)
            break
        epoch, offset = divmod(step * args.batch, n)
        order = torch.randperm(n, generator=torch.Generator().manual_seed(args.seed * 100_003 + epoch)).tolist()
        indices = (order + order)[offset:offset + args.batch]
        batch = cache.batch(indices)
        g = torch.Generator().manual_seed((args.seed * 1_000_003 + step) * 1009)
        target = batch["target_latent"]
        b = target.shape[0]
        noise = torch.randn(target.shape, generator=g)
        timesteps = torch.randint(0, NUM_TIMESTEPS, (b,), generator=g)
        keep = torch.rand(b, generator=g) >= args.cond_dropout
        noisy = add_noise(target, noise, timesteps, schedule)
        parsing = batch["source_parsing"] * keep.view(b, 1, 1).to(torch.uint8)
        pose = batch["target_pose"] * keep.view(b, 1, 1, 1).float()
        prediction, _ = model(batch["source_latent"], parsing, noisy, timesteps.float(), pose)
        loss = F.mse_loss(prediction, noise)
        for group in opt.param_groups:
            warm = min(1.0, (step + 1) / args.warmup)
            group["lr"] = group["base_lr"] * warm * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / args.steps)))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        _log(out, "truepose", step, float(loss.detach()), time.perf_counter() - started)
        if step % 10 == 0:
            print(f"truepose {step}/{args.steps} loss {float(loss.detach()):.4f} {time.perf_counter() - started:.0f}s", flush=True)
        if step % args.save_every == 0:
            save()
    save()
    return {"steps_done": step, "seconds": round(time.perf_counter() - started, 1)}


def held_out(args, count: int) -> dict[str, torch.Tensor]:
    from torch.utils.data import default_collate

    # the same held-out people for every training seed (demo_model.held_out_pair: pair i of these)
    data = SyntheticPairs(count, demo_model.WIDTH, demo_model.HEIGHT, demo_model.TEST_SEED_OFFSET)
    return default_collate([data[i] for i in range(count)])


def evaluate(model: TruePoseTrainModel, latent: TAESDLatent, batch: dict, steps: int, cfg: float,
        chunk: int = 25) -> tuple[dict, torch.Tensor]:
    parts = Parts(latent, None, alphas_cumprod())
    outputs = []
    for start in range(0, len(batch["source_image"]), chunk):
        part = {k: v[start:start + chunk] for k, v in batch.items()}
        outputs.append(generate(model, part, parts, torch.device("cpu"), steps=steps, cfg_scale=cfg, seed=start))
    generated = torch.cat(outputs)
    return evaluate_tensors(generated, batch["target_image"], batch["target_parsing"].long()), generated


def summary(metrics: dict) -> dict:
    regions = metrics["region_ssim"]["regions"]
    return {"ssim": metrics["ssim"], "psnr": metrics["psnr"], **{r: regions[r]["value"] for r in ("face", "upper", "lower")}}


def plot_losses(csv_path: Path, png: Path) -> None:
    """Both stages' training losses (moving average over 20 logged values) as one small PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    fig, axes = plt.subplots(1, 2, figsize=(8, 3))
    for ax, stage, title in zip(axes, ("taesd", "truepose"), ("stage 1: VAE (MSE + 0.5 L1)", "stage 2: TruePose (epsilon MSE)")):
        steps = [int(r["step"]) for r in rows if r["stage"] == stage]
        losses = [float(r["loss"]) for r in rows if r["stage"] == stage]
        smooth = [sum(losses[max(0, i - 19):i + 1]) / len(losses[max(0, i - 19):i + 1]) for i in range(len(losses))]
        ax.plot(steps, losses, alpha=0.3, lw=0.8)
        ax.plot(steps, smooth, lw=1.5)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.set_yscale("log")
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    fig.savefig(png, dpi=90)
    plt.close(fig)


def main(argv=None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "args.json").write_text(json.dumps(vars(args), indent=1))
    data = SyntheticPairs(args.pairs, demo_model.WIDTH, demo_model.HEIGHT, args.seed)
    taesd = TAESD.load(args.vae) if args.vae else train_taesd(args, data, out)
    latent = TAESDLatent(taesd)
    model = build_model(args)
    trained = train_truepose(args, model, LatentCache(data, latent), out)
    report = {"args": vars(args), **trained}
    if args.eval_pairs:
        batch = held_out(args, args.eval_pairs)
        with torch.no_grad():
            ceiling = latent.decode(latent.encode(batch["target_image"]))
        report["latent_ceiling"] = summary(evaluate_tensors(ceiling, batch["target_image"], batch["target_parsing"].long()))
        # the trivial answer: the source image itself, scored against the target (a model must beat it)
        report["source_copy"] = summary(evaluate_tensors(batch["source_image"], batch["target_image"], batch["target_parsing"].long()))
        metrics, generated = evaluate(model, latent, batch, args.sample_steps, args.cfg)
        report["metrics"] = summary(metrics)
        from truepose_core.train.grid import write_grid

        k = min(8, len(generated))
        write_grid(out / "held_out.png", batch["source_image"][:k], batch["target_pose"][:k], batch["target_image"][:k], generated[:k])
    (out / "eval.json").write_text(json.dumps(report, indent=1))
    print(json.dumps({k: v for k, v in report.items() if k != "args"}, indent=1))
    if args.ship:
        recipe = {"command": "scripts/train_demo_model.py " + " ".join(argv if argv is not None else sys.argv[1:]), **trained,
                  "metrics": report.get("metrics"), "latent_ceiling": report.get("latent_ceiling"),
                  "source_copy": report.get("source_copy")}
        shipped = demo_model.save_compact(Path(args.ship_to), model, taesd, recipe)
        if shipped.resolve() == demo_model.DEMO_FILE.resolve():
            (REPO_ROOT / "docs" / "demo_model_loss.csv").write_text((out / "loss.csv").read_text())
            plot_losses(out / "loss.csv", REPO_ROOT / "docs" / "demo_model_loss.png")
        print(f"shipped {shipped} ({shipped.stat().st_size / 1e6:.2f} MB)")
    return report


if __name__ == "__main__":
    main()
