"""TruePose_PoseEditor: a pose edited by hand in the node (web/js/truepose_pose_editor.js).

The edit lives in the hidden `pose_store` widget (POSE_KEYPOINT JSON, normalised). Empty store:
the incoming pose passes through (or a default standing skeleton). The UI payload hands the
incoming pose, the output, the background frames and the reference pose back to the editor.
"""

from __future__ import annotations

import numpy as np
import torch

from ..truepose_core.pose import frames_to_pose_keypoint, render_frame
from .pose import read_pose
from .pose_routes import register_routes
from .previews import save_temp_png
from .types import POSE_KEYPOINT

POSE_KEY = "truepose_pose"  # ui key read by the editor
MAX_BACKGROUND_FRAMES = 16
# A standing person facing the camera (COCO-18, normalised; the person's right is on the image's left).
DEFAULT_BODY = (
    (0.5, 0.18), (0.5, 0.27), (0.4, 0.28), (0.37, 0.42), (0.36, 0.55), (0.6, 0.28), (0.63, 0.42), (0.64, 0.55),
    (0.44, 0.55), (0.44, 0.72), (0.44, 0.89), (0.56, 0.55), (0.56, 0.72), (0.56, 0.89),
    (0.48, 0.165), (0.52, 0.165), (0.46, 0.175), (0.54, 0.175),
)


def default_pose(width: int, height: int) -> list[dict]:
    flat = [v for x, y in DEFAULT_BODY for v in (x, y, 1.0)]
    person = {"pose_keypoints_2d": flat, "face_keypoints_2d": None, "hand_left_keypoints_2d": None, "hand_right_keypoints_2d": None}
    return [{"people": [person], "canvas_width": width, "canvas_height": height}]


class TruePose_PoseEditor:
    DESCRIPTION = (
        "Edit a pose by hand inside the node: drag joints, hide or delete one, flip, scale, step through frames, "
        "match the source person's proportions. Starts from the connected pose or a standing skeleton."
    )
    CATEGORY = "TruePose/pose"
    RETURN_TYPES = (POSE_KEYPOINT, "IMAGE")
    RETURN_NAMES = ("pose_keypoint", "image")
    OUTPUT_TOOLTIPS = ("The edited pose (normalised OpenPose JSON, one frame per image).", "The edited pose drawn as an OpenPose skeleton.")
    FUNCTION = "edit"
    OUTPUT_NODE = True  # runs (and fills the editor with the incoming pose) even with nothing connected

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "pose_store": ("STRING", {
                    "default": "",
                    "default_pose": default_pose(512, 768),  # the editor's starting skeleton (read by the web extension)
                    "tooltip": "The edited pose (written by the editor). Empty: the incoming pose or a standing skeleton.",
                }),
                "width": ("INT", {"default": 512, "min": 64, "max": 8192, "step": 8, "tooltip": "Canvas width of the output pose."}),
                "height": ("INT", {"default": 768, "min": 64, "max": 8192, "step": 8, "tooltip": "Canvas height of the output pose."}),
            },
            "optional": {
                "pose_keypoint": (POSE_KEYPOINT, {"tooltip": "A pose to start from (DWPose, OpenPose, TruePose)."}),
                "bg_image": ("IMAGE", {"tooltip": "Shown behind the skeleton while editing (one per frame)."}),
                "reference_pose": (POSE_KEYPOINT, {"tooltip": "The source person's pose, for 'match source proportions'."}),
            },
        }

    def edit(self, pose_store, width, height, pose_keypoint=None, bg_image=None, reference_pose=None):
        def read(value, input_name):
            return frames_to_pose_keypoint(read_pose("TruePose_PoseEditor", value, input_name, width, height))

        incoming = read(pose_keypoint, "pose_keypoint") if pose_keypoint is not None else None
        reference = read(reference_pose, "reference_pose") if reference_pose is not None else None
        chosen = read(pose_store, "pose_store") if pose_store.strip() else (incoming or default_pose(width, height))
        pose = [dict(frame, canvas_width=width, canvas_height=height) for frame in chosen]  # normalised: only the canvas changes
        frames = read_pose("TruePose_PoseEditor", pose, "pose_store")
        image = torch.from_numpy(np.stack([render_frame(f, width, height) for f in frames])).float() / 255.0
        backgrounds = [] if bg_image is None else [save_temp_png(frame, "truepose_pose_bg") for frame in bg_image[:MAX_BACKGROUND_FRAMES]]
        payload = {"input": incoming, "output": pose, "reference": reference, "backgrounds": backgrounds,
            "edited": bool(pose_store.strip())}
        return {"ui": {POSE_KEY: [payload]}, "result": (pose, image)}


register_routes()

NODE_CLASS_MAPPINGS = {"TruePose_PoseEditor": TruePose_PoseEditor}
NODE_DISPLAY_NAME_MAPPINGS = {"TruePose_PoseEditor": "Pose Editor (TP)"}
