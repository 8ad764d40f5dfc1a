"""Pose nodes: POSE_KEYPOINT in and out, skeleton rendering, pose-derived target layouts."""

from __future__ import annotations

import json
import os

import numpy as np
import torch

from ..truepose_core.parsing import ParsingMap
from ..truepose_core.pose import (
    ALIGN_MODES,
    align_frames,
    draw_layout,
    estimate_poses,
    frames_to_pose_keypoint,
    has_visible_person,
    parse_pose_keypoint,
    render_frame,
    require_people,
)
from .errors import for_input, input_error, node_errors
from .progress import frame_progress
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
        return {"required": {"pose_json": ("STRING", {"multiline": True, "default": "", "tooltip":
            "OpenPose JSON text, or the name of a .json file in ComfyUI's input folder."})}}

    def load(self, pose_json):
        text = pose_json.strip()
        if text.endswith(".json") and not text.startswith(("[", "{")):
            import folder_paths

            path = os.path.join(folder_paths.get_input_directory(), text)
            if not os.path.isfile(path):
                raise input_error("TruePose_LoadPoseJSON", "pose_json", f"no file '{text}' in the input folder.",
                    "put the .json file in ComfyUI/input or paste its text.")
            with open(path, encoding="utf-8") as f:
                text = f.read()
        with node_errors("TruePose_LoadPoseJSON"):
            frames = parse_pose_keypoint(text)
        return (frames_to_pose_keypoint(frames),)


class TruePose_SavePoseJSON:
    DESCRIPTION = "Writes POSE_KEYPOINT as OpenPose JSON into ComfyUI's output folder: one list of frames, or one file per frame."
    CATEGORY = CATEGORY
    RETURN_TYPES = ()
    OUTPUT_NODE = True
    FUNCTION = "save"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "pose_keypoint": (POSE_KEYPOINT,),
                "filename_prefix": ("STRING", {"default": "truepose/pose"}),
                "per_frame": ("BOOLEAN", {"default": False, "tooltip": "One OpenPose frame file per frame instead of one list."}),
            }
        }

    def save(self, pose_keypoint, filename_prefix, per_frame=False):
        import folder_paths

        with node_errors("TruePose_SavePoseJSON"):
            frames = frames_to_pose_keypoint(parse_pose_keypoint(pose_keypoint))
        folder, name, counter, subfolder, _ = folder_paths.get_save_image_path(filename_prefix, folder_paths.get_output_directory())
        files = {f"{name}_{counter:05}_{i:04}.json": frame for i, frame in enumerate(frames)} if per_frame else {
            f"{name}_{counter:05}_.json": frames}
        for filename, content in files.items():
            with open(os.path.join(folder, filename), "w", encoding="utf-8") as f:
                json.dump(content, f)
        return {"ui": {"text": [os.path.join(subfolder, filename) for filename in files]}}


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
                "stick_scale": ("FLOAT", {"default": 1.0, "min": 0.25, "max": 8.0, "step": 0.25, "tooltip":
                    "Limb and joint thickness (xinsir SDXL ControlNets like ~2)."}),
                "body": ("BOOLEAN", {"default": True}),
                "hands": ("BOOLEAN", {"default": True, "tooltip": "Drawn when the pose has hand keypoints (e.g. DWPose)."}),
                "face": ("BOOLEAN", {"default": True, "tooltip": "Drawn when the pose has the 70 face keypoints."}),
            }
        }

    def render(self, pose_keypoint, width, height, stick_scale, body=True, hands=True, face=True):
        with node_errors("TruePose_RenderPose"):
            frames = parse_pose_keypoint(pose_keypoint)
        if not any(has_visible_person(f) for f in frames):
            raise input_error(
                "TruePose_RenderPose", "pose_keypoint",
                    "the pose is empty: no frame has a visible keypoint, so the ControlNet would get a black image.",
                "check that the pose estimator found a person, or load another pose.",
            )
        size = _size(frames[0], width, height)
        images = [render_frame(f, *size, stick_scale, body, hands, face) for f in frames]
        return (torch.from_numpy(np.stack(images)).float() / 255.0,)


