"""Plain-PyTorch models of the pack: an SD1.5-architecture UNet with ComfyUI-compatible keys."""

from .sd_unet import SD15, TINY, SDUNet, UNetConfig
from .unet_attention import AttentionHooks

__all__ = ["SD15", "TINY", "AttentionHooks", "SDUNet", "UNetConfig"]
