"""Reading SCHP weights (safetensors, or legacy .pth through torch.load(weights_only=True)).

The label set comes from the classifier head (20 classes: LIP, 18: ATR, 7: Pascal-Person-Part),
never from the file name: users rename files.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import torch

from ..errors import TruePoseInputError
from .schp import AugmentCE2P, classifier_classes

INPUT = "model_name"
LABEL_SET_BY_CLASSES = {20: "lip", 18: "atr", 7: "pascal"}
_SCHP_MARKERS = ("fushion.3.weight", "decoder.conv4.weight", "context_encoding.bottleneck.0.weight")
_SOURCE_HINT = ("use exp-schp-201908261155-lip.pth, exp-schp-201908301523-atr.pth or exp-schp-201908270938-pascal-person-part.pth (see the "
    "README)")


def read_weights(path: str | Path, trust_pickle: bool = False) -> dict[str, torch.Tensor]:
    """All tensors of a .safetensors or .pth/.pt file, as saved (no key rewriting).

    A .pth is read with weights_only=True. `trust_pickle` (the converter's --trust-pickle, never
    the nodes) unpickles it fully, which runs whatever Python code the file holds.
    """
    path = Path(path)
    if not path.is_file():
        raise TruePoseInputError(INPUT, f"model file '{path}' does not exist.",
            f"put it in models/human_parsing or models/schp; {_SOURCE_HINT}.")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path), device="cpu")
        return _unwrap(torch.load(str(path), map_location="cpu", weights_only=not trust_pickle))
    except TruePoseInputError:
        raise
    except pickle.UnpicklingError as e:
        if "unsupported global" in str(e).lower():
            raise TruePoseInputError(
                INPUT, f"'{path.name}' holds Python objects besides tensors, which are not loaded for safety.",
                f"if you trust its source, convert it once, from the TruePose node pack's folder, with `{convert_command(path)}` "
                "(--trust-pickle runs the file's Python code), then refresh (R) and pick the .safetensors.",
            ) from None
        raise _corrupt(path, e) from None
    except Exception as e:  # torch and safetensors raise several types for a damaged file
        raise _corrupt(path, e) from None


def convert_command(path: Path) -> str:
    target = path.with_suffix(".safetensors").name
    return f'python -m truepose_core.parsing.convert --trust-pickle "{path}" "{path.with_name(target)}"'


def _corrupt(path: Path, error: Exception) -> TruePoseInputError:
    reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
    return TruePoseInputError(
        INPUT, f"'{path.name}' could not be read ({reason}); the file is damaged or not a weights file.",
        f"download it again and compare its size with the README; {_SOURCE_HINT}.",
    )


def _unwrap(obj: object) -> dict[str, torch.Tensor]:
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise TruePoseInputError(INPUT, f"the file holds a {type(obj).__name__}, not a state dict.", _SOURCE_HINT + ".")
    return {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}


def normalize_keys(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Drops the DataParallel 'module.' prefix and BatchNorm step counters (no inference meaning)."""
    if state_dict and all(k.startswith("module.") for k in state_dict):
        state_dict = {k[len("module."):]: v for k, v in state_dict.items()}
    return {k: v for k, v in state_dict.items() if not k.endswith("num_batches_tracked")}


def detect_label_set(state_dict: dict[str, torch.Tensor]) -> str:
    """'lip' / 'atr' / 'pascal' from the head's out-channels; refuses non-SCHP weights."""
    state_dict = normalize_keys(state_dict)
    if not all(k in state_dict for k in _SCHP_MARKERS):
        raise TruePoseInputError(INPUT, f"this is not an SCHP human-parsing checkpoint ({_describe(state_dict)}).", _SOURCE_HINT + ".")
    classes = classifier_classes(state_dict)
    head = state_dict["decoder.conv4.weight"]
    check_finite(state_dict)
    if classes not in LABEL_SET_BY_CLASSES or head.shape[0] != classes:
        raise TruePoseInputError(
            INPUT, f"the SCHP classifier has {classes} classes; only 20 (LIP), 18 (ATR) and 7 (Pascal-Person-Part) are known.",
            _SOURCE_HINT + ".",
        )
    return LABEL_SET_BY_CLASSES[classes]


def check_finite(state_dict: dict[str, torch.Tensor]) -> None:
    """NaN or inf weights would parse every pixel as one class: name the first such tensor."""
    for key, tensor in state_dict.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise TruePoseInputError(
                INPUT, f"the SCHP tensor '{key}' holds {int(torch.isnan(tensor).sum())} NaN and {int(torch.isinf(tensor).sum())} "
                f"infinite values (of {tensor.numel()}): the file is damaged.",
                f"download it again and compare its size with the README; {_SOURCE_HINT}.",
            )


def _describe(state_dict: dict[str, torch.Tensor]) -> str:
    keys = list(state_dict)
    if any("diffusion_model" in k or "input_blocks" in k or "down_blocks" in k for k in keys):
        return "it looks like a diffusion UNet"
    if any(k.startswith(("first_stage_model", "encoder.down", "decoder.up")) for k in keys):
        return "it looks like a VAE"
    return f"{len(keys)} tensors, first keys {keys[:3]}" if keys else "it holds no tensors"


def build_network(state_dict: dict[str, torch.Tensor]) -> tuple[AugmentCE2P, str]:
    """An eval-mode float32 network holding exactly these weights (strict keys and shapes)."""
    state_dict = normalize_keys(state_dict)
    label_set = detect_label_set(state_dict)
    with torch.device("meta"):  # no random init of 66M parameters that are overwritten anyway
        net = AugmentCE2P(classifier_classes(state_dict))
    try:
        net.load_state_dict(state_dict, strict=True, assign=True)
    except RuntimeError as e:
        detail = " ".join(str(e).split())[:400]
        raise TruePoseInputError(
            INPUT, f"the SCHP weights do not match the network ({detail}).",
            "use an unmodified official SCHP checkpoint (ResNet-101 AugmentCE2P) or its converted .safetensors.",
        ) from None
    return net.float().eval().requires_grad_(False), label_set


def load_network(path: str | Path) -> tuple[AugmentCE2P, str]:
    net, label_set = build_network(read_weights(path))
    recorded = _recorded_label_set(Path(path))
    if recorded is not None and recorded != label_set:
        raise TruePoseInputError(
            INPUT, f"'{Path(path).name}' says label set '{recorded}' in its metadata, but its classifier head is {label_set} "
            f"({classifier_classes(net.state_dict())} classes): the file was edited or mislabelled.",
            "convert the original .pth again with `python -m truepose_core.parsing.convert`.",
        )
    return net, label_set


def _recorded_label_set(path: Path) -> str | None:
    """The label set the converter wrote into a .safetensors (None: no such record)."""
    if path.suffix != ".safetensors":
        return None
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return (f.metadata() or {}).get("label_set")
