"""Training TruePose (trained mode): `python -m truepose_core.train`, single process or torchrun DDP.

Data so far: the synthetic pose-transfer set (truepose_core.synthetic) in a fixed avg-pool
latent stand-in (train/latent.py); a DeepFashion / own-pairs reader and a real VAE are next.
"""

from .config import TrainConfig, parse_args
from .loop import TrainResult, train
from .model import TruePoseTrainModel

__all__ = ["TrainConfig", "TrainResult", "TruePoseTrainModel", "parse_args", "train"]
