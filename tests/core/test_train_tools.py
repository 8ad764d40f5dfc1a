"""The standalone training tools: EMA, the DDIM sampler, sample grids, the diffusers VAE codec and
multi-process training under `accelerate launch` on CPU."""

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import torch.distributed as dist
from torch import nn

from truepose_core.errors import TruePoseInputError
from truepose_core.train.diffusion import add_noise, alphas_cumprod
from truepose_core.train.ema import EMA
from truepose_core.train.grid import write_grid
from truepose_core.train.sampler import ddim_sample, ddim_timesteps

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny ops on a shared box
    yield
    torch.set_num_threads(before)


# --- EMA ---------------------------------------------------------------------------------------


def small_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))


def perturb(model: nn.Module, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g))
    model.train()(torch.randn(5, 3, generator=g))  # moves BatchNorm's running stats


def test_ema_is_the_decayed_average_with_and_without_warmup():
    model = small_model()
    start = [p.detach().clone() for p in model.parameters()]
    plain, warm = EMA(model, decay=0.5, warmup=False), EMA(model, decay=0.9999)
    perturb(model, 1)
    assert warm.current_decay() == pytest.approx(0.1)  # (1 + 0) / (10 + 0)
    plain.update(model)
    warm.update(model)
    for name, p0, p1 in zip(dict(model.named_parameters()), start, model.parameters()):
        torch.testing.assert_close(plain.shadow[name], 0.5 * p0 + 0.5 * p1)
        torch.testing.assert_close(warm.shadow[name], 0.1 * p0 + 0.9 * p1)
    assert warm.current_decay() == pytest.approx(2 / 11) and warm.num_updates == 1
    torch.testing.assert_close(plain.buffers["1.running_mean"], model[1].running_mean)  # copied, not averaged


def test_ema_applied_swaps_the_average_in_and_restores_the_live_weights_exactly():
    model = small_model()
    ema = EMA(model, decay=0.5, warmup=False)
    perturb(model, 1)
    ema.update(model)
    perturb(model, 2)  # live weights and buffers now differ from the EMA's
    live = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(4, 3)
    with ema.applied(model) as inside:
        assert inside is model
        for name, p in model.named_parameters():
            torch.testing.assert_close(p, ema.shadow[name])
        torch.testing.assert_close(model[1].running_mean, ema.buffers["1.running_mean"])
        ema_out = model.eval()(x)
    with pytest.raises(RuntimeError, match="boom"):
        with ema.applied(model):
            raise RuntimeError("boom")
    for k, v in model.state_dict().items():
        assert torch.equal(v, live[k]), k
    assert not torch.equal(model.eval()(x), ema_out)


def test_ema_state_round_trips_through_torch_save_and_resumes_identically(tmp_path):
    model = small_model()
    ema = EMA(model, decay=0.9)
    for seed in range(3):
        perturb(model, seed)
        ema.update(model)
    torch.save({"ema": ema.state_dict()}, tmp_path / "state.pt")
    resumed = EMA(small_model(), decay=0.9)
    resumed.load_state_dict(torch.load(tmp_path / "state.pt", weights_only=True)["ema"])
    assert resumed.num_updates == 3
    perturb(model, 9)
    ema.update(model)
    resumed.update(model)
    for name in ema.shadow:
        assert torch.equal(ema.shadow[name], resumed.shadow[name])
    with pytest.raises(KeyError, match="do not match"):
        EMA(nn.Linear(2, 2)).load_state_dict(ema.state_dict())


def test_ema_unwraps_ddp(tmp_path):
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'pg'}", rank=0, world_size=1)
    try:
        model = small_model()
        wrapped = nn.parallel.DistributedDataParallel(model)
        ema = EMA(wrapped, decay=0.5, warmup=False)
        assert set(ema.shadow) == {n for n, _ in model.named_parameters()}  # no "module." prefix
        before = model[0].weight.detach().clone()
        perturb(model, 1)
        after = model[0].weight.detach().clone()
        ema.update(wrapped)
        with ema.applied(wrapped):
            torch.testing.assert_close(model[0].weight, 0.5 * before + 0.5 * after)
        assert torch.equal(model[0].weight, after)
    finally:
        dist.destroy_process_group()


# --- DDIM --------------------------------------------------------------------------------------


