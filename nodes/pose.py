"""Pose nodes: skeleton rendering, retargeting, estimation, pose-derived target layouts (files: pose_files.py)."""

from __future__ import annotations


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
from .errors import input_error, node_errors
from .progress import frame_progress
from .types import PARSING, POSE_KEYPOINT

CATEGORY = "TruePose/pose"
MAX_RENDER_SIDE = 8192
MIN_CONFIDENCE = ("FLOAT", {
    "default": 1.0, "min": 0.0, "max": 1.0, "step": 0.01,
    "tooltip": ("Points with a lower confidence c are left out. 1.0 = controlnet_aux (draws c >= 1 only); ~0.3 for CMU OpenPose JSON with "
        "real scores."),
})


def read_pose(node: str, pose, input_name: str = "pose_keypoint", width: int | None = None, height: int | None = None):
    """The one validated reader. Nodes with width / height inputs pass them: when both are set they
    are the canvas of a pose that gives none."""
    alternative = ", or set the node's width and height" if width is not None else ""
    with node_errors(node):
        return parse_pose_keypoint(pose, input_name, default_canvas=(width, height) if width and height else None,
            canvas_alternative=alternative)


def _size(node: str, frame, width: int, height: int) -> tuple[int, int]:
    size = (width or frame.width, height or frame.height)
    if max(size) > MAX_RENDER_SIDE:
        raise input_error(
            node, "width" if size[0] > MAX_RENDER_SIDE else "height",
            f"the output would be {size[0]}x{size[1]} (the pose's canvas); at most {MAX_RENDER_SIDE} is drawn.",
            f"set width and height (at most {MAX_RENDER_SIDE}); the pose is scaled onto them.",
        )
    return size


class TruePose_RenderPose:
    DESCRIPTION = (
        "Renders every frame of a POSE_KEYPOINT as the standard OpenPose skeleton image (for an OpenPose ControlNet), "
        "with comfyui_controlnet_aux's drawing rules."
    )
    CATEGORY = CATEGORY
    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "render"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "pose_keypoint": (POSE_KEYPOINT,),
                "width": ("INT", {"default": 0, "min": 0, "max": MAX_RENDER_SIDE, "step": 8, "tooltip": "0 = the pose's canvas width."}),
                "height": ("INT", {"default": 0, "min": 0, "max": MAX_RENDER_SIDE, "step": 8, "tooltip": "0 = the pose's canvas height."}),
                "stick_scale": ("FLOAT",
                    {"default": 1.0, "min": 0.25, "max": 8.0, "step": 0.25,
                        "tooltip": "Limb and joint thickness (xinsir SDXL ControlNets like ~2)."}),
                "body": ("BOOLEAN", {"default": True}),
                "hands": ("BOOLEAN", {"default": True, "tooltip": "Drawn when the pose has hand keypoints (e.g. DWPose)."}),
                "face": ("BOOLEAN", {"default": True, "tooltip": "Drawn when the pose has the 70 face keypoints."}),
            },
            "optional": {"min_confidence": MIN_CONFIDENCE},
        }

    def render(self, pose_keypoint, width, height, stick_scale, body=True, hands=True, face=True, min_confidence=1.0):
        frames = read_pose("TruePose_RenderPose", pose_keypoint, width=width, height=height)
        if not any(has_visible_person(f, min_confidence) for f in frames):
            if any(has_visible_person(f) for f in frames):
                with node_errors("TruePose_RenderPose"):
                    require_people([next(f for f in frames if has_visible_person(f))], "min_confidence", min_confidence)
            raise input_error(
                "TruePose_RenderPose", "pose_keypoint",
                "the pose is empty: no frame has a visible keypoint, so the ControlNet would get a black image.",
                "check that the pose estimator found a person, or load another pose.",
            )
        size = _size("TruePose_RenderPose", frames[0], width, height)
        images = [render_frame(f, *size, stick_scale, body, hands, face, min_confidence) for f in frames]
        return (torch.from_numpy(np.stack(images)).float() / 255.0,)


class TruePose_PoseToLayout:
    DESCRIPTION = ("A coarse map of where face, hair, clothes and limbs will be in the output, from the target pose: connect it to Apply "
        "TruePose's target_layout (routing) or turn it into masks.")
    CATEGORY = CATEGORY
    RETURN_TYPES = (PARSING, "MASK")
    RETURN_NAMES = ("layout", "person_mask")
    FUNCTION = "layout"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "pose_keypoint": (POSE_KEYPOINT,),
                "width": ("INT",
                    {"default": 0, "min": 0, "max": 8192, "step": 8,
                        "tooltip": "0 = the pose's canvas width. Use the size of the image you generate."}),
                "height": ("INT", {"default": 0, "min": 0, "max": 8192, "step": 8}),
            }
        }

    def layout(self, pose_keypoint, width, height):
        frames = read_pose("TruePose_PoseToLayout", pose_keypoint, width=width, height=height)
        with node_errors("TruePose_PoseToLayout"):
            require_people(frames)
        size = _size("TruePose_PoseToLayout", frames[0], width, height)
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
                "mode": (list(ALIGN_MODES),
                    {"default": "scale_translate",
                        "tooltip": "scale_translate: uniform scale + move; limb_lengths: also every bone takes the source's length."}),
            }
        }

    def align(self, reference, driving, mode):
        ref, drv = read_pose("TruePose_AlignPose", reference, "reference"), read_pose("TruePose_AlignPose", driving, "driving")
        with node_errors("TruePose_AlignPose"):
            aligned = align_frames(ref[0], drv, mode)
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
                "if_no_person": (["error", "empty pose"],
                    {"default": "error", "tooltip": "What to do with a frame where nobody is found."}),
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
                "TruePose_EstimatePose", "image", f"no person found in frame(s) {missing}.",
                "use a photo where the whole person is visible, or set if_no_person to 'empty pose'.",
            )
        skeletons = np.stack([render_frame(f, f.width, f.height) for f in frames])
        return (frames_to_pose_keypoint(frames), torch.from_numpy(skeletons).float() / 255.0)


NODE_CLASS_MAPPINGS = {
    "TruePose_RenderPose": TruePose_RenderPose,
    "TruePose_PoseToLayout": TruePose_PoseToLayout,
    "TruePose_AlignPose": TruePose_AlignPose,
    "TruePose_EstimatePose": TruePose_EstimatePose,
}
NODE_DISPLAY_NAME_MAPPINGS = {
    "TruePose_RenderPose": "Render Pose (TP)",
    "TruePose_PoseToLayout": "Pose to Layout (TP)",
    "TruePose_AlignPose": "Align Pose to Source (TP)",
    "TruePose_EstimatePose": "Estimate Pose (MediaPipe) (TP)",
}
