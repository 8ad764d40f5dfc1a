"""`python -m truepose_core.bench --tiny --json` runs end to end and reports sane numbers."""

import json
import math
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
KEYS = (
    "plain_ms", "truepose_ms", "naive_ms", "truepose_over_plain", "naive_over_plain", "source_ms", "bank_mb",
    "joint_ms", "gated_ms", "joint_over_plain", "gated_over_plain", "peak_mb",
)


def test_tiny_bench_prints_a_table_and_a_json_summary():
    run = subprocess.run(
        [sys.executable, "-m", "truepose_core.bench", "--tiny", "--json", "--repeats", "2", "--threads", "1"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert any("naive ms" in line and "TP/plain" in line for line in lines)
    summary = json.loads(lines[-1])
    assert summary["device"].startswith("cpu")
    for key in KEYS:
        assert isinstance(summary[key], float) and math.isfinite(summary[key]) and summary[key] > 0, key
    assert summary["truepose_ms"] == max(summary["joint_ms"], summary["gated_ms"])
    assert [s["size"] for s in summary["sizes"]] == ["64x64"]
