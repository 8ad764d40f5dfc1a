"""The benchmark measures what it reports: time goes to the variant that spent it, the peak is this
process's high-water mark, the bank size is the source tokens kept, the naive baseline reruns the
reference UNet every step, and the CLI reports those numbers end to end."""

import json
import math
import subprocess
import sys
import time
from pathlib import Path

import torch

from truepose_core.bench.measure import interleaved_medians, peak_memory_mb
from truepose_core.bench.naive import NaiveReferenceAttention, naive_step
from truepose_core.bench.workload import TINY_BENCH, build_workload
from truepose_core.models import AttentionHooks

REPO_ROOT = Path(__file__).resolve().parents[2]
SLEEP_MS = {"short": 1.0, "middle": 25.0, "long": 80.0}


def test_each_timing_sample_belongs_to_the_variant_that_spent_it():
    calls = dict.fromkeys(SLEEP_MS, 0)

    def step(name):
        def run():
            calls[name] += 1
            time.sleep(SLEEP_MS[name] / 1e3)

        return run

    medians, samples = interleaved_medians({n: step(n) for n in SLEEP_MS}, 3, torch.device("cpu"), warm_up=("long",))
    assert calls == {"short": 3, "middle": 3, "long": 4}  # the warm-up round is run, not timed
    for name, values in samples.items():
        assert len(values) == 3 and all(v >= SLEEP_MS[name] for v in values), (name, values)
    assert medians["short"] < medians["middle"] < medians["long"]


def vm_hwm_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024


def test_peak_memory_is_this_process_high_water_mark():
    block = torch.ones(64 * 2**20 // 4 * 4)  # 256 MiB, touched
    del block
    peak = peak_memory_mb(torch.device("cpu"))
    assert peak >= 256 and abs(peak - vm_hwm_mb()) < 8, (peak, vm_hwm_mb())


def source_token_bytes(work) -> int:
    """Every token entering attn1 in one SourceNet pass, counted independently of the bank."""
    seen = []
    work.unet(work.source_latent, torch.zeros(1), work.context[:1], AttentionHooks(record=lambda b, n, g: seen.append(n.nbytes)))
    return sum(seen)


def test_the_bank_keeps_every_source_token_once_and_naive_reruns_the_reference_unet(one_thread):
    with torch.inference_mode():
        work = build_workload(TINY_BENCH, 64, 64, torch.device("cpu"), torch.float32)
        assert work.encode_source().nbytes == source_token_bytes(work)
        forwards = []
        work.unet.register_forward_pre_hook(lambda *a: forwards.append(1))
        naive = NaiveReferenceAttention(work.unet.attn1_projector())
        for _ in range(2):
            naive_step(work, naive)
    assert len(forwards) == 4  # reference pass + target pass, at every step


def test_tiny_bench_cli_reports_the_measured_numbers():
    run = subprocess.run(
        [sys.executable, "-m", "truepose_core.bench", "--tiny", "--json", "--repeats", "2", "--threads", "1"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    summary = json.loads(lines[-1])
    assert any(line.startswith("| ") and "64x64" in line for line in lines)  # the table has the size's row
    assert summary["device"].startswith("cpu") and [s["size"] for s in summary["sizes"]] == ["64x64"]
    with torch.inference_mode():
        expected_bank_mb = source_token_bytes(build_workload(TINY_BENCH, 64, 64, torch.device("cpu"), torch.float32)) / 2**20
    assert math.isclose(summary["bank_mb"], expected_bank_mb, rel_tol=1e-6)
    for mode in ("plain", "joint", "gated", "naive"):
        samples = summary["samples_ms"][mode]
        assert len(samples) == 2 and all(s > 0 for s in samples)
        assert math.isclose(summary[f"{mode}_ms"], sorted(samples)[0] / 2 + sorted(samples)[1] / 2)  # median of 2
    assert summary["peak_mb"] > expected_bank_mb
