"""`python -m truepose_core.bench --arch sdxl` runs SDXL's layout (adm `y`, linear projections,
multi-transformer blocks) end to end and reports the bank size at 1024x1024."""

import json
import subprocess
import sys
from pathlib import Path

from truepose_core.bench.workload import bank_bytes
from truepose_core.models import SDXL_TINY

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_sdxl_bench_reports_ratios_and_the_1024_bank_size():
    run = subprocess.run(
        [sys.executable, "-m", "truepose_core.bench", "--arch", "sdxl", "--tiny", "--json", "--repeats", "1", "--threads", "1"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["arch"] == "sdxl" and summary["tiny"] is True
    assert summary["truepose_over_plain"] > 0 and summary["naive_over_plain"] > 0
    assert summary["bank_mb"] * 2**20 == bank_bytes(SDXL_TINY, 64, 64, 4)  # float32 on CPU
    assert summary["bank_mb_per_source_1024x1024"] * 2**20 == bank_bytes(SDXL_TINY, 1024, 1024, 4)
