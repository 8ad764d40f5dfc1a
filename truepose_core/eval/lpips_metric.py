"""LPIPS from local files only: the user's ImageNet AlexNet/VGG16 state dict plus the lpips package's linear layers.

The `lpips` package ships its calibrated linear layers (lpips/weights/v0.1/{alex,vgg}.pth) but fetches the
ImageNet trunk through torchvision, which cannot download here. So the trunk is built untrained
(`LPIPS(pnet_rand=True)`, which calls torchvision's `alexnet(pretrained=False)` / `vgg16(pretrained=False)`,
no download) and the user's torchvision state dict is copied into it: torchvision key `features.<i>.<p>` is
LPIPS key `net.slice<k>.<i>.<p>`. Every trunk key must be present with the exact shape; `classifier.*` keys of
the full classifier are ignored; anything else is an error.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

from ..errors import TruePoseInputError

NETS = ("alex", "vgg")
FIX = "pass a torchvision AlexNet or VGG16 ImageNet state dict (e.g. alexnet-owt-7be5be79.pth, vgg16-397923af.pth), .pth or .safetensors."


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    path = Path(path)
    if not path.is_file():
        raise TruePoseInputError("lpips_backbone", f"file '{path}' does not exist.", FIX)
    try:
        if path.suffix.lower() == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path), device="cpu")
        else:
            state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch.load and safetensors raise many types for a bad file
        first = str(exc).split(". ")[0].splitlines()[0][:200]
        raise TruePoseInputError("lpips_backbone", f"cannot read '{path}' as a state dict ({type(exc).__name__}: {first}).", FIX) from exc
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise TruePoseInputError("lpips_backbone", f"'{path}' does not hold a plain state dict of tensors.", FIX)
    return state


def detect_net(state: dict[str, torch.Tensor], path: str | Path) -> str:
    # AlexNet's second conv is features.3; VGG16's is features.2 (features.3 is a ReLU there).
    if "features.3.weight" in state:
        return "alex"
    if "features.2.weight" in state:
        return "vgg"
    sample = ", ".join(list(state)[:4])
    raise TruePoseInputError(
        "lpips_backbone", f"'{path}' is not a torchvision AlexNet or VGG16 state dict (no features.N convs; keys start {sample}).", FIX,
    )


def trunk_key_map(trunk: nn.Module) -> dict[str, str]:
    """LPIPS trunk key ('slice2.3.weight') -> torchvision key ('features.3.weight')."""
    return {key: "features." + key.split(".", 1)[1] for key in trunk.state_dict()}


def build_lpips(net: str) -> nn.Module:
    import lpips

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torchvision's deprecation of `pretrained=`
        return lpips.LPIPS(net=net, pretrained=True, pnet_rand=True, verbose=False)


def load_lpips(backbone: str | Path) -> tuple[nn.Module, str]:
    """LPIPS model in eval mode with the user's trunk, and the net name ('alex' or 'vgg')."""
    state = read_state_dict(backbone)
    net = detect_net(state, backbone)
    model = build_lpips(net)
    mapping = trunk_key_map(model.net)
    expected = model.net.state_dict()
    missing = [src for src in mapping.values() if src not in state]
    shapes = [
        f"{src} {tuple(state[src].shape)} (expected {tuple(expected[dst].shape)})"
        for dst, src in mapping.items() if src in state and state[src].shape != expected[dst].shape
    ]
    extra = [k for k in state if k not in set(mapping.values()) and not k.startswith("classifier.")]
    if missing or shapes or extra:
        problems = [f"missing {', '.join(missing[:6])}" if missing else "", f"wrong shape {'; '.join(shapes[:4])}" if shapes else "",
                    f"unexpected {', '.join(extra[:6])}" if extra else ""]
        raise TruePoseInputError(
            "lpips_backbone", f"'{backbone}' does not fit torchvision's {net} trunk: {'; '.join(p for p in problems if p)}.", FIX,
        )
    model.net.load_state_dict({dst: state[src].float() for dst, src in mapping.items()}, strict=True)
    return model.eval(), net


def lpips_scores(model: nn.Module, generated: torch.Tensor, ground_truth: torch.Tensor) -> torch.Tensor:
    """(N,) LPIPS distance; inputs in [0, 1] (mapped to LPIPS' [-1, 1] by normalize=True)."""
    with torch.no_grad():
        return model(generated.float(), ground_truth.float(), normalize=True).flatten()
