"""Draw a UI-format workflow (node boxes, titles, typed links) as a PNG for the README.

usage: python scripts/draw_workflow.py workflows/truepose_pose_transfer.json docs/workflow_pose_transfer.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np

TYPE_COLOURS = {  # BGR, close to the ComfyUI frontend's link colours
    "MODEL": (200, 160, 180), "CLIP": (80, 200, 255), "VAE": (100, 100, 255), "CONDITIONING": (100, 160, 255),
    "LATENT": (255, 160, 255), "IMAGE": (170, 230, 100), "MASK": (180, 230, 110), "CONTROL_NET": (150, 255, 0),
    "TRUEPOSE_SOURCE": (60, 200, 250), "TRUEPOSE_PARSING": (200, 90, 240), "POSE_KEYPOINT": (90, 230, 240),
}
NODE_W, HEADER, SLOT = 260, 26, 20


def draw(ui: dict, scale: float = 0.9) -> np.ndarray:
    nodes = {n["id"]: n for n in ui["nodes"]}
    heights = {i: HEADER + SLOT * max(len(n["inputs"]), len(n["outputs"]), 1) + 10 for i, n in nodes.items()}
    max_x = max(n["pos"][0] for n in nodes.values()) + NODE_W + 40
    max_y = max(n["pos"][1] + heights[i] for i, n in nodes.items()) + 40
    canvas = np.full((int(max_y), int(max_x), 3), (38, 38, 38), np.uint8)

    def slot_xy(node_id: int, slot: int, output: bool) -> tuple[int, int]:
        x, y = nodes[node_id]["pos"]
        return int(x + (NODE_W if output else 0)), int(y + HEADER + SLOT * slot + SLOT // 2)

    for _, src, src_slot, dst, dst_slot, kind in ui["links"]:
        a, b = slot_xy(src, src_slot, True), slot_xy(dst, dst_slot, False)
        t = np.linspace(0, 1, 40)[:, None]
        p0, p3 = np.array(a, float), np.array(b, float)
        p1, p2 = p0 + [80, 0], p3 - [80, 0]
        curve = ((1 - t) ** 3) * p0 + 3 * ((1 - t) ** 2) * t * p1 + 3 * (1 - t) * (t**2) * p2 + (t**3) * p3
        cv2.polylines(canvas, [curve.astype(np.int32)], False, TYPE_COLOURS.get(kind, (200, 200, 200)), 2, cv2.LINE_AA)
    for i, n in nodes.items():
        x, y = (int(v) for v in n["pos"])
        truepose = n["type"].startswith("TruePose_")
        cv2.rectangle(canvas, (x, y), (x + NODE_W, y + heights[i]), (58, 58, 58), -1)
        cv2.rectangle(canvas, (x, y), (x + NODE_W, y + HEADER), (70, 110, 60) if truepose else (70, 70, 70), -1)
        cv2.rectangle(canvas, (x, y), (x + NODE_W, y + heights[i]), (110, 110, 110), 1)
        cv2.putText(canvas, n.get("title", n["type"])[:30], (x + 8, y + 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (240, 240, 240), 1, cv2.LINE_AA)
        for s, inp in enumerate(n["inputs"]):
            cx, cy = slot_xy(i, s, False)
            cv2.circle(canvas, (cx, cy), 5, TYPE_COLOURS.get(inp["type"], (200, 200, 200)), -1)
            cv2.putText(canvas, inp["name"], (cx + 10, cy + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (200, 200, 200), 1, cv2.LINE_AA)
        for s, out in enumerate(n["outputs"]):
            cx, cy = slot_xy(i, s, True)
            cv2.circle(canvas, (cx, cy), 5, TYPE_COLOURS.get(out["type"], (200, 200, 200)), -1)
            size = cv2.getTextSize(out["name"], cv2.FONT_HERSHEY_SIMPLEX, 0.4, 1)[0][0]
            cv2.putText(canvas, out["name"], (cx - 10 - size, cy + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (200, 200, 200), 1, cv2.LINE_AA)
    return cv2.resize(canvas, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def main(src: str, dst: str) -> None:
    image = draw(json.loads(Path(src).read_text()))
    cv2.imwrite(dst, image)


if __name__ == "__main__":
    main(*sys.argv[1:3])
