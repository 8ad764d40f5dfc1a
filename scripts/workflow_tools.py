"""Workflow JSON tools: the API-format twin <-> the UI (LiteGraph) format the frontend loads.

ComfyUI has no server-side UI->API converter, so this module holds the one the tests use to keep
both files in step, plus the converter that writes the UI file from the API twin.
Node schemas come from the host's NODE_CLASS_MAPPINGS (a booted ComfyHost).
"""

from __future__ import annotations

import json
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO_ROOT / "workflows"
API_DIR = WORKFLOWS / "api"
NODE_SIZES = REPO_ROOT / "scripts" / "node_sizes.json"
_WIDGET_TYPES = {"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"}
# Layout (graph units): LiteGraph's title bar, the space between nodes, the first node's corner.
TITLE_HEIGHT, GAP, ORIGIN = 30, 40, (40, 40)
VUE_SCALE = 1.2  # the frontend's Comfy.VueNodes.AutoScaleLayout factor for classic-layout workflows
# Room for what appears after a run: the saved image preview.
MIN_ROOM = {"SaveImage": (300, 380)}


def load_api_workflow(name: str) -> dict:
    return json.loads((API_DIR / f"{name}.json").read_text())


def api_workflow_names() -> list[str]:
    return sorted(p.stem for p in API_DIR.glob("*.json"))


def find_nodes(prompt: dict, class_type: str) -> list[str]:
    return [nid for nid, node in prompt.items() if node["class_type"] == class_type]


def node_inputs(node_class) -> list[tuple[str, object, dict]]:
    spec = node_class.INPUT_TYPES()
    out = []
    for section in ("required", "optional"):
        for name, value in spec.get(section, {}).items():
            kind = value[0]
            opts = value[1] if len(value) > 1 and isinstance(value[1], dict) else {}
            out.append((name, kind, opts))
    return out


def is_widget(kind, opts: dict) -> bool:
    return (isinstance(kind, list) or kind in _WIDGET_TYPES) and not opts.get("forceInput", False)


def extra_widget_values(name: str, kind, opts: dict) -> list:
    """Values the frontend stores after a widget: seed control, image upload."""
    if kind == "INT" and (opts.get("control_after_generate") or name in ("seed", "noise_seed")):
        return ["fixed"]
    if opts.get("image_upload"):
        return ["image"]
    return []


def node_sizes() -> dict:
    """The frontend's measured node sizes (scripts/measure_node_sizes.py), per renderer."""
    return json.loads(NODE_SIZES.read_text())


def _box_size(class_type: str, sizes: dict) -> tuple[float, float]:
    """The room a node needs (title bar included) in the classic renderer such that it also fits
    under Nodes 2.0, which scales a classic layout by VUE_SCALE when it opens it."""
    lg, vue = sizes["litegraph"].get(class_type), sizes["nodes2"].get(class_type)
    if lg is None or vue is None:
        raise KeyError(f"no measured size for {class_type}: run scripts/measure_node_sizes.py")
    room = MIN_ROOM.get(class_type, (0, 0))
    return max(lg[0], vue[0] / VUE_SCALE, room[0]), max(lg[1], vue[1] / VUE_SCALE, room[1])


def layout(prompt: dict, sizes: dict) -> dict[str, tuple[list[float], list[float]]]:
    """Columns by dependency depth, each as wide as its widest node; within a column the nodes are
    stacked in the order of their inputs' rows (fewer crossing links). Returns id -> (pos, size)
    in LiteGraph terms: pos is the body's top-left (the title bar sits above it), size excludes it."""
    parents = {nid: [v[0] for v in node["inputs"].values() if isinstance(v, list)] for nid, node in prompt.items()}
    children: dict[str, list[str]] = {nid: [] for nid in prompt}
    for nid, ps in parents.items():
        for p in ps:
            children[p].append(nid)
    depth: dict[str, int] = {}

    def node_depth(nid: str) -> int:
        if nid not in depth:
            depth[nid] = 1 + max((node_depth(p) for p in parents[nid]), default=-1)
        return depth[nid]

    columns: dict[int, list[str]] = {}
    for nid in sorted(prompt, key=int):
        columns.setdefault(node_depth(nid), []).append(nid)
    boxes = {nid: _box_size(prompt[nid]["class_type"], sizes) for nid in prompt}
    rank: dict[str, float] = {}

    def stack() -> None:
        for col in sorted(columns):
            y = 0.0
            for nid in columns[col]:
                rank[nid] = y + boxes[nid][1] / 2
                y += boxes[nid][1] + GAP

    def mean(values: list[float], default: float) -> float:
        return sum(values) / len(values) if values else default

    stack()
    for _ in range(3):  # parents -> children, then the loaders next to their first consumers
        for col in sorted(columns)[1:]:
            columns[col].sort(key=lambda n: mean([rank[p] for p in parents[n]], rank[n]))
            stack()
        columns[0].sort(key=lambda n: mean([rank[c] for c in children[n]], rank[n]))
        stack()
    out = {}
    x = ORIGIN[0]
    for col in sorted(columns):
        y = ORIGIN[1]
        for nid in columns[col]:
            w, h = boxes[nid]
            out[nid] = ([round(x), round(y + TITLE_HEIGHT)], [round(w), round(h - TITLE_HEIGHT)])
            y += h + GAP
        x += max(boxes[n][0] for n in columns[col]) + GAP
    return out


