"""SourceNet bank, parsing regions and HPFA (parsing-guided fusion attention)."""

from .bank import BankRecorder, BlockKey, RegionEmbeddings, SourceBank
from .config import FUSION_MODES, HPFAConfig
from .fusion import gated_attention, joint_attention, multihead_sdpa
from .regions import REGION_NAMES, grid_region_map, region_token_indices
from .runtime import AttentionCall, TruePoseAttention

__all__ = [
    "AttentionCall",
    "BankRecorder",
    "BlockKey",
    "FUSION_MODES",
    "HPFAConfig",
    "REGION_NAMES",
    "RegionEmbeddings",
    "SourceBank",
    "TruePoseAttention",
    "gated_attention",
    "grid_region_map",
    "joint_attention",
    "multihead_sdpa",
    "region_token_indices",
]
