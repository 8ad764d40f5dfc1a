"""The shared input checks: numbers against a declared range, image/mask layouts, batches, aspect."""

import math

import pytest
import torch

from truepose_core.errors import TruePoseInputError
from truepose_core.validation import (
    check_apply_inputs,
    check_aspect,
    check_batch,
    check_image,
    check_layout_against_grid,
    check_mask,
    check_number,
    check_pose_image_against_latent,
)


@pytest.mark.parametrize(
    ("value", "low", "high", "message"),
    [
        (math.nan, 0.0, 1.0, "input 'x': the value is NaN (not a number). Fix: set it between 0 and 1."),
        (math.inf, 0.0, 3.0, "input 'x': inf is outside the allowed range. Fix: set it between 0 and 3."),
        (-0.5, 0.0, None, "input 'x': -0.5 is outside the allowed range. Fix: set it to a finite number >= 0."),
        ("high", 0.25, 8.0, "input 'x': 'high' is not a number. Fix: set it between 0.25 and 8."),
    ],
)
def test_numbers_outside_the_declared_range(value, low, high, message):
    with pytest.raises(TruePoseInputError) as info:
        check_number("x", value, low, high)
    assert str(info.value) == message


def test_numbers_inside_the_range_pass_through():
    assert check_number("x", 3, 0.0, 3.0) == 3.0 and check_number("x", 0.0, 0.0, 1.0) == 0.0


def test_images_and_masks_must_have_their_layouts_and_be_finite():
    with pytest.raises(TruePoseInputError, match=r"expected an IMAGE \(batch, height, width, 3\), got \(8, 8\)"):
        check_image("pose_image", torch.zeros(8, 8), "fix")
    with pytest.raises(TruePoseInputError, match="the image is empty"):
        check_image("pose_image", torch.zeros(1, 0, 8, 3), "fix")
    image = torch.zeros(1, 8, 8, 3)
    image[0, 3, 3, 1] = math.inf
    with pytest.raises(TruePoseInputError, match="NaN or infinite"):
        check_image("pose_image", image, "fix")
    assert check_mask("face", torch.zeros(8, 6), "fix").shape == (1, 8, 6)
    with pytest.raises(TruePoseInputError, match="expected a MASK"):
        check_mask("face", torch.zeros(1, 2, 8, 6), "fix")


def test_batches_are_one_or_one_each():
    check_batch("source", 1, 4, "images", "a latent batch", "fix")
    check_batch("source", 4, 4, "images", "a latent batch", "fix")
    with pytest.raises(TruePoseInputError, match=r"^input 'source': 2 images for a latent batch of 3\. Fix: fix$"):
        check_batch("source", 2, 3, "images", "a latent batch", "fix")


def test_aspect_refuses_instead_of_stretching():
    check_aspect("parsing", (352, 256), (704, 512), "the image", "fix")  # same shape, other size: fine
    check_aspect("parsing", (350, 256), (352, 256), "the image", "fix")  # a crop to a multiple of 8
    with pytest.raises(TruePoseInputError, match=r"it is 128x128 but the image is 256x352 \(another aspect ratio\); it would be stretched"):
        check_aspect("parsing", (128, 128), (352, 256), "the image", "fix")


def test_layout_against_coarse_token_grids_allows_their_rounding():
    check_layout_against_grid((176, 128), (22, 16))
    check_layout_against_grid((176, 128), (6, 4))  # 22x16 halved twice rounds up to 6x4
    with pytest.raises(TruePoseInputError,
        match=r"input 'target_layout': it is 128x128, another aspect ratio than the latent \(a 16x22 token grid\)"):
        check_layout_against_grid((128, 128), (22, 16))


def test_apply_inputs_are_checked_against_each_other():
    check_apply_inputs(1, 3, (176, 128), torch.zeros(3, 352, 256, 3))
    with pytest.raises(TruePoseInputError, match=r"input 'target_layout': it has a batch of 3 but source has 2"):
        check_apply_inputs(2, 3, (176, 128), None)
    with pytest.raises(TruePoseInputError, match=r"input 'pose_image': it has a batch of 2 but source has 3"):
        check_apply_inputs(3, None, None, torch.zeros(2, 64, 64, 3))
    with pytest.raises(TruePoseInputError, match=r"input 'pose_image': it is 256x256 but target_layout is 128x176"):
        check_apply_inputs(1, 1, (176, 128), torch.zeros(1, 256, 256, 3))


def test_pose_image_against_the_latent():
    check_pose_image_against_latent(1, (352, 256), 4, (44, 32))
    with pytest.raises(TruePoseInputError, match=r"input 'pose_image': 2 pose images for a latent batch of 3"):
        check_pose_image_against_latent(2, (352, 256), 3, (44, 32))
    with pytest.raises(TruePoseInputError, match=r"it is 256x256 but the latent \(in pixels\) is 256x352"):
        check_pose_image_against_latent(1, (256, 256), 1, (44, 32))
