"""`python -m truepose_core.train [--config run.json] [--flags]`; several processes: torchrun."""

from .config import parse_args
from .loop import train

if __name__ == "__main__":
    train(parse_args())
