"""Long nodes report progress per frame and stop on ComfyUI's interrupt."""

import pytest
import torch

from graphs import pose_transfer


@pytest.fixture
def source_inputs(host, testing):
    prompt = pose_transfer()
    prompt["30"] = {"class_type": "TruePoseTest_Capture", "inputs": {"value": ["1", 0], "name": "model"}}
    prompt["31"] = {"class_type": "TruePoseTest_Capture", "inputs": {"value": ["1", 2], "name": "vae"}}
    prompt["32"] = {"class_type": "TruePoseTest_Capture", "inputs": {"value": ["6", 0], "name": "parsing"}}
    prompt["33"] = {"class_type": "TruePoseTest_Capture", "inputs": {"value": ["4", 0], "name": "image"}}
    assert host.run(prompt).success
    c = testing.CAPTURED
    return c["model"], c["vae"], torch.cat([c["image"]] * 3), c["parsing"]


def test_encode_source_reports_one_step_per_source_image(host, source_inputs):
    import comfy.utils

    steps = []
    previous = comfy.utils.PROGRESS_BAR_HOOK
    comfy.utils.set_progress_bar_global_hook(lambda value, total, *a, **k: steps.append((value, total)))
    try:
        model, vae, images, parsing = source_inputs
        with torch.inference_mode():  # as ComfyUI's executor runs nodes
            (bank,) = host.nodes.NODE_CLASS_MAPPINGS["TruePose_EncodeSource"]().encode(model, vae, images, parsing)
    finally:
        comfy.utils.set_progress_bar_global_hook(previous)
    assert bank.num_images == 3 and steps == [(1, 3), (2, 3), (3, 3)]


def test_encode_source_stops_on_interrupt(host, source_inputs):
    import comfy.model_management

    model, vae, images, parsing = source_inputs
    comfy.model_management.interrupt_current_processing(True)
    try:
        with pytest.raises(comfy.model_management.InterruptProcessingException), torch.inference_mode():
            host.nodes.NODE_CLASS_MAPPINGS["TruePose_EncodeSource"]().encode(model, vae, images, parsing)
    finally:
        comfy.model_management.interrupt_current_processing(False)