def api_to_ui(prompt: dict, mappings: dict, sizes: dict | None = None) -> dict:
    """Lay the API graph out in columns by dependency depth, at the frontend's measured node sizes,
    and write the UI format."""
    ids = {nid: int(nid) for nid in prompt}  # the UI keeps the API twin's ids
    placed = layout(prompt, sizes or node_sizes())
    depth: dict[str, int] = {}

    def node_depth(nid: str) -> int:
        if nid not in depth:
            parents = [v[0] for v in prompt[nid]["inputs"].values() if isinstance(v, list)]
            depth[nid] = 1 + max((node_depth(p) for p in parents), default=-1)
        return depth[nid]

    nodes, links = [], []
    outputs_links: dict[tuple[str, int], list[int]] = {}
    for nid, node in prompt.items():
        cls = mappings[node["class_type"]]
        inputs, widgets = [], []
        for name, kind, opts in node_inputs(cls):
            value = node["inputs"].get(name)
            if is_widget(kind, opts):
                if name in node["inputs"]:
                    widgets.append(value)
                    widgets.extend(extra_widget_values(name, kind, opts))
                continue
            link_id = None
            if isinstance(value, list):
                link_id = len(links) + 1
                links.append([link_id, ids[value[0]], value[1], ids[nid], len(inputs), kind])
                outputs_links.setdefault((value[0], value[1]), []).append(link_id)
            inputs.append({"name": name, "type": kind, "link": link_id})
        pos, size = placed[nid]
        nodes.append({
            "id": ids[nid], "type": node["class_type"], "pos": pos, "size": size,
            "flags": {}, "order": 0, "mode": 0, "inputs": inputs, "outputs": [],
            "properties": {"Node name for S&R": node["class_type"]}, "widgets_values": widgets,
            **({"title": node["_meta"]["title"]} if "_meta" in node else {}),
        })
    for n, (nid, node) in zip(nodes, prompt.items()):
        cls = mappings[node["class_type"]]
        names = getattr(cls, "RETURN_NAMES", None) or cls.RETURN_TYPES
        n["outputs"] = [
            {"name": name, "type": kind, "links": outputs_links.get((nid, slot), []), "slot_index": slot}
            for slot, (name, kind) in enumerate(zip(names, cls.RETURN_TYPES))
        ]
    order = sorted(prompt, key=node_depth)
    for n, nid in zip(nodes, prompt):
        n["order"] = order.index(nid)
    return {
        "last_node_id": max(ids.values()), "last_link_id": len(links), "nodes": nodes, "links": links,
        "groups": [], "config": {}, "extra": {"ds": {"scale": 0.6, "offset": [0, 0]}}, "version": 0.4,
    }


def ui_to_api(ui: dict, mappings: dict) -> dict:
    """The prompt the frontend would queue for this UI workflow (widget values by schema order)."""
    links = {link[0]: link for link in ui["links"]}
    prompt = {}
    for n in ui["nodes"]:
        if n.get("mode", 0) in (2, 4):  # muted / bypassed
            continue
        cls = mappings[n["type"]]
        values = list(n.get("widgets_values", []))
        inputs: dict = {}
        linked = {i["name"]: i.get("link") for i in n.get("inputs", [])}
        for name, kind, opts in node_inputs(cls):
            if linked.get(name) is not None:
                link = links[linked[name]]
                inputs[name] = [str(link[1]), link[2]]
            elif is_widget(kind, opts) and values:
                inputs[name] = values.pop(0)
                for _ in extra_widget_values(name, kind, opts):
                    values.pop(0)
        prompt[str(n["id"])] = {"class_type": n["type"], "inputs": inputs}
    return prompt


def ui_problems(ui: dict, mappings: dict) -> list[str]:
    """Every node type exists and its widget count matches the current schema."""
    problems = []
    for n in ui["nodes"]:
        cls = mappings.get(n["type"])
        if cls is None:
            problems.append(f"node {n['id']}: unknown type {n['type']}")
            continue
        linked = {i["name"] for i in n.get("inputs", []) if i.get("link") is not None}
        expected = sum(
            1 + len(extra_widget_values(name, kind, opts))
            for name, kind, opts in node_inputs(cls)
            if is_widget(kind, opts) and name not in linked
        )
        if len(n.get("widgets_values", [])) != expected:
            problems.append(f"node {n['id']} ({n['type']}): {len(n.get('widgets_values', []))} widget values, schema has {expected}")
    return problems


def write_ui_twins(mappings: dict) -> list[Path]:
    written = []
    for name in api_workflow_names():
        path = WORKFLOWS / f"{name}.json"
        path.write_text(json.dumps(api_to_ui(load_api_workflow(name), mappings), indent=1) + "\n")
        written.append(path)
    return written
