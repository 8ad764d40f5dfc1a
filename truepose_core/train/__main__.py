"""`python -m truepose_core.train [--config run.json] [--flags]`; several processes: torchrun or accelerate."""

import sys

from ..errors import TruePoseInputError
from .config import parse_args
from .loop import train

if __name__ == "__main__":
    try:
        train(parse_args())
    except TruePoseInputError as e:  # bad data, files or settings: the message says what and how to fix it
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
