"""Local HTTP route for the pose editor: "match source proportions" (the core retargeting).

POST /truepose/pose/match_proportions  {"reference": POSE_KEYPOINT, "pose": POSE_KEYPOINT,
"mode": "scale_translate" | "limb_lengths"}  ->  200 {"pose": POSE_KEYPOINT}, or 400 / 413
{"error": why} for a bad body. Bodies over MAX_BODY_BYTES are refused before they are read;
decoding, validation and retargeting run in a worker thread, so the server keeps answering.
Registered only when a real server.PromptServer exists (not in headless in-process hosts).
"""

from __future__ import annotations

import asyncio
import json
import logging

from ..truepose_core.errors import TruePoseInputError
from ..truepose_core.pose import ALIGN_MODES, align_frames, frames_to_pose_keypoint, parse_pose_keypoint

MATCH_PROPORTIONS_ROUTE = "/truepose/pose/match_proportions"
MAX_BODY_BYTES = 16 * 1024 * 1024
_SHAPE = '{"reference": POSE_KEYPOINT, "pose": POSE_KEYPOINT, "mode": "scale_translate" | "limb_lengths"}'
_registered = False


class RouteInputError(ValueError):
    pass


def _strict_constant(name: str):
    raise RouteInputError(f"the body holds {name}, which is not JSON: send finite numbers only.")


def decode_body(body: bytes):
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_strict_constant)
    except UnicodeDecodeError:
        raise RouteInputError("the request body is not UTF-8 text.") from None
    except json.JSONDecodeError as e:
        raise RouteInputError(f"the request body is not JSON ({e.msg} at line {e.lineno}, column {e.colno}).") from None
    except RecursionError:
        raise RouteInputError("the request body is nested far too deeply.") from None


def match_proportions(payload) -> list[dict]:
    """Validate the request body and retarget every frame of `pose` onto `reference`'s build."""
    if not isinstance(payload, dict):
        raise RouteInputError(f"expected a JSON object {_SHAPE}.")
    missing = [key for key in ("reference", "pose") if payload.get(key) in (None, "", [])]
    if missing:
        raise RouteInputError(f"missing {' and '.join(missing)}: connect reference_pose and run the node once.")
    mode = payload.get("mode", "scale_translate")
    if not isinstance(mode, str) or mode not in ALIGN_MODES:
        raise RouteInputError(f"unknown mode {mode!r}: use {' or '.join(ALIGN_MODES)}.")
    try:
        reference = parse_pose_keypoint(payload["reference"], "reference")
        driving = parse_pose_keypoint(payload["pose"], "pose")
        return frames_to_pose_keypoint(align_frames(reference[0], driving, mode))
    except TruePoseInputError as e:
        raise RouteInputError(str(e)) from None


def handle(body: bytes) -> tuple[int, str]:
    """The whole request, off the event loop: (status, JSON text with finite numbers only)."""
    try:
        return 200, json.dumps({"pose": match_proportions(decode_body(body))}, allow_nan=False)
    except RouteInputError as e:
        return 400, json.dumps({"error": str(e)})
    except Exception as e:  # a bug, still answered in JSON
        logging.exception("TruePose %s failed", MATCH_PROPORTIONS_ROUTE)
        return 500, json.dumps({"error": f"internal error ({type(e).__name__}: {e}); please report it."})


async def _read_capped(request) -> bytes | None:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return None
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


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
        body = await _read_capped(request)
        if body is None:
            error = f"the request body is over {MAX_BODY_BYTES // 2**20} MiB; send one pose sequence of normal size."
            return web.json_response({"error": error}, status=413)
        status, text = await asyncio.get_running_loop().run_in_executor(None, handle, body)
        return web.Response(text=text, status=status, content_type="application/json")

    _registered = True
    return True
