"""CAA, CLIP-guided attention alignment (docs/METHOD.md 5): region crops -> CLIP image embeddings ->
one learned token per region, read by TargetNet's cross-attention (attn2) as an additive branch.

The attention maths lives in `truepose_core.attention.caa` (shared by the ComfyUI attn2 patch and
the training-time UNet); this package holds what feeds it.
"""

from .crops import CAA_REGIONS, RegionCrops, region_crops
from .encoder import OpenCLIPRegionEncoder, RegionEncoder, encode_region_crops
from .loss import localisation_loss
from .projection import CAAProjection

__all__ = [
    "CAA_REGIONS",
    "CAAProjection",
    "OpenCLIPRegionEncoder",
    "RegionCrops",
    "RegionEncoder",
    "encode_region_crops",
    "localisation_loss",
    "region_crops",
]
