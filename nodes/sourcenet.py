"""The SourceNet pass: run the UNet once per source image and record what enters attn1."""

from __future__ import annotations

import uuid

import torch

from ..truepose_core.attention import BankRecorder, SourceBank
from ..truepose_core.models.checkpoint import TruePoseCheckpoint
from ..truepose_core.parsing import ParsingMap
from .errors import input_error
from .model_family import check_model_family
from .progress import frame_progress
from .unet_blocks import attn1_modules, token_grid

NODE = "TruePose_EncodeSource"
SOURCE_PASS_FLAG = "truepose_pass"  # set in transformer_options during the SourceNet pass


# Patches that make no sense in the reference pass, by (module suffix, function name): speed-only
# token mergers/tilers. The pass runs once, so exact tokens cost nothing, and the bank then holds
# the UNet's own tokens at every block, not ones shaped by earlier merges.
REFERENCE_PASS_SKIPS = (
    ("nodes_tomesd", "tomesd_m"), ("nodes_tomesd", "tomesd_u"),
    ("nodes_hypertile", "hypertile_in"), ("nodes_hypertile", "hypertile_out"),
)


def _skipped_in_reference_pass(patch) -> bool:
    if _is_truepose(patch):
        return True
    module, name = getattr(patch, "__module__", "") or "", getattr(patch, "__name__", "")
    return any(module.endswith(m) and name == n for m, n in REFERENCE_PASS_SKIPS)


def _source_transformer_options(model_patcher, recorder: BankRecorder, sigma: torch.Tensor) -> dict:
    """The model's own transformer options as a sampler call carries them (cond_or_uncond, uuids,
    sigmas, sample_sigmas), minus TruePose and REFERENCE_PASS_SKIPS, with the recorder as the
    FIRST attn1 patch: it sees the UNet's own tokens, before any other pack's attn1 patch."""
    options = dict(model_patcher.model_options.get("transformer_options", {}))
    patches = {
        name: [p for p in fns if not _skipped_in_reference_pass(p)] for name, fns in options.get("patches", {}).items()
    }

    def record(n, context_attn1, value_attn1, extra_options):
        block = extra_options["block"]
        key = (block[0], block[1], extra_options.get("block_index", 0))
        grid = token_grid(extra_options, n.shape[1])
        if grid is None:
            raise RuntimeError(f"TruePose: the SourceNet tokens at {key} do not form the block's grid")
        recorder.record(key, n, grid)
        return n, context_attn1, value_attn1

    patches["attn1_patch"] = [record] + patches.get("attn1_patch", [])
    options["patches"] = patches
    options["patches_replace"] = {
        name: {k: p for k, p in replaced.items() if not _is_truepose(p)}
        for name, replaced in options.get("patches_replace", {}).items()
    }
    sampling = model_patcher.model.model_sampling
    options.update(
        cond_or_uncond=[0], uuids=[uuid.uuid4()], sigmas=sigma,
        sample_sigmas=torch.stack([sampling.sigma_max.to(sigma), sigma[0], torch.zeros_like(sigma[0])]),
    )
    options[SOURCE_PASS_FLAG] = "source"
    return options


def _is_truepose(patch) -> bool:
    return bool(getattr(patch, "truepose_patch", False))


