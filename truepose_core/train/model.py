"""The trainable TruePose: SourceNet + TargetNet (two SDUNets), pose guider, HPFA gates and the
optional CAA region projections.

HPFA and CAA at training time are the SAME TruePoseAttention / CAAAttention the ComfyUI patches
drive, plugged into the core UNet through AttentionHooks (record on SourceNet, attn1 and attn2
replace on TargetNet). Two differences to sampling, both about gradients: the bank is recorded
without detaching, and the per-run caches of projected source keys/values are released at the
end of every forward (the bank changes every batch, and gradient checkpointing must recompute the
projections in backward).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from ..attention import BankRecorder, BlockKey, HPFAConfig, TruePoseAttention
from ..attention.caa import CAAAttention
from ..caa import CAA_REGIONS, CAAProjection, localisation_loss
from ..caa.loss import region_masks
from ..models.pose_guider import PoseGuider
from ..models.sd_unet import SDUNet, UNetConfig, sdxl_adm
from ..models.unet_attention import AttentionHooks
from ..parsing.labels import REGION_NAMES
from ..parsing.parsing_map import ParsingMap

DEFAULT_REGIONS = tuple(r for r in REGION_NAMES if r != "background")


class TruePoseTrainModel(nn.Module):
    """`hpfa=False` is the ablation: no SourceNet pass, TargetNet never reads the source bank."""

    def __init__(
        self, unet: UNetConfig, pose_downsample: int, regions: Sequence[str] = DEFAULT_REGIONS,
        blocks: Sequence[BlockKey] | None = None, caa_embed_dim: int = 0, hpfa: bool = True,
    ) -> None:
        super().__init__()
        self.target_unet = SDUNet(unet)
        self.source_unet = SDUNet(unet)
        self.source_unet.load_state_dict(self.target_unet.state_dict())  # Siamese: same start
        self.pose_guider = PoseGuider(unet.model_channels, downsample=pose_downsample)
        # g_r = 0 at start: the untrained model is the plain UNet (docs/METHOD.md 4, gated fusion).
        self.gates = nn.ParameterDict({r: nn.Parameter(torch.zeros(())) for r in regions})
        self.regions = tuple(regions)
        self.blocks = None if blocks is None else tuple(blocks)
        self.hpfa = hpfa
        if not hpfa:
            self.gates.requires_grad_(False)
        self.caa = CAAProjection(caa_embed_dim, unet.context_dim) if caa_embed_dim > 0 else None
        # No text in pose transfer: attn2 reads one fixed null token, as with an empty prompt.
        self.register_buffer("null_context", torch.zeros(1, 1, unet.context_dim), persistent=False)

    def set_gradient_checkpointing(self, enabled: bool) -> None:
        self.target_unet.gradient_checkpointing = enabled
        self.source_unet.gradient_checkpointing = enabled

    def hpfa_config(self) -> HPFAConfig:
        return HPFAConfig(strengths={r: 1.0 for r in self.regions}, fusion="gated", gates=dict(self.gates))

    def forward(
        self, source_latent: torch.Tensor, source_parsing: torch.Tensor, noisy_latent: torch.Tensor,
        timesteps: torch.Tensor, pose_image: torch.Tensor, region_embeds: torch.Tensor | None = None,
        region_present: torch.Tensor | None = None, target_parsing: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """-> (TargetNet's epsilon prediction, CAA localisation loss (0 without CAA or target parsing)).

        source_parsing / target_parsing: (B, H, W) LIP ids at image size. region_embeds (B, R, D):
        CLIP embeddings of the source's CAA_REGIONS crops, region_present (B, R) bool."""
        condition = self.prepare(source_latent, source_parsing, pose_image, region_embeds, region_present, target_parsing)
        try:
            prediction = self.denoise(condition, noisy_latent, timesteps)
        finally:
            condition.release()
        losses = condition.caa_losses
        caa_loss = torch.stack(losses).mean() if losses else prediction.new_zeros(())
        return prediction, caa_loss

    def prepare(
        self, source_latent: torch.Tensor, source_parsing: torch.Tensor, pose_image: torch.Tensor,
        region_embeds: torch.Tensor | None = None, region_present: torch.Tensor | None = None,
        target_parsing: torch.Tensor | None = None,
    ) -> "Condition":
        """Everything that does not depend on the noisy latent: SourceNet's bank (ONE SourceNet
        pass), the region tokens and the pose features. Sampling reuses it at every step."""
        batch = source_latent.shape[0]
        context = self.null_context.expand(batch, -1, -1).to(source_latent.dtype)
        y = self.vector_condition(batch, pose_image.shape[-2], pose_image.shape[-1], source_latent.device)
        hpfa = self._hpfa(source_latent, source_parsing, context, y) if self.hpfa else None
        losses: list[torch.Tensor] = []
        caa = self._caa(region_embeds, region_present, target_parsing, losses)
        return Condition(context, self.pose_guider(pose_image), hpfa, caa, losses, y)

    def vector_condition(self, batch: int, height: int, width: int, device: torch.device) -> torch.Tensor | None:
        """SDXL's y for an image of this size with no prompt (zero pooled text, as the null context);
        None for UNets without adm (SD1.5)."""
        adm = self.target_unet.config.adm_in_channels
        return sdxl_adm(height, width, batch, adm).to(device) if adm else None

    def denoise(self, condition: "Condition", noisy_latent: torch.Tensor, timesteps: torch.Tensor) -> torch.Tensor:
        hooks = AttentionHooks(replace=condition.hpfa, blocks=self.blocks, cross=condition.caa)
        context = condition.context.to(noisy_latent.dtype)
        return self.target_unet(noisy_latent, timesteps, context, hooks, input_residual=condition.pose_features, y=condition.y)

    def _hpfa(self, source_latent, source_parsing, context, y) -> TruePoseAttention:
        recorder = BankRecorder(store_device=source_latent.device, detach=False)
        self.source_unet(
            source_latent, source_latent.new_zeros(source_latent.shape[0]), context, AttentionHooks(record=recorder.record), y=y
        )  # SourceNet at t = 0 (docs/METHOD.md 2); its own output is not used
        bank = recorder.build(ParsingMap(source_parsing))
        return TruePoseAttention(bank, self.hpfa_config(), self.target_unet.attn1_projector())

    def _caa(self, region_embeds, region_present, target_parsing, losses: list[torch.Tensor]) -> CAAAttention | None:
        if self.caa is None or region_embeds is None or region_present is None:
            return None
        target = ParsingMap(target_parsing) if target_parsing is not None else None
        seen: set[BlockKey] = set()

        def observe(block: BlockKey, maps: torch.Tensor, rows: torch.Tensor, grid: tuple[int, int]) -> None:
            if target is None:
                return
            inside = region_masks(target, grid, CAA_REGIONS)[rows.to(target.labels.device)]
            loss = localisation_loss(maps, inside, region_present[rows.to(region_present.device)])
            # Gradient checkpointing runs each block again in backward: the recomputation must do the
            # same operations (it checks the saved tensors) but its loss is not a new term.
            if loss is not None and block not in seen:
                losses.append(loss)
            seen.add(block)

        tokens = self.caa(region_embeds)
        runtime = CAAAttention(
            tokens, region_present, CAA_REGIONS, {r: 1.0 for r in CAA_REGIONS}, self.target_unet.attn2_projector(),
            observer=observe,
        )
        return runtime


@dataclass
class Condition:
    """One batch's source-side inputs, ready for any number of denoising steps."""

    context: torch.Tensor
    pose_features: torch.Tensor
    hpfa: TruePoseAttention | None
    caa: CAAAttention | None
    caa_losses: list[torch.Tensor] = field(default_factory=list)
    y: torch.Tensor | None = None  # SDXL's vector conditioning (None for SD1.5)

    def release(self) -> None:
        for runtime in (self.hpfa, self.caa):
            if runtime is not None:
                runtime.release()
