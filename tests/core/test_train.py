"""Training on the synthetic set: gradients, loss curve, resume, 2-process DDP (gloo), export."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from truepose_core.errors import TruePoseInputError
from truepose_core.models import SDUNet
from truepose_core.models.checkpoint import load_checkpoint
from truepose_core.models.pose_guider import PoseGuider
from truepose_core.synthetic.dataset import SyntheticPairs
from truepose_core.train.config import TrainConfig, parse_args
from truepose_core.train.loop import LOG_NAME, build_model, train

ROOT = Path(__file__).resolve().parents[2]
FAST = dict(image_size=32, latent_factor=4, batch_size=4, dataset_length=64, lr=1e-3, log_every=5)


pytestmark = pytest.mark.usefixtures("one_thread")


def test_pose_guider_starts_at_zero_and_reaches_latent_resolution():
    guider = PoseGuider(32, downsample=8)
    out = guider(torch.rand(2, 3, 64, 48))
    assert out.shape == (2, 32, 8, 6) and not out.any()
    with pytest.raises(TruePoseInputError, match="multiple of 8"):
        guider(torch.rand(1, 3, 60, 48))


def test_synthetic_pairs_are_deterministic_and_consistent():
    data = SyntheticPairs(4, 32, 32, seed=3)
    a, b = data[1], data[1]
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert a["source_image"].shape == a["target_pose"].shape == (3, 32, 32)
    assert a["target_parsing"].shape == (32, 32) and a["target_keypoints"].shape == (18, 2)
    assert not torch.equal(a["source_parsing"], a["target_parsing"])  # two poses of one person
    assert {5, 9, 13} <= set(a["target_parsing"].unique().tolist())  # upper clothes, pants, face


def _one_backward(model, batch, seed=0):
    torch.manual_seed(seed)
    source = batch["source_image"][:, :, ::4, ::4].contiguous()
    noisy = torch.randn_like(source)
    out, _ = model(source, batch["source_parsing"], noisy, torch.full((2,), 500.0), batch["target_pose"])
    out.square().mean().backward()
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.fixture(scope="module")
def batch():
    data = SyntheticPairs(2, 32, 32)
    return {k: torch.stack([data[i][k] for i in range(2)]) for k in data[0]}


def test_gradients_reach_sourcenet_and_gates_with_and_without_checkpointing(batch):
    model = build_model(TrainConfig(**FAST))
    with torch.no_grad():
        for g in model.gates.values():
            g.fill_(0.5)  # at g = 0 SourceNet has no effect yet, by design
    plain = _one_backward(model, batch)
    for region in ("face", "upper", "lower"):
        assert plain[f"gates.{region}"].abs() > 0, region
    source_attention = [n for n in plain if n.startswith("source_unet.") and "attn1.to_k" in n]
    assert source_attention and all(plain[n].abs().sum() > 0 for n in source_attention)
    assert plain["source_unet.input_blocks.0.0.weight"].abs().sum() > 0
    assert plain["pose_guider.conv_out.weight"].abs().sum() > 0

    model.zero_grad(set_to_none=True)
    model.set_gradient_checkpointing(True)
    checkpointed = _one_backward(model, batch)
    assert set(checkpointed) == set(plain)
    for name in plain:
        torch.testing.assert_close(checkpointed[name], plain[name], rtol=1e-4, atol=1e-6, msg=name)


def test_loss_decreases_and_the_export_loads(tmp_path):
    result = train(TrainConfig(out_dir=str(tmp_path), steps=60, **FAST))
    first, last = sum(result.losses[:10]) / 10, sum(result.losses[-10:]) / 10
    print(f"synthetic loss: first 10 steps {first:.3f}, last 10 steps {last:.3f}")
    assert last < 0.5 * first
    log = [json.loads(line) for line in (tmp_path / LOG_NAME).read_text().splitlines()]
    assert [r["step"] for r in log if "step" in r] == list(range(5, 61, 5))

    checkpoint = load_checkpoint(result.checkpoint)
    assert checkpoint.meta.fusion == "gated" and checkpoint.meta.base == "synthetic-micro"
    assert any(abs(g) > 0 for g in checkpoint.gate_values().values())  # the gates learned something
    SDUNet(checkpoint.meta.source_unet_config()).load_state_dict(checkpoint.source_unet)
    PoseGuider(**checkpoint.meta.pose_guider).load_state_dict(checkpoint.pose_guider)
    target = load_file(str(result.target_unet))
    assert "input_blocks.0.0.weight" in target and not any(k.startswith("source_unet.") for k in target)
    SDUNet(checkpoint.meta.source_unet_config()).load_state_dict(target)


def test_resumed_run_continues_exactly(tmp_path):
    whole = train(TrainConfig(out_dir=str(tmp_path / "whole"), steps=6, **FAST))
    train(TrainConfig(out_dir=str(tmp_path / "split"), steps=3, **FAST))
    resumed = train(TrainConfig(out_dir=str(tmp_path / "split"), steps=6, **FAST))
    assert resumed.losses == pytest.approx(whole.losses[3:], rel=1e-5)
    assert resumed.parameter_digests == whole.parameter_digests


def test_cli_reads_a_config_file_and_flags_win(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"steps": 7, "channel_mult": [1, 2, 2], "bf16": True}))
    config = parse_args(["--config", str(path), "--steps", "9", "--out-dir", "x"])
    assert (config.steps, config.channel_mult, config.bf16, config.out_dir) == (9, (1, 2, 2), True, "x")


def test_two_process_ddp_on_cpu_keeps_ranks_in_sync(tmp_path):
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in FAST.items() if k != "log_every"]
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
        "-m", "truepose_core.train", f"--out-dir={tmp_path}", "--steps=3", "--log-every=1", *flags,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    log = [json.loads(line) for line in (tmp_path / LOG_NAME).read_text().splitlines()]
    assert [r["step"] for r in log if "step" in r] == [1, 2, 3]  # rank 0 logs alone
    digests = log[-1]["parameter_digests"]
    assert len(digests) == 2 and digests[0] == digests[1]
    load_checkpoint(tmp_path / "truepose.safetensors")


CAA = dict(caa=True, caa_clip_model="ViT-B-32", caa_clip_image_size=32, caa_lambda=1.0)


def test_caa_gets_gradients_from_both_losses_and_checkpointing_keeps_them(batch):
    from truepose_core.train.loop import build_parts, region_inputs

    config = TrainConfig(**FAST, **CAA)
    parts = build_parts(config, torch.device("cpu"))
    model = build_model(config, parts)
    embeds, present = region_inputs(batch, parts.encoder, torch.ones(2), torch.device("cpu"))
    assert present.any() and embeds.shape == (2, 6, parts.encoder.embed_dim)

    def grads():
        model.zero_grad(set_to_none=True)
        torch.manual_seed(0)
        source = batch["source_image"][:, :, ::4, ::4].contiguous()
        out, caa_loss = model(source, batch["source_parsing"], torch.randn_like(source), torch.full((2,), 500.0),
                              batch["target_pose"], embeds, present, batch["target_parsing"])
        assert caa_loss.ndim == 0 and caa_loss != 0
        (out.square().mean() + caa_loss).backward()
        return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}

    plain = grads()
    assert plain["caa.proj.face.weight"].abs().sum() > 0 and plain["caa.proj.upper.weight"].abs().sum() > 0
    model.set_gradient_checkpointing(True)
    checkpointed = grads()
    assert set(checkpointed) == set(plain)
    for name in plain:
        torch.testing.assert_close(checkpointed[name], plain[name], rtol=1e-4, atol=1e-6, msg=name)


def test_a_caa_run_logs_its_loss_and_exports_the_projections(tmp_path):
    from truepose_core.caa import CAAProjection

    result = train(TrainConfig(out_dir=str(tmp_path), steps=4, **{**FAST, "log_every": 2}, **CAA))
    assert any(c != 0 for c in result.caa_losses)
    log = [json.loads(line) for line in (tmp_path / LOG_NAME).read_text().splitlines()]
    assert all("caa_loss" in r for r in log if "step" in r)
    checkpoint = load_checkpoint(result.checkpoint)
    meta = checkpoint.meta.caa
    assert meta["clip_model"] == "ViT-B-32" and meta["embed_dim"] == 512 and meta["context_dim"] == 16
    CAAProjection(meta["embed_dim"], meta["context_dim"], meta["regions"]).load_state_dict(checkpoint.caa)


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_runs_give_finite_decreasing_losses(tmp_path, precision):
    result = train(TrainConfig(out_dir=str(tmp_path), steps=20, **{**FAST, precision: True}))
    assert all(torch.isfinite(torch.tensor(result.losses)))
    assert sum(result.losses[-5:]) < sum(result.losses[:5])


def test_cli_reports_bad_data_without_a_traceback(tmp_path):
    command = [sys.executable, "-m", "truepose_core.train", "--dataset", "deepfashion", "--data-root", str(tmp_path / "none"),
               "--out-dir", str(tmp_path / "run"), "--steps", "1"]
    done = subprocess.run(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "data_root" in done.stderr and "Fix:" in done.stderr and "Traceback" not in done.stderr
