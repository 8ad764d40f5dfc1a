"""Test-only nodes for the composition matrix: an IPAdapter-style attn2 replace, a tiny CLIP vision
model, and a spy that records at which blocks TruePose read its source."""

import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

import torch

SPY: dict = {"attn1": Counter(), "attn2": Counter()}
CLIP_CONFIG = {
    "hidden_size": 64, "image_size": 224, "intermediate_size": 128, "num_attention_heads": 2, "num_hidden_layers": 2,
    "patch_size": 32, "projection_dim": 32, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5, "num_channels": 3,
    "model_type": "clip_vision_model",
}
_CLIP: dict = {}


def _pack(module: str):
    import importlib

    source = next(n for n, m in sys.modules.items() if n.endswith(".nodes.source") and hasattr(m, "TruePose_EncodeSource"))
    return importlib.import_module(source.rsplit(".", 1)[0] + "." + module)


class StandInAttn2Replace:
    """Behaves as ComfyUI_IPAdapter_plus's attn2 replace object: plain cross-attention plus, per
    added callback, image-prompt attention over extra tokens, gated by sigma; `.add` stacks."""

    def __init__(self, callback, **kwargs) -> None:
        self.callback = [callback]
        self.kwargs = [kwargs]

    def add(self, callback, **kwargs) -> None:
        self.callback.append(callback)
        self.kwargs.append(kwargs)

    def __call__(self, q, k, v, extra_options):
        from comfy.ldm.modules.attention import optimized_attention

        out = optimized_attention(q, k, v, extra_options["n_heads"])
        sigma = extra_options["sigmas"].detach().cpu()[0].item() if "sigmas" in extra_options else 1e9
        for callback, kwargs in zip(self.callback, self.kwargs):
            if kwargs["sigma_end"] <= sigma <= kwargs["sigma_start"]:
                out = out + callback(q, extra_options, **kwargs)
        return out.to(q.dtype)


def image_prompt_attention(q, extra_options, tokens=None, weight=1.0, **_):
    """Like ipadapter_attention: reads cond_or_uncond, transformer_index and original_shape
    (a KeyError if the caller's options lack them), cond rows read the image tokens, uncond zeros."""
    from comfy.ldm.modules.attention import optimized_attention

    cond_or_uncond = extra_options["cond_or_uncond"]
    _ = extra_options["transformer_index"], extra_options["original_shape"]
    per_chunk = q.shape[0] // len(cond_or_uncond)
    g = torch.Generator().manual_seed(q.shape[-1])
    proj = torch.randn(tokens.shape[-1], q.shape[-1], generator=g) / tokens.shape[-1] ** 0.5
    ip = (tokens @ proj).to(q)
    chunks = [ip if c == 0 else torch.zeros_like(ip) for c in cond_or_uncond]
    ip_kv = torch.cat([c.expand(per_chunk, -1, -1) for c in chunks])
    return optimized_attention(q, ip_kv, ip_kv, extra_options["n_heads"]) * weight


def _set_patch_replace(model, kwargs, key) -> None:
    """The registration IPAdapter_plus uses: copy the dicts, new object for a free key, else `.add`."""
    to = model.model_options["transformer_options"].copy()
    to["patches_replace"] = dict(to.get("patches_replace", {}))
    to["patches_replace"]["attn2"] = dict(to["patches_replace"].get("attn2", {}))
    if key not in to["patches_replace"]["attn2"]:
        to["patches_replace"]["attn2"][key] = StandInAttn2Replace(image_prompt_attention, **kwargs)
        model.model_options["transformer_options"] = to
    else:
        to["patches_replace"]["attn2"][key].add(image_prompt_attention, **kwargs)


class TruePoseTest_IPAdapterStandIn:
    """Registers like IPAdapter_plus: 'sd15' keys (block, id), the middle block as ('middle', 1),
    which never matches; 'sdxl' keys (block, id, index). `stack` > 1: that many adapters (.add)."""

    CATEGORY = "TruePose/testing"
    RETURN_TYPES = ("MODEL",)
    FUNCTION = "apply"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"model": ("MODEL",), "keys": (["sd15", "sdxl"],), "weight": ("FLOAT", {"default": 1.0}),
                             "stack": ("INT", {"default": 2, "min": 1})}}

    def apply(self, model, keys, weight, stack):
        m = model.clone()
        sampling = m.get_model_object("model_sampling")
        kwargs = {"weight": weight / stack, "tokens": torch.randn(4, 32, generator=torch.Generator().manual_seed(5)),
                  "sigma_start": float(sampling.percent_to_sigma(0.0)), "sigma_end": float(sampling.percent_to_sigma(1.0))}
        blocks = _pack("unet_blocks").attn2_modules(m, "IPAdapterStandIn")
        for _ in range(stack):
            for section, block_id, index in blocks:
                if keys == "sd15":
                    key = ("middle", 1) if section == "middle" else (section, block_id)
                else:
                    key = ("middle", 1, index) if section == "middle" else (section, block_id, index)
                _set_patch_replace(m, kwargs, key)
        return (m,)


class TruePoseTest_TinyClipVision:
    """A small CLIP vision model of ComfyUI's own class, random weights (seeded)."""

    CATEGORY = "TruePose/testing"
    RETURN_TYPES = ("CLIP_VISION",)
    FUNCTION = "load"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {}}

    def load(self):
        if "model" not in _CLIP:
            import comfy.clip_vision

            path = Path(tempfile.mkdtemp()) / "config.json"
            path.write_text(json.dumps(CLIP_CONFIG))
            model = comfy.clip_vision.ClipVisionModel(str(path))
            g = torch.Generator().manual_seed(0)
            model.load_sd({k: torch.randn(v.shape, generator=g) * 0.05 for k, v in model.get_sd().items()})
            _CLIP["model"] = model
        return (_CLIP["model"],)


class TruePoseTest_Spy:
    """Records, per UNet call, the blocks where TruePose read its source (HPFA in attn1, CAA in attn2)."""

    CATEGORY = "TruePose/testing"
    RETURN_TYPES = ("MODEL",)
    FUNCTION = "spy"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"model": ("MODEL",)}}

    @classmethod
    def IS_CHANGED(cls, **kwargs):
        return float("nan")

    def spy(self, model):
        installed = _pack("patch_chain").installed_truepose(model)
        for patch in installed.patches if installed is not None else ():
            runtime = getattr(patch, "runtime", None)
            if hasattr(runtime, "bank"):  # HPFA: the observer sees every source read
                runtime.observer = lambda block, region, idx: SPY["attn1"].update([block])
            elif hasattr(runtime, "reads"):  # CAA: asked once per call, with the block
                runtime.reads = _counting_reads(type(runtime).reads.__get__(runtime))
        return (model,)


def _counting_reads(original):
    def reads(block):
        ok = original(block)
        if ok:
            SPY["attn2"][block] += 1
        return ok

    return reads


NODE_CLASS_MAPPINGS = {
    "TruePoseTest_IPAdapterStandIn": TruePoseTest_IPAdapterStandIn,
    "TruePoseTest_TinyClipVision": TruePoseTest_TinyClipVision,
    "TruePoseTest_Spy": TruePoseTest_Spy,
}
