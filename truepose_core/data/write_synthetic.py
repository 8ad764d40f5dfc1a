"""Writes SyntheticPairs items in the own-pairs layout (own_pairs.py): a worked example of the format
users fill with their photos, and data the tests read back.

    python -m truepose_core.data.write_synthetic OUT_DIR --count 16 --size 64
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..pose import Person, PoseFrame, frames_to_pose_keypoint
from ..synthetic.dataset import SyntheticPairs
from .own_pairs import PAIRS


def _rgb(image: torch.Tensor) -> np.ndarray:
    return (image.permute(1, 2, 0).numpy() * 255.0).round().astype(np.uint8)  # exact: the items are uint8 / 255


def _write_side(out: Path, stem: str, image: torch.Tensor, parsing: torch.Tensor, keypoints: torch.Tensor) -> str:
    height, width = parsing.shape
    Image.fromarray(_rgb(image), "RGB").save(out / "images" / f"{stem}.png")
    Image.fromarray(parsing.numpy(), "L").save(out / "parsing" / f"{stem}.png")
    pose = frames_to_pose_keypoint([PoseFrame(width, height, (Person(keypoints.numpy()),))])
    (out / "poses" / f"{stem}.json").write_text(json.dumps(pose), encoding="utf-8")
    return f"{stem}.png"


def write_synthetic(out_dir: str | Path, count: int, size: int = 64, width: int | None = None, seed: int = 0) -> Path:
    """SyntheticPairs(count, width or size, size, seed) -> out_dir/{pairs.csv, images/, poses/, parsing/}; returns out_dir."""
    out = Path(out_dir)
    for folder in ("images", "poses", "parsing"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    data = SyntheticPairs(count, width or size, size, seed)
    rows = []
    for i in range(count):
        item = data[i]
        rows.append([
            _write_side(out, f"{i:05d}_{side}", item[f"{side}_image"], item[f"{side}_parsing"], item[f"{side}_keypoints"])
            for side in ("source", "target")
        ])
    with open(out / PAIRS, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["source", "target"])
        writer.writerows(rows)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser("python -m truepose_core.data.write_synthetic", description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--count", type=int, default=16, help="pairs to write")
    parser.add_argument("--size", type=int, default=64, help="image height (and width unless --width)")
    parser.add_argument("--width", type=int, default=0, help="image width (default: --size)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    out = write_synthetic(args.out_dir, args.count, args.size, args.width or None, args.seed)
    print(f"wrote {args.count} pairs to {out}")


if __name__ == "__main__":
    main()
