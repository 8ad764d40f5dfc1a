"""SCHP's input and output geometry: an aspect-preserving affine crop in, its inverse out.

SCHP fits the whole frame (box (0, 0, w-1, h-1)) into the network's square input, centred and
padded with black, normalises BGR with ImageNet statistics, and maps the logits back to the
frame with the inverse affine transform. Both warps here are bilinear grid samples, the same
maths as its cv2.warpAffine(INTER_LINEAR, BORDER_CONSTANT=0), but batched and on any device.
SCHP reads 8-bit images and warpAffine keeps them 8-bit, so the frame and the crop are rounded
to whole levels (0..255) as there: the network sees the same input as in the reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

# Per channel in B, G, R order (SCHP feeds BGR).
BGR_MEAN = (0.406, 0.456, 0.485)
BGR_STD = (0.225, 0.224, 0.229)

INPUT_SIZES: dict[str, tuple[int, int]] = {"lip": (473, 473), "cihp": (473, 473), "atr": (512, 512), "pascal": (512, 512)}


@dataclass(frozen=True)
class FrameFit:
    """x_net = scale * (x_frame - cx) + (net_w - 1) / 2 (same for y), for a frame of (height, width).

    The frame's first and last pixel of its longer side land exactly on the crop's first and last.
    """

    frame_size: tuple[int, int]
    net_size: tuple[int, int]
    scale: float
    center: tuple[float, float]

    @classmethod
    def for_frame(cls, frame_size: tuple[int, int], net_size: tuple[int, int]) -> "FrameFit":
        h, w = frame_size
        net_h, net_w = net_size
        box_w, box_h = float(w - 1), float(h - 1)
        aspect = net_w / net_h
        # Grow the box to the network's aspect ratio so the person is not distorted.
        if box_w > aspect * box_h:
            box_h = box_w / aspect
        elif box_w < aspect * box_h:
            box_w = box_h * aspect
        return cls((h, w), (net_h, net_w), (net_w - 1) / max(box_w, 1.0), ((w - 1) / 2.0, (h - 1) / 2.0))


def _grid(xs: torch.Tensor, ys: torch.Tensor, src_size: tuple[int, int]) -> torch.Tensor:
    """Pixel coordinates in a source of (h, w) -> grid_sample grid (align_corners=True)."""
    h, w = src_size
    gx = xs / max(w - 1, 1) * 2 - 1
    gy = ys / max(h - 1, 1) * 2 - 1
    return torch.stack(torch.meshgrid(gy, gx, indexing="ij")[::-1], dim=-1)[None]


def _sample(x: torch.Tensor, grid: torch.Tensor, padding: str) -> torch.Tensor:
    grid = grid.to(device=x.device, dtype=x.dtype).expand(x.shape[0], -1, -1, -1)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode=padding, align_corners=True)


def to_8bit_levels(x: torch.Tensor) -> torch.Tensor:
    """0..1 values rounded to the nearest of 256 levels (what a uint8 image holds)."""
    return x.clamp(0.0, 1.0).mul(255.0).round_().div_(255.0)


def frame_to_net(images: torch.Tensor, fit: FrameFit) -> torch.Tensor:
    """(B, H, W, 3) RGB in 0..1 -> (B, 3, net_h, net_w) normalised BGR network input."""
    net_h, net_w = fit.net_size
    cx, cy = fit.center
    xs = (torch.arange(net_w, dtype=torch.float64) - (net_w - 1) / 2) / fit.scale + cx
    ys = (torch.arange(net_h, dtype=torch.float64) - (net_h - 1) / 2) / fit.scale + cy
    bgr = to_8bit_levels(images[..., :3].flip(-1).permute(0, 3, 1, 2).float())
    crop = to_8bit_levels(_sample(bgr, _grid(xs, ys, fit.frame_size), "zeros"))
    mean = torch.tensor(BGR_MEAN, device=crop.device).view(1, 3, 1, 1)
    std = torch.tensor(BGR_STD, device=crop.device).view(1, 3, 1, 1)
    return (crop - mean) / std


def net_to_frame(logits: torch.Tensor, fit: FrameFit) -> torch.Tensor:
    """(B, C, h, w) logits at any network stride -> (B, C, H, W) logits over the original frame."""
    logits = F.interpolate(logits, size=fit.net_size, mode="bilinear", align_corners=True)
    h, w = fit.frame_size
    net_h, net_w = fit.net_size
    cx, cy = fit.center
    xs = fit.scale * (torch.arange(w, dtype=torch.float64) - cx) + (net_w - 1) / 2
    ys = fit.scale * (torch.arange(h, dtype=torch.float64) - cy) + (net_h - 1) / 2
    # Every frame pixel lies inside the crop; "border" only keeps float rounding at its last
    # row and column from blending with zeros.
    return _sample(logits, _grid(xs, ys, fit.net_size), "border")
