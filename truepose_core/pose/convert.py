"""Other keypoint layouts -> OpenPose COCO-18 (the neck, absent elsewhere, is the shoulders' midpoint)."""

from __future__ import annotations

import numpy as np

# COCO-18 index -> source index (or a pair to average), for each layout.
_FROM_COCO17 = (0, (5, 6), 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3)
_FROM_MEDIAPIPE33 = (0, (11, 12), 12, 14, 16, 11, 13, 15, 24, 26, 28, 23, 25, 27, 5, 2, 8, 7)
# CMU OpenPose BODY_25 (8 = mid-hip, 19-24 = feet) -> COCO-18
BODY25_TO_COCO18 = (0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18)


def _remap(points: np.ndarray, table) -> np.ndarray:
    """points: (N, 2) with NaN for missing -> (18, 2); a pair is averaged only when both exist."""
    out = np.full((18, 2), np.nan, np.float32)
    for i, src in enumerate(table):
        if isinstance(src, tuple):
            a, b = points[src[0]], points[src[1]]
            if np.isfinite(a).all() and np.isfinite(b).all():
                out[i] = (a + b) / 2
        else:
            out[i] = points[src]
    return out


def coco17_to_coco18(points: np.ndarray) -> np.ndarray:
    return _remap(np.asarray(points, np.float32), _FROM_COCO17)


def mediapipe33_to_coco18(points: np.ndarray) -> np.ndarray:
    return _remap(np.asarray(points, np.float32), _FROM_MEDIAPIPE33)
