"""The SCHP network: official checkpoint layout, loading errors, batching, flip TTA and CPU speed.

The ResNet-101 is built once per module; everything except the speed measurement runs at
small input sizes. One intra-op thread: on small shared CI runners two OpenMP threads fighting
other processes make the many small layers of a tiny input several times slower.
"""

import argparse
import time

import pytest
import torch
import torch.nn as nn
from safetensors import safe_open
from safetensors.torch import save_file

from truepose_core.errors import TruePoseInputError
from truepose_core.parsing.convert import main as convert_main
from truepose_core.parsing.inplace_abn import InPlaceABN
from truepose_core.parsing.loading import build_network, load_network, read_weights
from truepose_core.parsing.parser import SchpParser, load_schp_parser
from truepose_core.parsing.preprocess import FrameFit, frame_to_net
from truepose_core.parsing.schp import AugmentCE2P

HEADS = ("decoder.conv4.weight", "decoder.conv4.bias", "fushion.3.weight", "fushion.3.bias")


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def weights() -> dict[str, torch.Tensor]:
    """A LIP-sized SCHP with ResNet-style init (the default init shrinks activations into denormals)."""
    torch.manual_seed(0)
    net = AugmentCE2P(20)
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    return net.state_dict()


@pytest.fixture(scope="module")
def official_pth(weights, tmp_path_factory):
    """Saved as SCHP's trainer did: wrapped in 'state_dict', DataParallel 'module.' prefix."""
    path = tmp_path_factory.mktemp("schp") / "exp-schp-renamed.pth"
    torch.save({"epoch": 150, "state_dict": {f"module.{k}": v for k, v in weights.items()}}, path)
    return path


def with_classes(weights, n):
    torch.manual_seed(n)
    sd = dict(weights)
    sd.update({k: torch.randn(n, *weights[k].shape[1:]) for k in HEADS})
    return sd


def test_official_names_and_shapes():
    sd = AugmentCE2P(7).state_dict()
    assert not any(k.endswith("num_batches_tracked") for k in sd)
    expected = {
        "conv3.weight": (128, 64, 3, 3),
        "layer1.0.downsample.1.running_var": (256,),
        "layer3.22.bn3.weight": (1024,),
        "layer4.2.conv2.weight": (512, 512, 3, 3),
        "context_encoding.stages.3.1.weight": (512, 2048, 1, 1),
        "context_encoding.bottleneck.0.weight": (512, 4096, 3, 3),
        "edge.conv4.weight": (2, 256, 3, 3),
        "edge.conv5.weight": (2, 6, 1, 1),
        "decoder.conv2.1.running_mean": (48,),
        "decoder.conv3.0.weight": (256, 304, 1, 1),
        "decoder.conv4.weight": (7, 256, 1, 1),
        "fushion.0.weight": (256, 1024, 1, 1),
        "fushion.3.bias": (7,),
    }
    assert {k: tuple(sd[k].shape) for k in expected} == expected
    assert len(sd) == 603 and sum(v.numel() for v in sd.values()) == 66_831_774


def test_official_checkpoint_loads_strictly_and_finds_lip(official_pth, weights):
    net, label_set = load_network(official_pth)
    assert label_set == "lip"
    loaded = net.state_dict()
    assert loaded.keys() == weights.keys()
    assert all(torch.equal(loaded[k], weights[k]) for k in weights)
    assert not net.training


@pytest.mark.parametrize(("classes", "label_set", "net_size"), [(20, "lip", (473, 473)), (18, "atr", (512, 512)), (7,
    "pascal", (512, 512))])
def test_label_set_comes_from_the_classifier_head(weights, classes, label_set, net_size):
    net, found = build_network({f"module.{k}": v for k, v in with_classes(weights, classes).items()})
    assert found == label_set and net.fushion[3].out_channels == classes
    assert SchpParser(net, found).net_size == net_size


