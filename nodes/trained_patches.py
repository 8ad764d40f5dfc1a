"""Trained mode on the sampler's MODEL clone: the pose guider after input block 0
(input_block_patch) and CAA's region tokens in every attn2 (attn2 replace)."""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F

from ..truepose_core.attention import SourceBank
from ..truepose_core.attention.caa import CAAAttention
from ..truepose_core.caa import CAAProjection
from ..truepose_core.models.checkpoint import TruePoseCheckpoint
from ..truepose_core.models.pose_guider import PoseGuider
from ..truepose_core.validation import check_pose_image_against_latent
from .attention_patch import AttentionPatch
from .errors import input_error, node_errors
from .model_family import check_model_family
from .patch_chain import TruePosePatches
from .sourcenet import SOURCE_PASS_FLAG
from .unet_blocks import attn2_modules

NODE = "TruePose_Apply"


class PoseGuiderPatch:
    """input_block_patch: h + guider(skeleton) at ("input", 0); CFG's uncond rows get the guider
    of a blank skeleton, as the dropped rows did in training."""

    truepose_patch = True

    def __init__(self, guider: PoseGuider, skeleton: torch.Tensor) -> None:
        self.guider = guider.eval().requires_grad_(False)
        self.skeleton = skeleton  # (F, 3, H, W) in [0, 1]
        self._guiders: dict[tuple[torch.device, torch.dtype], PoseGuider] = {}
        self._features: dict[tuple, torch.Tensor] = {}

    def __deepcopy__(self, memo):
        return self  # ModelPatcher.clone() deep-copies model_options: share, don't copy

    def release(self) -> None:
        self._features.clear()
        self._guiders.clear()

    def __call__(self, h: torch.Tensor, transformer_options: dict) -> torch.Tensor:
        if tuple(transformer_options.get("block", ())) != ("input", 0) or transformer_options.get(SOURCE_PASS_FLAG):
            return h
        chunks = tuple(transformer_options.get("cond_or_uncond", (0,))) or (0,)
        key = (tuple(h.shape), chunks, h.device, h.dtype)
        if key not in self._features:
            self._features[key] = self._compute(h, chunks)
        return h + self._features[key]

    def _compute(self, h: torch.Tensor, chunks: tuple[int, ...]) -> torch.Tensor:
        b, _, lh, lw = h.shape
        if b % len(chunks):
            chunks = (0,)
        per_chunk = b // len(chunks)
        with node_errors(NODE):  # raised while sampling: name the node that took the input
            check_pose_image_against_latent(self.skeleton.shape[0], tuple(self.skeleton.shape[-2:]), per_chunk, (lh, lw))
        guider = self._guider(h.device, h.dtype)
        ds = guider.downsample
        skeleton = F.interpolate(self.skeleton.to(h.device, h.dtype), size=(lh * ds, lw * ds), mode="bilinear", antialias=True)
        with torch.no_grad():
            cond = guider(skeleton).expand(per_chunk, -1, -1, -1)
            uncond = guider(torch.zeros_like(skeleton[:1])).expand(per_chunk, -1, -1, -1)
        return torch.cat([uncond if c == 1 else cond for c in chunks])

    def _guider(self, device: torch.device, dtype: torch.dtype) -> PoseGuider:
        key = (device, dtype)
        if key not in self._guiders:
            self._guiders[key] = copy.deepcopy(self.guider).to(device, dtype)
        return self._guiders[key]


def pose_guider_patch(checkpoint: TruePoseCheckpoint, pose_image: torch.Tensor) -> PoseGuiderPatch:
    guider = PoseGuider(**checkpoint.meta.pose_guider)
    guider.load_state_dict(checkpoint.pose_guider)
    return PoseGuiderPatch(guider, pose_image[..., :3].movedim(-1, 1).float().cpu())


def caa_patch(model_patcher, checkpoint: TruePoseCheckpoint, source: SourceBank, strengths: dict[str, float],
              uncond_reads_source: bool) -> AttentionPatch:
    meta = checkpoint.meta.caa or {}
    clip = source.clip
    if clip is None:
        raise input_error(
            NODE, "source", f"this TruePose model was trained with CAA (CLIP {meta.get('clip_model') or 'vision'} region tokens), "
            "but the source was encoded without a CLIP vision model.",
            "connect a Load CLIP Vision node to Encode Source's clip_vision input, or set caa_strength to 0.",
        )
    if clip.embeds.shape[-1] != meta["embed_dim"]:
        raise input_error(
            NODE, "source", f"the source's CLIP embeddings have {clip.embeds.shape[-1]} dimensions; the checkpoint's CAA expects "
            f"{meta['embed_dim']} ({meta.get('clip_model') or 'its CLIP model'}).",
            "encode the source with the CLIP vision model the checkpoint was trained with.",
        )
    modules = attn2_modules(model_patcher, NODE)
    context_dim = next(iter(modules.values())).to_k.in_features
    if context_dim != meta["context_dim"]:
        raise input_error(NODE, "truepose_model",
            f"its CAA tokens are {meta['context_dim']} wide; this MODEL's cross-attention takes {context_dim}.",
                          "use the base model the TruePose checkpoint was trained from.")
    projection = CAAProjection(meta["embed_dim"], meta["context_dim"], tuple(meta["regions"]))
    projection.load_state_dict(checkpoint.caa)
    with torch.no_grad():
        tokens = projection(clip.embeds.float())

    def project(block, region_tokens: torch.Tensor):
        module = modules[block]
        return module.to_k(region_tokens), module.to_v(region_tokens)

    runtime = CAAAttention(tokens, clip.present, clip.regions, strengths, project, uncond_reads_source)
    return AttentionPatch(runtime)


def add_trained_mode(patches: TruePosePatches, model_patcher, checkpoint: TruePoseCheckpoint, source: SourceBank, pose_image,
                     caa_strengths: dict[str, float], uncond_reads_source: bool) -> None:
    """Adds the pose guider (input_block_patch) and CAA (attn2 replaces) to `patches`."""
    check_model_family(model_patcher, checkpoint)
    if pose_image is not None:
        patches.input_block.append(pose_guider_patch(checkpoint, pose_image))
    if checkpoint.meta.caa and any(s > 0 for s in caa_strengths.values()):
        patch = caa_patch(model_patcher, checkpoint, source, caa_strengths, uncond_reads_source)
        patches.attn2.update({block: patch for block in attn2_modules(model_patcher, NODE)})
