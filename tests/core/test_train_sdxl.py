"""Trained mode on SDXL: `python -m truepose_core.train --base sdxl` (the SDXL layout at toy widths
on CPU), its export, the base family in the checkpoint and the refusal of a family mismatch."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from truepose_core.errors import TruePoseInputError
from truepose_core.models import SD15, SDXL, SDUNet, load_checkpoint
from truepose_core.models.checkpoint import CheckpointMeta, check_family
from truepose_core.train.config import parse_args
from truepose_core.train.export import to_checkpoint
from truepose_core.train.model import TruePoseTrainModel

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_base_sdxl_selects_the_sdxl_unet():
    config = parse_args(["--base", "sdxl"]).unet_config(4)
    assert config == SDXL
    tiny = parse_args(["--base", "sdxl", "--tiny", "true"]).unet_config(3)
    assert tiny.adm_in_channels and tiny.use_linear_in_transformer and tiny.num_head_channels > 0 and tiny.in_channels == 3


def test_the_train_cli_runs_on_the_sdxl_layout_and_exports_an_sdxl_checkpoint(tmp_path):
    out = tmp_path / "run"
    run = subprocess.run(
        [sys.executable, "-m", "truepose_core.train", "--base", "sdxl", "--tiny", "true", "--steps", "2", "--batch-size", "2",
         "--dataset-length", "4", "--image-size", "64", "--log-every", "1", "--out-dir", str(out)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    losses = [json.loads(line)["loss"] for line in (out / "log.jsonl").read_text().splitlines() if '"loss"' in line]
    assert len(losses) == 2 and all(torch.isfinite(torch.tensor(losses)))
    checkpoint = load_checkpoint(out / "truepose.safetensors")
    assert checkpoint.meta.base == "sdxl"
    assert checkpoint.meta.family == "custom"  # SDXL's layout at toy widths: no host detects it as SDXL
    config = checkpoint.meta.source_unet_config()
    assert config.adm_in_channels > 0 and config.use_linear_in_transformer
    SDUNet(config).load_state_dict(checkpoint.source_unet, strict=True)
    assert any(k.startswith("label_emb.0.0.") for k in checkpoint.source_unet)


def test_checkpoints_record_their_family_and_a_mismatch_is_refused():
    with torch.device("meta"):
        sdxl = to_checkpoint(TruePoseTrainModel(SDXL, pose_downsample=8), "sdxl").meta
        sd15 = to_checkpoint(TruePoseTrainModel(SD15, pose_downsample=8), "sd15").meta
    assert (sdxl.family, sd15.family) == ("sdxl", "sd15")
    assert CheckpointMeta.from_strings(sdxl.to_strings()).family == "sdxl"
    older = dict(sd15.to_strings())
    del older["family"]  # written before the field existed: derived from the UNet config
    assert CheckpointMeta.from_strings(older).family == "sd15"
    check_family(sdxl, "sdxl")
    check_family(sdxl, "custom")  # toy UNets: left to the weight-shape checks
    with pytest.raises(TruePoseInputError, match=r"truepose_model.*trained on an SDXL base.*MODEL is SD15.*--base sd15"):
        check_family(sdxl, "sd15")
