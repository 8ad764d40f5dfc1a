"""The training loop: epsilon-prediction MSE (+ lambda_caa x CAA localisation loss), condition
dropout, AdamW, optional bf16 / fp16 autocast (fp16 with loss scaling), gradient checkpointing and EMA, DDP under torchrun or
accelerate, resumable state, JSON-lines loss log, sample grids, export.

Every random draw of a step (timesteps, noise, dropout) comes from a generator seeded by
(seed, step, rank), and the data order from (seed, epoch): a resumed run continues exactly.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler, RandomSampler

from ..caa import CAA_REGIONS, OpenCLIPRegionEncoder, RegionEncoder, encode_region_crops, region_crops
from ..data import open_dataset
from ..errors import TruePoseInputError
from ..parsing.parsing_map import ParsingMap
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
    losses: list[float] = field(default_factory=list)  # total loss, mean over ranks, every step
    caa_losses: list[float] = field(default_factory=list)
    checkpoint: Path | None = None
    target_unet: Path | None = None
    parameter_digests: list[str] = field(default_factory=list)
    grids: list[Path] = field(default_factory=list)


@dataclass
class Parts:
    """What a run needs besides the model: built once, shared by training, grids and evaluation."""

    latent: object  # PixelLatent or DiffusersVAE: encode / decode / channels / factor
    encoder: RegionEncoder | None
    schedule: torch.Tensor


def build_parts(config: TrainConfig, device: torch.device) -> Parts:
    if config.vae:
        from .vae import DiffusersVAE

        latent = DiffusersVAE.from_folder(config.vae, device)
    else:
        latent = PixelLatent(config.latent_factor)
    encoder = None
    if config.caa:
        encoder = OpenCLIPRegionEncoder.from_file(
            config.caa_clip_model, config.caa_clip_weights or None, device, config.caa_clip_image_size
        )
    return Parts(latent, encoder, alphas_cumprod())


def build_model(config: TrainConfig, parts: Parts | None = None) -> TruePoseTrainModel:
    parts = parts or build_parts(config, torch.device("cpu"))
    torch.manual_seed(config.seed)  # same initial weights on every rank
    model = TruePoseTrainModel(
        config.unet_config(parts.latent.channels), pose_downsample=parts.latent.factor,
        caa_embed_dim=parts.encoder.embed_dim if parts.encoder is not None else 0, hpfa=config.hpfa,
    )
    if config.init_unet:
        weights = init_unet_weights(config.init_unet)
        for unet in (model.target_unet, model.source_unet):
            missing, unexpected = unet.load_state_dict(weights, strict=False)
            if missing or unexpected:
                raise TruePoseInputError(
                    "init_unet", f"'{config.init_unet}' does not fit the configured UNet ({len(missing)} missing, "
                    f"{len(unexpected)} unexpected keys, e.g. {(missing or unexpected)[:2]}).",
                    ("give an SD1.5 / SDXL checkpoint (or its bare UNet) with --base sd15 / --base sdxl, or match --model-channels etc. to "
                        "it."),
                )
    model.set_gradient_checkpointing(config.gradient_checkpointing)
    return model


def init_unet_weights(path: str) -> dict[str, torch.Tensor]:
    """A bare UNet (ComfyUI/LDM keys) or a whole SD checkpoint (its model.diffusion_model.* part)."""
    if not Path(path).is_file():
        raise TruePoseInputError("init_unet", f"'{path}' does not exist.", "give the path of an SD1.5 or SDXL .safetensors checkpoint.")
    weights = load_file(path)
    prefix = "model.diffusion_model."
    if any(k.startswith(prefix) for k in weights):
        weights = {k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}
    return weights


def build_dataset(config: TrainConfig, split: str | None = None) -> Dataset:
    """The synthetic set's held-out split is the same generator under another seed."""
    split = split or config.data_split
    seed = config.seed if split == "train" else config.seed + 7919
    return open_dataset(config.dataset, config.data_root, split, config.height, config.width, length=config.dataset_length, seed=seed)


def _loader(config: TrainConfig, runtime: Runtime) -> tuple[DataLoader, DistributedSampler | None]:
    dataset = build_dataset(config)
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
        raise ValueError("the dataset is smaller than one batch per process")
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


def region_inputs(batch: dict, encoder: RegionEncoder | None, keep: torch.Tensor, device: torch.device):
    """CAA inputs of a batch: (region embeddings (B, R, D), present (B, R)), or (None, None)."""
    if encoder is None:
        return None, None
    crops = region_crops(batch["source_image"].to(device), ParsingMap(batch["source_parsing"].to(device)), CAA_REGIONS, encoder.image_size)
    return encode_region_crops(encoder, crops), crops.present & keep.view(-1, 1).bool()


