"""One CLIP image-encoder interface for CAA: open_clip_torch in training and scripts, ComfyUI's
CLIP_VISION in the nodes (nodes/caa_encoder.py). Both return the projected image embedding
(what CLIP compares with text), so a checkpoint trained with one is fed the same features by the
other when both hold the same CLIP weights."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import torch

from ..errors import TruePoseInputError
from .crops import RegionCrops

# CLIP's own normalisation (OpenAI and open_clip ViT models).
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


class RegionEncoder(Protocol):
    embed_dim: int
    image_size: int

    def __call__(self, pixels: torch.Tensor) -> torch.Tensor:
        """(N, 3, S, S) in [0, 1] -> (N, embed_dim) projected image embeddings."""
        ...


def encode_region_crops(encoder: RegionEncoder, crops: RegionCrops) -> torch.Tensor:
    """-> (B, R, embed_dim); absent regions get zeros (they are masked out of attention anyway)."""
    b, r = crops.present.shape
    flat = crops.pixels.flatten(0, 1)
    embeds = encoder(flat).reshape(b, r, -1)
    return embeds * crops.present[..., None].to(embeds.dtype)


def clip_normalise(pixels: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor(CLIP_MEAN, device=pixels.device, dtype=pixels.dtype).view(1, 3, 1, 1)
    std = torch.tensor(CLIP_STD, device=pixels.device, dtype=pixels.dtype).view(1, 3, 1, 1)
    return (pixels - mean) / std


class OpenCLIPRegionEncoder:
    """An open_clip vision tower from a LOCAL weights file (nothing downloads), frozen."""

    def __init__(self, model: torch.nn.Module, image_size: int, embed_dim: int) -> None:
        self.model = model.eval().requires_grad_(False)
        self.image_size = image_size
        self.embed_dim = embed_dim

    @classmethod
    def from_file(
        cls, model_name: str, weights: str | Path | None, device: torch.device | str = "cpu", image_size: int = 0
    ) -> "OpenCLIPRegionEncoder":
        """`weights` None: random initialisation (tests, synthetic runs: the architecture is real,
        the features are not CLIP's). `image_size` > 0 overrides the tower's input size (CPU tests)."""
        import open_clip

        if model_name not in open_clip.list_models():
            raise TruePoseInputError(
                "caa_clip_model", f"open_clip has no model '{model_name}'.", "use a name from open_clip.list_models(), e.g. ViT-L-14."
            )
        if weights is not None and not Path(weights).is_file():
            raise TruePoseInputError(
                "caa_clip_weights", f"'{weights}' does not exist.",
                "download the open_clip weights file once (e.g. open_clip_pytorch_model.bin) and give its path.",
            )
        try:
            extra = {"force_image_size": image_size} if image_size else {}
            model = open_clip.create_model(model_name, pretrained=str(weights) if weights else None, device=device, **extra)
        except (RuntimeError, KeyError, ValueError) as e:
            raise TruePoseInputError(
                "caa_clip_weights", f"'{weights}' does not fit open_clip model '{model_name}' ({str(e).splitlines()[0][:200]}).",
                "give the weights of exactly that architecture.",
            ) from None
        size = model.visual.image_size
        image_size = int(size[0] if isinstance(size, (tuple, list)) else size)
        return cls(model, image_size, int(model.visual.output_dim))

    @torch.no_grad()
    def __call__(self, pixels: torch.Tensor) -> torch.Tensor:
        param = next(self.model.parameters())
        return self.model.encode_image(clip_normalise(pixels.to(param.device, param.dtype))).float()
