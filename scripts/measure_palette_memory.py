"""Peak memory and time of Parsing from Palette Image's decoding (palette_image_to_labels).

    .venv/bin/python scripts/measure_palette_memory.py 1024 2048 4096

Each size runs in a fresh process: the input image is built first, then the process's peak RSS
(VmHWM) is reset and the decoding runs; the reported peak is above the input image itself.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _vm(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(field)


def measure(size: int) -> None:
    import time

    import torch

    sys.path.insert(0, str(ROOT))
    from truepose_core.parsing import labels_to_palette_image, palette_image_to_labels
    from truepose_core.synthetic.figure import default_pose, draw_figure

    torch.set_num_threads(1)
    _, labels = draw_figure(default_pose(size, size), size, size)
    image = labels_to_palette_image(torch.from_numpy(labels)[None])
    del labels
    palette_image_to_labels(image[:, :64, :64], "lip")  # imports and first-call setup outside the measurement
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    before = _vm("VmRSS")
    start = time.perf_counter()
    out = palette_image_to_labels(image, "lip")
    seconds = time.perf_counter() - start
    peak = _vm("VmHWM") - before
    print(f"{size}x{size}: input {image.numel() * 4 / 2**20:.0f} MiB, decode peak +{peak / 2**20:.0f} MiB, {seconds:.2f} s, out "
        f"{tuple(out.shape)}")


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--one":
        measure(int(argv[1]))
        return 0
    for size in argv or ["1024", "2048", "4096"]:
        subprocess.run([sys.executable, __file__, "--one", size], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