def test_converter_writes_safetensors_that_load_the_same(official_pth, weights, tmp_path, capsys):
    out = tmp_path / "schp-lip.safetensors"
    assert convert_main([str(official_pth), str(out)]) == 0
    assert "label set: lip" in capsys.readouterr().out
    with safe_open(str(out), "pt") as f:
        assert f.metadata()["label_set"] == "lip"
    net, label_set = load_network(out)
    assert label_set == "lip" and torch.equal(net.state_dict()["fushion.3.weight"], weights["fushion.3.weight"])


def test_converter_refuses_what_is_not_schp(tmp_path, capsys):
    unet = tmp_path / "unet.pth"
    torch.save({"input_blocks.0.0.weight": torch.zeros(4, 4, 3, 3)}, unet)
    assert convert_main([str(unet), str(tmp_path / "x.safetensors")]) == 1
    assert "not an SCHP" in capsys.readouterr().err


def test_missing_file_names_the_folders(tmp_path):
    with pytest.raises(TruePoseInputError, match="does not exist.*models/human_parsing"):
        read_weights(tmp_path / "exp-schp-201908261155-lip.pth")


@pytest.mark.parametrize("name", ["broken.pth", "broken.safetensors"])
def test_corrupt_files_are_reported_as_damaged(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"\x80\x02not really a checkpoint" * 50)
    with pytest.raises(TruePoseInputError, match="could not be read.*damaged"):
        read_weights(path)


def test_truncated_download_is_reported_as_damaged(official_pth, tmp_path):
    path = tmp_path / "half.pth"
    path.write_bytes(official_pth.read_bytes()[: 4 << 20])
    with pytest.raises(TruePoseInputError, match="could not be read"):
        load_network(path)


def test_a_unet_is_not_taken_for_a_parser(tmp_path):
    path = tmp_path / "unet.safetensors"
    save_file({"model.diffusion_model.input_blocks.0.0.weight": torch.zeros(320, 4, 3, 3)}, str(path))
    with pytest.raises(TruePoseInputError, match="not an SCHP human-parsing checkpoint.*diffusion UNet"):
        load_network(path)


def test_unknown_class_count_and_missing_layers_are_refused(weights):
    with pytest.raises(TruePoseInputError, match="5 classes"):
        build_network(with_classes(weights, 5))
    damaged = {k: v for k, v in weights.items() if k != "layer3.7.conv2.weight"}
    with pytest.raises(TruePoseInputError, match="do not match.*layer3.7.conv2.weight"):
        build_network(damaged)


def test_pickled_python_objects_are_not_loaded(tmp_path):
    path = tmp_path / "with-args.pth"
    torch.save({"state_dict": {"x": torch.zeros(1)}, "args": argparse.Namespace(lr=0.1)}, path)
    with pytest.raises(TruePoseInputError, match="Python objects"):
        read_weights(path)


def test_a_trusted_pickle_converts_with_the_command_the_error_gives(weights, tmp_path, capsys):
    path = tmp_path / "exp-schp-with-args.pth"
    torch.save({"state_dict": {f"module.{k}": v for k, v in weights.items()}, "args": argparse.Namespace(lr=0.1)}, path)
    with pytest.raises(TruePoseInputError) as info:
        load_network(path)
    command = f'python -m truepose_core.parsing.convert --trust-pickle "{path}" "{tmp_path / "exp-schp-with-args.safetensors"}"'
    assert command in info.value.fix and "runs the file's Python code" in info.value.fix
    target = tmp_path / "exp-schp-with-args.safetensors"
    assert convert_main([str(path), str(target)]) == 1  # without the opt-in: refused, the same advice
    assert "--trust-pickle" in capsys.readouterr().err
    argv = command.split(" ", 3)[3].replace('"', "").split(" ")  # the command's own arguments
    assert convert_main(argv) == 0
    net, label_set = load_network(target)  # pure safetensors from now on, no pickle
    assert label_set == "lip" and torch.equal(net.state_dict()["decoder.conv4.weight"], weights["decoder.conv4.weight"])


