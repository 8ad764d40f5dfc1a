"""Measures Render Pose against comfyui_controlnet_aux's renderer on random poses (not a test).

    python scripts/measure_pose_render.py --reference /tmp/controlnet_aux/src/custom_controlnet_aux [--poses 300]

--reference is the custom_controlnet_aux folder of a controlnet_aux checkout (e.g. from
`git archive`); the script reads its dwpose/util.py and the decode_json_as_poses / draw_poses
functions of dwpose/__init__.py and runs them with numpy + OpenCV (no torch, no models). It
exits 0 with a note when the folder is absent. Prints, per kind of pose, the share of pixels
identical to the reference and how many images match exactly (past_edge differs on purpose).
"""

from __future__ import annotations

import argparse
import ast
import sys
import types
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from truepose_core.pose import parse_pose_keypoint, render_frame  # noqa: E402


def load_reference(root: Path):
    """The reference's draw_poses and decode_json_as_poses, executed from its own source."""
    package = types.ModuleType("refdwpose")
    package.__path__ = []
    sys.modules["refdwpose"] = package
    namespace: dict = {}
    exec(compile((root / "dwpose" / "types.py").read_text(), "types.py", "exec"), namespace)
    body = types.ModuleType("refdwpose.body")
    body.Keypoint, body.BodyResult = namespace["Keypoint"], namespace["BodyResult"]
    sys.modules["refdwpose.body"] = body
    util = types.ModuleType("refdwpose.util")
    util.__package__ = "refdwpose"
    exec(compile((root / "dwpose" / "util.py").read_text(), "util.py", "exec"), util.__dict__)
    tree = ast.parse((root / "dwpose" / "__init__.py").read_text())
    wanted = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in ("draw_poses", "decode_json_as_poses")]
    scope = dict(namespace, util=util, np=np, List=list, Tuple=tuple, Optional=__import__("typing").Optional,
        Union=__import__("typing").Union)
    exec(compile(ast.Module(body=wanted, type_ignores=[]), "__init__.py", "exec"), scope)
    return scope["draw_poses"], scope["decode_json_as_poses"]


def _points(rng, n, centre, spread, width, height, normalised, missing_style):
    xy = centre + rng.normal(0, spread, (n, 2))
    if rng.random() < 0.3:  # on the border exactly
        k = rng.integers(n)
        xy[k, rng.integers(2)] = 0.0
    c = np.ones(n)
    drop = rng.random(n) < 0.2
    c[rng.random(n) < 0.1] = rng.choice([0.5, 0.99])
    flat = np.zeros((n, 3))
    if normalised:
        xy = xy / (width, height)
    flat[:, :2], flat[:, 2] = xy, c
    if missing_style == "openpose":  # the OpenPose preprocessor's undetected points
        flat[drop] = (-1 / width, -1 / height, 1.0)
    else:
        flat[drop] = 0.0
    return flat.reshape(-1).tolist()


def random_frame(rng, kind: str) -> dict:
    width, height = (int(v) for v in rng.integers(64, 1025, 2))
    normalised = kind != "pixels"
    people = []
    for _ in range(int(rng.integers(1, 4))):
        centre = rng.uniform([-0.1 * width, -0.1 * height], [1.1 * width, 1.1 * height])
        if kind == "normalised":  # inside the canvas on the right / bottom: values <= 1 (negatives are fine)
            centre = np.minimum(centre, [0.8 * width, 0.8 * height])
        spread = 0.15 * min(width, height)
        body = _points(rng, 18, centre, spread, width, height, normalised, "zeros")
        if kind == "normalised":
            body = [min(v, 1.0) if i % 3 < 2 else v for i, v in enumerate(body)]
        person = {"pose_keypoints_2d": body}
        style = "openpose" if normalised else "zeros"
        for key, n in (("hand_left_keypoints_2d", 21), ("hand_right_keypoints_2d", 21), ("face_keypoints_2d", 70)):
            if rng.random() < 0.7:
                part_centre = centre + rng.normal(0, spread, 2)
                flat = _points(rng, n, part_centre, spread / 4, width, height, normalised, style)
                if kind == "normalised":
                    flat = [min(v, 1.0) if i % 3 < 2 else v for i, v in enumerate(flat)]
                person[key] = flat
            else:
                person[key] = None
        people.append(person)
    return {"people": people, "canvas_width": width, "canvas_height": height}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, required=True)
    parser.add_argument("--poses", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not (args.reference / "dwpose" / "util.py").is_file():
        print(f"skipped: no controlnet_aux dwpose/util.py under {args.reference}")
        return 0
    draw_poses, decode = load_reference(args.reference)
    rng = np.random.default_rng(args.seed)
    # past_edge: normalised poses with points beyond the right / bottom edge (x or y > 1): the
    # reference reads such a part as pixels (a dot in the corner); TruePose keeps it normalised.
    for kind in ("pixels", "normalised", "past_edge"):
        same = total = exact = 0
        for _ in range(args.poses):
            frame = random_frame(rng, kind)
            poses, _, height, width = decode(frame)
            expected = draw_poses(poses, height, width)
            ours = render_frame(parse_pose_keypoint(frame)[0], width, height, min_confidence=1.0)
            equal = (ours == expected).all(axis=2)
            same, total, exact = same + int(equal.sum()), total + equal.size, exact + int(equal.all())
        print(f"{kind:>10}: {args.poses} poses, {same / total:.6%} of {total} pixels identical, {exact} images identical")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
