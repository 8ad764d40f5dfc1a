"""TruePose_Apply: the parsing-guided attention patcher on the sampler's MODEL."""

from __future__ import annotations

from ..truepose_core.attention import FUSION_MODES, HPFAConfig
from ..truepose_core.validation import check_apply_inputs
from .errors import input_error, node_errors
from .hpfa_patch import hpfa_patches
from .patch_chain import register_truepose
from .trained_patches import add_trained_mode
from .types import PARSING, SOURCE, TRUEPOSE_MODEL

NODE = "TruePose_Apply"
_PERSON_REGIONS = ("face", "hair", "upper", "lower", "skin", "shoes")


def _strength(tooltip: str, default: float = 1.0):
    return ("FLOAT", {"default": default, "min": 0.0, "max": 3.0, "step": 0.05, "tooltip": tooltip})


class TruePose_Apply:
    DESCRIPTION = (
        "Patches a clone of MODEL so every self-attention block also reads the encoded source, "
        "region by region (face, hair, clothes ...). Sample the output MODEL with any KSampler; "
        "pose comes from your OpenPose ControlNet. The input MODEL is never modified. Chains with other "
        "model patches (SAG, PAG, IPAdapter, HyperTile, ToMe, ...) in any order; a second Apply TruePose "
        "on the same MODEL replaces the first."
    )
    CATEGORY = "TruePose"
    RETURN_TYPES = ("MODEL",)
    FUNCTION = "apply"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "model": ("MODEL", {"tooltip": "The sampler's MODEL (TargetNet)."}),
                "source": (SOURCE, {"tooltip": "From Encode Source."}),
                "face": _strength("How strongly target tokens read the source face (0 = off)."),
                "hair": _strength("Hair and hat."),
                "upper": _strength("Upper clothes, coat, dress, jumpsuit, scarf, gloves."),
                "lower": _strength("Pants and skirt."),
                "skin": _strength("Arms and legs."),
                "shoes": _strength("Shoes and socks."),
                "fusion": (list(FUSION_MODES),
                    {"default": "joint",
                        "tooltip": ("joint: one softmax over own + source region tokens (training-free default). gated: own attention + "
                            "strength x region attention, for trained gates or routed layouts.")}),
                "start_percent": ("FLOAT",
                    {"default": 0.0, "min": 0.0, "max": 1.0, "step": 0.01, "tooltip": "When in sampling the source starts being read."}),
                "end_percent": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.01, "tooltip": "When it stops."}),
            },
            "optional": {
                "target_layout": (PARSING,
                    {"tooltip": ("Where each region should land in the OUTPUT (e.g. from the target pose). Turns on routing: target face "
                        "tokens read only the source face, and so on. At blocks whose tokens another patch merged or tiled (ToMe, "
                        "HyperTile) routing is off: every token reads every enabled region there.")}),
                "background": _strength("Source background (off by default: it leaks the old backdrop).", 0.0),
                "uncond_reads_source": ("BOOLEAN",
                    {"default": False, "tooltip": "Let the negative (uncond) half of CFG read the source too."}),
                "truepose_model": (TRUEPOSE_MODEL,
                    {"tooltip": ("Trained mode: use the checkpoint's learned region gates and the fusion it was trained with (overrides "
                        "'fusion').")}),
                "pose_image": ("IMAGE",
                    {"tooltip": ("Trained mode: the target skeleton (Render Pose, at the output size) for the checkpoint's pose guider. "
                        "One image, or one per latent.")}),
                "caa_strength": ("FLOAT",
                    {"default": 1.0, "min": 0.0, "max": 3.0, "step": 0.05,
                        "tooltip": ("Trained mode with CAA: scale of the CLIP region tokens in cross-attention (times each region's "
                            "strength; 0 = off).")}),
            },
        }

    def apply(self, model, source, face, hair, upper, lower, skin, shoes, fusion, start_percent, end_percent,
              target_layout=None, background=0.0, uncond_reads_source=False, truepose_model=None, pose_image=None,
              caa_strength=1.0):
        if pose_image is not None and truepose_model is None:
            raise input_error(
                NODE, "pose_image", "pose_image drives a trained pose guider, but no truepose_model is connected.",
                "connect a Load TruePose Model node, or feed the skeleton to your OpenPose ControlNet instead.",
            )
        if start_percent > end_percent:
            raise input_error(NODE, "start_percent", f"start ({start_percent}) is after end ({end_percent}).",
                "set start_percent <= end_percent.")
        strengths = dict(zip(_PERSON_REGIONS, (face, hair, upper, lower, skin, shoes)), background=background)
        sampling = model.get_model_object("model_sampling")
        gates = {}
        if truepose_model is not None:  # learned gates only mean something in the fusion they were trained in
            fusion, gates = truepose_model.meta.fusion, truepose_model.gate_values()
        with node_errors(NODE):
            config = HPFAConfig(
                strengths=strengths,
                fusion=fusion,
                sigma_start=float(sampling.percent_to_sigma(start_percent)),
                sigma_end=float(sampling.percent_to_sigma(end_percent)),
                uncond_reads_source=uncond_reads_source,
                gates=gates,
            )
            check_apply_inputs(
                getattr(source, "num_images", 1), None if target_layout is None else target_layout.batch_size,
                None if target_layout is None else target_layout.size, pose_image,
            )
            patches = hpfa_patches(model, source, config, target_layout)
            if truepose_model is not None:
                caa_strengths = {r: caa_strength * s for r, s in strengths.items()}
                add_trained_mode(patches, model, truepose_model, source, pose_image, caa_strengths, uncond_reads_source)
            patched = model.clone()
            register_truepose(patched, patches)
            return (patched,)


NODE_CLASS_MAPPINGS = {"TruePose_Apply": TruePose_Apply}
NODE_DISPLAY_NAME_MAPPINGS = {"TruePose_Apply": "Apply TruePose (TP)"}
