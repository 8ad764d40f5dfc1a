"""Load a workflow in the real frontend, run it, see the parsing previews appear (legend, hover, opacity)."""

import pytest

PARSE_NODE = "3"  # TruePose_HumanParse (quick parser) on the source photo


@pytest.mark.parametrize("mode", ["litegraph", "vue"])
def test_parsing_preview_appears_with_legend_hover_and_opacity(drive, comfy_server, mode):
    facts = drive("parsing_preview", mode=mode)

    assert facts["run"]["ok"], facts["run"]
    assert len(facts["legends"]) == 2, "HumanParse and ParsingFromImage both show a preview"
    for legend in facts["legends"]:
        assert {"Background", "Face", "Hair", "Upper-clothes"} <= set(legend), legend

    assert facts["hoverExpected"] not in (None, "Background")
    assert facts["hover"] == facts["hoverExpected"], "hovering the map names the label under the pointer"

    zero, half, full = (facts["opacity"][k] for k in ("zero", "half", "full"))
    assert zero != full, "opacity 0 shows the photo, 100 the palette"
    assert all(min(a, b) - 1 <= h <= max(a, b) + 1 for a, h, b in zip(zero, half, full)), (zero, half, full)

    history = comfy_server.get_json(f"/history/{facts['run']['prompt_id']}")[facts["run"]["prompt_id"]]
    payload = history["outputs"][PARSE_NODE]["truepose_parsing"][0]
    assert payload["source"] and payload["palette"]["type"] == "temp"
    legend = {label["name"]: label["color"] for label in payload["labels"]}
    assert legend["Face"] == [192, 0, 128] and legend["Upper-clothes"] == [128, 0, 128]
    assert facts["screenshot"].endswith(f"parsing_preview{'_nodes2' if mode == 'vue' else ''}.png")
