"""Training TruePose (trained mode): `python -m truepose_core.train`, single process, torchrun DDP
or `accelerate launch --multi_gpu`.

Data: the synthetic pose-transfer set, DeepFashion's pose-transfer layout or a folder of your own
pairs (truepose_core.data). Latents: a diffusers AutoencoderKL folder (`--vae`) or, for runs
without weights, the PixelLatent stand-in. HPFA and CAA run through the same truepose_core.attention
code the ComfyUI nodes use.
"""

from .config import TrainConfig, parse_args
from .loop import TrainResult, train
from .model import TruePoseTrainModel

__all__ = ["TrainConfig", "TrainResult", "TruePoseTrainModel", "parse_args", "train"]
