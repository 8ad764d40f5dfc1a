"""Is this palette map really of the label set the user picked? Two kinds of evidence.

Colours: ATR has 18 classes and Pascal 7, so the colours of ids 18-19 (LIP shoes) exist in the
LIP palette only. Blobs of them in a map read as ATR mean it is a LIP map. Lone pixels on the
border between two classes (antialiased or lossy saves) are not counted: only pixels whose
3x3 neighbourhood is all the same colour.

Layout: read with the wrong set, classes land in impossible places (a LIP map read as ATR puts
its face where ATR says "Right-leg", above the "Skirt" that is really the shirt). Classes with a
clear top-to-bottom order on a person are compared by their mean height; the map is refused
only when another set that explains all its colours puts every such class in body order while
the chosen set puts one clearly out of it.
"""

from __future__ import annotations

import torch

from ..errors import TruePoseInputError
from .labels import LABEL_SETS, LIP_NAMES, to_lip

_MIN_BLOB_PIXELS = 16
_MIN_BLOB_FRACTION = 2e-4  # of the pixels
_MIN_CLASS_FRACTION = 1e-3  # a class this rare does not vote on the layout
_OUT_OF_ORDER = 0.10  # of the image height: "clearly" below the class that should be below it
_IN_ORDER = 0.02  # what the other label set may still be off by
_ROWS = 256  # rows per chunk when counting
_MIN_SIDE = 32  # smaller maps are too coarse to judge a layout
_MIN_RANKED = 3  # classes with a body order that must be present to judge it

# Body height rank of LIP classes (0 = top). Arms, gloves and background can be anywhere.
_RANK = {
    "Hat": 0, "Hair": 0, "Sunglasses": 0, "Face": 0,
    "Upper-clothes": 1, "Coat": 1, "Scarf": 1,
    "Pants": 2, "Skirt": 2,
    "Left-leg": 3, "Right-leg": 3, "Socks": 3,
    "Left-shoe": 4, "Right-shoe": 4,
}
_FIX = "set label_set to '{best}' (the set of the parser that drew this map)."


def check_label_set(ids: torch.Tensor, on_palette: torch.Tensor, label_set: str) -> None:
    """ids: (B, H, W) VOC ids (0..63) of a decoded palette map; on_palette: pixels within tolerance."""
    chosen = LABEL_SETS[label_set]
    total = ids.numel()
    foreign = _solid_foreign_counts(ids, on_palette, chosen.num_classes)
    if foreign and sum(foreign.values()) >= max(_MIN_BLOB_PIXELS, _MIN_BLOB_FRACTION * total):
        top = max(foreign)
        best = next((ls for ls in _by_size() if ls.num_classes > top), None)
        if best is not None:
            names = ", ".join(f"id {i} ({best.names[i]})" for i in sorted(foreign))
            raise TruePoseInputError(
                "label_set",
                f"the map has regions in the colours of {names}, which the {chosen.name} palette ({chosen.num_classes} classes) "
                f"does not have: it is {_a(best.name)} map, not {chosen.name} (at least {sum(foreign.values())} pixels would be lost "
                "and the others would change class).",
                _FIX.format(best=best.name),
            )
    if min(ids.shape[1:]) < _MIN_SIDE:
        return
    counts, heights = _class_heights(ids, on_palette)
    present = [i for i in range(len(counts)) if counts[i] >= _MIN_CLASS_FRACTION * total]
    if not present or max(present) >= chosen.num_classes:
        return
    mine = _worst_pair(present, heights, chosen.name)
    if mine is None or mine[2] <= _OUT_OF_ORDER:
        return
    for other in _by_size():
        if other.name == chosen.name or other.num_classes <= max(present) or other.to_lip == chosen.to_lip:
            continue
        theirs = _worst_pair(present, heights, other.name)
        if theirs is not None and theirs[2] <= _IN_ORDER:
            belongs_above, belongs_below, gap = mine
            raise TruePoseInputError(
                "label_set",
                f"read as {chosen.name}, the map's '{belongs_below}' lies {gap:.0%} of the image height above its '{belongs_above}', "
                "which a person never shows; "
                f"read as {other.name}, every class is in body order: this looks like {_a(other.name)} map.",
                _FIX.format(best=other.name) + (f" If it really is {chosen.name} (a person upside down), flip the map and the image "
                    "vertically first."),
            )