def test_a_converted_file_whose_metadata_contradicts_its_head_is_refused(weights, tmp_path):
    path = tmp_path / "schp-lip.safetensors"
    save_file(dict(weights), str(path), metadata={"format": "schp-augmentce2p", "label_set": "atr"})
    with pytest.raises(TruePoseInputError, match=r"says label set 'atr' in its metadata, but its classifier head is lip \(20 classes\)"):
        load_network(path)


def test_nan_weights_are_named(weights):
    damaged = dict(weights)
    damaged["layer2.1.bn1.running_var"] = weights["layer2.1.bn1.running_var"].clone().index_fill_(0, torch.tensor([3]), float("nan"))
    with pytest.raises(TruePoseInputError,
        match=r"input 'model_name': the SCHP tensor 'layer2\.1\.bn1\.running_var' holds 1 NaN and 0 infinite"):
        build_network(damaged)


def three_different_images(h=48, w=40):
    yy, xx = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
    disc = (((xx - 0.5) ** 2 + (yy - 0.5) ** 2) < 0.1).float()
    return torch.stack([
        torch.stack([xx, 1 - xx, torch.full_like(xx, 0.5)], -1),
        torch.stack([yy, 0.2 * yy, 1 - yy], -1),
        torch.stack([disc] * 3, -1),
    ])


def test_every_frame_of_a_batch_is_parsed_on_its_own(weights):
    net, label_set = build_network(weights)
    parser = SchpParser(net, label_set, net_size=(97, 97))
    images = three_different_images()
    # Batch-norm statistics measured on these inputs give the random net image-dependent outputs.
    for m in net.modules():
        if isinstance(m, InPlaceABN):
            m.momentum = 1.0
    net.train()
    with torch.no_grad():
        net(frame_to_net(images, FrameFit.for_frame((48, 40), (97, 97))))
    net.eval()

    seen = []
    result = parser.parse(images, on_frame=seen.append)
    labels = result.parsing.labels
    assert labels.shape == (3, 48, 40) and labels.dtype == torch.uint8 and seen == [0, 1, 2]
    assert all(not torch.equal(labels[i], labels[j]) for i, j in ((0, 1), (0, 2), (1, 2)))
    alone = torch.cat([parser.parse(images[i : i + 1]).parsing.labels for i in range(3)])
    assert torch.equal(alone, labels)
    assert torch.equal(result.person_mask, (labels != 0).float())


class SeesLeftArmOnTheLeft(nn.Module):
    """Stub network: 'Left-arm' on the left half of whatever it is shown, a weak background elsewhere."""

    def __init__(self):
        super().__init__()
        self.anchor = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        b, _, h, w = x.shape
        logits = torch.full((b, 20, h // 4, w // 4), -1.0)
        logits[:, 0] = 0.2
        logits[:, 14:16] = 0.0
        logits[:, 14, :, : w // 8] = 1.0
        return logits, logits, logits[:, :2]


def test_flip_tta_swaps_left_and_right_classes_of_the_mirrored_pass():
    parser = SchpParser(SeesLeftArmOnTheLeft(), "lip", net_size=(64, 64))
    image = torch.rand(1, 64, 64, 3)
    plain = parser.parse(image).parsing.labels[0]
    tta = parser.parse(image, flip_tta=True).parsing.labels[0]
    assert set(plain[:, :24].unique().tolist()) == {14} and set(plain[:, 40:].unique().tolist()) == {0}
    assert set(tta[:, :24].unique().tolist()) == {14} and set(tta[:, 40:].unique().tolist()) == {15}


def test_cpu_parse_time_of_a_473_image(official_pth, capsys):
    parser = load_schp_parser(official_pth)
    image = torch.rand(1, 473, 473, 3)
    parser.parse(image)  # first call pays for kernel selection
    start = time.perf_counter()
    result = parser.parse(image)
    seconds = time.perf_counter() - start
    with capsys.disabled():
        print(f"\nSCHP parse time, 473x473 on CPU, {torch.get_num_threads()} thread(s): {seconds:.2f} s")
    assert result.parsing.labels.shape == (1, 473, 473)
    assert seconds < 30
