"""Sample grids: one PNG, a row per sample, columns source | target pose skeleton | ground truth |
generated, separated by `pad` white pixels, so a training run can be judged by eye."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

COLUMNS = ("source", "target pose", "ground truth", "generated")


def _cells(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(N, C, h, w) in [0, 1] -> (N, 3, H, W): greyscale spread to RGB, other sizes resized."""
    images = images.detach().float().cpu()
    if images.shape[1] == 1:
        images = images.expand(-1, 3, -1, -1)
    if tuple(images.shape[-2:]) != size:
        images = F.interpolate(images, size=size, mode="bilinear", align_corners=False, antialias=True)
    return images.clamp(0.0, 1.0)


def grid_image(source: torch.Tensor, pose: torch.Tensor, ground_truth: torch.Tensor, generated: torch.Tensor, pad: int = 2) -> np.ndarray:
    """-> (N*H + (N+1)*pad, 4*W + 5*pad, 3) uint8 RGB; every input (N, 3 or 1, H, W) float in [0, 1],
    cells at the ground truth's size."""
    n, _, h, w = ground_truth.shape
    columns = [_cells(x, (h, w)) for x in (source, pose, ground_truth, generated)]
    if any(len(c) != n for c in columns):
        raise ValueError(f"every column needs {n} images, got {[len(c) for c in columns]}")
    canvas = torch.ones(3, n * h + (n + 1) * pad, len(columns) * w + (len(columns) + 1) * pad)
    for row in range(n):
        top = pad + row * (h + pad)
        for col, images in enumerate(columns):
            left = pad + col * (w + pad)
            canvas[:, top:top + h, left:left + w] = images[row]
    return (canvas * 255.0).round().to(torch.uint8).permute(1, 2, 0).numpy()


def write_grid(
    path: str | Path, source: torch.Tensor, pose: torch.Tensor, ground_truth: torch.Tensor, generated: torch.Tensor, pad: int = 2,
) -> Path:
    """Writes the grid PNG (parent folders created) and returns its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rgb = grid_image(source, pose, ground_truth, generated, pad)
    if not cv2.imwrite(str(path), np.ascontiguousarray(rgb[:, :, ::-1])):
        raise OSError(f"could not write the sample grid {path}")
    return path
