"""Parsing interop: palette images and masks in, masks and palette previews out."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..truepose_core.parsing import LABEL_SETS, REGION_GROUPS, ParsingMap, labels_to_palette_image, palette_image_to_labels
from ..truepose_core.parsing.labels import LABEL_PRESETS, parse_label_list
from ..truepose_core.errors import TruePoseInputError
from ..truepose_core.validation import check_batch, check_image, check_mask
from .errors import node_errors
from .previews import shows_parsing_preview
from .types import PARSING

CATEGORY = "TruePose/parsing"
# The LIP label a region mask is written as.
_REGION_LABEL = {"face": 13, "hair": 2, "upper": 5, "lower": 9, "skin": 14, "shoes": 18}


@shows_parsing_preview()
class TruePose_ParsingFromImage:
    DESCRIPTION = "Reads a parser's colour (VOC palette) map, e.g. from another parsing pack, as a TruePose parsing."
    CATEGORY = CATEGORY
    RETURN_TYPES = (PARSING,)
    RETURN_NAMES = ("parsing",)
    FUNCTION = "convert"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "palette_image": ("IMAGE", {"tooltip": "Colour label map, saved losslessly (PNG)."}),
                "label_set": (list(LABEL_SETS),
                    {"default": "lip",
                        "tooltip": "The label set of the parser that made it: the same colour means different classes in LIP and ATR."}),
            }
        }

    def convert(self, palette_image, label_set):
        with node_errors("TruePose_ParsingFromImage"):
            check_image("palette_image", palette_image, "connect the palette (colour) output of a human-parsing node.")
            return (ParsingMap(palette_image_to_labels(palette_image, label_set), label_set),)


@shows_parsing_preview()
class TruePose_ParsingFromMasks:
    DESCRIPTION = "Builds a parsing from region masks (any segmenter or hand-painted masks). Later inputs win where masks overlap."
    CATEGORY = CATEGORY
    RETURN_TYPES = (PARSING,)
    RETURN_NAMES = ("parsing",)
    FUNCTION = "build"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {}, "optional": {r: ("MASK", {"tooltip": f"Mask of the {r} region."}) for r in _REGION_LABEL}}

    def build(self, **masks):
        with node_errors("TruePose_ParsingFromMasks"):
            given = {r: check_mask(r, m, "connect a MASK (e.g. from a segmenter or a painted mask).") for r, m in masks.items()
                if m is not None}
            if not given:
                raise TruePoseInputError("face", "no mask connected.", "connect at least one region mask.")
            first, reference = next(iter(given.items()))
            for region, mask in given.items():
                if mask.shape[-2:] != reference.shape[-2:]:
                    raise TruePoseInputError(
                        region, f"it is {mask.shape[-1]}x{mask.shape[-2]} but '{first}' is {reference.shape[-1]}x{reference.shape[-2]}.",
                        "make every mask the size of the source image (masks are combined pixel by pixel, never stretched).",
                    )
            batch = max(m.shape[0] for m in given.values())
            labels = torch.zeros(batch, *reference.shape[-2:], dtype=torch.uint8)
            for region, mask in given.items():
                check_batch(region, mask.shape[0], batch, "masks", "a mask batch", "give every mask the same batch size (or 1).")
                labels[(mask > 0.5).expand(batch, -1, -1)] = _REGION_LABEL[region]
        return (ParsingMap(labels, "lip"),)


class TruePose_ParsingToMask:
    DESCRIPTION = "Selects regions or labels of a parsing as a MASK (for inpainting, compositing, IP-Adapter attention masks)."
    CATEGORY = CATEGORY
    RETURN_TYPES = ("MASK",)
    FUNCTION = "to_mask"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "parsing": (PARSING,),
                "labels": ("STRING",
                    {"default": "face",
                        "tooltip": (f"Comma list of presets ({', '.join(LABEL_PRESETS)}), regions ({', '.join(REGION_GROUPS)}), LIP names "
                            "or ids.")}),
                "grow": ("INT",
                    {"default": 0, "min": -64, "max": 64, "tooltip": "Grow (or shrink, negative) the mask by this many pixels."}),
                "blur": ("INT", {"default": 0, "min": 0, "max": 64, "tooltip": "Feather radius in pixels."}),
                "invert": ("BOOLEAN", {"default": False}),
            }
        }

    def to_mask(self, parsing, labels, grow, blur, invert):
        with node_errors("TruePose_ParsingToMask"):
            mask = parsing.mask(parse_label_list(labels))
        if grow:
            k = 2 * abs(grow) + 1
            pooled = F.max_pool2d((mask if grow > 0 else 1 - mask)[:, None], k, stride=1, padding=abs(grow))[:, 0]
            mask = pooled if grow > 0 else 1 - pooled
        if blur:
            k = 2 * blur + 1
            mask = F.avg_pool2d(mask[:, None], k, stride=1, padding=blur, count_include_pad=False)[:, 0]
        return ((1 - mask) if invert else mask,)


class TruePose_ParsingToImage:
    DESCRIPTION = "The parsing as a VOC-palette colour image (LIP ids), to preview or hand to other packs."
    CATEGORY = CATEGORY
    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "to_image"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"parsing": (PARSING,)}}

    def to_image(self, parsing):
        return (labels_to_palette_image(parsing.labels),)


NODE_CLASS_MAPPINGS = {
    "TruePose_ParsingFromImage": TruePose_ParsingFromImage,
    "TruePose_ParsingFromMasks": TruePose_ParsingFromMasks,
    "TruePose_ParsingToMask": TruePose_ParsingToMask,
    "TruePose_ParsingToImage": TruePose_ParsingToImage,
}
NODE_DISPLAY_NAME_MAPPINGS = {
    "TruePose_ParsingFromImage": "Parsing from Palette Image (TP)",
    "TruePose_ParsingFromMasks": "Parsing from Masks (TP)",
    "TruePose_ParsingToMask": "Parsing to Mask (TP)",
    "TruePose_ParsingToImage": "Parsing to Palette Image (TP)",
}
