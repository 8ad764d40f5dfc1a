"""ComfyUI's CLIP_VISION behind the core's RegionEncoder interface, and the source's CAA inputs."""

from __future__ import annotations

import torch

from ..truepose_core.attention import RegionEmbeddings
from ..truepose_core.caa import CAA_REGIONS, encode_region_crops, region_crops
from ..truepose_core.parsing import ParsingMap
from .errors import input_error


class ClipVisionRegionEncoder:
    """The projected image embedding (`image_embeds`), like open_clip's encode_image in training."""

    def __init__(self, clip_vision, node_name: str) -> None:
        self.clip_vision = clip_vision
        self.node_name = node_name
        self.image_size = int(getattr(clip_vision, "image_size", 224))
        self.embed_dim = 0  # known after the first call

    def __call__(self, pixels: torch.Tensor) -> torch.Tensor:
        out = self.clip_vision.encode_image(pixels.movedim(1, -1), crop=False)  # crops are square already
        embeds = getattr(out, "image_embeds", None)
        if embeds is None:
            raise input_error(
                self.node_name, "clip_vision", "this CLIP vision model has no image projection (no image_embeds).",
                "load the CLIP vision model the TruePose checkpoint was trained with (a CLIP ViT, e.g. ViT-L/14).",
            )
        self.embed_dim = int(embeds.shape[-1])
        return embeds.float()


def source_region_embeddings(clip_vision, image: torch.Tensor, parsing: ParsingMap, node_name: str) -> RegionEmbeddings:
    """image (B, H, W, 3) IMAGE and its parsing -> one embedding per region crop, kept on the CPU."""
    encoder = ClipVisionRegionEncoder(clip_vision, node_name)
    crops = region_crops(image.movedim(-1, 1).float(), parsing, CAA_REGIONS, encoder.image_size)
    with torch.no_grad():
        embeds = encode_region_crops(encoder, crops)
    return RegionEmbeddings(embeds.cpu(), crops.present.cpu(), CAA_REGIONS)
