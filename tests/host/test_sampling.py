"""TruePose inside a real ComfyUI host: sampling through the stock KSampler on CPU."""

import pytest
import torch

from graphs import pose_transfer, truepose_runtimes
from repo_paths import pack


def sample(host, testing, prompt):
    result = host.run(prompt)
    assert result.success, result.error
    return testing.CAPTURED["latent"]["samples"]


@pytest.fixture(scope="module")
def baseline(host):
    """The plain graph (no TruePose) sampled once; every leak check compares to it."""
    import sys

    testing = next(m for n, m in sys.modules.items() if n.endswith("testing_nodes") and hasattr(m, "CAPTURED"))
    return sample(host, testing, pose_transfer(truepose=False)).clone()


def test_all_strengths_zero_is_bit_identical_to_the_plain_graph(host, testing, baseline):
    out = sample(host, testing, pose_transfer(strength=0.0))
    assert torch.equal(out, baseline)


def test_patched_but_never_active_is_bit_identical_to_the_plain_graph(host, testing, baseline):
    """Strengths on, schedule window empty: the patched attn1 path must equal ComfyUI's own."""
    out = sample(host, testing, pose_transfer(start_percent=1.0, end_percent=1.0))
    assert torch.equal(out, baseline)


@pytest.mark.parametrize("fusion", ["joint", "gated"])
def test_truepose_changes_the_output_and_stays_finite(host, testing, baseline, fusion):
    out = sample(host, testing, pose_transfer(fusion=fusion))
    assert torch.isfinite(out).all()
    assert (out - baseline).abs().mean() > 1e-3


def test_target_layout_routing_runs_and_differs_from_unrouted(host, testing):
    routed = sample(host, testing, pose_transfer(layout=True)).clone()
    unrouted = sample(host, testing, pose_transfer(layout=False))
    assert torch.isfinite(routed).all() and not torch.equal(routed, unrouted)


def test_callers_model_is_untouched_and_nothing_leaks_after_a_run(host, testing, baseline):
    sample(host, testing, pose_transfer())
    prompt = pose_transfer()
    prompt["30"] = {"class_type": "TruePoseTest_Capture", "inputs": {"value": ["1", 0], "name": "callers_model"}}
    prompt["31"] = {"class_type": "TruePoseTest_Capture", "inputs": {"value": ["8", 0], "name": "patched_model"}}
    sample(host, testing, prompt)
    callers, patched = testing.CAPTURED["callers_model"], testing.CAPTURED["patched_model"]
    assert patched is not callers
    assert not callers.model_options["transformer_options"].get("patches_replace", {}).get("attn1")
    assert pack("patch_chain").installed_truepose(patched).attn1
    assert not pack("patch_chain").installed_truepose(callers)
    assert torch.equal(sample(host, testing, pose_transfer(truepose=False)), baseline)


@pytest.mark.parametrize("mode, event", [("error", "execution_error"), ("interrupt", "execution_interrupted")])
def test_nothing_leaks_after_an_error_or_interrupt_inside_sampling(host, testing, baseline, mode, event):
    result = host.run(pose_transfer(sabotage=mode))
    assert not result.success or mode == "interrupt"
    assert result.error is not None and result.error["event"] == event
    assert torch.equal(sample(host, testing, pose_transfer(truepose=False)), baseline)


@pytest.mark.parametrize("mode", ["error", "interrupt"])
def test_caches_are_released_after_an_error_or_interrupt_inside_sampling(host, testing, mode):
    """The first model call fills TruePose's per-run caches; the second raises. Afterwards the
    caches must be empty, as after a successful run (test_memory)."""
    entries_mid_run = []
    models = []

    def look(model):
        models.append(model)
        entries_mid_run.append(sum(rt.cached_entries for rt in truepose_runtimes(model)))

    testing.CAPTURED["at_sabotage"] = look
    result = host.run(pose_transfer(sabotage=mode, text=f"cache check after {mode}"))
    assert result.error is not None and result.error["event"] in ("execution_error", "execution_interrupted")
    assert entries_mid_run and entries_mid_run[0] > 0, "the caches were never filled: the check below could not fail"
    runtimes = truepose_runtimes(models[0])
    assert runtimes and all(rt.cached_entries == 0 for rt in runtimes), f"caches kept after the {mode}"


def test_sourcenet_runs_once_per_sampling_run(host, testing):
    steps = 3
    sample(host, testing, pose_transfer(count_passes=True, steps=steps, text="counted run one"))  # nothing cached
    assert testing.PASSES["source"] == 1
    assert testing.PASSES["sample"] == steps  # cond and uncond batched: one UNet call per step


def test_two_samplers_share_one_encoded_source(host, testing):
    prompt = pose_transfer(count_passes=True, steps=2, text="counted run two")
    prompt["24"] = dict(prompt["14"], inputs=dict(prompt["14"]["inputs"], seed=99))
    prompt["25"] = {"class_type": "TruePoseTest_Capture", "inputs": {"value": ["24", 0], "name": "second"}}
    sample(host, testing, prompt)
    assert testing.PASSES["source"] == 1 and testing.PASSES["sample"] == 4


@pytest.mark.parametrize(
    "kwargs, shape",
    [
        ({"batch": 2}, (2, 4, 22, 16)),
        ({"batch": 2, "source_batch": 2}, (2, 4, 22, 16)),
        ({"cfg": 1.0}, (1, 4, 22, 16)),
        # another size and aspect than the 32x44 source; 64x44 took 1 GB more in ComfyUI's CPU attention alone
        ({"width": 256, "height": 384, "steps": 1}, (1, 4, 48, 32)),
    ],
    ids=["latent-batch-2", "per-image-sources", "cfg-off", "non-square-48x32"],
)
def test_batches_cfg_and_non_square_latents(host, testing, kwargs, shape):
    out = sample(host, testing, pose_transfer(**kwargs))
    assert tuple(out.shape) == shape and torch.isfinite(out).all()
    plain = sample(host, testing, pose_transfer(truepose=False, **kwargs))
    assert not torch.equal(out, plain)
