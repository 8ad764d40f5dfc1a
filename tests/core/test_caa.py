"""CAA: region crops, the additive attn2 branch (fused and map-returning paths), the localisation
loss, and CAA inside training (gradients, checkpoint round trip)."""

import math

import pytest
import torch

from truepose_core.attention import AttentionCall
from truepose_core.attention.caa import CAAAttention, caa_attention
from truepose_core.attention.fusion import multihead_sdpa
from truepose_core.caa import CAA_REGIONS, CAAProjection, localisation_loss, region_crops
from truepose_core.caa.crops import NEUTRAL
from truepose_core.caa.loss import region_masks
from truepose_core.parsing.parsing_map import ParsingMap
from truepose_core.synthetic.dataset import SyntheticPairs


pytestmark = pytest.mark.usefixtures("one_thread")


def test_region_crops_are_square_neutral_outside_and_flag_absent_regions():
    item = SyntheticPairs(1, 64, 64, seed=2)[0]
    image, labels = item["source_image"][None], item["source_parsing"][None]
    labels[labels == 19] = 18  # keep the figure; no region is removed by this
    crops = region_crops(image, ParsingMap(labels), CAA_REGIONS, size=32)
    assert crops.pixels.shape == (1, len(CAA_REGIONS), 3, 32, 32)
    present = dict(zip(CAA_REGIONS, crops.present[0].tolist()))
    assert present["face"] and present["upper"] and present["lower"]
    face = crops.pixels[0, CAA_REGIONS.index("face")]
    skin = torch.tensor([*item["source_image"][:, labels[0] == 13].mean(1)])
    assert (face.mean((1, 2)) - skin).abs().max() < 0.2  # mostly face pixels, little grey
    absent = ParsingMap(torch.where(labels == 13, 0, labels))  # remove the face
    crops = region_crops(image, absent, CAA_REGIONS, size=32)
    assert not crops.present[0, CAA_REGIONS.index("face")]
    assert torch.all(crops.pixels[0, CAA_REGIONS.index("face")] == NEUTRAL)


def _manual(q, k, v, heads, scales, present):
    b, n, hd = q.shape
    d = hd // heads
    out = torch.zeros_like(q)
    for i in range(b):
        if not present[i].any():
            continue
        for h in range(heads):
            sl = slice(h * d, (h + 1) * d)
            logits = q[i, :, sl] @ k[i, :, sl].T / math.sqrt(d)
            logits[:, ~present[i]] = float("-inf")
            out[i, :, sl] = logits.softmax(-1) @ (v[i, :, sl] * scales[:, None])
    return out


def test_caa_attention_fused_and_map_paths_match_the_definition():
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(3, 10, 16, generator=g) for _ in range(3))
    k, v = k[:, :4], v[:, :4]
    scales = torch.tensor([1.0, 0.5, 2.0, 0.0])
    present = torch.tensor([[True, True, False, True], [False, False, False, False], [True, False, False, False]])
    fused, none = caa_attention(q, k, v, 2, scales, present)
    mapped, maps = caa_attention(q, k, v, 2, scales, present, need_maps=True)
    expected = _manual(q, k, v, 2, scales, present)
    assert none is None and maps.shape == (3, 4, 10)
    torch.testing.assert_close(fused, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(mapped, expected, atol=1e-5, rtol=1e-5)
    assert not fused[1].any()  # no region in that source: nothing added
    torch.testing.assert_close(maps[0].sum(0), torch.ones(10))  # a softmax over the present regions
    assert not maps[0, 2].any()


def test_caa_runtime_adds_to_cond_rows_only_and_caches_projections():
    g = torch.Generator().manual_seed(1)
    tokens = torch.randn(1, len(CAA_REGIONS), 8, generator=g)
    present = torch.ones(1, len(CAA_REGIONS), dtype=torch.bool)
    w_k, w_v = torch.randn(8, 16, generator=g), torch.randn(8, 16, generator=g)
    calls = []

    def project(block, t):
        calls.append(block)
        return t @ w_k, t @ w_v

    runtime = CAAAttention(tokens, present, CAA_REGIONS, {r: 1.0 for r in CAA_REGIONS}, project)
    q, k, v = torch.randn(4, 6, 16, generator=g), torch.randn(4, 3, 16, generator=g), torch.randn(4, 3, 16, generator=g)
    cross = lambda q_, k_, v_: multihead_sdpa(q_, k_, v_, 2)  # noqa: E731
    call = AttentionCall(("input", 1, 0), 2, (2, 3), cond_or_uncond=(0, 1))
    out = runtime(q, k, v, call, cross)
    plain = cross(q, k, v)
    torch.testing.assert_close(out[2:], plain[2:])  # the uncond half reads nothing
    assert (out[:2] - plain[:2]).abs().max() > 1e-3
    runtime(q, k, v, call, cross)
    assert calls == [("input", 1, 0)]  # projected once per run
    runtime.release()
    runtime(q, k, v, call, cross)
    assert len(calls) == 2


def test_localisation_loss_rewards_attention_inside_the_target_region():
    labels = torch.zeros(1, 8, 8, dtype=torch.uint8)
    labels[0, :2, 3:5] = 13  # face at the top
    labels[0, 2:6, 2:6] = 5  # upper clothes
    inside = region_masks(ParsingMap(labels), (8, 8), CAA_REGIONS)
    present = torch.ones(1, len(CAA_REGIONS), dtype=torch.bool)
    aligned = inside.float() / inside.float().sum(1, keepdim=True).clamp(min=1)
    uniform = torch.full_like(aligned, 1 / len(CAA_REGIONS))
    face, upper = CAA_REGIONS.index("face"), CAA_REGIONS.index("upper")
    wrong = aligned.clone()
    wrong[:, [face, upper]] = aligned[:, [upper, face]]  # each token looks at the other region
    assert localisation_loss(aligned, inside, present) < -0.1
    assert localisation_loss(uniform, inside, present).abs() < 1e-6
    assert localisation_loss(wrong, inside, present) > 0
    assert localisation_loss(aligned, inside, torch.zeros_like(present)) is None


def test_projection_maps_each_region_to_one_context_token():
    projection = CAAProjection(12, 16)
    tokens = projection(torch.randn(2, len(CAA_REGIONS), 12))
    assert tokens.shape == (2, len(CAA_REGIONS), 16)
    assert set(projection.state_dict()) >= {f"proj.{r}.weight" for r in CAA_REGIONS} | {"norm.weight"}
