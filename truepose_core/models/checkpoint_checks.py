"""Checks a TruePose checkpoint before anything is built from it.

Each check owns one part of the file and raises TruePoseInputError that names the file, the
part and what to do: metadata types and ranges, every tensor's shape against the network the
metadata describes, and finite values. A file that passes loads with strict=True everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import torch

from ..errors import TruePoseInputError

INPUT = "model_name"  # TruePose_ModelLoader's widget
FIX = "pick a file exported by `python -m truepose_core.train` (models/truepose)."
_REEXPORT = "export it again with `python -m truepose_core.train`; if it was edited by hand, restore the original file."
# (metadata key, JSON type it must decode to); None = a plain string
_META_FIELDS: dict[str, type | None] = {
    "base": None, "fusion": None, "label_set": None, "unet_config": dict, "pose_guider": dict,
    "region_groups": dict, "blocks": list, "caa": dict,
}


def bad_file(name: str, problem: str, fix: str = _REEXPORT) -> TruePoseInputError:
    return TruePoseInputError(INPUT, f"'{name}': {problem}", fix)


def check_format_version(meta: Mapping[str, str], name: str, newest: int) -> int:
    raw = meta.get("format_version", "0")
    try:
        version = int(raw)
    except ValueError:
        raise bad_file(name, f"metadata format_version is {raw!r}, not a whole number.") from None
    if version < 0:
        raise bad_file(name, f"metadata format_version is {version}, which is negative.")
    if version > newest:
        raise bad_file(name, f"it is format version {version}; this pack reads up to {newest}.", "update the TruePose node pack.")
    return version


def check_metadata_strings(meta: Mapping[str, str], name: str) -> None:
    """Every field is present and decodes to the type the loader expects."""
    for key, kind in _META_FIELDS.items():
        if key not in meta:
            if key == "caa":
                continue  # files from before CAA have no caa field
            raise bad_file(name, f"its metadata has no '{key}' field.")
        if kind is None:
            if not meta[key].strip():
                raise bad_file(name, f"metadata '{key}' is empty.")
            continue
        try:
            value = json.loads(meta[key])
        except json.JSONDecodeError as e:
            raise bad_file(name, f"metadata '{key}' is not valid JSON ({e.msg}).") from None
        if value is None and key in ("blocks", "caa"):
            continue
        if not isinstance(value, kind):
            raise bad_file(name, f"metadata '{key}' is a JSON {type(value).__name__}, expected a JSON {kind.__name__}.")


def check_choices(meta, name: str) -> None:
    """fusion, label set, regions and blocks are ones this pack knows."""
    from ..attention.config import FUSION_MODES
    from ..parsing.labels import LABEL_SETS, LIP_NAMES, REGION_NAMES

    if meta.fusion not in FUSION_MODES:
        raise bad_file(name,
            f"metadata fusion '{meta.fusion}' is not one of {', '.join(FUSION_MODES)} (the file is at fault, not Apply's fusion widget).")
    if meta.label_set not in LABEL_SETS:
        raise bad_file(name, f"metadata label_set '{meta.label_set}' is not one of {', '.join(LABEL_SETS)}.")
    unknown = set(meta.region_groups) - set(REGION_NAMES)
    if unknown:
        raise bad_file(name, f"it uses unknown regions {sorted(unknown)}.", "update the TruePose node pack.")
    for region, ids in meta.region_groups.items():
        if not all(isinstance(i, int) and 0 <= i < len(LIP_NAMES) for i in ids):
            raise bad_file(name, f"region group '{region}' holds {list(ids)}, not LIP ids 0-{len(LIP_NAMES) - 1}.")
    for block in meta.blocks or ():
        section, index, depth = block
        if section not in ("input", "middle", "output") or index < 0 or depth < 0:
            raise bad_file(name, f"metadata block {list(block)} is not (input|middle|output, index >= 0, depth >= 0).")


def check_source_unet(meta, tensors: Mapping[str, torch.Tensor], name: str) -> None:
    """Key set and shapes equal those of the UNet that unet_config describes."""
    from .sd_unet import SDUNet

    try:
        config = meta.source_unet_config()
        with torch.device("meta"):
            expected = SDUNet(config).state_dict()
    except (TypeError, ValueError, ZeroDivisionError, RuntimeError) as e:
        raise bad_file(name, f"metadata unet_config does not describe a UNet ({_first_line(e)}).") from None
    _check_shapes("source_unet", expected, tensors, name)


def check_pose_guider(meta, tensors: Mapping[str, torch.Tensor], name: str) -> None:
    from .pose_guider import PoseGuider

    args = dict(meta.pose_guider)
    known = ("out_channels", "downsample", "in_channels", "base_width")
    unknown = sorted(set(args) - set(known))
    if unknown:
        raise bad_file(name, f"metadata pose_guider has unknown arguments {unknown} (known: {', '.join(known)}).",
            "update the TruePose node pack, or " + _REEXPORT)
    bad = {k: v for k, v in args.items() if isinstance(v, bool) or not isinstance(v, int) or v < 1}
    if bad:
        raise bad_file(name, f"metadata pose_guider arguments {bad} are not whole numbers >= 1.")
    if "out_channels" not in args:
        raise bad_file(name, "metadata pose_guider has no out_channels.")
    try:
        with torch.device("meta"):
            expected = PoseGuider(**args).state_dict()
    except ValueError as e:
        raise bad_file(name, f"metadata pose_guider is not a valid pose guider ({_first_line(e)}).") from None
    _check_shapes("pose_guider", expected, tensors, name)
    model_channels = meta.unet_config.get("model_channels")
    if model_channels is not None and args["out_channels"] != model_channels:
        raise bad_file(name, f"its pose guider outputs {args['out_channels']} channels but its UNet's first block has {model_channels}.")


def check_gates(gates: Mapping[str, torch.Tensor], name: str) -> None:
    from ..parsing.labels import REGION_NAMES

    for region, gate in gates.items():
        key = f"hpfa.gate.{region}"
        if region not in REGION_NAMES:
            raise bad_file(name, f"tensor '{key}' is the gate of an unknown region (known: {', '.join(REGION_NAMES)}).",
                "update the TruePose node pack.")
        if gate.numel() != 1:
            raise bad_file(name, f"tensor '{key}' has shape {list(gate.shape)}; a gate is a single number.")
        if not gate.is_floating_point():
            raise bad_file(name, f"tensor '{key}' is {gate.dtype}; a gate is a float.")


def check_caa(meta, tensors: Mapping[str, torch.Tensor], name: str) -> None:
    if bool(meta.caa) != bool(tensors):
        raise bad_file(name, "it has CAA metadata and CAA weights that do not go together.", FIX)
    if not meta.caa:
        return
    from ..caa import CAAProjection

    caa = dict(meta.caa)
    for key in ("embed_dim", "context_dim"):
        value = caa.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise bad_file(name, f"metadata caa.{key} is {value!r}, not a whole number >= 1.")
    regions = caa.get("regions")
    if regions is not None and not (isinstance(regions, list) and all(isinstance(r, str) for r in regions)):
        raise bad_file(name, f"metadata caa.regions is {regions!r}, not a list of region names.")
    with torch.device("meta"):
        projection = CAAProjection(caa["embed_dim"], caa["context_dim"], *([regions] if regions is not None else []))
    _check_shapes("caa", projection.state_dict(), tensors, name)


def check_finite(tensors: Mapping[str, torch.Tensor], name: str) -> None:
    """NaN or inf anywhere would sample a NaN latent: name the first such tensor."""
    for key, tensor in tensors.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            nan, inf = int(torch.isnan(tensor).sum()), int(torch.isinf(tensor).sum())
            raise bad_file(
                name,
                (f"tensor '{key}' holds {nan} NaN and {inf} infinite values (of {tensor.numel()}): the training diverged or the file was "
                    "damaged."),
                "use an earlier checkpoint of that training run, or train again with a lower learning rate.",
            )


def _check_shapes(part: str, expected: Mapping[str, torch.Tensor], tensors: Mapping[str, torch.Tensor], name: str) -> None:
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing or extra:
        detail = "; ".join(s for s in (
            f"missing {len(missing)} (e.g. '{part}.{missing[0]}')" if missing else "",
            f"{len(extra)} unexpected (e.g. '{part}.{extra[0]}')" if extra else "",
        ) if s)
        raise bad_file(name, f"its {part} tensors do not match the network its metadata describes: {detail}.")
    for key, ref in expected.items():
        got = tensors[key]
        if tuple(got.shape) != tuple(ref.shape):
            raise bad_file(name, f"tensor '{part}.{key}' has shape {list(got.shape)}; its metadata implies {list(ref.shape)}.")


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__
