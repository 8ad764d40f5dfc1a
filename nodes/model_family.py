"""The base family of a ComfyUI MODEL, named the way TruePose checkpoints record theirs."""

from __future__ import annotations

from ..truepose_core.models.checkpoint import TruePoseCheckpoint, check_family
from ..truepose_core.models.sd_unet import family_of


def model_family(model_patcher) -> str:
    """"sd15" / "sdxl" / "custom" from the UNet config ComfyUI detected for the MODEL."""
    config = getattr(getattr(getattr(model_patcher, "model", None), "model_config", None), "unet_config", None) or {}
    return family_of(
        config.get("model_channels", 0), config.get("context_dim"), config.get("adm_in_channels"),
        bool(config.get("use_linear_in_transformer", False)),
    )


def check_model_family(model_patcher, checkpoint: TruePoseCheckpoint) -> None:
    """Raises TruePoseInputError (input truepose_model) when the checkpoint's family is not the MODEL's."""
    check_family(checkpoint.meta, model_family(model_patcher))