def _a(name: str) -> str:
    return ("an " if name[0] in "aeiou" else "a ") + name


def _by_size():
    """Label sets from the fewest classes up, one per distinct palette meaning."""
    return sorted(LABEL_SETS.values(), key=lambda ls: (ls.num_classes, ls.name != "lip"))


def _solid_foreign_counts(ids: torch.Tensor, on_palette: torch.Tensor, num_classes: int) -> dict[int, int]:
    """id -> pixels of a known label set's colour outside this set, inside a same-colour 3x3 block."""
    limit = max(ls.num_classes for ls in LABEL_SETS.values())
    counts: dict[int, int] = {}
    b, h, w = ids.shape
    if h < 3 or w < 3:
        return counts
    for f in range(b):
        for top in range(0, h - 2, _ROWS):
            block = ids[f, top : top + _ROWS + 2]
            ok = on_palette[f, top : top + _ROWS + 2]
            centre = block[1:-1, 1:-1]
            solid = ok[1:-1, 1:-1] & (centre >= num_classes) & (centre < limit)
            if not bool(solid.any()):
                continue
            for dy in (0, 1, 2):
                for dx in (0, 1, 2):
                    solid &= block[dy : dy + block.shape[0] - 2, dx : dx + block.shape[1] - 2] == centre
            for i, n in zip(*torch.unique(centre[solid], return_counts=True)):
                counts[int(i)] = counts.get(int(i), 0) + int(n)
    return counts


def _class_heights(ids: torch.Tensor, on_palette: torch.Tensor) -> tuple[list[int], list[float]]:
    """Per VOC id below 64: pixel count and mean row (0 = top, 1 = bottom), from per-row histograms."""
    b, h, w = ids.shape
    per_row = torch.zeros(h, 65, dtype=torch.int64)  # column 64: off-palette pixels
    for f in range(b):
        for top in range(0, h, _ROWS):
            block = ids[f, top : top + _ROWS].long()
            block[~on_palette[f, top : top + _ROWS]] = 64
            rows = block.shape[0]
            block += 65 * torch.arange(rows)[:, None]
            per_row[top : top + rows] += torch.bincount(block.reshape(-1), minlength=65 * rows).view(rows, 65)
    per_row = per_row[:, :64].double()
    y = torch.linspace(0.0, 1.0, h, dtype=torch.float64) if h > 1 else torch.zeros(1, dtype=torch.float64)
    counts = per_row.sum(0)
    mean = ((per_row * y[:, None]).sum(0) / counts.clamp(min=1)).tolist()
    return [int(c) for c in counts.tolist()], mean


def _worst_pair(present: list[int], heights: list[float], label_set: str) -> tuple[str, str, float] | None:
    """(upper, lower, gap): the pair of classes most out of body order under `label_set` (gap > 0:
    `upper`, which belongs above, lies lower by that fraction of the height). None: too few to judge."""
    lip = to_lip(torch.tensor(present, dtype=torch.uint8), label_set).tolist()
    ranked = [(LIP_NAMES[j], _RANK[LIP_NAMES[j]], heights[i]) for i, j in zip(present, lip) if LIP_NAMES[j] in _RANK]
    if len({rank for _, rank, _ in ranked}) < _MIN_RANKED:
        return None
    pairs = [(a, b, y_a - y_b) for a, rank_a, y_a in ranked for b, rank_b, y_b in ranked if rank_a < rank_b]
    return max(pairs, key=lambda p: p[2])
