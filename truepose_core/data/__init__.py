"""Paired training data, every reader returning SyntheticPairs' item dict: the synthetic set, DeepFashion's
pose-transfer layout and a folder of your own pairs. `open_dataset` picks one by name for the training config."""

from __future__ import annotations

from torch.utils.data import Dataset

from ..errors import TruePoseInputError
from ..synthetic.dataset import SyntheticPairs
from .deepfashion import DeepFashionPairs
from .own_pairs import OwnPairs

DATASETS = ("synthetic", "deepfashion", "pairs")


def open_dataset(
    kind: str, root: str, split: str, height: int, width: int, *, length: int = 2048, seed: int = 0, **options
) -> Dataset:
    """kind "synthetic": SyntheticPairs(length, width, height, seed), root and split ignored;
    "deepfashion": DeepFashionPairs(root, split, ...); "pairs": OwnPairs(root, ..., split).
    `options` go to the reader (e.g. parsing_dir, label_set, annotation_size)."""
    name = kind.strip().lower()
    if name == "synthetic":
        return SyntheticPairs(length, width, height, seed)
    if name == "deepfashion":
        return DeepFashionPairs(root, split, height, width, **options)
    if name == "pairs":
        return OwnPairs(root, height, width, split, **options)
    raise TruePoseInputError("dataset", f"unknown dataset kind '{kind}' (data_root '{root}').", f"use one of {', '.join(DATASETS)}.")


__all__ = ["DATASETS", "DeepFashionPairs", "OwnPairs", "open_dataset"]
