"""Offline pose estimation with the models bundled in mediapipe==0.10.21 (legacy solutions API).

MediaPipe finds one person per image (the most prominent). Its 33 landmarks become COCO-18 with
a synthesised neck; landmarks below `min_visibility` are missing.
"""

from __future__ import annotations

import numpy as np

from ..errors import TruePoseInputError
from .convert import mediapipe33_to_coco18
from .keypoints import Person, PoseFrame


def _mediapipe_pose():
    try:
        import mediapipe as mp
    except Exception as e:  # ImportError, or a broken native install
        raise TruePoseInputError(
            "image", f"pose estimation needs mediapipe, which could not be imported ({type(e).__name__}: {e}).",
            "pip install --no-deps mediapipe==0.10.21 absl-py attrs flatbuffers 'protobuf>=4.25.3,<5', "
            "or connect a POSE_KEYPOINT from comfyui_controlnet_aux's DWPose instead.",
        ) from None
    return mp.solutions.pose


def estimate_poses(images: np.ndarray, min_visibility: float = 0.5, on_frame=None) -> list[PoseFrame]:
    """images: (B, H, W, 3) uint8 RGB -> one PoseFrame per image (no people where none was found)."""
    pose_module = _mediapipe_pose()
    frames: list[PoseFrame] = []
    height, width = images.shape[1:3]
    with pose_module.Pose(static_image_mode=True, model_complexity=1) as detector:
        for i, image in enumerate(images):
            result = detector.process(np.ascontiguousarray(image))
            people: tuple[Person, ...] = ()
            if result.pose_landmarks is not None:
                landmarks = result.pose_landmarks.landmark
                points = np.array([[lm.x * width, lm.y * height] for lm in landmarks], np.float32)
                visible = np.array([lm.visibility >= min_visibility for lm in landmarks])
                points[~visible] = np.nan
                people = (Person(mediapipe33_to_coco18(points)),)
            frames.append(PoseFrame(width, height, people))
            if on_frame is not None:
                on_frame(i)
    return frames
