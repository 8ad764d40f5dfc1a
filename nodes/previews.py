"""UI previews: small PNGs in ComfyUI's temp folder (as PreviewImage writes them) + the payload
the web extension draws from (web/js/truepose_parsing_preview.js, truepose_pose_editor.js)."""

from __future__ import annotations

import os
import uuid

import numpy as np
import torch
from PIL import Image

from ..truepose_core.parsing import ParsingMap, voc_palette
from ..truepose_core.parsing.labels import LIP_NAMES

PARSING_KEY = "truepose_parsing"  # ui key read by the parsing preview extension
MAX_PREVIEW_SIDE = 512


def _to_uint8(image) -> np.ndarray:
    """(H, W, C) float 0..1 tensor or uint8 array -> (H, W, 3) uint8."""
    if isinstance(image, torch.Tensor):
        image = (image[..., :3].clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
    return np.ascontiguousarray(image[..., :3])


def save_temp_png(image, prefix: str, resample=Image.BILINEAR) -> dict:
    """Save one frame, shrunk to MAX_PREVIEW_SIDE, to the temp folder; returns the /view reference."""
    import folder_paths

    picture = Image.fromarray(_to_uint8(image))
    scale = MAX_PREVIEW_SIDE / max(picture.size)
    if scale < 1:
        picture = picture.resize((max(1, round(picture.width * scale)), max(1, round(picture.height * scale))), resample)
    filename = f"{prefix}_{uuid.uuid4().hex[:12]}.png"
    picture.save(os.path.join(folder_paths.get_temp_directory(), filename), compress_level=1)
    return {"filename": filename, "subfolder": "", "type": "temp"}


def present_labels(labels: torch.Tensor) -> list[dict]:
    """The LIP labels present in a (H, W) map, with their palette colour, most pixels first."""
    counts = torch.bincount(labels.reshape(-1).long(), minlength=len(LIP_NAMES))
    palette = voc_palette(len(LIP_NAMES)).tolist()
    total = max(1, int(counts.sum()))
    order = sorted((i for i in range(len(LIP_NAMES)) if counts[i] > 0), key=lambda i: -int(counts[i]))
    return [{"id": i, "name": LIP_NAMES[i], "color": palette[i], "share": round(int(counts[i]) / total, 4)} for i in order]


def parsing_preview(parsing: ParsingMap, source=None) -> dict:
    """ui payload for the first frame: palette map (lossless, NEAREST), optional source photo, legend."""
    labels = parsing.labels[0]
    palette = voc_palette(256)[labels.long()].numpy()
    entry = {
        "palette": save_temp_png(palette, "truepose_parsing", Image.NEAREST),
        "source": None,
        "labels": present_labels(labels),
        "label_set": parsing.label_set,
        "frames": parsing.batch_size,
        "width": int(labels.shape[1]),
        "height": int(labels.shape[0]),
    }
    if source is not None:
        entry["source"] = save_temp_png(source[0], "truepose_source")
    return {PARSING_KEY: [entry]}


def shows_parsing_preview(source_input: str | None = None):
    """Class decorator for a node whose outputs include a TRUEPOSE_PARSING: its FUNCTION also
    sends the parsing preview to the UI. The original method (direct calls, tests) is unchanged."""

    def decorate(cls):
        inner = cls.FUNCTION

        def run_with_preview(self, **inputs):
            result = getattr(self, inner)(**inputs)
            parsing = next((r for r in result if isinstance(r, ParsingMap)), None)
            if parsing is None or parsing.batch_size == 0:
                return result
            return {"ui": parsing_preview(parsing, inputs.get(source_input) if source_input else None), "result": result}

        run_with_preview.__name__ = f"{inner}_with_preview"
        setattr(cls, run_with_preview.__name__, run_with_preview)
        cls.FUNCTION = run_with_preview.__name__
        return cls

    return decorate
