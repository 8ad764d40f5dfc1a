"""Built-in human parsing: load a parser once (SCHP weights or the offline quick backend), parse batches."""

from __future__ import annotations

import os
from pathlib import Path

from ..truepose_core.errors import TruePoseInputError
from ..truepose_core.parsing import labels_to_palette_image
from ..truepose_core.parsing.parser import HumanParser, load_schp_parser
from ..truepose_core.parsing.quick import QuickParser
from .errors import node_errors
from .previews import shows_parsing_preview
from .progress import frame_progress
from .types import PARSER, PARSING

CATEGORY = "TruePose/parsing"
QUICK = "quick (mediapipe, offline)"
MODEL_FOLDERS = ("human_parsing", "schp")
WEIGHT_EXTENSIONS = {".safetensors", ".pth", ".pt"}
DEVICES = ("auto", "cpu")
_CACHE_SIZE = 2


def register_model_folders() -> bool:
    """Adds models/human_parsing and models/schp next to what extra_model_paths.yaml already set."""
    try:
        import folder_paths
    except ImportError:
        return False
    for name in MODEL_FOLDERS:
        default = os.path.join(folder_paths.models_dir, name)
        known = folder_paths.folder_names_and_paths.get(name)
        if known is None or default not in known[0]:
            folder_paths.add_model_folder_path(name, default)
        extensions = folder_paths.folder_names_and_paths[name][1]
        if isinstance(extensions, set):
            extensions.update(WEIGHT_EXTENSIONS)
    return True


def model_choices() -> list[str]:
    try:
        import folder_paths
    except ImportError:
        return [QUICK]
    names: list[str] = []
    for folder in MODEL_FOLDERS:
        if folder in folder_paths.folder_names_and_paths:
            names += [n for n in folder_paths.get_filename_list(folder) if n not in names]
    return [QUICK] + names


def _model_path(name: str) -> Path:
    import folder_paths

    for folder in MODEL_FOLDERS:
        if folder in folder_paths.folder_names_and_paths:
            path = folder_paths.get_full_path(folder, name)
            if path:
                return Path(path)
    raise TruePoseInputError("model_name", f"'{name}' is in neither models/human_parsing nor models/schp.",
        "refresh the page (R) and pick a listed model.")


class _ParserCache:
    """Loaded SCHP networks by file identity, so a run reuses the weights of the previous one."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: dict[tuple, HumanParser] = {}

    def get(self, path: Path) -> HumanParser:
        stat = path.stat()
        key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
        if key not in self.entries:
            while len(self.entries) >= self.size:
                self.entries.pop(next(iter(self.entries)))
            self.entries[key] = load_schp_parser(path, "cpu")
        return self.entries[key]


PARSER_CACHE = _ParserCache(_CACHE_SIZE)


class ParserHandle:
    """What travels on a TRUEPOSE_PARSER wire: the parser and the device to run it on."""

    def __init__(self, parser: HumanParser, device: str) -> None:
        self.parser = parser
        self.device = device

    def __repr__(self) -> str:
        return f"TruePoseParser({self.parser.name}, {self.parser.label_set}, device={self.device})"


class TruePose_ParserLoader:
    DESCRIPTION = (
        "Loads a human parser once and keeps it cached. 'quick' needs no download (MediaPipe landmarks + person mask, "
        "coarse regions); SCHP weights (exp-schp-*-lip/atr/pascal-person-part .pth or converted .safetensors in "
        "models/human_parsing or models/schp) give the quality. The label set is read from the weights."
    )
    CATEGORY = CATEGORY
    RETURN_TYPES = (PARSER,)
    RETURN_NAMES = ("parser",)
    FUNCTION = "load"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "model_name": (model_choices(), {"default": QUICK, "tooltip":
                    "'quick' works offline with no weights; an SCHP file gives precise clothes and body parts."}),
                "device": (list(DEVICES), {"default": "auto", "tooltip":
                    "auto: ComfyUI's device (the GPU when there is one); cpu: always the CPU."}),
            }
        }

    def load(self, model_name: str, device: str = "auto"):
        with node_errors("TruePose_ParserLoader"):
            if device not in DEVICES:
                raise TruePoseInputError("device", f"unknown device '{device}'.", f"use one of {', '.join(DEVICES)}.")
            parser = QuickParser() if model_name == QUICK else PARSER_CACHE.get(_model_path(model_name))
            return (ParserHandle(parser, device),)


def _torch_device(choice: str):
    if choice == "cpu":
        return "cpu"
    import comfy.model_management

    return comfy.model_management.get_torch_device()


@shows_parsing_preview(source_input="image")
class TruePose_HumanParse:
    DESCRIPTION = (
        "Parses every frame of an image batch into body parts and clothes (canonical LIP labels). Outputs the label map "
        "for the TruePose nodes, a colour preview (VOC palette, as other parsing packs draw it) and the person mask."
    )
    CATEGORY = CATEGORY
    RETURN_TYPES = (PARSING, "IMAGE", "MASK")
    RETURN_NAMES = ("parsing", "preview", "person_mask")
    OUTPUT_TOOLTIPS = ("Label map per frame, LIP ids.", "Colour-coded labels (LIP palette).", "1 on the person, 0 elsewhere.")
    FUNCTION = "parse"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "parser": (PARSER, {"tooltip": "From Human Parser Loader (TP)."}),
                "image": ("IMAGE", {"tooltip": "One image or a batch; every frame is parsed."}),
                "flip_tta": ("BOOLEAN", {"default": False, "tooltip":
                    "SCHP only: also parse the mirrored image and average (about 2x slower, slightly cleaner edges)."}),
            }
        }

    def parse(self, parser: ParserHandle, image, flip_tta: bool = False):
        with node_errors("TruePose_HumanParse"):
            if not isinstance(parser, ParserHandle):
                raise TruePoseInputError("parser", f"expected a parser, got {type(parser).__name__}.", "connect Human Parser Loader (TP).")
            frame_done = frame_progress(int(image.shape[0]))
            model = parser.parser
            on_device = hasattr(model, "to")
            if on_device:
                model.to(_torch_device(parser.device))
            try:
                result = model.parse(image, flip_tta=flip_tta, on_frame=frame_done)
            finally:
                if on_device:
                    model.to("cpu")  # give the VRAM back between runs; the weights stay cached in RAM
            preview = labels_to_palette_image(result.parsing.labels)
            return (result.parsing, preview, result.person_mask)


register_model_folders()

NODE_CLASS_MAPPINGS = {
    "TruePose_ParserLoader": TruePose_ParserLoader,
    "TruePose_HumanParse": TruePose_HumanParse,
}
NODE_DISPLAY_NAME_MAPPINGS = {
    "TruePose_ParserLoader": "Human Parser Loader (TP)",
    "TruePose_HumanParse": "Human Parse (TP)",
}
