"""Local HTTP route for the pose editor: "match source proportions" (the core retargeting).

POST /truepose/pose/match_proportions  {"reference": POSE_KEYPOINT, "pose": POSE_KEYPOINT,
"mode": "scale_translate" | "limb_lengths"}  ->  200 {"pose": POSE_KEYPOINT}  or  400 {"error": why}.
Registered only when a real server.PromptServer exists (not in headless in-process hosts).
"""

from __future__ import annotations

import json

from ..truepose_core.errors import TruePoseInputError
from ..truepose_core.pose import ALIGN_MODES, align_frames, frames_to_pose_keypoint, parse_pose_keypoint

MATCH_PROPORTIONS_ROUTE = "/truepose/pose/match_proportions"
_registered = False


class RouteInputError(ValueError):
    pass


def match_proportions(payload) -> list[dict]:
    """Validate the request body and retarget every frame of `pose` onto `reference`'s build."""
    if not isinstance(payload, dict):
        raise RouteInputError("expected a JSON object {\"reference\": POSE_KEYPOINT, \"pose\": POSE_KEYPOINT, \"mode\": ...}.")
    missing = [key for key in ("reference", "pose") if payload.get(key) in (None, "", [])]
    if missing:
        raise RouteInputError(f"missing {' and '.join(missing)}: connect reference_pose and run the node once.")
    mode = payload.get("mode", "scale_translate")
    if mode not in ALIGN_MODES:
        raise RouteInputError(f"unknown mode {mode!r}: use {' or '.join(ALIGN_MODES)}.")
    try:
        reference = parse_pose_keypoint(payload["reference"])
        driving = parse_pose_keypoint(payload["pose"])
        return frames_to_pose_keypoint(align_frames(reference[0], driving, mode))
    except TruePoseInputError as e:
        raise RouteInputError(str(e)) from None


def register_routes() -> bool:
    """Add the route to PromptServer.instance.routes once; False where there is no server."""
    global _registered
    if _registered:
        return True
    try:
        from server import PromptServer
    except ImportError:
        return False
    instance = getattr(PromptServer, "instance", None)
    if instance is None:
        return False
    from aiohttp import web

    @instance.routes.post(MATCH_PROPORTIONS_ROUTE)
    async def match_proportions_route(request):
        try:
            payload = json.loads(await request.text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.json_response({"error": "the request body is not JSON."}, status=400)
        try:
            return web.json_response({"pose": match_proportions(payload)})
        except RouteInputError as e:
            return web.json_response({"error": str(e)}, status=400)

    _registered = True
    return True
