"""Apply TruePose's region strengths are drawn with the palette colour of their region: a stripe on
the canvas (classic renderer) or the widget row's left border (Nodes 2.0), read back as pixels."""

import shutil
from pathlib import Path

import cv2
import pytest

EXPECTED = {
    "face": [192, 0, 128], "hair": [0, 128, 0], "upper": [128, 0, 128], "lower": [192, 0, 0],
    "skin": [64, 128, 128], "shoes": [0, 192, 0], "background": [0, 0, 0],
}


def test_region_widgets_show_palette_colours(drive):
    facts = drive("region_colors")
    widgets = facts["widgets"]
    for region, rgb in EXPECTED.items():
        assert widgets[region]["colour"] == f"rgba({rgb[0]}, {rgb[1]}, {rgb[2]}, 1)", region
        assert widgets[region]["pixel"] == rgb, f"{region}: the stripe on the canvas is {widgets[region]['pixel']}"
    assert widgets["fusion"]["colour"] is None and widgets["fusion"]["pixel"] not in EXPECTED.values()


def test_region_widgets_show_palette_colours_with_nodes_2(drive):
    facts = drive("region_colors", mode="vue")
    widgets = facts["widgets"]
    page = cv2.cvtColor(cv2.imread(facts["pageScreenshot"]), cv2.COLOR_BGR2RGB)
    shutil.rmtree(Path(facts["pageScreenshot"]).parent)

    def pixel(name: str) -> list[int]:
        """The stripe's brightest pixel: Nodes 2.0 shades the row's left edge slightly (a few %)."""
        x, y = widgets[name]["point"]
        span = page[y, x - 2 : x + 3]  # inside the 6 px border.astype(int)
        return span[span.sum(axis=1).argmax()].tolist()

    for region, rgb in EXPECTED.items():
        assert widgets[region]["colour"] == f"rgba({rgb[0]}, {rgb[1]}, {rgb[2]}, 1)", region
        assert pixel(region) == pytest.approx(rgb, abs=12), f"{region}: the row's stripe on screen is {pixel(region)}"
    assert widgets["fusion"]["colour"] is None and pixel("fusion") not in EXPECTED.values()
