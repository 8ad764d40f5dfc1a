"""Paths the host tests share."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def pack(module: str):
    """A module of the pack as the host imported it (the host registers only what __init__ wires)."""
    import importlib
    import sys

    source = next(n for n, m in sys.modules.items() if n.endswith(".nodes.source") and hasattr(m, "TruePose_EncodeSource"))
    return importlib.import_module(source.rsplit(".", 1)[0] + "." + module)
