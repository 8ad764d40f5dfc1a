"""Every FLOAT widget of every TruePose node is checked (finite, inside the range it declares)
before the node runs: ComfyUI's own range check lets NaN through (NaN < min is False), and
Python callers skip it. The range in the message is the widget's own, read from INPUT_TYPES."""

from __future__ import annotations

import functools
import inspect

import torch

from ..truepose_core.validation import check_number
from .errors import node_errors


def float_widgets(node_class) -> dict[str, tuple[float | None, float | None]]:
    """input name -> (min, max) of every FLOAT widget the node declares."""
    spec = node_class.INPUT_TYPES()
    out = {}
    for section in ("required", "optional"):
        for name, entry in spec.get(section, {}).items():
            if isinstance(entry, tuple) and entry and entry[0] == "FLOAT":
                options = entry[1] if len(entry) > 1 and isinstance(entry[1], dict) else {}
                out[name] = (options.get("min"), options.get("max"))
    return out


def guard_float_widgets(node_class, node_name: str):
    """Wraps the node's FUNCTION so its FLOAT inputs are checked first (once per class)."""
    function_name = getattr(node_class, "FUNCTION", None)
    function = getattr(node_class, function_name, None) if function_name else None
    if function is None or getattr(function, "truepose_guarded", False):
        return node_class
    signature = inspect.signature(function)
    widgets: dict[str, tuple[float | None, float | None]] | None = None

    @functools.wraps(function)
    def guarded(*args, **kwargs):
        nonlocal widgets
        if widgets is None:
            widgets = float_widgets(node_class)
        if widgets:
            bound = signature.bind_partial(*args, **kwargs).arguments
            with node_errors(node_name):
                for name, (low, high) in widgets.items():
                    if name in bound and bound[name] is not None:
                        check_number(name, bound[name], low, high)
        return function(*args, **kwargs)

    guarded.truepose_guarded = True
    setattr(node_class, function_name, guarded)
    return node_class


def check_conditioning_width(model_patcher, conditioning, input_name: str = "conditioning") -> None:
    """A CONDITIONING from another model family (e.g. SDXL's 2048-wide text tokens into an SD1.5
    MODEL) fails deep in cross-attention with "mat1 and mat2 shapes cannot be multiplied"."""
    from ..truepose_core.errors import TruePoseInputError

    if conditioning is None:
        return
    if not isinstance(conditioning, (list, tuple)) or not conditioning or not isinstance(conditioning[0], (list, tuple)) \
            or not isinstance(conditioning[0][0], torch.Tensor):
        raise TruePoseInputError(input_name, f"expected a CONDITIONING, got {type(conditioning).__name__}.",
            "connect a CLIP Text Encode output.")
    config = getattr(getattr(getattr(model_patcher, "model", None), "model_config", None), "unet_config", None) or {}
    expected = config.get("context_dim")
    width = int(conditioning[0][0].shape[-1])
    if expected and width != expected:
        raise TruePoseInputError(
            input_name, f"its text tokens are {width} wide but this MODEL's cross-attention takes {expected} "
            "(the prompt was encoded by another model family's CLIP, e.g. SDXL's into an SD1.5 model).",
            "encode the prompt with the CLIP of the checkpoint that gives this MODEL.",
        )
