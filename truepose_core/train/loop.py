"""The training loop: epsilon-prediction MSE, condition dropout, AdamW, optional bf16 autocast and
gradient checkpointing, DDP under torchrun, resumable state, JSON-lines loss log, export.

Every random draw of a step (timesteps, noise, dropout) comes from a generator seeded by
(seed, step, rank), and the data order from (seed, epoch): a resumed run continues exactly.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, RandomSampler

from ..synthetic.dataset import SyntheticPairs
from .config import TrainConfig
from .diffusion import NUM_TIMESTEPS, add_noise, alphas_cumprod
from .distributed import Runtime, init_runtime, mean_across_ranks, parameter_digests, shutdown
from .export import export
from .latent import PixelLatent
from .model import TruePoseTrainModel

STATE_NAME = "state.pt"
LOG_NAME = "log.jsonl"


@dataclass
class TrainResult:
    losses: list[float] = field(default_factory=list)  # mean over ranks, every step
    checkpoint: Path | None = None
    target_unet: Path | None = None
    parameter_digests: list[str] = field(default_factory=list)


def build_model(config: TrainConfig) -> TruePoseTrainModel:
    torch.manual_seed(config.seed)  # same initial weights on every rank
    model = TruePoseTrainModel(config.unet_config(), pose_downsample=config.latent_factor)
    if config.init_unet:
        weights = load_file(config.init_unet)
        model.target_unet.load_state_dict(weights)
        model.source_unet.load_state_dict(weights)
    model.set_gradient_checkpointing(config.gradient_checkpointing)
    return model


def _loader(config: TrainConfig, runtime: Runtime) -> tuple[DataLoader, DistributedSampler | None]:
    dataset = SyntheticPairs(config.dataset_length, config.image_size, config.image_size, config.seed)
    if runtime.distributed:
        sampler = DistributedSampler(dataset, runtime.world_size, runtime.rank, shuffle=True, seed=config.seed, drop_last=True)
    else:
        sampler = None
    loader = DataLoader(
        dataset, config.batch_size, sampler=sampler, shuffle=sampler is None, drop_last=True,
        num_workers=config.num_workers, generator=torch.Generator().manual_seed(config.seed) if sampler is None else None,
    )
    return loader, sampler


def _batches(loader: DataLoader, sampler: DistributedSampler | None, config: TrainConfig, start_step: int):
    """Endless batches, starting where step `start_step` of an uninterrupted run would be."""
    per_epoch = len(loader)
    if per_epoch == 0:
        raise ValueError("dataset_length is smaller than one batch per process")
    epoch, skip = divmod(start_step, per_epoch)
    while True:
        if sampler is not None:
            sampler.set_epoch(epoch)
        else:
            assert isinstance(loader.sampler, RandomSampler)
            loader.sampler.generator = torch.Generator().manual_seed(config.seed * 100_003 + epoch)
        for i, batch in enumerate(loader):
            if i >= skip:
                yield batch
        epoch, skip = epoch + 1, 0


def _step_loss(model, batch: dict, step: int, config: TrainConfig, runtime: Runtime, latent: PixelLatent, schedule) -> torch.Tensor:
    g = torch.Generator().manual_seed((config.seed * 1_000_003 + step) * 1009 + runtime.rank)
    device = runtime.device
    source = latent.encode(batch["source_image"].to(device))
    target = latent.encode(batch["target_image"].to(device))
    pose = batch["target_pose"].to(device)
    b = target.shape[0]
    noise = torch.randn(target.shape, generator=g).to(device)
    timesteps = torch.randint(0, NUM_TIMESTEPS, (b,), generator=g).to(device)
    # Condition dropout: a dropped row sees a blank source and a blank skeleton (what CFG's
    # unconditional half approximates at sampling time).
    keep = (torch.rand(b, generator=g) >= config.cond_dropout).to(device, source.dtype).view(b, 1, 1, 1)
    noisy = add_noise(target, noise, timesteps, schedule)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=config.bf16):
        prediction = model(source * keep, batch["source_parsing"].to(device), noisy, timesteps.float(), pose * keep)
    return F.mse_loss(prediction.float(), noise)


def train(config: TrainConfig) -> TrainResult:
    runtime = init_runtime()
    out_dir = Path(config.out_dir)
    model = build_model(config).to(runtime.device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    start_step = _resume(model, optimizer, out_dir / STATE_NAME, runtime) if config.resume else 0
    wrapped = DistributedDataParallel(model, find_unused_parameters=True) if runtime.distributed else model
    # find_unused_parameters: SourceNet's layers after its last attn1 (and its output head) get no gradient.
    loader, sampler = _loader(config, runtime)
    latent, schedule = PixelLatent(config.latent_factor), alphas_cumprod()
    result = TrainResult()
    if runtime.is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    batches = _batches(loader, sampler, config, start_step)
    for step in range(start_step, config.steps):
        loss = _step_loss(wrapped, next(batches), step, config, runtime, latent, schedule)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        result.losses.append(mean_across_ranks(loss, runtime))
        if runtime.is_main and ((step + 1) % config.log_every == 0 or step + 1 == config.steps):
            _log(out_dir, step + 1, result.losses, config, time.perf_counter() - started)
        if (step + 1) % config.save_every == 0 and step + 1 < config.steps:
            _save_state(model, optimizer, step + 1, config, out_dir, runtime)
    _save_state(model, optimizer, max(config.steps, start_step), config, out_dir, runtime)
    result.parameter_digests = parameter_digests(model, runtime)
    if runtime.is_main:
        result.checkpoint, result.target_unet = export(model, out_dir, config.base)
        _append(out_dir, {"event": "done", "parameter_digests": result.parameter_digests, "checkpoint": str(result.checkpoint)})
    shutdown(runtime)
    return result


def _log(out_dir: Path, step: int, losses: list[float], config: TrainConfig, seconds: float) -> None:
    window = losses[-config.log_every:]
    record = {"step": step, "loss": sum(window) / len(window), "lr": config.lr, "seconds": round(seconds, 2)}
    _append(out_dir, record)
    print(json.dumps(record), flush=True)


def _append(out_dir: Path, record: dict) -> None:
    with open(out_dir / LOG_NAME, "a") as f:
        f.write(json.dumps(record) + "\n")


def _save_state(model, optimizer, step: int, config: TrainConfig, out_dir: Path, runtime: Runtime) -> None:
    if runtime.is_main:
        state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step, "config": config.to_dict()}
        tmp = out_dir / (STATE_NAME + ".tmp")
        torch.save(state, tmp)
        tmp.replace(out_dir / STATE_NAME)  # never leave a half-written state behind


def _resume(model, optimizer, path: Path, runtime: Runtime) -> int:
    if not path.is_file():
        return 0
    state = torch.load(path, map_location=runtime.device, weights_only=True)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    return int(state["step"])
