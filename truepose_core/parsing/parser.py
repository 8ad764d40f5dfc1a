"""Human parsers behind one interface: a batch of images in, a LIP-20 ParsingMap + person mask out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import torch

from ..errors import TruePoseInputError
from .labels import mirror_permutation, to_lip
from .parsing_map import ParsingMap
from .preprocess import INPUT_SIZES, FrameFit, frame_to_net, net_to_frame
from .schp import AugmentCE2P

FrameCallback = Callable[[int], None]  # called with the index of each finished frame


@dataclass(frozen=True)
class ParseResult:
    parsing: ParsingMap  # LIP-20 ids, on the CPU
    person_mask: torch.Tensor  # (B, H, W) float 0/1, on the CPU


class HumanParser(Protocol):
    name: str
    label_set: str

    def parse(self, images: torch.Tensor, flip_tta: bool = False, on_frame: FrameCallback | None = None) -> ParseResult: ...


def check_images(images: torch.Tensor) -> torch.Tensor:
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[-1] < 3 or 0 in images.shape:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise TruePoseInputError("image", f"expected an IMAGE batch (batch, height, width, 3), got {shape}.",
            "connect an image (Load Image or any IMAGE output).")
    return images[..., :3]


class SchpParser:
    """SCHP inference with its own pre/post-processing, one frame at a time (batch-independent)."""

    def __init__(self, net: AugmentCE2P, label_set: str, name: str = "schp", net_size: tuple[int, int] | None = None):
        self.net = net.eval()
        self.label_set = label_set
        self.name = name
        self.net_size = net_size or INPUT_SIZES[label_set]
        self._mirror = torch.tensor(mirror_permutation(label_set))

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    def to(self, device: torch.device | str) -> "SchpParser":
        self.net.to(device)
        return self

    @torch.inference_mode()
    def logits(self, images: torch.Tensor, flip_tta: bool = False) -> torch.Tensor:
        """(B, H, W, 3) RGB 0..1 -> (B, classes, H, W) fused logits over the original frames."""
        images = check_images(images)
        fit = FrameFit.for_frame(tuple(images.shape[1:3]), self.net_size)
        x = frame_to_net(images.to(self.device), fit)
        if flip_tta:
            x = torch.cat([x, x.flip(-1)])
        _, fused, _ = self.net(x)
        if flip_tta:
            plain, flipped = fused.chunk(2)
            # The flipped image's left arm is the person's right arm: swap classes, then unflip.
            fused = (plain + flipped[:, self._mirror.to(fused.device)].flip(-1)) / 2
        return net_to_frame(fused, fit)

    def parse(self, images: torch.Tensor, flip_tta: bool = False, on_frame: FrameCallback | None = None) -> ParseResult:
        images = check_images(images)
        labels = []
        for i in range(images.shape[0]):
            ids = self.logits(images[i : i + 1], flip_tta).argmax(dim=1).to(torch.uint8).cpu()
            labels.append(to_lip(ids, self.label_set))
            if on_frame is not None:
                on_frame(i)
        lip = torch.cat(labels)
        return ParseResult(ParsingMap(lip, self.label_set), (lip != 0).float())


def load_schp_parser(path, device: torch.device | str = "cpu") -> SchpParser:
    from .loading import load_network

    net, label_set = load_network(path)
    return SchpParser(net, label_set, name=f"schp-{label_set}").to(device)
