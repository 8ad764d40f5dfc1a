"""Paired readers: own-pairs round trip against SyntheticPairs, the DeepFashion layout, errors, dispatch, workers."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from truepose_core.data import DeepFashionPairs, OwnPairs, open_dataset
from truepose_core.data.write_synthetic import write_synthetic
from truepose_core.errors import TruePoseInputError
from truepose_core.parsing.palette import voc_palette
from truepose_core.pose import Person, PoseFrame, render_frame
from truepose_core.synthetic.dataset import SyntheticPairs, random_pose, random_style
from truepose_core.synthetic.figure import draw_figure

IMAGES = ("source_image", "target_image", "target_pose")
LABELS = ("source_parsing", "target_parsing")
POINTS = ("source_keypoints", "target_keypoints")


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def own(tmp_path_factory) -> Path:
    return write_synthetic(tmp_path_factory.mktemp("own"), count=4, size=64, width=48, seed=3)


def test_written_synthetic_pairs_read_back_as_the_same_items(own):
    reader, reference = open_dataset("pairs", str(own), "train", 64, 48), SyntheticPairs(4, 48, 64, seed=3)
    assert isinstance(reader, OwnPairs) and len(reader) == 4
    assert json.loads((own / "poses" / "00000_target.json").read_text())[0]["canvas_width"] == 48
    for i in range(4):
        got, want = reader[i], reference[i]
        assert set(got) == set(want)
        for key in IMAGES + LABELS:
            assert got[key].dtype == want[key].dtype and torch.equal(got[key], want[key]), key
        for key in POINTS:
            assert got[key].dtype == torch.float32
            torch.testing.assert_close(got[key], want[key], atol=1e-3, rtol=0)


def test_own_pairs_resize_scales_keypoints_and_keeps_parsing_categorical(own):
    small, full = OwnPairs(own, 32, 24)[1], OwnPairs(own, 64, 48)[1]
    assert small["source_image"].shape == (3, 32, 24) and small["target_pose"].shape == (3, 32, 24)
    assert small["target_parsing"].shape == (32, 24) and small["target_parsing"].dtype == torch.uint8
    torch.testing.assert_close(small["target_keypoints"], full["target_keypoints"] * 0.5)
    assert set(small["target_parsing"].unique().tolist()) <= set(full["target_parsing"].unique().tolist())


def _save_parsing(path: Path, labels: np.ndarray, how: str) -> None:
    if how == "ids":
        Image.fromarray(labels, "L").save(path)
    elif how == "schp":  # palette-mode PNG whose indices are the ids
        image = Image.fromarray(labels, "P")
        image.putpalette(voc_palette(256).numpy().reshape(-1).tolist())
        image.save(path)
    else:  # the palette colours as RGB
        Image.fromarray(voc_palette(256).numpy()[labels], "RGB").save(path)


def _fake_deepfashion(root: Path, split: str = "train") -> dict:
    """Two pairs over three 256x176 figures (jpg / png), y-first annotations with one -1 point, three parsing PNG kinds."""
    (root / split).mkdir(parents=True)
    (root / f"{split}_parsing").mkdir()
    rng = np.random.default_rng(1)
    style = random_style(rng, 176)
    truth = {}
    for i, (ext, how) in enumerate((("jpg", "ids"), ("png", "schp"), ("jpg", "colours"))):
        name = f"fashionWOMENDressesid0000{i}_1front.{ext}"
        points = np.round(random_pose(rng, 176, 256))
        rgb, labels = draw_figure(points, 176, 256, style)
        Image.fromarray(rgb).save(root / split / name, quality=95)
        _save_parsing(root / f"{split}_parsing" / f"{Path(name).stem}.png", labels, how)
        points[17] = -1  # left ear not annotated
        truth[name] = (points, labels)
    names = list(truth)
    (root / f"fasion-resize-pairs-{split}.csv").write_text(f"from,to\n{names[0]},{names[1]}\n{names[2]},{names[0]}\n")
    lines = ["name:keypoints_y:keypoints_x"]
    for name, (points, _) in truth.items():
        lines.append(f"{name}:{json.dumps([int(v) for v in points[:, 1]])}:{json.dumps([int(v) for v in points[:, 0]])}")
    (root / f"fasion-resize-annotation-{split}.csv").write_text("\n".join(lines) + "\n")
    return truth


def test_deepfashion_layout_at_half_size(tmp_path):
    truth = _fake_deepfashion(tmp_path)
    names = list(truth)
    data = DeepFashionPairs(tmp_path, "train", 128, 88)
    assert len(data) == 2
    for index, (source, target) in enumerate(((names[0], names[1]), (names[2], names[0]))):
        item = data[index]
        assert set(item) == set(SyntheticPairs(1, 16, 16)[0])
        for key in IMAGES:
            assert item[key].shape == (3, 128, 88) and item[key].dtype == torch.float32
            assert 0.0 <= float(item[key].min()) and float(item[key].max()) <= 1.0
        for key, name in (("source", source), ("target", target)):
            points, labels = truth[name]
            keypoints = item[f"{key}_keypoints"]
            assert keypoints.shape == (18, 2) and keypoints.dtype == torch.float32
            assert torch.isnan(keypoints[17]).all() and torch.isfinite(keypoints[:17]).all()
            torch.testing.assert_close(keypoints[:17], torch.from_numpy(points[:17] * 0.5).float())
            parsing = item[f"{key}_parsing"]
            assert parsing.shape == (128, 88) and parsing.dtype == torch.uint8
            assert set(parsing.unique().tolist()) <= set(np.unique(labels).tolist())  # nearest: no blended ids
            assert {5, 9, 13} <= set(parsing.unique().tolist())
        skeleton = render_frame(PoseFrame(88, 128, (Person(item["target_keypoints"].numpy()),)), 88, 128, stick_scale=0.25)
        assert torch.equal(item["target_pose"], torch.from_numpy(skeleton).permute(2, 0, 1).float() / 255.0)
    # the three parsing encodings decode to the same ids
    full = DeepFashionPairs(tmp_path, "train", 256, 176)
    assert np.array_equal(full[0]["source_parsing"].numpy(), truth[names[0]][1])
    assert np.array_equal(full[0]["target_parsing"].numpy(), truth[names[1]][1])
    assert np.array_equal(full[1]["source_parsing"].numpy(), truth[names[2]][1])


def _raises(build, path: Path, words: str) -> None:
    with pytest.raises(TruePoseInputError) as caught:
        build()
    message = str(caught.value)
    assert str(path) in message and words in message and "Fix:" in message and caught.value.fix, message


def test_every_bad_input_names_the_file_and_a_fix(tmp_path, own):
    df = tmp_path / "df"
    _raises(lambda: DeepFashionPairs(df, "train", 128, 88), df, "does not exist")
    _raises(lambda: OwnPairs(tmp_path / "nowhere", 64, 48), tmp_path / "nowhere", "does not exist")
    names = list(_fake_deepfashion(df))
    pairs, annotation = df / "fasion-resize-pairs-train.csv", df / "fasion-resize-annotation-train.csv"
    good_pairs, good_annotation = pairs.read_text(), annotation.read_text()

    pairs.unlink()
    _raises(lambda: DeepFashionPairs(df, "train", 128, 88), pairs, "does not exist")
    pairs.write_text(good_pairs.replace("from,to", "source;target"))
    _raises(lambda: DeepFashionPairs(df, "train", 128, 88), pairs, "header")
    pairs.write_text(good_pairs)
    annotation.write_text(good_annotation.replace("name:keypoints_y:keypoints_x", "name,y,x"))
    _raises(lambda: DeepFashionPairs(df, "train", 128, 88), annotation, "header")
    lines = good_annotation.splitlines()
    lines[2] = lines[2].replace("[", "[7, ", 1)  # 19 y values
    annotation.write_text("\n".join(lines) + "\n")
    _raises(lambda: DeepFashionPairs(df, "train", 128, 88), annotation, "19 numbers")
    annotation.write_text(good_annotation)

    image = df / "train" / names[1]
    image.rename(tmp_path / "moved.jpg")
    _raises(lambda: DeepFashionPairs(df, "train", 128, 88), df / "train", names[1])
    (tmp_path / "moved.jpg").rename(image)
    parsing = df / "train_parsing" / f"{Path(names[2]).stem}.png"
    parsing.unlink()
    _raises(lambda: DeepFashionPairs(df, "train", 128, 88), df / "train_parsing", parsing.name)
    Image.fromarray(np.full((256, 176), 20, np.uint8), "L").save(parsing)
    _raises(lambda: DeepFashionPairs(df, "train", 128, 88)[1], parsing, "class id 20")
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (256, 176, 3), dtype=np.uint8), "RGB").save(parsing)
    _raises(lambda: DeepFashionPairs(df, "train", 128, 88)[1], parsing, "palette")

    pose = own / "poses" / "00002_target.json"
    kept = pose.read_text()
    pose.write_text(json.dumps([{"people": [], "canvas_width": 48, "canvas_height": 64}]))
    _raises(lambda: OwnPairs(own, 64, 48)[2], pose, "no person")
    pose.write_text("{not json")
    _raises(lambda: OwnPairs(own, 64, 48)[2], pose, "not POSE_KEYPOINT JSON")
    pose.unlink()
    _raises(lambda: OwnPairs(own, 64, 48), own / "poses", "00002_target.json")
    pose.write_text(kept)
    OwnPairs(own, 64, 48)[2]  # whole again


def test_open_dataset_dispatch(tmp_path, own):
    synthetic = open_dataset("synthetic", "ignored", "train", 32, 24, length=5, seed=9)
    assert isinstance(synthetic, SyntheticPairs) and len(synthetic) == 5
    assert torch.equal(synthetic[2]["target_image"], SyntheticPairs(5, 24, 32, 9)[2]["target_image"])
    assert synthetic[0]["target_image"].shape == (3, 32, 24)
    _fake_deepfashion(tmp_path / "df", split="test")
    assert isinstance(open_dataset("deepfashion", str(tmp_path / "df"), "test", 64, 44), DeepFashionPairs)
    (own / "pairs-test.csv").write_text("source,target\n00003_target.png,00003_source.png\n")
    try:
        held_out = open_dataset("pairs", str(own), "test", 64, 48)
        assert len(held_out) == 1 and len(open_dataset("pairs", str(own), "train", 64, 48)) == 4
    finally:
        (own / "pairs-test.csv").unlink()
    with pytest.raises(TruePoseInputError, match="unknown dataset kind 'imagenet'.*Fix: use one of synthetic, deepfashion, pairs"):
        open_dataset("imagenet", str(tmp_path), "train", 32, 32)


def test_worker_processes_read_the_same_batch(own):
    data = OwnPairs(own, 64, 48)
    serial = next(iter(DataLoader(data, batch_size=4)))
    parallel = next(iter(DataLoader(data, batch_size=4, num_workers=2)))
    assert set(serial) == set(parallel)
    for key in serial:
        assert torch.equal(serial[key], parallel[key]), key
