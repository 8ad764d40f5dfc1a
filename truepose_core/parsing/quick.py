"""The 'quick' offline parser: MediaPipe's body landmarks + person mask -> LIP-20 regions.

No parsing weights ship on any package index, but mediapipe==0.10.21 ships a pose landmarker
and a person segmenter. Regions are drawn from landmark geometry and clipped to the person:
face and hair around the head, the torso as upper clothes, limbs split into skin (arms, legs)
or clothing (sleeves, trousers) by comparing their colour with the face's, feet as shoes.
It is coarse; SCHP gives the quality.
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import TruePoseInputError
from .parser import FrameCallback, ParseResult, check_images
from .parsing_map import ParsingMap
from .quick_geometry import Landmarks, draw_regions

PERSON_THRESHOLD = 0.5


def _import_mediapipe():
    try:
        import mediapipe as mp

        return mp.solutions
    except Exception as e:  # ImportError, or a protobuf mismatch surfacing as TypeError
        raise TruePoseInputError(
            "model_name", f"the quick parser needs mediapipe, which could not be imported ({type(e).__name__}: {e}).",
            "pip install --no-deps mediapipe==0.10.21 absl-py attrs flatbuffers 'protobuf>=4.25.3,<5' matplotlib, "
            "or pick an SCHP model file.",
        ) from None


class QuickParser:
    name = "quick"
    label_set = "lip"

    def __init__(self) -> None:
        self.solutions = _import_mediapipe()  # fail at load time, where the error names the fix

    def parse(self, images: torch.Tensor, flip_tta: bool = False, on_frame: FrameCallback | None = None) -> ParseResult:
        """flip_tta is accepted for interface parity; landmark geometry gains nothing from it."""
        images = check_images(images)
        solutions = self.solutions
        frames = (images.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
        labels, masks = [], []
        with (
            solutions.pose.Pose(static_image_mode=True, model_complexity=1, enable_segmentation=True) as pose,
            solutions.selfie_segmentation.SelfieSegmentation(model_selection=1) as selfie,
        ):
            for i, rgb in enumerate(frames):
                rgb = np.ascontiguousarray(rgb)
                found = pose.process(rgb)
                if found.pose_landmarks is not None and found.segmentation_mask is not None:
                    # The pose model's own body mask: the selfie model also takes in held props.
                    person = found.segmentation_mask > PERSON_THRESHOLD
                    frame_labels = draw_regions(rgb, person, Landmarks.from_mediapipe(found.pose_landmarks, rgb.shape[:2]))
                else:
                    person = selfie.process(rgb).segmentation_mask > PERSON_THRESHOLD
                    frame_labels = np.zeros(person.shape, np.uint8)
                labels.append(torch.from_numpy(frame_labels))
                masks.append(torch.from_numpy(person.astype(np.float32)))
                if on_frame is not None:
                    on_frame(i)
        return ParseResult(ParsingMap(torch.stack(labels), "lip"), torch.stack(masks))
