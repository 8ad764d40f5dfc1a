"""Pose: POSE_KEYPOINT I/O, the COCO-18 skeleton, rendering, retargeting, pose-derived layouts."""

from .align import ALIGN_MODES, align_frames
from .convert import coco17_to_coco18, mediapipe33_to_coco18
from .estimate import estimate_poses
from .keypoints import Person, PoseFrame, frames_to_pose_keypoint, has_visible_person, require_people
from .layout import draw_layout
from .reader import MAX_CANVAS_SIDE, MAX_PEOPLE, parse_pose_keypoint
from .render import render_frame

__all__ = [
    "ALIGN_MODES",
    "MAX_CANVAS_SIDE",
    "MAX_PEOPLE",
    "Person",
    "PoseFrame",
    "align_frames",
    "coco17_to_coco18",
    "draw_layout",
    "estimate_poses",
    "frames_to_pose_keypoint",
    "has_visible_person",
    "mediapipe33_to_coco18",
    "parse_pose_keypoint",
    "render_frame",
    "require_people",
]