class TruePose_PoseToLayout:
    DESCRIPTION = ("A coarse map of where face, hair, clothes and limbs will be in the output, from the target pose: "
                   "connect it to Apply TruePose's target_layout (routing) or turn it into masks.")
    CATEGORY = CATEGORY
    RETURN_TYPES = (PARSING, "MASK")
    RETURN_NAMES = ("layout", "person_mask")
    FUNCTION = "layout"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "pose_keypoint": (POSE_KEYPOINT,),
                "width": (
                    "INT",
                    {
                        "default": 0,
                        "min": 0,
                        "max": 8192,
                        "step": 8,
                        "tooltip": "0 = the pose's canvas width. Use the size of the image you generate.",
                    },
                ),
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


class TruePose_AlignPose:
    DESCRIPTION = (
        "Retargets a driving pose (from another body) onto the source person: the same motion with the source's "
        "proportions and place, so the output keeps the source's build. Every frame uses one scale."
    )
    CATEGORY = CATEGORY
    RETURN_TYPES = (POSE_KEYPOINT,)
    RETURN_NAMES = ("pose_keypoint",)
    FUNCTION = "align"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "reference": (POSE_KEYPOINT, {"tooltip": "The source person's pose (first person of the first frame)."}),
                "driving": (POSE_KEYPOINT, {"tooltip": "The target pose(s) to retarget; its canvas is kept."}),
                "mode": (
                    list(ALIGN_MODES),
                    {
                        "default": "scale_translate",
                        "tooltip": "scale_translate: uniform scale + move; limb_lengths: also every bone takes the source's length.",
                    },
                ),
            }
        }

    def align(self, reference, driving, mode):
        with node_errors("TruePose_AlignPose"):
            with for_input("reference"):
                reference_frame = parse_pose_keypoint(reference)[0]
            with for_input("driving"):
                driving_frames = parse_pose_keypoint(driving)
            aligned = align_frames(reference_frame, driving_frames, mode)
        return (frames_to_pose_keypoint(aligned),)


class TruePose_EstimatePose:
    DESCRIPTION = (
        "Finds the body pose in every image, offline (MediaPipe's bundled model, one person per image). "
        "comfyui_controlnet_aux's DWPose output works everywhere this node's output does."
    )
    CATEGORY = CATEGORY
    RETURN_TYPES = (POSE_KEYPOINT, "IMAGE")
    RETURN_NAMES = ("pose_keypoint", "skeleton")
    FUNCTION = "estimate"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "image": ("IMAGE",),
                "if_no_person": (
                    ["error", "empty pose"],
                    {"default": "error", "tooltip": "What to do with a frame where nobody is found."},
                ),
            }
        }

    def estimate(self, image, if_no_person):
        frame_done = frame_progress(int(image.shape[0]))
        pixels = (image[..., :3].clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
        with node_errors("TruePose_EstimatePose"):
            frames = estimate_poses(pixels, on_frame=frame_done)
        missing = [i for i, f in enumerate(frames) if not f.people]
        if missing and if_no_person == "error":
            raise input_error(
                "TruePose_EstimatePose",
                "image",
                f"no person found in frame(s) {missing}.",
                "use a photo where the whole person is visible, or set if_no_person to 'empty pose'.",
            )
        skeletons = np.stack([render_frame(f, f.width, f.height) for f in frames])
        return (frames_to_pose_keypoint(frames), torch.from_numpy(skeletons).float() / 255.0)


NODE_CLASS_MAPPINGS = {
    "TruePose_LoadPoseJSON": TruePose_LoadPoseJSON,
    "TruePose_SavePoseJSON": TruePose_SavePoseJSON,
    "TruePose_RenderPose": TruePose_RenderPose,
    "TruePose_PoseToLayout": TruePose_PoseToLayout,
    "TruePose_AlignPose": TruePose_AlignPose,
    "TruePose_EstimatePose": TruePose_EstimatePose,
}
NODE_DISPLAY_NAME_MAPPINGS = {
    "TruePose_LoadPoseJSON": "Load Pose JSON (TP)",
    "TruePose_SavePoseJSON": "Save Pose JSON (TP)",
    "TruePose_RenderPose": "Render Pose (TP)",
    "TruePose_PoseToLayout": "Pose to Layout (TP)",
    "TruePose_AlignPose": "Align Pose to Source (TP)",
    "TruePose_EstimatePose": "Estimate Pose (MediaPipe) (TP)",
}
