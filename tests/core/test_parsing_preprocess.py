"""SCHP's affine crop: aspect kept, frame centred, black padding, and an exact way back."""

import torch

from truepose_core.parsing.preprocess import BGR_MEAN, BGR_STD, FrameFit, frame_to_net, net_to_frame


def test_fit_keeps_the_aspect_ratio_and_centres_the_frame():
    fit = FrameFit.for_frame((100, 50), (473, 473))
    assert fit.scale == 472 / 99 and fit.center == (24.5, 49.5)


def test_crop_pads_with_black_and_feeds_bgr():
    image = torch.zeros(1, 100, 50, 3)
    image[..., 0] = 1.0  # pure red
    x = frame_to_net(image, FrameFit.for_frame((100, 50), (65, 65)))
    black = [(-m / s) for m, s in zip(BGR_MEAN, BGR_STD)]
    assert torch.allclose(x[0, :, 32, 1], torch.tensor(black), atol=1e-5)  # left padding column
    red_bgr = [((v - m) / s) for v, m, s in zip((0.0, 0.0, 1.0), BGR_MEAN, BGR_STD)]
    assert torch.allclose(x[0, :, 32, 32], torch.tensor(red_bgr), atol=1e-5)


def test_net_to_frame_undoes_frame_to_net():
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 90), torch.linspace(0, 1, 60), indexing="ij")
    image = torch.stack([xx, yy, xx * yy], -1)[None]
    fit = FrameFit.for_frame((90, 60), (129, 129))
    back = net_to_frame(frame_to_net(image, fit), fit)
    mean = torch.tensor(BGR_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(BGR_STD).view(1, 3, 1, 1)
    rgb = (back * std + mean).flip(1).permute(0, 2, 3, 1)
    # The outermost pixels blend with the black padding, as in SCHP; the rest comes back.
    assert (rgb - image)[:, 2:-2, 2:-2].abs().max() < 0.02


def test_the_long_side_spans_the_crop_corner_to_corner_as_in_schp():
    image = torch.rand(1, 100, 50, 3, generator=torch.Generator().manual_seed(0))
    fit = FrameFit.for_frame((100, 50), (473, 473))
    x = frame_to_net(image, fit)
    mean = torch.tensor(BGR_MEAN).view(3, 1)
    std = torch.tensor(BGR_STD).view(3, 1)
    centre_column = (x[0, :, :, 236] * std + mean).flip(0)  # BGR -> RGB, (3, 473)
    levels = (image * 255).round()
    assert torch.allclose(centre_column[:, 0] * 255, levels[0, 0, 24:26].mean(0), atol=0.5 + 1e-3)
    assert torch.allclose(centre_column[:, 472] * 255, levels[0, 99, 24:26].mean(0), atol=0.5 + 1e-3)


def test_the_crop_holds_whole_8bit_levels_like_cv2_warp_affine():
    import cv2
    import numpy as np

    rng = np.random.default_rng(0)
    frame = cv2.GaussianBlur(rng.integers(0, 256, (120, 90, 3), dtype=np.uint8), (5, 5), 0)  # an 8-bit image, as SCHP reads
    fit = FrameFit.for_frame((120, 90), (473, 473))
    net_h, net_w = fit.net_size
    cx, cy = fit.center
    s = fit.scale
    matrix = np.array([[s, 0, (net_w - 1) / 2 - s * cx], [0, s, (net_h - 1) / 2 - s * cy]])
    reference = cv2.warpAffine(frame[..., ::-1].copy(), matrix, (net_w, net_h), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))  # SCHP: BGR uint8 in, uint8 out
    x = frame_to_net(torch.from_numpy(frame.copy()).float()[None] / 255, fit)
    mean = torch.tensor(BGR_MEAN).view(3, 1, 1)
    std = torch.tensor(BGR_STD).view(3, 1, 1)
    levels = (x[0] * std + mean) * 255
    assert (levels - levels.round()).abs().max() < 1e-3  # whole levels, not float in between
    ours = levels.round().permute(1, 2, 0).numpy().astype(np.int16)
    diff = np.abs(ours - reference.astype(np.int16))
    assert diff.max() <= 1 and (diff == 0).mean() > 0.999  # cv2's fixed-point weights differ by one level at most
