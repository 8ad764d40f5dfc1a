"""ComfyUI glue: one module per node family, merged here."""

from . import apply, model_loader, parsing, parsing_models, pose, pose_editor, pose_files, source
from .validation import guard_float_widgets

_FAMILIES = (source, apply, parsing, parsing_models, pose_files, pose, pose_editor, model_loader)

NODE_CLASS_MAPPINGS: dict = {}
NODE_DISPLAY_NAME_MAPPINGS: dict = {}
for _family in _FAMILIES:
    NODE_CLASS_MAPPINGS.update(_family.NODE_CLASS_MAPPINGS)
    NODE_DISPLAY_NAME_MAPPINGS.update(_family.NODE_DISPLAY_NAME_MAPPINGS)
for _name, _node_class in NODE_CLASS_MAPPINGS.items():
    guard_float_widgets(_node_class, _name)
