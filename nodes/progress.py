"""Per-frame progress for ComfyUI: a callback that advances the bar and honours interrupt."""

from __future__ import annotations

from collections.abc import Callable


def frame_progress(frames: int) -> Callable[[int], None]:
    import comfy.model_management
    import comfy.utils

    comfy.model_management.throw_exception_if_processing_interrupted()
    bar = comfy.utils.ProgressBar(frames)

    def frame_done(_index: int) -> None:
        bar.update(1)
        comfy.model_management.throw_exception_if_processing_interrupted()

    return frame_done