def _model_conds(base_model, conditioning, latent: torch.Tensor, device) -> dict:
    """The model's conds for one SourceNet pass, as ComfyUI's sampler builds them (its
    encode_model_conds): the conditioning's own size entries win, else the latent's size."""
    context_dim = base_model.model_config.unet_config.get("context_dim") or 768
    if conditioning:
        cond, extra = conditioning[0][0], dict(conditioning[0][1])
        if cond.shape[-1] != context_dim:
            raise input_error(
                NODE, "conditioning", f"the prompt embedding is {cond.shape[-1]} wide, this MODEL's cross-attention takes {context_dim}.",
                "encode the prompt with the CLIP of this same checkpoint (e.g. not an SD1.5 CLIP on an SDXL model).",
            )
    else:
        cond, extra = torch.zeros(1, 77, context_dim), {}
    params = dict(extra)
    params.setdefault("width", latent.shape[-1] * 8)
    params.setdefault("height", latent.shape[-2] * 8)
    params.update(cross_attn=cond, device=device, noise=latent, prompt_type="positive")
    try:
        if "pooled_output" not in params and getattr(base_model, "adm_channels", 0):
            params["pooled_output"] = empty_pooled_output(base_model, params)
        conds = base_model.extra_conds(**params)
    except Exception as e:
        raise input_error(
            NODE, "conditioning", f"the SourceNet could not be conditioned ({e}).",
            "connect the positive CONDITIONING you sample with.",
        ) from e
    return {name: c.process_cond(batch_size=1, device=device, area=None).cond for name, c in conds.items()}


def empty_pooled_output(base_model, params: dict) -> torch.Tensor:
    """A zero pooled text embedding (what ComfyUI's ConditioningZeroOut leaves) of the width the
    model's adm input expects: adm_in_channels minus what its encode_adm adds itself (SDXL: six
    256-wide size embeddings), measured by encoding an empty pooled output."""
    adm = base_model.encode_adm(**{**params, "pooled_output": torch.zeros(1, 0)})
    width = base_model.adm_channels - (adm.shape[-1] if adm is not None else 0)
    return torch.zeros(1, max(width, 0))


def with_source_weights(model_patcher, checkpoint: TruePoseCheckpoint):
    """A clone of MODEL whose UNet weights are the checkpoint's SourceNet (patches that replace
    each weight: strength_model 0, the new tensor as a "diff"). The caller's MODEL is untouched."""
    check_model_family(model_patcher, checkpoint)
    model_sd = model_patcher.model.state_dict()
    patches, misfits = {}, []
    for name, tensor in checkpoint.source_unet.items():
        key = "diffusion_model." + name
        if key not in model_sd or tuple(model_sd[key].shape) != tuple(tensor.shape):
            misfits.append(name)
        else:
            patches[key] = (tensor,)
    if misfits or len(patches) != sum(k.startswith("diffusion_model.") for k in model_sd):
        raise input_error(
            NODE, "truepose_model",
            f"its SourceNet (base '{checkpoint.meta.base}') does not fit this MODEL's UNet"
            f" ({len(misfits)} weights differ in name or shape, e.g. {misfits[:2]}).",
            "use the base model the TruePose checkpoint was trained from.",
        )
    clone = model_patcher.clone()
    clone.add_patches(patches, strength_patch=1.0, strength_model=0.0)
    return clone


def encode_source_bank(
    model_patcher, latent: torch.Tensor, parsing: ParsingMap, conditioning=None, dilate: bool = False
) -> SourceBank:
    """latent: (B, C, h, w) VAE latent of the source images (not yet scaled for the model)."""
    import comfy.model_management as mm

    attn1_modules(model_patcher, NODE)
    mm.load_models_gpu([model_patcher])
    base = model_patcher.model
    device = model_patcher.load_device
    compute_dtype = getattr(base, "manual_cast_dtype", None) or base.get_dtype()  # never store fp8 weights' dtype
    recorder = BankRecorder(store_device=mm.intermediate_device(), store_dtype=compute_dtype)
    x = base.process_latent_in(latent.to(device))
    sigma = torch.full((1,), float(base.model_sampling.sigma_min), device=device)
    options = _source_transformer_options(model_patcher, recorder, sigma)
    frame_done = frame_progress(x.shape[0])
    with torch.no_grad():
        for i in range(x.shape[0]):
            conds = _model_conds(base, conditioning, x[i : i + 1], device)
            base.apply_model(x[i : i + 1], sigma, transformer_options=options, **conds)
            frame_done(i)
    return recorder.build(parsing, dilate)
