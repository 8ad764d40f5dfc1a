"""A palette map read with the wrong label set is refused, naming the set that fits; right reads pass."""

import numpy as np
import pytest
import torch

from truepose_core.errors import TruePoseInputError
from truepose_core.parsing import labels_to_palette_image, palette_image_to_labels, to_lip
from truepose_core.parsing.labels import from_lip
from truepose_core.synthetic.figure import default_pose, draw_figure

SHOES = (18, 19)


def figure_lip(width=192, height=256, shoes=True) -> torch.Tensor:
    _, labels = draw_figure(default_pose(width, height), width, height)
    labels = torch.from_numpy(np.ascontiguousarray(labels))[None]
    if not shoes:
        labels[torch.isin(labels, torch.tensor(SHOES, dtype=torch.uint8))] = 0
    return labels


def read(labels: torch.Tensor, label_set: str) -> torch.Tensor:
    return palette_image_to_labels(labels_to_palette_image(labels), label_set)


@pytest.mark.parametrize("label_set", ["lip", "atr", "cihp", "pascal"])
def test_each_set_reads_its_own_export(label_set):
    lip = figure_lip()
    exported = from_lip(lip, label_set)
    assert torch.equal(read(exported, label_set), to_lip(exported, label_set))


def test_a_lip_map_read_as_atr_is_refused_by_its_shoe_colours():
    lip = figure_lip()
    shoe_share = torch.isin(lip, torch.tensor(SHOES, dtype=torch.uint8)).float().mean().item()
    assert shoe_share < 0.01  # under the 1 % off-palette tolerance: the colour count alone let it through
    with pytest.raises(TruePoseInputError) as info:
        read(lip, "atr")
    message = str(info.value)
    assert info.value.input_name == "label_set"
    assert "colours of id 18 (Left-shoe), id 19 (Right-shoe), which the atr palette (18 classes) does not have: it is a lip map" in message
    assert "Fix: set label_set to 'lip'" in message


def test_a_lip_map_without_shoes_read_as_atr_is_refused_by_its_layout():
    with pytest.raises(TruePoseInputError,
        match=(r"read as atr, the map's 'Right-leg' lies 25% of the image height above its 'Skirt', which a person never shows; read as "
            r"lip, every class is in body order: this looks like a lip map")) as info:
        read(figure_lip(shoes=False), "atr")
    assert "set label_set to 'lip'" in info.value.fix


def test_an_atr_map_read_as_lip_is_refused_by_its_layout():
    atr = from_lip(figure_lip(), "atr")
    with pytest.raises(TruePoseInputError, match=r"read as lip, .*this looks like an atr map.*Fix: set label_set to 'atr'"):
        read(atr, "lip")


def test_an_upside_down_person_in_its_own_set_is_accepted():
    lip = figure_lip().flip(1)
    assert torch.equal(read(lip, "lip"), lip)


def test_antialiased_borders_in_other_colours_are_not_evidence():
    pascal = from_lip(figure_lip(), "pascal")
    image = labels_to_palette_image(pascal)
    edges = pascal[0, 1:] != pascal[0, :-1]  # one-pixel seams take a colour the pascal palette lacks (LIP ids 8, 18)
    image[0, 1:][edges] = torch.tensor([64, 0, 0]) / 255.0
    assert edges.float().mean() < 0.01
    read_back = palette_image_to_labels(image, "pascal")
    assert read_back.shape == pascal.shape


def test_palette_decoding_tolerates_lossy_noise_and_rounds_to_levels():
    lip = figure_lip()
    noisy = labels_to_palette_image(lip) + (torch.rand(1, *lip.shape[1:], 3, generator=torch.Generator().manual_seed(0)) - 0.5) * (40 / 255)
    assert torch.equal(palette_image_to_labels(noisy.clamp(0, 1), "lip"), lip)
