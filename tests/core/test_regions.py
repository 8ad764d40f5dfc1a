"""Region index sets on non-square token grids."""

import pytest
import torch

from truepose_core.attention import grid_region_map, region_token_indices
from truepose_core.parsing import REGION_NAMES, ParsingMap


def test_nearest_resize_to_a_non_square_grid_keeps_labels_categorical():
    labels = torch.zeros(1, 512, 352, dtype=torch.uint8)
    labels[0, :128] = 13  # face band: top quarter
    labels[0, 128:] = 7  # coat
    grid = grid_region_map(ParsingMap(labels), (64, 44))
    assert grid.shape == (1, 64, 44)
    face, upper = REGION_NAMES.index("face"), REGION_NAMES.index("upper")
    assert set(grid.unique().tolist()) == {face, upper}
    assert bool((grid[0, :16] == face).all()) and bool((grid[0, 16:] == upper).all())


def test_indices_are_flat_row_major_and_dilation_grows_by_one_token():
    region_map = torch.full((5, 7), REGION_NAMES.index("background"))
    region_map[2, 3] = REGION_NAMES.index("face")
    plain = region_token_indices(region_map)
    assert plain["face"].tolist() == [2 * 7 + 3]
    grown = region_token_indices(region_map, dilate=True)
    assert sorted(grown["face"].tolist()) == sorted(r * 7 + c for r in (1, 2, 3) for c in (2, 3, 4))
    assert len(grown["background"]) == 34  # background is never dilated


def test_absent_regions_are_left_out():
    region_map = torch.full((2, 2), REGION_NAMES.index("hair"))
    assert list(region_token_indices(region_map)) == ["hair"]


# LIP-20 ids (the SCHP LIP label order) and the region each belongs to (METHOD.md section 3).
BACKGROUND, HAIR, UPPER_CLOTHES, PANTS, FACE, LEFT_ARM, LEFT_SHOE = 0, 2, 5, 9, 13, 14, 18
REGION_OF = {BACKGROUND: "background", HAIR: "hair", UPPER_CLOTHES: "upper", PANTS: "lower", FACE: "face",
             LEFT_ARM: "skin", LEFT_SHOE: "shoes"}


def person_512x352() -> torch.Tensor:
    """A parsing at the usual 512x352 with every boundary off the 8-pixel token stride (8k+4) or curved."""
    labels = torch.zeros(512, 352, dtype=torch.uint8)
    labels[20:60, 132:228] = HAIR
    rows, cols = torch.meshgrid(torch.arange(512), torch.arange(352), indexing="ij")
    labels[((rows - 100) / 45.0) ** 2 + ((cols - 180) / 37.0) ** 2 <= 1.0] = FACE
    labels[148:300, 92:260] = UPPER_CLOTHES
    labels[156:292, 60:92] = LEFT_ARM
    labels[300:452, 108:244] = PANTS
    labels[452:500, 108:164] = LEFT_SHOE
    labels[452:500, 188:244] = LEFT_SHOE
    return labels


@pytest.mark.parametrize("grid", [(64, 44), (32, 22), (16, 11)])
def test_off_stride_boundaries_give_each_token_a_region_of_its_own_pixels(grid):
    """512x352 -> a block's token grid: every token's region is one that occurs in its own cell of
    pixels (no label invented between two neighbours, as interpolating ids would), and a cell of one
    label keeps it."""
    labels = person_512x352()
    region_map = grid_region_map(ParsingMap(labels[None]), grid)[0]
    assert region_map.shape == grid
    sh, sw = 512 // grid[0], 352 // grid[1]
    mixed_cells = 0
    for i in range(grid[0]):
        for j in range(grid[1]):
            cell = labels[i * sh : (i + 1) * sh, j * sw : (j + 1) * sw]
            present = {REGION_OF[int(x)] for x in cell.unique()}
            got = REGION_NAMES[int(region_map[i, j])]
            assert got in present, f"token ({i}, {j}) is {got}; its pixels are {sorted(present)}"
            mixed_cells += len(present) > 1
    assert mixed_cells > grid[0]  # the layout does put boundaries inside cells at this grid
