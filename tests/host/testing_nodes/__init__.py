"""Test-only nodes, loaded into the test host beside the pack (never shipped to users)."""

import torch

from .composition import NODE_CLASS_MAPPINGS as COMPOSITION_NODES

CAPTURED: dict = {}
PASSES: dict = {"source": 0, "sample": 0}


class TruePoseTest_Capture:
    """Keeps any value for the test to inspect."""

    CATEGORY = "TruePose/testing"
    RETURN_TYPES = ()
    FUNCTION = "capture"
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("*",), "name": ("STRING", {"default": "out"})}}

    @classmethod
    def VALIDATE_INPUTS(cls, input_types=None, **kwargs):
        return True

    @classmethod
    def IS_CHANGED(cls, **kwargs):
        return float("nan")  # always run, even when everything upstream is cached

    def capture(self, value, name):
        CAPTURED[name] = value.clone() if isinstance(value, torch.Tensor) else value
        return {}


class TruePoseTest_CountPasses:
    """Counts UNet forwards: SourceNet passes (flagged by TruePose) and sampling passes."""

    CATEGORY = "TruePose/testing"
    RETURN_TYPES = ("MODEL",)
    FUNCTION = "count"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"model": ("MODEL",)}}

    def count(self, model):
        unet = model.model.diffusion_model
        if not getattr(unet, "_truepose_test_counter", False):

            def hook(module, args, kwargs):
                options = kwargs.get("transformer_options", {})
                PASSES["source" if options.get("truepose_pass") == "source" else "sample"] += 1

            unet.register_forward_pre_hook(hook, with_kwargs=True)
            unet._truepose_test_counter = True
        return (model,)


class TruePoseTest_Sabotage:
    """Raises inside sampling at the n-th model call: an error or a user interrupt."""

    CATEGORY = "TruePose/testing"
    RETURN_TYPES = ("MODEL",)
    FUNCTION = "sabotage"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"model": ("MODEL",), "mode": (["error", "interrupt"],), "at_call": ("INT", {"default": 2, "min": 1})}}

    def sabotage(self, model, mode, at_call):
        import comfy.model_management

        patched = model.clone()
        calls = {"n": 0}

        def wrapper(apply_model, args):
            calls["n"] += 1
            if calls["n"] >= at_call:
                if "at_sabotage" in CAPTURED:  # lets a test look at the MODEL's state mid-run
                    CAPTURED["at_sabotage"](patched)
                if mode == "interrupt":
                    raise comfy.model_management.InterruptProcessingException()
                raise RuntimeError("sabotaged sampling step")
            return apply_model(args["input"], args["timestep"], **args["c"])

        patched.set_model_unet_function_wrapper(wrapper)
        return (patched,)


NODE_CLASS_MAPPINGS = {
    **COMPOSITION_NODES,
    "TruePoseTest_Capture": TruePoseTest_Capture,
    "TruePoseTest_CountPasses": TruePoseTest_CountPasses,
    "TruePoseTest_Sabotage": TruePoseTest_Sabotage,
}
