"""The ablation report gathers the runs recorded in the repo and the ones finished in --out (a
finished rerun in --out wins, an unfinished one hides nothing), and a run recorded there is not
trained again."""

import json
import statistics
import sys
from argparse import Namespace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import hpfa_ablation  # noqa: E402

ARGS = {"steps": 1200, "batch": 8, "lr": 3e-4, "width": 64, "eval_pairs": 200, "sample_steps": 20, "cfg": 1.0, "vae": "taesd"}
ROW = {"ssim": 0.5, "psnr": 15.0, "face": 0.1, "upper": 0.3, "lower": 0.4}


def _result(ssim: float) -> dict:
    metrics = {m: ROW[m] for m in hpfa_ablation.METRICS} | {"ssim": ssim}
    return {"metrics": metrics, "steps_done": 1200, "seconds": 60.0, "args": ARGS, "source_copy": metrics, "latent_ceiling": metrics}


def test_recorded_and_finished_runs_are_gathered_and_a_rerun_wins(tmp_path):
    record, out = tmp_path / "record", tmp_path / "out"
    record.mkdir()
    for name, ssim in (("hpfa_s0", 0.80), ("hpfa_s1", 0.10), ("no_hpfa_s0", 0.70)):
        (record / f"{name}.json").write_text(json.dumps(_result(ssim)))
    (out / "hpfa_s1").mkdir(parents=True)
    (out / "hpfa_s1" / "eval.json").write_text(json.dumps(_result(0.84)))
    (out / "no_hpfa_s1").mkdir()
    (out / "no_hpfa_s1" / "eval.json").write_text(json.dumps({"metrics": None}))  # unfinished: left out
    (out / "no_hpfa_s0").mkdir()
    (out / "no_hpfa_s0" / "eval.json").write_text(json.dumps({"metrics": None}))  # unfinished: the recorded run stays

    report = hpfa_ablation.gather(out, record)

    assert sorted(report["runs"]) == ["hpfa_s0", "hpfa_s1", "no_hpfa_s0"]
    assert report["summary"]["hpfa"]["seeds"] == 2
    assert abs(report["summary"]["hpfa"]["ssim"]["mean"] - 0.82) < 1e-12
    assert abs(report["summary"]["hpfa"]["ssim"]["std"] - statistics.stdev([0.80, 0.84])) < 1e-12
    assert report["summary"]["no_hpfa"]["ssim"]["std"] == 0.0
    assert report["runs"]["no_hpfa_s0"]["metrics"]["ssim"] == 0.70
    assert "| hpfa | 2 | 0.820 ± 0.028 |" in hpfa_ablation.table(report)


def test_a_recorded_run_is_not_trained_again(tmp_path, monkeypatch):
    record = tmp_path / "record"
    record.mkdir()
    (record / "no_hpfa_s2.json").write_text(json.dumps(_result(0.6)))
    monkeypatch.setitem(sys.modules, "train_demo_model", None)  # importing it would fail: training must not start

    result = hpfa_ablation.run(tmp_path / "out", record, "no_hpfa", 2, Namespace())

    assert result["metrics"]["ssim"] == 0.6