def _step_loss(model, batch: dict, step: int, config: TrainConfig, runtime: Runtime, parts: Parts) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed((config.seed * 1_000_003 + step) * 1009 + runtime.rank)
    device = runtime.device
    with torch.no_grad():
        source = parts.latent.encode(batch["source_image"].to(device))
        target = parts.latent.encode(batch["target_image"].to(device))
    pose = batch["target_pose"].to(device)
    b = target.shape[0]
    noise = torch.randn(target.shape, generator=g).to(device)
    timesteps = torch.randint(0, NUM_TIMESTEPS, (b,), generator=g).to(device)
    # Condition dropout: a dropped row reads no source region (its parsing is all background), sees
    # a blank skeleton and no region token: exactly CFG's unconditional half at sampling time.
    keep = (torch.rand(b, generator=g) >= config.cond_dropout).to(device)
    embeds, present = region_inputs(batch, parts.encoder, keep, device)
    noisy = add_noise(target, noise, timesteps, parts.schedule)
    source_parsing = batch["source_parsing"].to(device) * keep.view(b, 1, 1).to(torch.uint8)
    with torch.autocast(device.type, dtype=torch.float16 if config.fp16 else torch.bfloat16, enabled=config.bf16 or config.fp16):
        prediction, caa_loss = model(
            source, source_parsing, noisy, timesteps.float(), pose * keep.view(b, 1, 1, 1).to(pose.dtype),
            embeds, present, batch["target_parsing"].to(device) if present is not None else None,
        )
    mse = F.mse_loss(prediction.float(), noise)
    return mse + config.caa_lambda * caa_loss.float(), caa_loss.detach()


def train(config: TrainConfig) -> TrainResult:
    runtime = init_runtime()
    out_dir = Path(config.out_dir)
    parts = build_parts(config, runtime.device)
    model = build_model(config, parts).to(runtime.device)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.lr, weight_decay=config.weight_decay)
    if config.bf16 and config.fp16:
        raise TruePoseInputError("fp16", "both bf16 and fp16 are on.", "pick one (bf16 where the GPU supports it).")
    scaler = torch.amp.GradScaler(runtime.device.type, enabled=config.fp16)  # a no-op unless fp16
    ema = None
    if config.ema_decay > 0:
        from .ema import EMA

        ema = EMA(model, config.ema_decay)
    start_step = _resume(model, optimizer, ema, scaler, out_dir / STATE_NAME, runtime) if config.resume else 0
    # find_unused_parameters: SourceNet's layers after its last attn1 (and its output head) get no gradient.
    wrapped = DistributedDataParallel(model, find_unused_parameters=True) if runtime.distributed else model
    loader, sampler = _loader(config, runtime)
    result = TrainResult()
    if runtime.is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    batches = _batches(loader, sampler, config, start_step)
    for step in range(start_step, config.steps):
        loss, caa_loss = _step_loss(wrapped, next(batches), step, config, runtime, parts)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        if ema is not None:
            ema.update(model)
        result.losses.append(mean_across_ranks(loss, runtime))
        result.caa_losses.append(mean_across_ranks(caa_loss, runtime))
        done = step + 1
        if runtime.is_main and (done % config.log_every == 0 or done == config.steps):
            _log(out_dir, done, result, config, time.perf_counter() - started)
        if done % config.save_every == 0 and done < config.steps:
            _save_state(model, optimizer, ema, scaler, done, config, out_dir, runtime)
        if runtime.is_main and config.sample_every and (done % config.sample_every == 0 or done == config.steps):
            result.grids.append(_grid(model, ema, config, parts, runtime, out_dir, done))
    _save_state(model, optimizer, ema, scaler, max(config.steps, start_step), config, out_dir, runtime)
    result.parameter_digests = parameter_digests(model, runtime)
    if runtime.is_main:
        with _ema_weights(ema, model):
            result.checkpoint, result.target_unet = export(model, out_dir, config.base, config.caa_clip_model if config.caa else "")
        _append(out_dir, {"event": "done", "parameter_digests": result.parameter_digests, "checkpoint": str(result.checkpoint)})
    shutdown(runtime)
    return result


def _grid(model, ema, config: TrainConfig, parts: Parts, runtime: Runtime, out_dir: Path, step: int) -> Path:
    from .samples import write_sample_grid

    path = out_dir / "samples" / f"step_{step:07d}.png"
    with _ema_weights(ema, model):
        return write_sample_grid(path, model, config, parts, runtime.device)


def _ema_weights(ema, model):
    """The EMA weights swapped in for the block (exports and sample grids), or the live ones without EMA."""
    return ema.applied(model) if ema is not None else contextlib.nullcontext()


def _log(out_dir: Path, step: int, result: TrainResult, config: TrainConfig, seconds: float) -> None:
    window = result.losses[-config.log_every:]
    record = {"step": step, "loss": sum(window) / len(window), "lr": config.lr, "seconds": round(seconds, 2)}
    if config.caa:
        caa = result.caa_losses[-config.log_every:]
        record["caa_loss"] = sum(caa) / len(caa)
    _append(out_dir, record)
    print(json.dumps(record), flush=True)


def _append(out_dir: Path, record: dict) -> None:
    with open(out_dir / LOG_NAME, "a") as f:
        f.write(json.dumps(record) + "\n")


def _save_state(model, optimizer, ema, scaler, step: int, config: TrainConfig, out_dir: Path, runtime: Runtime) -> None:
    if runtime.is_main:
        state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step, "config": config.to_dict()}
        if ema is not None:
            state["ema"] = ema.state_dict()
        if scaler.is_enabled():
            state["scaler"] = scaler.state_dict()
        tmp = out_dir / (STATE_NAME + ".tmp")
        torch.save(state, tmp)
        tmp.replace(out_dir / STATE_NAME)  # never leave a half-written state behind


def _resume(model, optimizer, ema, scaler, path: Path, runtime: Runtime) -> int:
    if not path.is_file():
        return 0
    state = torch.load(path, map_location=runtime.device, weights_only=True)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if ema is not None and "ema" in state:
        ema.load_state_dict(state["ema"])
    if scaler.is_enabled() and "scaler" in state:
        scaler.load_state_dict(state["scaler"])
    return int(state["step"])
