"""Synthetic pose-transfer pairs: one person (style) drawn in two random poses.

Every sample is a pure function of (seed, index), so each DDP rank and every resumed run sees
the same data. Identity lives in the style: a patterned upper garment (colour, stripe colour,
stripe period), plain trousers, skin and hair (the face), with exact keypoints and LIP parsing.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.utils.data import Dataset

from ..pose import Person, PoseFrame, render_frame
from .figure import FigureStyle, default_pose, draw_figure

_LIMB_CHAINS = (  # (root, middle, end, side): side -1 = the figure's right arm / leg (image left)
    (2, 3, 4, -1),
    (5, 6, 7, 1),
)
_LEGS = ((8, 9, 10), (11, 12, 13))


def _colour(rng: np.random.Generator, low: int = 20, high: int = 235) -> tuple[int, int, int]:
    return tuple(int(c) for c in rng.integers(low, high, 3))  # type: ignore[return-value]


def random_style(rng: np.random.Generator, width: int) -> FigureStyle:
    skin_tone = rng.uniform(0.35, 1.0)
    return FigureStyle(
        skin=(int(235 * skin_tone), int(185 * skin_tone), int(150 * skin_tone)),
        hair=_colour(rng, 0, 160),
        shirt=_colour(rng),
        stripe=_colour(rng),
        pants=_colour(rng),
        shoes=_colour(rng, 0, 80),
        background=_colour(rng, 170, 250),
        stripe_period=max(2, int(rng.integers(width // 24, width // 8 + 1))),
    )


def _point(origin: np.ndarray, length: float, degrees: float) -> np.ndarray:
    a = math.radians(degrees)  # image coordinates: 0 deg = right, 90 deg = down
    return origin + length * np.array([math.cos(a), math.sin(a)], np.float32)


def random_pose(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """(18, 2) pixel keypoints: random arm and leg angles, scale and horizontal position."""
    k = default_pose(width, height)
    for root, middle, end, side in _LIMB_CHAINS:
        upper, lower = np.linalg.norm(k[middle] - k[root]), np.linalg.norm(k[end] - k[middle])
        down = 90.0 - side * rng.uniform(-10.0, 150.0)  # from hanging down to raised sideways-up
        k[middle] = _point(k[root], upper, down)
        k[end] = _point(k[middle], lower, down - side * rng.uniform(-40.0, 60.0))
    for hip, knee, ankle in _LEGS:
        thigh, shin = np.linalg.norm(k[knee] - k[hip]), np.linalg.norm(k[ankle] - k[knee])
        angle = 90.0 + rng.uniform(-20.0, 20.0)
        k[knee] = _point(k[hip], thigh, angle)
        k[ankle] = _point(k[knee], shin, angle + rng.uniform(-15.0, 15.0))
    scale = rng.uniform(0.8, 1.0)
    centre = np.array([width / 2, height / 2], np.float32)
    shift = np.array([rng.uniform(-0.1, 0.1) * width, (1 - scale) * 0.4 * height], np.float32)
    return ((k - centre) * scale + centre + shift).astype(np.float32)


def _image(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(rgb).permute(2, 0, 1).float() / 255.0


class SyntheticPairs(Dataset):
    """Items: source_image, target_image, target_pose (3, H, W) float in [0, 1]; source_parsing,
    target_parsing (H, W) uint8 LIP ids; source_keypoints, target_keypoints (18, 2) float pixels."""

    def __init__(self, length: int, width: int = 64, height: int = 64, seed: int = 0) -> None:
        self.length, self.width, self.height, self.seed = length, width, height, seed

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if not 0 <= index < self.length:
            raise IndexError(index)
        rng = np.random.default_rng([self.seed, index])
        w, h = self.width, self.height
        style = random_style(rng, w)
        source_k, target_k = random_pose(rng, w, h), random_pose(rng, w, h)
        source_rgb, source_labels = draw_figure(source_k, w, h, style)
        target_rgb, target_labels = draw_figure(target_k, w, h, style)
        skeleton = render_frame(PoseFrame(w, h, (Person(target_k),)), w, h, stick_scale=max(0.25, w / 512))
        return {
            "source_image": _image(source_rgb),
            "source_parsing": torch.from_numpy(source_labels),
            "source_keypoints": torch.from_numpy(source_k),
            "target_image": _image(target_rgb),
            "target_pose": _image(skeleton),
            "target_keypoints": torch.from_numpy(target_k),
            "target_parsing": torch.from_numpy(target_labels),
        }
