"""TruePose_ModelLoader: a trained TruePose checkpoint (models/truepose) -> TRUEPOSE_MODEL."""

from __future__ import annotations

import os

from ..truepose_core.errors import TruePoseInputError
from ..truepose_core.models.checkpoint import TruePoseCheckpoint, load_checkpoint
from .errors import node_errors
from .types import TRUEPOSE_MODEL

NODE = "TruePose_ModelLoader"
MODEL_FOLDER = "truepose"


def register_model_folder() -> bool:
    """Adds models/truepose next to whatever extra_model_paths.yaml already set for it."""
    try:
        import folder_paths
    except ImportError:
        return False
    default = os.path.join(folder_paths.models_dir, MODEL_FOLDER)
    known = folder_paths.folder_names_and_paths.get(MODEL_FOLDER)
    if known is None or default not in known[0]:
        folder_paths.add_model_folder_path(MODEL_FOLDER, default)
    return True


register_model_folder()


class TruePose_ModelLoader:
    DESCRIPTION = (
        "Loads a trained TruePose checkpoint (from `python -m truepose_core.train`, in models/truepose): "
        "SourceNet weights, pose guider and learned HPFA gates. Connect it to Encode Source and Apply TruePose."
    )
    CATEGORY = "TruePose"
    RETURN_TYPES = (TRUEPOSE_MODEL,)
    RETURN_NAMES = ("truepose_model",)
    FUNCTION = "load"

    @classmethod
    def INPUT_TYPES(cls):
        import folder_paths

        register_model_folder()
        return {"required": {"model_name": (folder_paths.get_filename_list(MODEL_FOLDER), {"tooltip": "A file in models/truepose."})}}

    def load(self, model_name: str) -> tuple[TruePoseCheckpoint]:
        import folder_paths

        with node_errors(NODE):
            path = folder_paths.get_full_path(MODEL_FOLDER, model_name)
            if not path:
                raise TruePoseInputError("model_name", f"'{model_name}' is not in models/truepose.",
                    "refresh the page (R) and pick a listed file.")
            return (load_checkpoint(path),)


NODE_CLASS_MAPPINGS = {"TruePose_ModelLoader": TruePose_ModelLoader}
NODE_DISPLAY_NAME_MAPPINGS = {"TruePose_ModelLoader": "Load TruePose Model (TP)"}
