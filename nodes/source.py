"""TruePose_EncodeSource: the Siamese SourceNet pass, once per source, into a reusable bank."""

from __future__ import annotations

import dataclasses

import torch

from ..truepose_core.parsing import REGION_NAMES, ParsingMap
from ..truepose_core.validation import check_aspect, check_batch, check_image
from .caa_encoder import source_region_embeddings
from ..truepose_core.errors import TruePoseInputError
from .errors import input_error, node_errors
from .sourcenet import encode_source_bank, with_source_weights
from .types import PARSING, SOURCE, TRUEPOSE_MODEL
from .validation import check_conditioning_width

NODE = "TruePose_EncodeSource"


def _crop_to_multiple_of_8(image: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Centre-crop both to a multiple of 8 pixels, as ComfyUI's VAEEncode does to the image."""
    h, w = image.shape[1] // 8 * 8, image.shape[2] // 8 * 8
    top, left = (image.shape[1] % 8) // 2, (image.shape[2] % 8) // 2
    return image[:, top : top + h, left : left + w], labels[:, top : top + h, left : left + w]


def prepare_source(image: torch.Tensor, parsing: ParsingMap) -> tuple[torch.Tensor, ParsingMap]:
    """Validate the pair and bring the parsing onto the image's pixel grid (raises TruePoseInputError)."""
    check_image("image", image, "connect a LoadImage (or any IMAGE) output.")
    b, h, w = image.shape[0], image.shape[1], image.shape[2]
    if min(h, w) < 64:
        raise TruePoseInputError("image", f"the image is only {w}x{h} pixels.",
            "use a source image of at least 64 pixels per side (512 recommended).")
    if not isinstance(parsing, ParsingMap):
        raise TruePoseInputError("parsing", f"expected a TruePose parsing, got {type(parsing).__name__}.",
            "connect a TruePose parsing node's output.")
    check_batch("parsing", parsing.batch_size, b, "parsing maps", "a source image batch",
        "parse the same image batch you encode (one map per image), or give one map for all.")
    check_aspect("parsing", parsing.size, (h, w), "the image", "parse this very image, or crop/resize both the same way before parsing.")
    labels = parsing.resized(h, w).labels
    if parsing.batch_size == 1 and b > 1:
        labels = labels.expand(b, -1, -1)
    image, labels = _crop_to_multiple_of_8(image[..., :3], labels)
    for i in range(b):
        if not bool((labels[i] != 0).any()):
            raise TruePoseInputError(
                "parsing", f"no person in the parsing of source image {i} (every pixel is background).",
                "check that the image shows a person and that the right label set was chosen.",
            )
    return image, ParsingMap(labels.contiguous(), parsing.label_set)


class TruePose_EncodeSource:
    DESCRIPTION = (
        "Runs the SourceNet (the Siamese reference UNet) ONCE on the source person and stores the "
        "self-attention tokens of every block, grouped by parsing region. Connect the result to "
        "Apply TruePose; one encoded source drives any number of poses and samplers."
    )
    CATEGORY = "TruePose"
    RETURN_TYPES = (SOURCE,)
    RETURN_NAMES = ("source",)
    FUNCTION = "encode"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "model": ("MODEL", {"tooltip": "SourceNet. Training-free: the same MODEL you sample with."}),
                "vae": ("VAE", {"tooltip": "The VAE of that model, to encode the source image."}),
                "image": ("IMAGE", {"tooltip": "The source person (one image, or a batch: one source per latent)."}),
                "parsing": (PARSING, {"tooltip": "Human parsing of the source image (same size and batch)."}),
            },
            "optional": {
                "conditioning": ("CONDITIONING",
                    {"tooltip": "Positive prompt for the SourceNet pass (recommended; empty context if absent)."}),
                "dilate_regions": ("BOOLEAN",
                    {"default": False, "tooltip": "Grow every region by one token per block, so thin parts keep their edges."}),
                "truepose_model": (TRUEPOSE_MODEL,
                    {"tooltip": "Trained mode: run the SourceNet with this checkpoint's weights instead of MODEL's."}),
                "clip_vision": ("CLIP_VISION",
                    {"tooltip": ("Trained mode with CAA: the CLIP vision model the checkpoint was trained with; encodes one crop per "
                        "region.")}),
            },
        }

    def encode(self, model, vae, image, parsing, conditioning=None, dilate_regions=False, truepose_model=None, clip_vision=None):
        with node_errors(NODE):
            image, parsing = prepare_source(image, parsing)
            check_conditioning_width(model, conditioning)
            if truepose_model is not None:
                model = with_source_weights(model, truepose_model)
            latent = vae.encode(image)
            bank = encode_source_bank(model, latent, parsing, conditioning, dilate_regions)
            if clip_vision is not None:
                bank = dataclasses.replace(bank, clip=source_region_embeddings(clip_vision, image, parsing, NODE))
        return (bank,)


class TruePose_MergeSources:
    DESCRIPTION = "Region editing: take some regions (e.g. the upper clothes) from a second source."
    CATEGORY = "TruePose"
    RETURN_TYPES = (SOURCE,)
    RETURN_NAMES = ("source",)
    FUNCTION = "merge"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "source": (SOURCE, {"tooltip": "The base source: every region not listed comes from here."}),
                "other": (SOURCE, {"tooltip": "The source the listed regions come from."}),
                "regions": ("STRING",
                    {"default": "upper, lower", "tooltip": f"Comma list of regions to take from 'other': {', '.join(REGION_NAMES)}."}),
            }
        }

    def merge(self, source, other, regions):
        names = [r.strip().lower() for r in regions.split(",") if r.strip()]
        unknown = [r for r in names if r not in REGION_NAMES]
        if unknown or not names:
            raise input_error("TruePose_MergeSources", "regions", f"unknown or empty region list {unknown or regions!r}.",
                f"use {', '.join(REGION_NAMES)}.")
        with node_errors("TruePose_MergeSources"):
            return (source.merged(other, names),)


NODE_CLASS_MAPPINGS = {"TruePose_EncodeSource": TruePose_EncodeSource, "TruePose_MergeSources": TruePose_MergeSources}
NODE_DISPLAY_NAME_MAPPINGS = {
    "TruePose_EncodeSource": "Encode Source (SourceNet) (TP)",
    "TruePose_MergeSources": "Merge Sources by Region (TP)",
}
