"""The trainable TruePose: SourceNet + TargetNet (two SDUNets), pose guider and HPFA gates.

HPFA at training time is the SAME TruePoseAttention the ComfyUI patches drive, plugged into the
core UNet through AttentionHooks (record on SourceNet, replace on TargetNet). Two differences to
sampling, both about gradients: the bank is recorded without detaching, and the attention's
per-run cache of projected source keys/values is released at the end of every forward (the bank
changes every batch, and gradient checkpointing must recompute the projections in backward).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..attention import BankRecorder, BlockKey, HPFAConfig, TruePoseAttention
from ..parsing.labels import REGION_NAMES
from ..parsing.parsing_map import ParsingMap
from ..models.pose_guider import PoseGuider
from ..models.sd_unet import SDUNet, UNetConfig
from ..models.unet_attention import AttentionHooks

DEFAULT_REGIONS = tuple(r for r in REGION_NAMES if r != "background")


class TruePoseTrainModel(nn.Module):
    def __init__(
        self, unet: UNetConfig, pose_downsample: int, regions: Sequence[str] = DEFAULT_REGIONS,
        blocks: Sequence[BlockKey] | None = None,
    ) -> None:
        super().__init__()
        self.target_unet = SDUNet(unet)
        self.source_unet = SDUNet(unet)
        self.source_unet.load_state_dict(self.target_unet.state_dict())  # Siamese: same start
        self.pose_guider = PoseGuider(unet.model_channels, downsample=pose_downsample)
        # g_r = 0 at start: the untrained model is the plain UNet (METHOD.md 4, gated fusion).
        self.gates = nn.ParameterDict({r: nn.Parameter(torch.zeros(())) for r in regions})
        self.regions = tuple(regions)
        self.blocks = None if blocks is None else tuple(blocks)
        # No text in pose transfer: attn2 reads one fixed null token, as with an empty prompt.
        self.register_buffer("null_context", torch.zeros(1, 1, unet.context_dim), persistent=False)

    def set_gradient_checkpointing(self, enabled: bool) -> None:
        self.target_unet.gradient_checkpointing = enabled
        self.source_unet.gradient_checkpointing = enabled

    def hpfa_config(self) -> HPFAConfig:
        return HPFAConfig(strengths={r: 1.0 for r in self.regions}, fusion="gated", gates=dict(self.gates))

    def forward(
        self, source_latent: torch.Tensor, source_parsing: torch.Tensor, noisy_latent: torch.Tensor,
        timesteps: torch.Tensor, pose_image: torch.Tensor,
    ) -> torch.Tensor:
        """-> TargetNet's epsilon prediction. source_parsing: (B, H, W) LIP ids at image size."""
        batch = noisy_latent.shape[0]
        context = self.null_context.expand(batch, -1, -1).to(noisy_latent.dtype)
        recorder = BankRecorder(store_device=source_latent.device, detach=False)
        self.source_unet(
            source_latent, torch.zeros_like(timesteps), context, AttentionHooks(record=recorder.record)
        )  # SourceNet at t = 0 (METHOD.md 2); its own output is not used
        bank = recorder.build(ParsingMap(source_parsing))
        attention = TruePoseAttention(bank, self.hpfa_config(), self.target_unet.attn1_projector())
        hooks = AttentionHooks(replace=attention, blocks=self.blocks)
        prediction = self.target_unet(noisy_latent, timesteps, context, hooks, input_residual=self.pose_guider(pose_image))
        attention.release()
        return prediction
