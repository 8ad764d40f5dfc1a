"""Screenshots of every shipped workflow in the real ComfyUI frontend (a local server, Debian's
chromium; scripts/setup_web_tests.sh), in the classic renderer and with Nodes 2.0:
docs/workflows/<name>.png and <name>_nodes2.png, plus the Templates browser's thumbnails,
workflows/<name>.jpg (the frontend asks /api/workflow_templates/<pack folder>/<name>.jpg for
every custom-node template; ComfyUI serves that from this pack's workflows/ folder), and the
Templates browser on the pack's category (docs/workflows/templates_browser.png).

usage: python scripts/shoot_workflows.py
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests" / "web"))

from comfy_server import ComfyServer  # noqa: E402

DRIVER = REPO_ROOT / "tests" / "web" / "browser_driver.mjs"
DOCS = REPO_ROOT / "docs" / "workflows"
THUMBNAIL_WIDTH = 640


def drive(server: ComfyServer, scenario: str, mode: str, into: Path) -> dict:
    done = subprocess.run(["node", str(DRIVER), scenario, server.url, str(into), mode], cwd=DRIVER.parent,
                          capture_output=True, text=True, timeout=400)
    facts = json.loads([line for line in done.stdout.splitlines() if line.startswith("{")][-1])
    if "failure" in facts or facts["errors"]:
        raise SystemExit(f"{scenario} failed ({mode}): {facts}\n{done.stderr[-2000:]}")
    return facts


def thumbnail(png: Path, jpg: Path) -> None:
    image = cv2.imread(str(png))
    scale = THUMBNAIL_WIDTH / image.shape[1]
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(jpg), small, [cv2.IMWRITE_JPEG_QUALITY, 88])


def main() -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="truepose-shots-") as tmp:
        server = ComfyServer(Path(tmp) / "root").start()
        try:
            for mode in ("litegraph", "vue"):
                for name, facts in drive(server, "shipped_workflows", mode, Path(tmp))["workflows"].items():
                    shot = Path(facts["screenshot"])
                    shutil.copy(shot, DOCS / shot.name)
                    print(f"wrote {(DOCS / shot.name).relative_to(REPO_ROOT)}")
                    if mode == "litegraph":
                        thumbnail(shot, REPO_ROOT / "workflows" / f"{name}.jpg")
                        print(f"wrote workflows/{name}.jpg")
            shutil.copy(drive(server, "templates", "litegraph", Path(tmp))["screenshot"], DOCS / "templates_browser.png")
            print("wrote docs/workflows/templates_browser.png")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
