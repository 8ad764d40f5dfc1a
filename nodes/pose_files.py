"""Load / Save Pose JSON: POSE_KEYPOINT from and to files, inside ComfyUI's input / output folders only."""

from __future__ import annotations

import json
import os

from ..truepose_core.pose import frames_to_pose_keypoint
from .errors import input_error
from .pose import CATEGORY, read_pose
from .types import POSE_KEYPOINT

MAX_POSE_FILE_BYTES = 512 * 1024 * 1024


def _input_file(name: str) -> str:
    """A file inside ComfyUI's input folder (symlinks and '..' resolved), else a clear error."""
    import folder_paths

    base = os.path.realpath(folder_paths.get_input_directory())
    path = os.path.realpath(os.path.join(base, name))
    if os.path.isabs(name) or os.path.commonpath([base, path]) != base:
        raise input_error(
            "TruePose_LoadPoseJSON", "pose_json", f"'{name}' is outside ComfyUI's input folder; only files inside it are read.",
            "copy the .json file into ComfyUI/input (subfolders are fine) and give its name relative to it.",
        )
    if not os.path.isfile(path):
        raise input_error("TruePose_LoadPoseJSON", "pose_json", f"no file '{name}' in the input folder.",
            "put the .json file in ComfyUI/input or paste its text.")
    if os.path.getsize(path) > MAX_POSE_FILE_BYTES:
        raise input_error(
            "TruePose_LoadPoseJSON", "pose_json",
            f"'{name}' is {os.path.getsize(path) / 2**20:.0f} MiB; pose files up to {MAX_POSE_FILE_BYTES // 2**20} MiB are read.",
            "split the sequence into several files.",
        )
    return path


class TruePose_LoadPoseJSON:
    DESCRIPTION = "OpenPose JSON (one frame or a list of frames; normalised or pixel coordinates) -> POSE_KEYPOINT."
    CATEGORY = CATEGORY
    RETURN_TYPES = (POSE_KEYPOINT,)
    RETURN_NAMES = ("pose_keypoint",)
    FUNCTION = "load"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"pose_json": ("STRING",
            {"multiline": True, "default": "", "tooltip": "OpenPose JSON text, or the name of a .json file in ComfyUI's input folder."})}}

    def load(self, pose_json):
        text = pose_json.strip()
        if text.endswith(".json") and not text.startswith(("[", "{")):
            with open(_input_file(text), "rb") as f:
                text = f.read()
        return (frames_to_pose_keypoint(read_pose("TruePose_LoadPoseJSON", text, "pose_json")),)


def _check_prefix(prefix: str) -> None:
    parts = prefix.replace("\\", "/").split("/")
    problem = None
    if not prefix.strip():
        problem = "is empty"
    elif os.path.isabs(prefix) or prefix.startswith(("/", "\\")) or (len(prefix) > 1 and prefix[1] == ":"):
        problem = f"'{prefix}' is an absolute path"
    elif ".." in parts:
        problem = f"'{prefix}' climbs out with '..'"
    if problem:
        raise input_error(
            "TruePose_SavePoseJSON", "filename_prefix", f"the prefix {problem}; files are written only inside ComfyUI's output folder.",
            "use a relative prefix such as 'truepose/pose' (subfolders of the output folder are fine).",
        )


class TruePose_SavePoseJSON:
    DESCRIPTION = "Writes POSE_KEYPOINT as OpenPose JSON into ComfyUI's output folder: one list of frames, or one file per frame."
    CATEGORY = CATEGORY
    RETURN_TYPES = ()
    OUTPUT_NODE = True
    FUNCTION = "save"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "pose_keypoint": (POSE_KEYPOINT,),
                "filename_prefix": ("STRING", {"default": "truepose/pose", "tooltip": "Relative to ComfyUI's output folder."}),
                "per_frame": ("BOOLEAN", {"default": False, "tooltip": "One OpenPose frame file per frame instead of one list."}),
            }
        }

    def save(self, pose_keypoint, filename_prefix, per_frame=False):
        import folder_paths

        _check_prefix(filename_prefix)
        frames = frames_to_pose_keypoint(read_pose("TruePose_SavePoseJSON", pose_keypoint))
        try:
            folder, name, counter, subfolder, _ = folder_paths.get_save_image_path(filename_prefix, folder_paths.get_output_directory())
        except Exception as e:  # ComfyUI's own check, in words it does not explain
            raise input_error(
                "TruePose_SavePoseJSON", "filename_prefix",
                f"ComfyUI refused the prefix '{filename_prefix}' ({str(e).splitlines()[0].strip('* ')}).",
                "use a relative prefix such as 'truepose/pose' inside the output folder.",
            ) from None
        files = ({f"{name}_{counter:05}_{i:04}.json": frame for i, frame in enumerate(frames)} if per_frame
                 else {f"{name}_{counter:05}_.json": frames})
        for filename, content in files.items():
            with open(os.path.join(folder, filename), "w", encoding="utf-8") as f:
                json.dump(content, f, allow_nan=False)
        return {"ui": {"text": [os.path.join(subfolder, filename) for filename in files]}}




NODE_CLASS_MAPPINGS = {
    "TruePose_LoadPoseJSON": TruePose_LoadPoseJSON,
    "TruePose_SavePoseJSON": TruePose_SavePoseJSON,
}
NODE_DISPLAY_NAME_MAPPINGS = {
    "TruePose_LoadPoseJSON": "Load Pose JSON (TP)",
    "TruePose_SavePoseJSON": "Save Pose JSON (TP)",
}
