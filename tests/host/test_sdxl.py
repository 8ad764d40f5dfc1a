"""SDXL family through ComfyUI's STOCK loaders: a generated SDXL-family checkpoint (CLIP-L + CLIP-G,
VAE) that CheckpointLoaderSimple detects as SDXL, an SDXL ControlNet from ControlNetLoader, and
TruePose composed with LoRA, FreeU and an upscale pass. Small latents and reduced level widths
(scripts/tiny_sdxl_models.py): CPU sampling."""

import copy

import pytest
import torch

from graphs import pose_transfer
from repo_paths import pack
from sdxl_models import sdxl_models_fixture  # noqa: F401  (the session fixture `sdxl_models`)
from tiny_models import TRUEPOSE_NAME
from tiny_sdxl_models import SDXL_CHECKPOINT_NAME, SDXL_CONTROLNET_NAME, SDXL_LORA_NAME
from workflow_tools import find_nodes, load_api_workflow

CHECKPOINT, CONTROLNET, LORA = SDXL_CHECKPOINT_NAME, SDXL_CONTROLNET_NAME, SDXL_LORA_NAME
WIDTH, HEIGHT = 64, 96  # latent 8x12: token grids 8x12 and 4x6
BUCKET = (96, 144)  # an 832x1216-like portrait bucket (2:3), latent 12x18: grids 12x18 and 6x9


def sdxl_graph(**kwargs) -> dict:
    """The SD1.5 tests' pose-transfer graph on the SDXL models; one step (each costs ~20 s on a busy 2-core CPU)."""
    kwargs = {"width": WIDTH, "height": HEIGHT, "steps": 1, **kwargs}
    prompt = pose_transfer(**kwargs)
    prompt["1"]["inputs"]["ckpt_name"] = CHECKPOINT
    prompt["11"]["inputs"]["control_net_name"] = CONTROLNET
    return prompt


def sample(host, testing, prompt) -> torch.Tensor:
    result = host.run(prompt)
    assert result.success, result.error
    return testing.CAPTURED["latent"]["samples"].clone()


def capture(prompt: dict, node_id: str, name: str, slot: int = 0) -> dict:
    prompt[f"c_{name}"] = {"class_type": "TruePoseTest_Capture", "inputs": {"value": [node_id, slot], "name": name}}
    return prompt


def _testing_module():
    import sys

    return next(m for n, m in sys.modules.items() if n.endswith("testing_nodes") and hasattr(m, "CAPTURED"))


@pytest.fixture(scope="module")
def sdxl(host, sdxl_models):
    """The stock loader's MODEL, CLIP and VAE, taken from a prompt: the same objects the executor
    caches for every later prompt of this file (one copy of the weights in memory, not two)."""
    graph = sdxl_graph()
    prompt = {nid: graph[nid] for nid in ("1", "2", "11")}  # the prompt too: CLIP-G encodes are slow on CPU
    for slot, name in enumerate(("model", "clip", "vae")):
        capture(prompt, "1", name, slot)
    capture(prompt, "2", "positive")
    capture(prompt, "11", "control")
    result = host.run(prompt)
    assert result.success, result.error
    captured = _testing_module().CAPTURED
    return captured["model"], captured["positive"], captured["vae"], captured["control"]


@pytest.fixture(scope="module", autouse=True)
def report_peak_memory():
    """Prints this process's peak RSS after the module (run with -s to see it)."""
    yield
    peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM"))
    print(f"\ntest_sdxl.py peak RSS of the test process: {peak.split(':')[1].strip()}")


@pytest.fixture(scope="module")
def baseline(host, sdxl):
    return sample(host, _testing_module(), sdxl_graph(truepose=False))


def source_inputs(host):
    image = host.nodes.LoadImage().load_image("truepose_source.png")[0]
    palette = host.nodes.LoadImage().load_image("truepose_source_parsing.png")[0]
    return image, pack("parsing").TruePose_ParsingFromImage().convert(palette, "lip")[0]


