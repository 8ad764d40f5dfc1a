"""Measure every shipped workflow's nodes in the real ComfyUI frontend, once per renderer
(classic LiteGraph canvas and Nodes 2.0), and write scripts/node_sizes.json, which
scripts/build_workflows.py lays the UI workflows out with. Needs the browser test tools
(scripts/setup_web_tests.sh). Sizes are graph units, title bar included, the largest seen per
node type (LoadImage after its picture loaded; the parsing preview is part of its node from
the start).

usage: python scripts/measure_node_sizes.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests" / "web"))

from comfy_server import ComfyServer  # noqa: E402

OUT = REPO_ROOT / "scripts" / "node_sizes.json"
DRIVER = REPO_ROOT / "tests" / "web" / "browser_driver.mjs"
MODES = {"litegraph": "litegraph", "nodes2": "vue"}


def measure(server: ComfyServer, mode: str) -> dict[str, list[float]]:
    done = subprocess.run(["node", str(DRIVER), "measure_nodes", server.url, "", mode], cwd=DRIVER.parent,
                          capture_output=True, text=True, timeout=300)
    facts = json.loads([line for line in done.stdout.splitlines() if line.startswith("{")][-1])
    if "failure" in facts or facts["errors"]:
        raise SystemExit(f"measuring failed ({mode}): {facts}\n{done.stderr[-2000:]}")
    api = REPO_ROOT / "workflows" / "api"
    largest: dict[str, list[float]] = {}
    for name, sizes in facts["sizes"].items():
        prompt = json.loads((api / f"{name}.json").read_text())
        for nid, size in sizes.items():
            kind = prompt[nid]["class_type"]
            old = largest.get(kind, [0, 0])
            largest[kind] = [max(old[0], size[0]), max(old[1], size[1])]
    return dict(sorted(largest.items()))


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="truepose-measure-") as root:
        server = ComfyServer(Path(root)).start()
        try:
            result = {"frontend": version("comfyui-frontend-package")}
            result.update({key: measure(server, mode) for key, mode in MODES.items()})
        finally:
            server.stop()
    lines = [f' "frontend": {json.dumps(result["frontend"])}']
    for key in MODES:
        rows = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in result[key].items())
        lines.append(f' "{key}": {{\n{rows}\n }}')
    OUT.write_text("{\n" + ",\n".join(lines) + "\n}\n")
    print(f"wrote {OUT.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
