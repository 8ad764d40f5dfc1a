"""ComfyUI type names this pack passes between nodes."""

POSE_KEYPOINT = "POSE_KEYPOINT"  # comfyui_controlnet_aux's list-of-frames format, reused as is
PARSING = "TRUEPOSE_PARSING"  # truepose_core.parsing.ParsingMap
SOURCE = "TRUEPOSE_SOURCE"  # truepose_core.attention.SourceBank
PARSER = "TRUEPOSE_PARSER"  # nodes.parsing_models.ParserHandle: a loaded human parser
TRUEPOSE_MODEL = "TRUEPOSE_MODEL"  # truepose_core.models.checkpoint.TruePoseCheckpoint: trained-mode extras
