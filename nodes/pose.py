"""Pose nodes: POSE_KEYPOINT in and out, skeleton rendering, pose-derived target layouts."""

from __future__ import annotations

import json
import os

import numpy as np
import torch

from ..truepose_core.parsing import ParsingMap
from ..truepose_core.pose import draw_layout, frames_to_pose_keypoint, parse_pose_keypoint, render_frame, require_people
from .errors import input_error, node_errors
from .types import PARSING, POSE_KEYPOINT

CATEGORY = "TruePose/pose"


def _size(frame, width: int, height: int) -> tuple[int, int]:
    return (width or frame.width, height or frame.height)


class TruePose_LoadPoseJSON:
    DESCRIPTION = "OpenPose JSON (one frame or a list of frames; normalised or pixel coordinates) -> POSE_KEYPOINT."
    CATEGORY = CATEGORY
    RETURN_TYPES = (POSE_KEYPOINT,)
    RETURN_NAMES = ("pose_keypoint",)
    FUNCTION = "load"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"pose_json": ("STRING", {"multiline": True, "default": "", "tooltip": "OpenPose JSON text, or the name of a .json file in ComfyUI's input folder."})}}

    def load(self, pose_json):
        text = pose_json.strip()
        if text.endswith(".json") and not text.startswith(("[", "{")):
            import folder_paths

            path = os.path.join(folder_paths.get_input_directory(), text)
            if not os.path.isfile(path):
                raise input_error("TruePose_LoadPoseJSON", "pose_json", f"no file '{text}' in the input folder.", "put the .json file in ComfyUI/input or paste its text.")
            with open(path, encoding="utf-8") as f:
                text = f.read()
        with node_errors("TruePose_LoadPoseJSON"):
            frames = parse_pose_keypoint(text)
        return (frames_to_pose_keypoint(frames),)


class TruePose_SavePoseJSON:
    DESCRIPTION = "Writes POSE_KEYPOINT as OpenPose JSON into ComfyUI's output folder (one list of frames)."
    CATEGORY = CATEGORY
    RETURN_TYPES = ()
    OUTPUT_NODE = True
    FUNCTION = "save"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"pose_keypoint": (POSE_KEYPOINT,), "filename_prefix": ("STRING", {"default": "truepose/pose"})}}

    def save(self, pose_keypoint, filename_prefix):
        import folder_paths

        with node_errors("TruePose_SavePoseJSON"):
            frames = frames_to_pose_keypoint(parse_pose_keypoint(pose_keypoint))
        folder, name, counter, subfolder, _ = folder_paths.get_save_image_path(filename_prefix, folder_paths.get_output_directory())
        filename = f"{name}_{counter:05}_.json"
        with open(os.path.join(folder, filename), "w", encoding="utf-8") as f:
            json.dump(frames, f)
        return {"ui": {"text": [os.path.join(subfolder, filename)]}}


class TruePose_RenderPose:
    DESCRIPTION = "Renders every frame of a POSE_KEYPOINT as the standard OpenPose skeleton image (for an OpenPose ControlNet)."
    CATEGORY = CATEGORY
    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "render"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "pose_keypoint": (POSE_KEYPOINT,),
                "width": ("INT", {"default": 0, "min": 0, "max": 8192, "step": 8, "tooltip": "0 = the pose's canvas width."}),
                "height": ("INT", {"default": 0, "min": 0, "max": 8192, "step": 8, "tooltip": "0 = the pose's canvas height."}),
                "stick_scale": ("FLOAT", {"default": 1.0, "min": 0.25, "max": 8.0, "step": 0.25, "tooltip": "Limb and joint thickness (xinsir SDXL ControlNets like ~2)."}),
            }
        }

    def render(self, pose_keypoint, width, height, stick_scale):
        with node_errors("TruePose_RenderPose"):
            frames = parse_pose_keypoint(pose_keypoint)
        size = _size(frames[0], width, height)
        images = [render_frame(f, *size, stick_scale) for f in frames]
        return (torch.from_numpy(np.stack(images)).float() / 255.0,)


class TruePose_PoseToLayout:
    DESCRIPTION = "A coarse map of where face, hair, clothes and limbs will be in the output, from the target pose: connect it to Apply TruePose's target_layout (routing) or turn it into masks."
    CATEGORY = CATEGORY
    RETURN_TYPES = (PARSING, "MASK")
    RETURN_NAMES = ("layout", "person_mask")
    FUNCTION = "layout"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "pose_keypoint": (POSE_KEYPOINT,),
                "width": ("INT", {"default": 0, "min": 0, "max": 8192, "step": 8, "tooltip": "0 = the pose's canvas width. Use the size of the image you generate."}),
                "height": ("INT", {"default": 0, "min": 0, "max": 8192, "step": 8}),
            }
        }

    def layout(self, pose_keypoint, width, height):
        with node_errors("TruePose_PoseToLayout"):
            frames = parse_pose_keypoint(pose_keypoint)
            require_people(frames)
        size = _size(frames[0], width, height)
        labels = torch.from_numpy(np.stack([draw_layout(f, *size) for f in frames]))
        return (ParsingMap(labels, "lip"), (labels > 0).float())


NODE_CLASS_MAPPINGS = {
    "TruePose_LoadPoseJSON": TruePose_LoadPoseJSON,
    "TruePose_SavePoseJSON": TruePose_SavePoseJSON,
    "TruePose_RenderPose": TruePose_RenderPose,
    "TruePose_PoseToLayout": TruePose_PoseToLayout,
}
NODE_DISPLAY_NAME_MAPPINGS = {
    "TruePose_LoadPoseJSON": "Load Pose JSON (TP)",
    "TruePose_SavePoseJSON": "Save Pose JSON (TP)",
    "TruePose_RenderPose": "Render Pose (TP)",
    "TruePose_PoseToLayout": "Pose to Layout (TP)",
}
