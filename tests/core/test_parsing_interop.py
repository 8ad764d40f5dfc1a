"""Label sets, palette images and masks: the interop layer other parsing packs chain through."""

import pytest
import torch

from truepose_core.errors import TruePoseInputError
from truepose_core.parsing import LABEL_SETS, ParsingMap, get_label_set, labels_to_palette_image, palette_image_to_labels, to_lip
from truepose_core.parsing.labels import LIP_NAMES, parse_label_list

VOC = {0: (0, 0, 0), 1: (128, 0, 0), 5: (128, 0, 128), 13: (192, 0, 128), 19: (128, 192, 0)}


def test_label_set_sizes_and_exact_ids():
    assert [LABEL_SETS[n].num_classes for n in ("lip", "atr", "cihp", "pascal")] == [20, 18, 20, 7]
    assert LABEL_SETS["atr"].names[4] == "Upper-clothes" and LABEL_SETS["atr"].names[11] == "Face"
    assert LABEL_SETS["cihp"].names[10] == "Torso-skin" and LABEL_SETS["lip"].names[10] == "Jumpsuits"


def test_voc_palette_colours_are_exact():
    ids = torch.tensor(list(VOC), dtype=torch.uint8)[None, None]
    rgb = (labels_to_palette_image(ids)[0, 0] * 255).round().to(torch.int64).tolist()
    assert [tuple(c) for c in rgb] == list(VOC.values())


@pytest.mark.parametrize("label_set", ["lip", "atr", "cihp", "pascal"])
def test_palette_round_trip_maps_onto_lip(label_set):
    n = LABEL_SETS[label_set].num_classes
    ids = torch.arange(n, dtype=torch.uint8).repeat(3, 1)[None]
    back = palette_image_to_labels(labels_to_palette_image(ids), label_set)
    assert torch.equal(back, to_lip(ids, label_set))


def test_atr_ids_land_on_the_right_lip_classes():
    atr = torch.tensor([[[4, 5, 11, 9]]], dtype=torch.uint8)  # upper-clothes, skirt, face, left-shoe
    assert [LIP_NAMES[i] for i in to_lip(atr, "atr").flatten().tolist()] == ["Upper-clothes", "Skirt", "Face", "Left-shoe"]


def test_a_photo_is_not_mistaken_for_a_palette_map():
    photo = torch.rand(1, 16, 16, 3, generator=torch.Generator().manual_seed(0))
    with pytest.raises(TruePoseInputError, match="not a lip palette map"):
        palette_image_to_labels(photo, "lip")


def test_unknown_label_set_names_the_choices():
    with pytest.raises(TruePoseInputError, match="lip, atr, cihp, pascal"):
        get_label_set("coco")


def test_label_lists_accept_presets_regions_names_and_ids():
    assert parse_label_list("face") == (4, 13)
    assert parse_label_list("upper_clothes") == (3, 5, 6, 7, 10, 11)
    assert parse_label_list("Pants, 12") == (9, 12)
    with pytest.raises(TruePoseInputError, match="'wings'"):
        parse_label_list("face, wings")


def test_parsing_map_resizes_with_nearest_and_masks_by_label():
    labels = torch.zeros(1, 4, 4, dtype=torch.uint8)
    labels[0, :2, :2] = 13
    pm = ParsingMap(labels)
    big = pm.resized(8, 8)
    assert set(big.labels.unique().tolist()) == {0, 13}
    assert big.mask((13,)).sum() == 16
