"""The evaluation result as strict JSON (non-finite numbers as strings) and as a short table for the terminal."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any


def json_safe(value: Any) -> Any:
    """inf / nan -> "inf" / "-inf" / "nan": strict JSON has no such numbers (PSNR of identical images is inf)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def write_json(result: dict, path: str | Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(json_safe(result), indent=2, allow_nan=False) + "\n")


def _number(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(result: dict) -> str:
    rows = [("images", str(result["num_images"])), ("SSIM", _number(result["ssim"])), ("PSNR (dB)", _number(result["psnr"], 2))]
    regions = result["region_ssim"]
    if regions["computed"]:
        for name, r in regions["regions"].items():
            skipped = f" ({r['skipped_empty']} without {name} skipped)" if r["skipped_empty"] else ""
            rows.append((f"SSIM {name}", _number(r["value"]) + skipped))
    else:
        rows.append(("region SSIM", "not computed: " + regions["reason"]))
    lpips = result["lpips"]
    if lpips["computed"]:
        rows.append((f"LPIPS ({lpips['net']})", _number(lpips["value"])))
    else:
        rows.append(("LPIPS", "not computed: " + lpips["reason"]))
    fid = result["fid"]
    label = f"  {fid['label']}" if fid.get("label") else ""
    rows.append(("FID", (_number(fid["value"], 2) if fid["computed"] else "not computed: " + fid["reason"]) + label))
    if fid.get("note"):
        rows.append(("", fid["note"]))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