def test_the_stock_loaders_see_an_sdxl_family_model(host, sdxl):
    import comfy.model_base
    import comfy.supported_models

    model, positive, _, control = sdxl
    assert isinstance(model.model, comfy.model_base.SDXL)
    assert isinstance(model.model.model_config, comfy.supported_models.SDXL)  # Segmind Vega, an SDXL subclass
    assert model.model.adm_channels == 2816
    (cond, extra), = positive
    assert cond.shape[-1] == 2048 and extra["pooled_output"].shape == (1, 1280)  # CLIP-L 768 + CLIP-G 1280
    assert control.control_model.label_emb[0][0].in_features == 2816


def test_every_transformer_index_is_recorded_and_patched(host, sdxl):
    model, cond, vae, _ = sdxl
    blocks = set(pack("unet_blocks").attn1_modules(model, "test"))
    assert {("input", 6, 1), ("input", 8, 1), ("output", 2, 1)} <= blocks  # SDXL's multi-transformer blocks
    image, parsing = source_inputs(host)
    encode = pack("source").TruePose_EncodeSource().encode
    with torch.inference_mode():  # as the executor runs nodes (the loaded weights are inference tensors)
        without = encode(model, vae, image, parsing)[0]  # no conditioning: zero prompt + zero pooled output
        with_cond = encode(model, vae, image, parsing, conditioning=cond)[0]
    assert set(without.blocks) == set(with_cond.blocks) == blocks
    block = ("input", 8, 1)
    assert not torch.equal(without.region_tokens("upper", block, 0), with_cond.region_tokens("upper", block, 0))

    patched = pack("apply").TruePose_Apply().apply(model, with_cond, 1, 1, 1, 1, 1, 1, "joint", 0.0, 1.0)[0]
    installed = pack("patch_chain").installed_truepose(patched)
    assert set(installed.attn1) == blocks
    called = set()
    runtime = next(p.runtime for p in installed.attn1.values())
    runtime.observer = lambda block, region, rows: called.add(block)  # sees every source read, per block
    latent = {"samples": torch.zeros(1, 4, HEIGHT // 8, WIDTH // 8)}
    try:
        with torch.inference_mode():
            out = host.nodes.common_ksampler(patched, 1, 1, 2.0, "euler", "normal", cond, cond, latent)[0]["samples"]
    finally:
        runtime.observer = None
    assert torch.isfinite(out).all()
    assert called == blocks  # ComfyUI called the patch at every (block, id, transformer index)


def test_strength_zero_is_bit_identical_and_the_callers_model_stays_clean(host, testing, baseline):
    assert torch.equal(sample(host, testing, sdxl_graph(strength=0.0)), baseline)
    prompt = capture(capture(sdxl_graph(count_passes=True), "1", "callers_model"), "8", "patched_model")
    out = sample(host, testing, prompt)
    assert testing.PASSES["source"] == 1  # SourceNet once per run, not per step
    assert torch.isfinite(out).all() and (out - baseline).abs().mean() > 1e-4
    callers, patched = testing.CAPTURED["callers_model"], testing.CAPTURED["patched_model"]
    assert not pack("patch_chain").installed_truepose(callers)
    assert pack("patch_chain").installed_truepose(patched).attn1
    # the same plain graph again, through another (counting) node so the executor cannot reuse its cached result
    assert torch.equal(sample(host, testing, sdxl_graph(truepose=False, count_passes=True)), baseline)


def test_a_non_square_bucket_samples_with_and_without_routing(host, testing):
    width, height = BUCKET
    plain = sample(host, testing, sdxl_graph(width=width, height=height, truepose=False))
    routed = sample(host, testing, sdxl_graph(width=width, height=height, layout=True))
    assert routed.shape == (1, 4, height // 8, width // 8)
    assert torch.isfinite(routed).all() and (routed - plain).abs().mean() > 1e-4


def test_truepose_composes_with_lora_freeu_and_an_upscale_pass(host, testing, baseline):
    """LoRA under TruePose (strength 0 must still equal the LoRA'd plain graph), FreeU_V2 on top,
    then a latent upscale and a second KSampler pass on the same patched MODEL."""
    def with_lora(prompt: dict) -> dict:
        prompt = copy.deepcopy(prompt)
        prompt["40"] = {"class_type": "LoraLoaderModelOnly", "inputs": {"model": ["1", 0], "lora_name": LORA, "strength_model": 1.0}}
        for node in prompt.values():
            for name, value in node["inputs"].items():
                if value == ["1", 0] and node["class_type"] != "LoraLoaderModelOnly":
                    node["inputs"][name] = ["40", 0]
        return prompt

    lora_plain = sample(host, testing, with_lora(sdxl_graph(truepose=False)))
    assert not torch.equal(lora_plain, baseline)  # the LoRA's keys reached the SDXL UNet
    assert torch.equal(sample(host, testing, with_lora(sdxl_graph(strength=0.0))), lora_plain)

    prompt = with_lora(sdxl_graph())
    prompt["41"] = {"class_type": "FreeU_V2", "inputs": {"model": ["8", 0], "b1": 1.3, "b2": 1.4, "s1": 0.9, "s2": 0.2}}
    prompt["14"]["inputs"]["model"] = ["41", 0]
    prompt["42"] = {"class_type": "LatentUpscaleBy", "inputs": {"samples": ["14", 0], "upscale_method": "nearest-exact", "scale_by": 1.5}}
    prompt["43"] = {"class_type": "KSampler", "inputs": {**prompt["14"]["inputs"], "latent_image": ["42", 0], "denoise": 0.5}}
    capture(prompt, "14", "first_pass")
    prompt["20"]["inputs"]["value"] = ["43", 0]
    upscaled = sample(host, testing, prompt)
    first_pass = testing.CAPTURED["first_pass"]["samples"].clone()
    assert upscaled.shape == (1, 4, HEIGHT * 3 // 16, WIDTH * 3 // 16)
    assert torch.isfinite(upscaled).all()
    without_freeu = sample(host, testing, with_lora(sdxl_graph()))
    assert not torch.equal(without_freeu, first_pass)  # FreeU's output_block_patch took part beside TruePose's attn1
    assert not torch.equal(without_freeu, lora_plain)  # and TruePose beside the LoRA


def test_sd15_inputs_on_the_sdxl_model_are_refused_by_name(host, sdxl):
    model, _, vae, _ = sdxl
    image, parsing = source_inputs(host)
    encode = pack("source").TruePose_EncodeSource().encode
    sd15_prompt = [[torch.zeros(1, 77, 768), {}]]
    sd15_checkpoint = pack("model_loader").TruePose_ModelLoader().load(TRUEPOSE_NAME)[0]
    with torch.inference_mode():
        with pytest.raises(ValueError, match="TruePose_EncodeSource.*conditioning.*768 wide.*takes 2048"):
            encode(model, vae, image, parsing, conditioning=sd15_prompt)
        with pytest.raises(ValueError, match="TruePose_EncodeSource.*truepose_model.*trained on an SD15 base.*MODEL is SDXL"):
            encode(model, vae, image, parsing, truepose_model=sd15_checkpoint)



def test_the_shipped_sdxl_workflow_runs_both_passes(host, sdxl):
    """workflows/truepose_sdxl_pose_transfer.json as shipped, at a CPU-sized latent and one step per pass."""
    prompt = copy.deepcopy(load_api_workflow("truepose_sdxl_pose_transfer"))
    for class_type in ("EmptyLatentImage", "TruePose_RenderPose", "TruePose_PoseToLayout"):
        for nid in find_nodes(prompt, class_type):
            prompt[nid]["inputs"].update(width=WIDTH, height=HEIGHT)
    for nid in find_nodes(prompt, "KSampler"):
        prompt[nid]["inputs"]["steps"] = 1
    graph = sdxl_graph()  # the same prompts: the executor reuses their (CPU-costly) CLIP-G encodes
    for nid in ("2", "3"):
        prompt[nid]["inputs"]["text"] = graph[nid]["inputs"]["text"]
    before = set((host.root / "output").rglob("*.png"))
    result = host.run(prompt)
    assert result.success, result.error
    saved = {p.name for p in set((host.root / "output").rglob("*.png")) - before}
    assert any(n.startswith("sdxl_base_") for n in saved) and any(n.startswith("sdxl_upscaled_") for n in saved)
