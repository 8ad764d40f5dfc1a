"""Convert an SCHP .pth checkpoint to .safetensors (no pickle needed to load it afterwards).

    python -m truepose_core.parsing.convert exp-schp-201908261155-lip.pth schp-lip.safetensors

The keys are saved without the 'module.' prefix, and the metadata records the label set read
from the classifier head. The weights are checked against the network before writing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import TruePoseInputError
from .loading import build_network, normalize_keys, read_weights


def convert(source: str | Path, target: str | Path) -> str:
    """Writes `target`; returns the detected label set."""
    from safetensors.torch import save_file

    state_dict = normalize_keys(read_weights(source))
    _, label_set = build_network(state_dict)  # refuses anything that would not load
    tensors = {k: v.detach().contiguous().clone() for k, v in state_dict.items()}
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(target), metadata={"format": "schp-augmentce2p", "label_set": label_set, "source": Path(source).name})
    return label_set


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m truepose_core.parsing.convert", description=__doc__.splitlines()[0])
    parser.add_argument("source", help="SCHP checkpoint (.pth)")
    parser.add_argument("target", help="output .safetensors")
    args = parser.parse_args(argv)
    if not args.target.endswith(".safetensors"):
        parser.error("the output file name must end in .safetensors")
    try:
        label_set = convert(args.source, args.target)
    except TruePoseInputError as e:
        print(f"error: {e.problem} {e.fix}", file=sys.stderr)
        return 1
    print(f"wrote {args.target} (label set: {label_set})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
