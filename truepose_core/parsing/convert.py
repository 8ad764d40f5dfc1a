"""Convert an SCHP .pth checkpoint to .safetensors (no pickle needed to load it afterwards).

    python -m truepose_core.parsing.convert exp-schp-201908261155-lip.pth schp-lip.safetensors

A .pth is read with torch.load(weights_only=True): tensors only, no code runs. A .pth that also
pickles Python objects (e.g. training arguments) is refused unless you pass --trust-pickle,
which unpickles it fully and so runs whatever code it holds: use it only for a file from a
source you trust. The .safetensors written is pure data either way.

The keys are saved without the 'module.' prefix, and the metadata records the label set read
from the classifier head. The weights are checked against the network before writing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import TruePoseInputError
from .loading import build_network, normalize_keys, read_weights


def convert(source: str | Path, target: str | Path, trust_pickle: bool = False) -> str:
    """Writes `target`; returns the detected label set."""
    from safetensors.torch import save_file

    state_dict = normalize_keys(read_weights(source, trust_pickle=trust_pickle))
    _, label_set = build_network(state_dict)  # refuses anything that would not load
    tensors = {k: v.detach().contiguous().clone() for k, v in state_dict.items()}
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(target), metadata={"format": "schp-augmentce2p", "label_set": label_set, "source": Path(source).name})
    return label_set


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m truepose_core.parsing.convert", description=__doc__.splitlines()[0])
    parser.add_argument("source", help="SCHP checkpoint (.pth)")
    parser.add_argument("target", help="output .safetensors")
    parser.add_argument(
        "--trust-pickle", action="store_true",
        help="read a .pth that pickles Python objects besides tensors (runs its code: only for files you trust)",
    )
    args = parser.parse_args(argv)
    if not args.target.endswith(".safetensors"):
        parser.error("the output file name must end in .safetensors")
    try:
        label_set = convert(args.source, args.target, trust_pickle=args.trust_pickle)
    except TruePoseInputError as e:
        print(f"error: {e.problem} {e.fix}", file=sys.stderr)
        return 1
    print(f"wrote {args.target} (label set: {label_set})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
