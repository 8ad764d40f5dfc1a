"""One source of truth for the pose and region tables: what the browser modules export equals Python's."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

from write_pose_tables import TABLES_PATH, mirror, pose_tables_module  # noqa: E402

from truepose_core.parsing.labels import REGION_GROUPS  # noqa: E402
from truepose_core.pose import skeleton  # noqa: E402

# Evaluated by node: the tables as the editor and the region colours see them.
DUMP = """
const math = await import(process.argv[1] + "/pose_math.mjs");
const palette = await import(process.argv[1] + "/palette.mjs");
console.log(JSON.stringify({COLOURS: math.COLOURS, LIMBS: math.LIMBS, KEYPOINT_NAMES: math.KEYPOINT_NAMES, MIRROR: math.MIRROR,
  REGION_LABEL: palette.REGION_LABEL}));
"""


def test_the_generated_module_is_up_to_date():
    assert TABLES_PATH.read_text() == pose_tables_module(), "run: python scripts/write_pose_tables.py"


def _browser_tables() -> dict:
    if shutil.which("node") is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("node is not installed: the JS tables cannot be checked")
        pytest.skip("node is not installed")
    done = subprocess.run(["node", "--input-type=module", "-e", DUMP, "file://" + str(REPO / "web" / "js")], capture_output=True, text=True,
        timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_what_the_editor_draws_with_is_the_python_skeleton():
    tables = _browser_tables()
    assert tables["COLOURS"] == [list(c) for c in skeleton.COLOURS]  # a swapped colour fails here
    assert tables["LIMBS"] == [list(p) for p in skeleton.LIMBS]
    assert tables["KEYPOINT_NAMES"] == list(skeleton.KEYPOINT_NAMES)
    assert tables["MIRROR"] == mirror()


def test_region_colours_name_a_label_of_their_python_region():
    regions = _browser_tables()["REGION_LABEL"]
    assert set(regions) == set(REGION_GROUPS)
    for region, label in regions.items():
        assert label in REGION_GROUPS[region], region
