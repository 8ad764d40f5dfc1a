"""Pose: POSE_KEYPOINT I/O, the COCO-18 skeleton, rendering and pose-derived target layouts."""

from .keypoints import Person, PoseFrame, frames_to_pose_keypoint, parse_pose_keypoint, require_people
from .layout import draw_layout
from .render import render_frame

__all__ = ["Person", "PoseFrame", "draw_layout", "frames_to_pose_keypoint", "parse_pose_keypoint", "render_frame", "require_people"]
