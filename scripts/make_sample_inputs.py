"""Regenerate the bundled sample inputs in workflows/inputs/ (a synthetic source person, its
LIP parsing as a palette PNG, and a target pose as OpenPose JSON). Deterministic."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from truepose_core.parsing import labels_to_palette_image  # noqa: E402
from truepose_core.synthetic import default_pose, draw_figure  # noqa: E402

WIDTH, HEIGHT = 256, 352
OUT = REPO_ROOT / "workflows" / "inputs"


def pose_json(keypoints: np.ndarray, width: int, height: int) -> list[dict]:
    flat: list[float] = []
    for x, y in keypoints:
        flat += [round(float(x) / width, 5), round(float(y) / height, 5), 1.0]
    person = {"pose_keypoints_2d": flat, "face_keypoints_2d": None, "hand_left_keypoints_2d": None, "hand_right_keypoints_2d": None}
    return [{"people": [person], "canvas_width": width, "canvas_height": height}]


def pose_sequence(width: int, height: int) -> list[np.ndarray]:
    """Three target poses: arms up, arms out to the sides, a step to the right."""
    up = default_pose(width, height, arms_up=True)
    out = default_pose(width, height)
    out[[3, 4, 6, 7]] = np.array([[0.27, 0.27], [0.14, 0.28], [0.73, 0.27], [0.86, 0.28]], np.float32) * [width, height]
    step = default_pose(width, height)
    step[[12, 13]] = np.array([[0.64, 0.71], [0.70, 0.87]], np.float32) * [width, height]
    return [up, out, step]


def main() -> None:
    import torch

    OUT.mkdir(parents=True, exist_ok=True)
    image, labels = draw_figure(default_pose(WIDTH, HEIGHT), WIDTH, HEIGHT)
    cv2.imwrite(str(OUT / "truepose_source.png"), image[..., ::-1])
    palette = (labels_to_palette_image(torch.from_numpy(labels)[None])[0].numpy() * 255).round().astype(np.uint8)
    cv2.imwrite(str(OUT / "truepose_source_parsing.png"), palette[..., ::-1])
    target = default_pose(WIDTH, HEIGHT, arms_up=True)
    (OUT / "truepose_target_pose.json").write_text(json.dumps(pose_json(target, WIDTH, HEIGHT), indent=1) + "\n")
    frames = [pose_json(k, WIDTH, HEIGHT)[0] for k in pose_sequence(WIDTH, HEIGHT)]
    (OUT / "truepose_pose_sequence.json").write_text(json.dumps(frames, indent=1) + "\n")


if __name__ == "__main__":
    main()
