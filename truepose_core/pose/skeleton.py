"""The OpenPose COCO-18 skeleton: keypoint order, limbs and the standard colours."""

from __future__ import annotations

KEYPOINT_NAMES: tuple[str, ...] = (
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
    "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
    "right_eye", "left_eye", "right_ear", "left_ear",
)
NUM_KEYPOINTS = len(KEYPOINT_NAMES)

# 0-based limb pairs, in OpenPose's drawing order (limb i takes colour i).
LIMBS: tuple[tuple[int, int], ...] = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10),
    (1, 11), (11, 12), (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),
)

# RGB. Limb i and keypoint i use colour i.
COLOURS: tuple[tuple[int, int, int], ...] = (
    (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0),
    (0, 255, 0), (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255),
    (0, 0, 255), (85, 0, 255), (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85),
)
LIMB_COLOUR_FACTOR = 0.6
STICK_WIDTH = 4
JOINT_RADIUS = 4

# Hands: 21 points, 4 per finger from the wrist (0); edge i is coloured HSV(i / 20, 1, 1).
HAND_EDGES: tuple[tuple[int, int], ...] = tuple(
    pair for finger in range(5) for pair in ((0 if j == 0 else 4 * finger + j, 4 * finger + j + 1) for j in range(4))
)
HAND_JOINT_COLOUR = (0, 0, 255)
HAND_EDGE_THICKNESS = 2
FACE_COLOUR = (255, 255, 255)
FACE_RADIUS = 3
