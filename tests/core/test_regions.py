"""Region index sets on non-square token grids."""

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
