"""Apply TruePose's region strengths are drawn with the palette colour of their region."""

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
