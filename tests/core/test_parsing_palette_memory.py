"""Parsing from Palette Image decodes in bounded memory (the old distance tensor took 2.5 GB at 2048²)."""

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "measure_palette_memory.py"


def test_2048_square_palette_map_decodes_in_under_160_mib():
    out = subprocess.run([sys.executable, str(SCRIPT), "--one", "2048"], capture_output=True, text=True, check=True, timeout=300).stdout
    peak = int(re.search(r"decode peak \+(\d+) MiB", out).group(1))
    assert peak < 160, out  # input 48 MiB; ids, on-palette flags and output are 4 MiB each, chunks a few dozen