def oracle(x0: torch.Tensor, schedule: torch.Tensor, calls: list | None = None):
    """The exact epsilon of x_t for a known x0: DDIM must then land on x0."""

    def predict(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        assert t.dtype == torch.float32 and t.shape == (x.shape[0],)
        if calls is not None:
            calls.append(t[0].item())
        abar = schedule[t.long()].view(-1, 1, 1, 1)
        return (x - abar.sqrt() * x0) / (1.0 - abar).sqrt()

    return predict


@pytest.mark.parametrize("spacing", ["trailing", "leading"])
def test_ddim_with_the_exact_noise_recovers_x0(spacing):
    schedule = alphas_cumprod()
    x0 = torch.randn(2, 4, 8, 8, generator=torch.Generator().manual_seed(3))
    calls: list[float] = []
    out = ddim_sample(oracle(x0, schedule, calls), x0.shape, steps=25, schedule=schedule,
                      generator=torch.Generator().manual_seed(0), spacing=spacing)
    assert (out - x0).abs().max() < 1e-4
    assert calls == ddim_timesteps(25, spacing).float().tolist() and len(calls) == 25
    assert calls[0] == (999 if spacing == "trailing" else 961)


def test_ddim_one_step_from_a_forward_noised_latent_is_the_x0_estimate():
    schedule = alphas_cumprod()
    x0, eps = torch.randn(1, 4, 4, 4), torch.randn(1, 4, 4, 4)
    x_t = add_noise(x0, eps, torch.tensor([999]), schedule)
    out = ddim_sample(lambda x, t: eps.expand_as(x), x0.shape, steps=1, schedule=schedule, noise=x_t)
    torch.testing.assert_close(out, x0, atol=1e-4, rtol=0)


def test_ddim_cfg_and_determinism():
    cond = lambda x, t: 0.1 * x + t.view(-1, 1, 1, 1) / 1000  # noqa: E731
    uncond_calls: list[float] = []

    def uncond(x, t):
        uncond_calls.append(t[0].item())
        return 0.05 * x

    def run(seed: int, **kw) -> torch.Tensor:
        return ddim_sample(cond, (2, 4, 8, 8), steps=5, generator=torch.Generator().manual_seed(seed), **kw)

    plain = run(0)
    assert torch.equal(plain, run(0)) and not torch.equal(plain, run(1))
    assert torch.equal(run(0, predict_uncond=uncond, cfg_scale=1.0), plain) and uncond_calls == []
    guided = run(0, predict_uncond=uncond, cfg_scale=3.0)
    assert len(uncond_calls) == 5 and not torch.allclose(guided, plain)
    torch.testing.assert_close(run(0, predict_uncond=cond, cfg_scale=4.0), plain)  # uncond == cond: guidance is a no-op
    with pytest.raises(ValueError, match="predict_uncond"):
        run(0, cfg_scale=2.0)


# --- sample grid -------------------------------------------------------------------------------


def test_grid_png_has_one_row_per_sample_and_the_inputs_in_its_cells(tmp_path):
    g = torch.Generator().manual_seed(0)
    n, h, w, pad = 3, 20, 12, 2
    columns = [torch.rand(n, 3, h, w, generator=g) for _ in range(4)]
    path = write_grid(tmp_path / "samples" / "step_0000001.png", *columns, pad=pad)
    assert path.is_file() and path.suffix == ".png"
    rgb = cv2.imread(str(path), cv2.IMREAD_COLOR)[:, :, ::-1]
    assert rgb.shape == (n * h + (n + 1) * pad, 4 * w + 5 * pad, 3)
    for row in range(n):
        for col, images in enumerate(columns):
            top, left = pad + row * (h + pad), pad + col * (w + pad)
            expected = (images[row].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
            np.testing.assert_array_equal(rgb[top:top + h, left:left + w], expected)
    assert (rgb[:pad] == 255).all() and (rgb[:, :pad] == 255).all()


def test_grid_resizes_other_sizes_and_spreads_greyscale(tmp_path):
    gt = torch.rand(1, 3, 16, 16)
    path = write_grid(tmp_path / "g.png", torch.full((1, 3, 32, 32), 0.5), torch.ones(1, 1, 16, 16), gt, torch.zeros(1, 3, 8, 8), pad=0)
    rgb = cv2.imread(str(path))[:, :, ::-1]
    assert rgb.shape == (16, 64, 3)
    assert (rgb[:, :16] == 128).all() and (rgb[:, 16:32] == 255).all() and (rgb[:, 48:] == 0).all()


# --- diffusers VAE -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_vae_folder(tmp_path_factory) -> Path:
    diffusers = pytest.importorskip("diffusers")
    torch.manual_seed(0)
    model = diffusers.AutoencoderKL(
        block_out_channels=(8, 16), down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
        norm_num_groups=4, latent_channels=4, sample_size=32, layers_per_block=1,
    )
    folder = tmp_path_factory.mktemp("tiny_vae")
    model.save_pretrained(folder)
    return folder


def test_diffusers_vae_encodes_and_decodes_with_the_stand_in_interface(tiny_vae_folder):
    from truepose_core.train.vae import DiffusersVAE

    vae = DiffusersVAE.from_folder(tiny_vae_folder, "cpu")
    assert (vae.channels, vae.factor, vae.scaling_factor) == (4, 2, 0.18215)
    assert not vae.model.training and not any(p.requires_grad for p in vae.model.parameters())
    images = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    latents = vae.encode(images)
    assert latents.shape == (2, 4, 16, 16) and latents.dtype == torch.float32
    assert torch.equal(latents, vae.encode(images))  # the posterior mean: deterministic
    decoded = vae.decode(latents)
    assert decoded.shape == (2, 3, 32, 32) and decoded.min() >= 0 and decoded.max() <= 1
    assert torch.equal(decoded, vae.decode(latents))
    # scaling: the latents are the raw posterior mean times scaling_factor
    raw = vae.model.encode(images * 2 - 1).latent_dist.mean
    torch.testing.assert_close(latents, raw * 0.18215)

    sampling = DiffusersVAE.from_folder(tiny_vae_folder, "cpu", sample_posterior=True)
    a = sampling.encode(images, torch.Generator().manual_seed(1))
    assert torch.equal(a, sampling.encode(images, torch.Generator().manual_seed(1))) and not torch.equal(a, latents)


def test_diffusers_vae_reads_the_vae_subfolder_of_a_pipeline(tiny_vae_folder, tmp_path):
    from truepose_core.train.vae import DiffusersVAE

    (tmp_path / "vae").symlink_to(tiny_vae_folder, target_is_directory=True)
    (tmp_path / "model_index.json").write_text("{}")
    assert DiffusersVAE.from_folder(tmp_path).factor == 2


def test_diffusers_vae_errors_name_the_input_and_the_fix(tmp_path, monkeypatch):
    diffusers = pytest.importorskip("diffusers")
    from truepose_core.train.vae import DiffusersVAE

    with pytest.raises(TruePoseInputError, match="does not exist") as missing:
        DiffusersVAE.from_folder(tmp_path / "nowhere")
    assert missing.value.input_name == "vae" and "sd-vae-ft-mse" in missing.value.fix
    with pytest.raises(TruePoseInputError, match="no config.json"):
        DiffusersVAE.from_folder(tmp_path)
    unet = tmp_path / "unet"
    diffusers.UNet2DModel(block_out_channels=(8, 8), norm_num_groups=4, layers_per_block=1, sample_size=8,
                          down_block_types=("DownBlock2D",) * 2, up_block_types=("UpBlock2D",) * 2).save_pretrained(unet)
    with pytest.raises(TruePoseInputError, match="UNet2DModel model, not an AutoencoderKL"):
        DiffusersVAE.from_folder(unet)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text(json.dumps({"_class_name": "AutoencoderKL", "block_out_channels": [8, 16], "norm_num_groups": 4}))
    with pytest.raises(TruePoseInputError, match="could not load"):
        DiffusersVAE.from_folder(broken)
    monkeypatch.setitem(sys.modules, "diffusers", None)  # as if not installed
    with pytest.raises(TruePoseInputError, match="diffusers package") as no_package:
        DiffusersVAE.from_folder(broken)
    assert "requirements-train.txt" in no_package.value.fix


# --- accelerate launch -------------------------------------------------------------------------

FAST = dict(image_size=32, latent_factor=4, batch_size=4, dataset_length=64, lr=1e-3)
# `--cpu --num_processes 2` starts ONE process (accelerate's simple launcher; several CPU processes
# only through mpirun). A MULTI_GPU config goes through torch.distributed.run, which sets WORLD_SIZE /
# RANK / LOCAL_RANK / MASTER_*: init_runtime then picks gloo on a CPU-only machine.
ACCELERATE_CONFIG = """\
compute_environment: LOCAL_MACHINE
distributed_type: MULTI_GPU
num_machines: 1
num_processes: 2
machine_rank: 0
main_process_port: 0
mixed_precision: 'no'
dynamo_config: {}
gpu_ids: all
debug: false
"""


def test_accelerate_launch_runs_two_cpu_processes_in_sync(tmp_path):
    pytest.importorskip("accelerate")
    if torch.cuda.is_available():
        pytest.skip("checks the CPU (gloo) path; with GPUs the MULTI_GPU config would use them")
    config = tmp_path / "accelerate.yaml"
    config.write_text(ACCELERATE_CONFIG)
    out = tmp_path / "run"
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in FAST.items()]
    command = [
        sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(config), "-m", "truepose_core.train",
        f"--out-dir={out}", "--steps=2", "--log-every=1", *flags,
    ]
    env = {
        **os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path), "HF_HOME": str(tmp_path / "hf"),
        "HF_HUB_OFFLINE": "1",
    }
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log if "step" in r] == [1, 2]  # rank 0 logs alone
    digests = log[-1]["parameter_digests"]
    assert len(digests) == 2 and digests[0] == digests[1]
