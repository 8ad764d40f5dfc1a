"""Label-set conversions: to LIP and back where the mapping is one-to-one, flips, palette export."""

import pytest
import torch

from truepose_core.parsing import LABEL_SETS, labels_to_palette_image, palette_image_to_labels, to_lip
from truepose_core.parsing.labels import LIP_NAMES, from_lip, mirror_permutation


@pytest.mark.parametrize("label_set", list(LABEL_SETS))
def test_set_to_lip_and_back_is_identity_where_one_to_one(label_set):
    ls = LABEL_SETS[label_set]
    ids = torch.arange(ls.num_classes, dtype=torch.uint8)[None, None]
    back = from_lip(to_lip(ids, label_set), label_set).flatten().tolist()
    one_to_one = [i for i in range(ls.num_classes) if ls.to_lip.count(ls.to_lip[i]) == 1]
    assert [back[i] for i in one_to_one] == one_to_one
    # Where several classes share a LIP id the trip lands on one of them, and is stable from then on.
    assert torch.equal(to_lip(from_lip(to_lip(ids, label_set), label_set), label_set), to_lip(ids, label_set))


def test_lip_round_trip_is_exact_and_lip_to_atr_keeps_names():
    lip = torch.arange(20, dtype=torch.uint8)[None, None]
    assert torch.equal(from_lip(lip, "lip"), lip)
    atr = from_lip(lip, "atr").flatten().tolist()
    for name in ("Hat", "Hair", "Sunglasses", "Upper-clothes", "Pants", "Dress", "Skirt", "Face", "Left-arm", "Right-shoe", "Scarf"):
        assert LABEL_SETS["atr"].names[atr[LIP_NAMES.index(name)]] == name
    assert LABEL_SETS["atr"].names[atr[LIP_NAMES.index("Coat")]] == "Upper-clothes"


def test_pascal_export_puts_hair_in_the_head_and_feet_in_the_lower_legs():
    names = LABEL_SETS["pascal"].names
    pascal = from_lip(torch.arange(20, dtype=torch.uint8)[None, None], "pascal").flatten().tolist()
    assert names[pascal[LIP_NAMES.index("Hair")]] == "Head"
    assert names[pascal[LIP_NAMES.index("Right-shoe")]] == "Lower Legs"
    assert names[pascal[LIP_NAMES.index("Right-leg")]] == "Lower Legs"
    assert names[pascal[LIP_NAMES.index("Pants")]] == "Upper Legs"


@pytest.mark.parametrize("label_set", ["lip", "atr", "pascal"])
def test_export_as_another_packs_palette_map_reads_back(label_set):
    lip = torch.randint(0, 20, (2, 5, 7), generator=torch.Generator().manual_seed(3), dtype=torch.uint8)
    exported = labels_to_palette_image(from_lip(lip, label_set))
    assert torch.equal(palette_image_to_labels(exported, label_set), to_lip(from_lip(lip, label_set), label_set))


def test_mirror_swaps_left_and_right_only():
    assert mirror_permutation("lip")[14:] == (15, 14, 17, 16, 19, 18)
    assert mirror_permutation("atr")[9:16] == (10, 9, 11, 13, 12, 15, 14)
    assert mirror_permutation("pascal") == tuple(range(7))
