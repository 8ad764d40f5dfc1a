"""The demo model is trained narrow and shipped wide: the widened SD1.5 UNet / TruePose model and the
zero-padded TAESD must compute exactly what was trained (truepose_core/train/narrow.py, taesd.py)."""

import pytest
import torch

from truepose_core.models.sd_unet import SDUNet
from truepose_core.parsing.labels import REGION_GROUPS
from truepose_core.train.model import TruePoseTrainModel
from truepose_core.train.narrow import dilute_norms, narrow_config, wide_config, widen_pose_guider, widen_unet
from truepose_core.train.taesd import TAESD


def _randomise(module: torch.nn.Module, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.1)


@pytest.mark.usefixtures("one_thread")
def test_a_widened_unet_computes_what_the_narrow_one_computes():
    narrow = narrow_config(32)
    small = dilute_norms(SDUNet(narrow), 32)
    _randomise(small, 0)
    big = SDUNet(wide_config(narrow))
    big.load_state_dict(widen_unet(small.state_dict(), narrow), strict=True)
    assert big.config.model_channels == 320 and big.config.context_dim == 768
    x, t = torch.randn(2, 4, 6, 4), torch.tensor([3.0, 901.0])
    with torch.no_grad():
        expected, got = small(x, t, torch.zeros(2, 1, 768)), big(x, t, torch.zeros(2, 77, 768))
    assert expected.abs().mean() > 0.05  # not a trivially zero network
    torch.testing.assert_close(got, expected, atol=2e-5, rtol=1e-4)


@pytest.mark.usefixtures("one_thread")
def test_the_widened_truepose_model_reads_the_source_the_same_way():
    """SourceNet bank + gated HPFA + pose guider: the narrow training model vs its wide embedding."""
    narrow = narrow_config(32)
    small = TruePoseTrainModel(narrow, pose_downsample=8)
    dilute_norms(small.target_unet, 32)
    dilute_norms(small.source_unet, 32)
    _randomise(small, 1)
    with torch.no_grad():
        for gate in small.gates.values():
            gate.fill_(0.7)
    big = TruePoseTrainModel(wide_config(narrow), pose_downsample=8)
    big.target_unet.load_state_dict(widen_unet(small.target_unet.state_dict(), narrow))
    big.source_unet.load_state_dict(widen_unet(small.source_unet.state_dict(), narrow))
    big.pose_guider.load_state_dict(widen_pose_guider(small.pose_guider.state_dict(), narrow))
    big.gates.load_state_dict(small.gates.state_dict())
    parsing = torch.zeros(2, 48, 32, dtype=torch.uint8)
    parsing[:, 10:30, 8:24] = REGION_GROUPS["upper"][0]
    parsing[:, 2:10, 12:20] = REGION_GROUPS["face"][0]
    source, noisy = torch.randn(2, 4, 6, 4), torch.randn(2, 4, 6, 4)
    pose, t = torch.rand(2, 3, 48, 32), torch.tensor([50.0, 600.0])
    with torch.no_grad():
        expected, _ = small(source, parsing, noisy, t, pose)
        got, _ = big(source, parsing, noisy, t, pose)
        without_source, _ = small(torch.randn(2, 4, 6, 4), parsing, noisy, t, pose)
    assert (expected - without_source).abs().max() > 1e-3  # the source does reach the output
    torch.testing.assert_close(got, expected, atol=2e-5, rtol=1e-4)


@pytest.mark.usefixtures("one_thread")
def test_a_narrow_taesd_saves_as_comfyui_width_and_loads_back(tmp_path):
    model = TAESD(4, encoder_width=8, decoder_width=16)
    _randomise(model, 2)
    images = torch.rand(2, 3, 32, 24)
    with torch.no_grad():
        model.calibrate(model.encoder(images))
        path = model.save(tmp_path / "vae.safetensors", dtype=torch.float32)
        from safetensors.torch import load_file

        stored = load_file(str(path))
        assert stored["taesd_encoder.0.weight"].shape == (64, 3, 3, 3)  # ComfyUI's TAESD width
        wide = TAESD()
        wide.encoder.load_state_dict({k[len("taesd_encoder."):]: v for k, v in stored.items() if k.startswith("taesd_encoder.")})
        wide.decoder.load_state_dict({k[len("taesd_decoder."):]: v for k, v in stored.items() if k.startswith("taesd_decoder.")})
        torch.testing.assert_close(wide.encoder(images), model.encoder(images))
        latents = model.to_diffusion(model.encoder(images))
        assert abs(float(latents.mean())) < 1e-4 and abs(float(latents.std()) - 1.0) < 1e-4  # calibrated scale / shift
        back = TAESD.load(path)
        assert back.widths == (8, 16)
        torch.testing.assert_close(back.decoder(latents), model.decoder(latents))
