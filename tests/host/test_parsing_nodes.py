"""The parsing interop nodes, called as the host registered them."""

import pytest
import torch


def node(host, name):
    return host.nodes.NODE_CLASS_MAPPINGS[name]()


def parsing_with_face(host):
    mask = torch.zeros(1, 32, 24)
    mask[0, 4:12, 8:16] = 1.0
    upper = torch.zeros(1, 32, 24)
    upper[0, 14:28, 4:20] = 1.0
    (parsing,) = node(host, "TruePose_ParsingFromMasks").build(face=mask, upper=upper)
    return parsing, mask


def test_masks_in_masks_out(host):
    parsing, face = parsing_with_face(host)
    (mask,) = node(host, "TruePose_ParsingToMask").to_mask(parsing, "face", 0, 0, False)
    assert torch.equal(mask, face)
    (inverted,) = node(host, "TruePose_ParsingToMask").to_mask(parsing, "face", 0, 0, True)
    assert torch.equal(inverted, 1 - face)


def test_grow_and_shrink_move_the_mask_edge_by_whole_pixels(host):
    parsing, face = parsing_with_face(host)
    to_mask = node(host, "TruePose_ParsingToMask").to_mask
    (grown,) = to_mask(parsing, "face", 2, 0, False)
    (shrunk,) = to_mask(parsing, "face", -2, 0, False)
    assert grown.sum() == 12 * 12 and shrunk.sum() == 4 * 4
    (blurred,) = to_mask(parsing, "face", 0, 2, False)
    assert ((blurred > 0) & (blurred < 1)).any() and blurred.max() == 1.0 and torch.isclose(blurred.sum(), face.sum(), rtol=0.05)


def test_palette_round_trip_through_the_nodes(host):
    parsing, _ = parsing_with_face(host)
    (image,) = node(host, "TruePose_ParsingToImage").to_image(parsing)
    (back,) = node(host, "TruePose_ParsingFromImage").convert(image, "lip")
    assert torch.equal(back.labels, parsing.labels)


def test_masks_of_different_sizes_are_refused(host):
    with pytest.raises(ValueError, match="TruePose_ParsingFromMasks: input 'hair': it is 8x9 but 'face' is 8x8"):
        node(host, "TruePose_ParsingFromMasks").build(face=torch.ones(1, 8, 8), hair=torch.ones(1, 9, 8))


def test_unknown_label_names_the_choices(host):
    parsing, _ = parsing_with_face(host)
    with pytest.raises(ValueError, match="TruePose_ParsingToMask: input 'labels': 'tail'"):
        node(host, "TruePose_ParsingToMask").to_mask(parsing, "face, tail", 0, 0, False)


def test_merge_sources_takes_the_listed_regions_from_the_other_source(host):
    from truepose_core.attention import BankRecorder
    from truepose_core.parsing import ParsingMap

    labels = torch.zeros(1, 4, 4, dtype=torch.uint8)
    labels[0, :2] = 13  # face
    labels[0, 2:] = 5  # upper clothes
    banks = []
    for seed in (0, 1):
        recorder = BankRecorder()
        recorder.record(("input", 1, 0), torch.randn(1, 16, 8, generator=torch.Generator().manual_seed(seed)), (4, 4))
        banks.append(recorder.build(ParsingMap(labels)))
    merge = node(host, "TruePose_MergeSources").merge
    (merged,) = merge(banks[0], banks[1], "upper")
    assert torch.equal(merged.region_tokens("upper", ("input", 1, 0), 0), banks[1].region_tokens("upper", ("input", 1, 0), 0))
    assert torch.equal(merged.region_tokens("face", ("input", 1, 0), 0), banks[0].region_tokens("face", ("input", 1, 0), 0))
    with pytest.raises(ValueError, match="TruePose_MergeSources: input 'regions'"):
        merge(banks[0], banks[1], "upper, wings")
