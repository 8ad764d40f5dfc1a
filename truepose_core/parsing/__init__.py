"""Human parsing: label sets, region groups, palettes and the label-map type."""

from .labels import LABEL_SETS, LabelSet, REGION_GROUPS, REGION_NAMES, get_label_set, to_lip
from .parsing_map import ParsingMap
from .palette import voc_palette, labels_to_palette_image, palette_image_to_labels

__all__ = [
    "LABEL_SETS",
    "LabelSet",
    "REGION_GROUPS",
    "REGION_NAMES",
    "get_label_set",
    "to_lip",
    "ParsingMap",
    "voc_palette",
    "labels_to_palette_image",
    "palette_image_to_labels",
]
