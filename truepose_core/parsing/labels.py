"""Label sets of the common human parsers and the canonical LIP-20 region groups.

Ids are exact (SCHP LIP / ATR / Pascal-Person-Part, CIHP). Every label set maps onto LIP-20,
the canonical space the attention works in.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import TruePoseInputError


@dataclass(frozen=True)
class LabelSet:
    name: str
    names: tuple[str, ...]
    to_lip: tuple[int, ...]  # id in this set -> LIP-20 id

    @property
    def num_classes(self) -> int:
        return len(self.names)


LIP_NAMES = (
    "Background", "Hat", "Hair", "Glove", "Sunglasses", "Upper-clothes", "Dress", "Coat",
    "Socks", "Pants", "Jumpsuits", "Scarf", "Skirt", "Face", "Left-arm", "Right-arm",
    "Left-leg", "Right-leg", "Left-shoe", "Right-shoe",
)
ATR_NAMES = (
    "Background", "Hat", "Hair", "Sunglasses", "Upper-clothes", "Skirt", "Pants", "Dress",
    "Belt", "Left-shoe", "Right-shoe", "Face", "Left-leg", "Right-leg", "Left-arm",
    "Right-arm", "Bag", "Scarf",
)
# CIHP is LIP with id 10 = Torso-skin instead of Jumpsuits.
CIHP_NAMES = LIP_NAMES[:10] + ("Torso-skin",) + LIP_NAMES[11:]
PASCAL_NAMES = ("Background", "Head", "Torso", "Upper Arms", "Lower Arms", "Upper Legs", "Lower Legs")

_LIP = {name: i for i, name in enumerate(LIP_NAMES)}

LABEL_SETS: dict[str, LabelSet] = {
    "lip": LabelSet("lip", LIP_NAMES, tuple(range(20))),
    "atr": LabelSet(
        "atr",
        ATR_NAMES,
        # Belt -> Pants (worn at the waist with the lower garment), Bag -> Background
        # (an accessory, not the person's identity).
        tuple(
            _LIP[{"Belt": "Pants", "Bag": "Background"}.get(n, n)] for n in ATR_NAMES
        ),
    ),
    # Torso-skin is skin: it joins the arms in the skin group.
    "cihp": LabelSet("cihp", CIHP_NAMES, tuple(range(10)) + (_LIP["Left-arm"],) + tuple(range(11, 20))),
    # Pascal is coarse: head -> face, torso -> upper clothes, limbs -> skin/lower.
    "pascal": LabelSet(
        "pascal",
        PASCAL_NAMES,
        (_LIP["Background"], _LIP["Face"], _LIP["Upper-clothes"], _LIP["Left-arm"],
         _LIP["Left-arm"], _LIP["Pants"], _LIP["Left-leg"]),
    ),
}

# Region groups over LIP-20 ids (docs/METHOD.md section 3). Order is the order of the node inputs.
REGION_GROUPS: dict[str, tuple[int, ...]] = {
    "face": (_LIP["Face"], _LIP["Sunglasses"]),
    "hair": (_LIP["Hair"], _LIP["Hat"]),
    "upper": (_LIP["Upper-clothes"], _LIP["Coat"], _LIP["Dress"], _LIP["Jumpsuits"], _LIP["Scarf"], _LIP["Glove"]),
    "lower": (_LIP["Pants"], _LIP["Skirt"]),
    "skin": (_LIP["Left-arm"], _LIP["Right-arm"], _LIP["Left-leg"], _LIP["Right-leg"]),
    "shoes": (_LIP["Left-shoe"], _LIP["Right-shoe"], _LIP["Socks"]),
    "background": (_LIP["Background"],),
}
REGION_NAMES: tuple[str, ...] = tuple(REGION_GROUPS)

# Mask presets (CatVTON's upper/lower/overall semantics) for ParsingToMask.
LABEL_PRESETS: dict[str, tuple[str, ...]] = {
    "upper_clothes": ("upper",),
    "lower_clothes": ("lower",),
    "full_outfit": ("upper", "lower", "shoes"),
    "face_hair": ("face", "hair"),
    "body_skin": ("skin",),
    "background": ("background",),
}


def get_label_set(name: str) -> LabelSet:
    key = name.strip().lower()
    if key not in LABEL_SETS:
        raise TruePoseInputError(
            "label_set", f"unknown label set '{name}'.", f"use one of {', '.join(LABEL_SETS)}."
        )
    return LABEL_SETS[key]


def to_lip(labels: torch.Tensor, label_set: str) -> torch.Tensor:
    """Map an integer label map of `label_set` onto LIP-20 ids."""
    ls = get_label_set(label_set)
    if labels.numel() and int(labels.max()) >= ls.num_classes:
        raise TruePoseInputError(
            "parsing",
            f"label id {int(labels.max())} is outside the {ls.name} set ({ls.num_classes} classes).",
            "choose the label set the parser was trained on.",
        )
    table = torch.tensor(ls.to_lip, dtype=torch.uint8, device=labels.device)
    return table[labels.long()]


def from_lip(labels: torch.Tensor, label_set: str) -> torch.Tensor:
    """Map LIP-20 ids into `label_set` (for exporting to packs that speak ATR or Pascal).

    Each LIP class goes to the class of the same name, else to the first class that maps onto
    it, else to the first class of its region group, else to background. So
    from_lip(to_lip(x)) == x wherever to_lip is one-to-one.
    """
    table = torch.tensor(lip_to_set_table(label_set), dtype=torch.uint8, device=labels.device)
    return table[labels.long()]


# Where the generic rule of from_lip picks badly: Pascal's head includes hair, its lower legs the feet.
_FROM_LIP_OVERRIDES: dict[str, dict[str, str]] = {
    "pascal": {"Hat": "Head", "Hair": "Head", "Socks": "Lower Legs", "Left-shoe": "Lower Legs", "Right-shoe": "Lower Legs"},
}


def lip_to_set_table(label_set: str) -> tuple[int, ...]:
    ls = get_label_set(label_set)
    by_name = {n: i for i, n in enumerate(ls.names)}
    overrides = _FROM_LIP_OVERRIDES.get(ls.name, {})
    table = []
    for lip_id, name in enumerate(LIP_NAMES):
        if name in overrides:
            table.append(by_name[overrides[name]])
            continue
        if name in by_name:
            table.append(by_name[name])
            continue
        group = next(ids for ids in REGION_GROUPS.values() if lip_id in ids)
        twin = mirror_permutation("lip")[lip_id]  # Right-leg -> whatever Left-leg came from
        candidates = [lip_id, twin] + [g for g in group if g not in (lip_id, twin)]
        onto = [i for target in candidates for i, mapped in enumerate(ls.to_lip) if mapped == target]
        table.append(onto[0] if onto else 0)
    return tuple(table)


def mirror_permutation(label_set: str) -> tuple[int, ...]:
    """Class order after a horizontal flip: every Left-x id swapped with its Right-x id."""
    names = get_label_set(label_set).names
    index = {n: i for i, n in enumerate(names)}
    return tuple(
        index.get(n.replace("Left-", "Right-") if n.startswith("Left-") else n.replace("Right-", "Left-"), i)
        for i, n in enumerate(names)
    )


def region_id_map() -> torch.Tensor:
    """LIP-20 id -> index into REGION_NAMES."""
    table = torch.zeros(len(LIP_NAMES), dtype=torch.long)
    for r, ids in enumerate(REGION_GROUPS.values()):
        for i in ids:
            table[i] = r
    return table


def parse_label_list(spec: str) -> tuple[int, ...]:
    """'face, hair, 5, Upper-clothes' -> LIP ids. Region names expand to their group."""
    ids: list[int] = []
    lower_names = {n.lower(): i for i, n in enumerate(LIP_NAMES)}
    for raw in spec.split(","):
        item = raw.strip().lower()
        if not item:
            continue
        if item in LABEL_PRESETS:
            for region in LABEL_PRESETS[item]:
                ids.extend(REGION_GROUPS[region])
        elif item in REGION_GROUPS:
            ids.extend(REGION_GROUPS[item])
        elif item in lower_names:
            ids.append(lower_names[item])
        elif item.isdigit() and int(item) < len(LIP_NAMES):
            ids.append(int(item))
        else:
            raise TruePoseInputError(
                "labels",
                f"'{raw.strip()}' is neither a preset, a region ({', '.join(REGION_NAMES)}) nor a LIP label.",
                f"use presets ({', '.join(LABEL_PRESETS)}), region names, LIP names ({', '.join(LIP_NAMES)}) or ids 0-19, comma separated.",
            )
    if not ids:
        raise TruePoseInputError("labels", "no label selected.", "name at least one region or label.")
    return tuple(sorted(set(ids)))
