"""SSIM and PSNR between generated and ground-truth images (no learned weights).

SSIM settings, the Gaussian-window setting common in pose-transfer evaluation (Wang et al. 2004; skimage's
`structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1, channel_axis=-1)`):
Gaussian window 11x11 with sigma 1.5, K1 = 0.01, K2 = 0.03, a fixed data range of 1.0 on images in [0, 1], per
RGB channel. The per-pixel map comes from torchmetrics (reflect padding, so it has the image's size); the
image's SSIM is the mean of that map over channels and over the interior pixels whose window lies inside the
image (a 5-pixel border is left out), which equals skimage's number with those settings.

PSNR: 10 log10(1 / MSE) per image with data range 1.0 (torchmetrics); identical images give +inf.
"""

from __future__ import annotations

import torch

SSIM_SIGMA = 1.5
SSIM_WINDOW = 11  # torchmetrics derives it from sigma: 2 * int(3.5 * sigma + 0.5) + 1
SSIM_BORDER = SSIM_WINDOW // 2
DATA_RANGE = 1.0
SSIM_SETTINGS = {
    "window": "gaussian", "window_size": SSIM_WINDOW, "sigma": SSIM_SIGMA, "k1": 0.01, "k2": 0.03,
    "data_range": DATA_RANGE, "channels": "RGB, averaged", "border_excluded_px": SSIM_BORDER,
}


def ssim_map(generated: torch.Tensor, ground_truth: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) x2 in [0, 1] -> (N, H, W) per-pixel SSIM, averaged over channels."""
    # Imported on use: importing torchmetrics loads its whole package (seconds), which CLI errors need not wait for.
    from torchmetrics.functional.image import structural_similarity_index_measure

    _, full = structural_similarity_index_measure(
        generated.float(), ground_truth.float(), gaussian_kernel=True, sigma=SSIM_SIGMA, kernel_size=SSIM_WINDOW,
        data_range=DATA_RANGE, k1=0.01, k2=0.03, reduction="none", return_full_image=True,
    )
    return full.mean(dim=1)


def ssim_from_map(ssim: torch.Tensor) -> torch.Tensor:
    """(N, H, W) SSIM map -> (N,) image SSIM over the interior (see the module docstring)."""
    b = SSIM_BORDER
    return ssim[:, b:-b, b:-b].mean(dim=(1, 2))


def psnr(generated: torch.Tensor, ground_truth: torch.Tensor) -> torch.Tensor:
    """(N,) PSNR in dB per image."""
    from torchmetrics.functional.image import peak_signal_noise_ratio

    return peak_signal_noise_ratio(
        generated.float(), ground_truth.float(), data_range=DATA_RANGE, reduction="none", dim=(1, 2, 3),
    )
