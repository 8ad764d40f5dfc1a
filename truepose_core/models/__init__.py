"""Plain-PyTorch models of the pack: an SD1.5 / SDXL-architecture UNet with ComfyUI-compatible keys."""

from .checkpoint import CheckpointMeta, TruePoseCheckpoint, is_truepose_checkpoint, load_checkpoint, save_checkpoint
from .pose_guider import PoseGuider
from .sd_unet import SD15, SDXL, SDXL_TINY, TINY, SDUNet, UNetConfig, sdxl_adm, unet_family
from .unet_attention import AttentionHooks

__all__ = [
    "SD15", "SDXL", "SDXL_TINY", "TINY", "AttentionHooks", "CheckpointMeta", "PoseGuider", "SDUNet", "TruePoseCheckpoint", "UNetConfig",
    "is_truepose_checkpoint", "load_checkpoint", "save_checkpoint", "sdxl_adm", "unet_family",
]
