"""HPFA maths against hand-computed attention, routing, CFG rows, schedule and batching."""

import math

import pytest
import torch

from truepose_core.attention import AttentionCall, BankRecorder, HPFAConfig, TruePoseAttention
from truepose_core.errors import TruePoseInputError
from truepose_core.parsing import ParsingMap

HEADS, DIM = 2, 8
BLOCK = ("input", 1, 0)
GRID = (4, 6)  # non-square token grid
N = GRID[0] * GRID[1]


def reference_attention(q, keys, values, heads, key_weights=None):
    """Textbook multi-head softmax attention with optional per-key weights, no SDPA."""
    b, nq, hd = q.shape
    d = hd // heads
    qh = q.view(b, nq, heads, d).transpose(1, 2)
    kh = keys.view(keys.shape[0], -1, heads, d).transpose(1, 2).expand(b, -1, -1, -1)
    vh = values.view(values.shape[0], -1, heads, d).transpose(1, 2).expand(b, -1, -1, -1)
    scores = torch.exp(qh @ kh.transpose(-1, -2) / math.sqrt(d))
    if key_weights is not None:
        scores = scores * key_weights.view(1, 1, 1, -1)
    probs = scores / scores.sum(-1, keepdim=True)
    return (probs @ vh).transpose(1, 2).reshape(b, nq, hd)


def plain_self_attention(heads):
    return lambda q, k, v: reference_attention(q, k, v, heads)


def make_parsing():
    """Source layout on the 4x6 grid: face top-left 2x2, upper-clothes below it, rest background."""
    labels = torch.zeros(1, 4, 6, dtype=torch.uint8)
    labels[0, 0:2, 0:2] = 13  # face
    labels[0, 2:4, 0:3] = 5  # upper clothes
    return ParsingMap(labels)


def make_bank(images=1, seed=0):
    g = torch.Generator().manual_seed(seed)
    rec = BankRecorder()
    tokens = torch.randn(images, N, HEADS * DIM, generator=g)
    rec.record(BLOCK, tokens, GRID)
    return rec.build(make_parsing()), tokens


def identity_projection(block, tokens):
    return tokens * 0.5, tokens * 2.0  # distinct k and v so a mix-up shows


def make_runtime(bank, layout=None, observer=None, **config):
    strengths = config.pop("strengths", {"face": 1.0, "upper": 1.0})
    return TruePoseAttention(bank, HPFAConfig(strengths=strengths, **config), identity_projection, layout, observer)


def qkv(batch=1, seed=1):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, N, HEADS * DIM, generator=g) for _ in range(3)]


FACE_IDX = torch.tensor([0, 1, 6, 7])
UPPER_IDX = torch.tensor([12, 13, 14, 18, 19, 20])


def test_bank_groups_tokens_by_region():
    bank, tokens = make_bank()
    assert set(bank.regions) == {"face", "upper", "background"}
    assert torch.equal(bank.region_tokens("face", BLOCK, 0), tokens[0, FACE_IDX])
    assert torch.equal(bank.region_tokens("upper", BLOCK, 0), tokens[0, UPPER_IDX])
    assert bank.region_tokens("background", BLOCK, 0).shape[0] == N - 10


def test_joint_equals_hand_computed_reference_attention():
    bank, tokens = make_bank()
    q, k, v = qkv()
    rt = make_runtime(bank, fusion="joint")
    out = rt(q, k, v, AttentionCall(BLOCK, HEADS, GRID), plain_self_attention(HEADS))
    fg = tokens[0, torch.cat([FACE_IDX, UPPER_IDX])]
    keys = torch.cat([k, 0.5 * fg[None]], 1)
    values = torch.cat([v, 2.0 * fg[None]], 1)
    torch.testing.assert_close(out, reference_attention(q, keys, values, HEADS), rtol=1e-5, atol=1e-5)


def test_joint_strength_weights_the_region_share_of_the_softmax():
    bank, tokens = make_bank()
    q, k, v = qkv()
    rt = make_runtime(bank, fusion="joint", strengths={"face": 2.5, "upper": 0.5})
    out = rt(q, k, v, AttentionCall(BLOCK, HEADS, GRID), plain_self_attention(HEADS))
    fg = tokens[0, torch.cat([FACE_IDX, UPPER_IDX])]
    weights = torch.cat([torch.ones(N), torch.full((4,), 2.5), torch.full((6,), 0.5)])
    expected = reference_attention(q, torch.cat([k, 0.5 * fg[None]], 1), torch.cat([v, 2.0 * fg[None]], 1), HEADS, weights)
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)


def test_gated_with_one_region_adds_attention_over_exactly_that_region():
    bank, tokens = make_bank()
    q, k, v = qkv()
    rt = make_runtime(bank, fusion="gated", strengths={"upper": 0.7})
    out = rt(q, k, v, AttentionCall(BLOCK, HEADS, GRID), plain_self_attention(HEADS))
    region = tokens[0, UPPER_IDX][None]
    expected = reference_attention(q, k, v, HEADS) + 0.7 * reference_attention(q, 0.5 * region, 2.0 * region, HEADS)
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("fusion", ["joint", "gated"])
def test_routing_gives_tokens_outside_the_target_region_nothing(fusion):
    bank, _ = make_bank()
    layout = torch.zeros(1, 4, 6, dtype=torch.uint8)
    layout[0, 1:3, 3:6] = 5  # target upper clothes: a different place than in the source
    seen = []
    rt = make_runtime(bank, ParsingMap(layout), lambda b, r, idx: seen.append((r, idx)), fusion=fusion, strengths={"upper": 1.0})
    q, k, v = qkv()
    base = reference_attention(q, k, v, HEADS)
    out = rt(q, k, v, AttentionCall(BLOCK, HEADS, GRID), plain_self_attention(HEADS))
    routed = torch.zeros(N, dtype=torch.bool)
    routed[torch.tensor([9, 10, 11, 15, 16, 17])] = True
    assert torch.equal(out[:, ~routed], base[:, ~routed])
    assert (out[:, routed] - base[:, routed]).abs().amax(-1).min() > 1e-4
    assert [r for r, _ in seen] == ["upper"] and set(seen[0][1].tolist()) == set(torch.nonzero(routed).flatten().tolist())


ROUTED_FACE = (4, 5, 10, 11)  # target layout: face top-right 2x2 (the source has it top-left)
ROUTED_UPPER = (15, 16, 17, 21, 22, 23)  # target upper clothes: bottom-right 2x3
ROUTED_HAIR = (8,)  # a region the source does not have: reads nothing


def two_region_layout() -> ParsingMap:
    layout = torch.zeros(1, 4, 6, dtype=torch.uint8)
    for idx, label in ((ROUTED_FACE, 13), (ROUTED_UPPER, 5), (ROUTED_HAIR, 2)):
        for i in idx:
            layout[0, i // 6, i % 6] = label
    return ParsingMap(layout)


@pytest.mark.parametrize("fusion", ["joint", "gated"])
def test_each_routed_token_reads_its_own_region_only(fusion):
    """Two regions on, at other places than in the source: token by token, a target token in layout
    region r equals attention over (its own keys and) source region r alone, with r's weight."""
    bank, tokens = make_bank()
    strengths = {"face": 1.5, "upper": 0.7}
    rt = make_runtime(bank, two_region_layout(), fusion=fusion, strengths=strengths)
    q, k, v = qkv()
    out = rt(q, k, v, AttentionCall(BLOCK, HEADS, GRID), plain_self_attention(HEADS))
    base = reference_attention(q, k, v, HEADS)
    own = {t: ("face", FACE_IDX) for t in ROUTED_FACE} | {t: ("upper", UPPER_IDX) for t in ROUTED_UPPER}
    for t in range(N):
        q_t = q[:, t : t + 1]
        if t not in own:
            assert torch.equal(out[:, t], base[:, t]), f"token {t} is in no routed region but read the source"
            continue
        name, source_idx = own[t]
        region = tokens[0, source_idx][None]
        w = strengths[name]
        if fusion == "joint":
            weights = torch.cat([torch.ones(N), torch.full((len(source_idx),), w)])
            expected = reference_attention(q_t, torch.cat([k, 0.5 * region], 1), torch.cat([v, 2.0 * region], 1), HEADS, weights)
        else:
            expected = base[:, t : t + 1] + w * reference_attention(q_t, 0.5 * region, 2.0 * region, HEADS)
        torch.testing.assert_close(out[:, t : t + 1], expected, rtol=1e-5, atol=1e-5, msg=lambda m: f"token {t} ({name}): {m}")


def test_uncond_rows_read_nothing_by_default():
    bank, _ = make_bank()
    q, k, v = qkv(batch=2)
    call = AttentionCall(BLOCK, HEADS, GRID, cond_or_uncond=(1, 0))
    out = make_runtime(bank)(q, k, v, call, plain_self_attention(HEADS))
    base = reference_attention(q, k, v, HEADS)
    assert torch.equal(out[0], base[0])
    assert not torch.allclose(out[1], base[1])
    out_both = make_runtime(bank, uncond_reads_source=True)(q, k, v, call, plain_self_attention(HEADS))
    assert not torch.allclose(out_both[0], base[0])


def test_outside_the_schedule_the_host_attention_is_used_untouched():
    bank, _ = make_bank()
    q, k, v = qkv()
    sentinel = torch.full_like(q, 7.0)
    rt = make_runtime(bank, sigma_start=5.0, sigma_end=1.0)
    assert torch.equal(rt(q, k, v, AttentionCall(BLOCK, HEADS, GRID, sigma=9.0), lambda *a: sentinel), sentinel)
    assert torch.equal(rt(q, k, v, AttentionCall(BLOCK, HEADS, GRID, sigma=0.5), lambda *a: sentinel), sentinel)
    assert not torch.equal(rt(q, k, v, AttentionCall(BLOCK, HEADS, GRID, sigma=3.0), plain_self_attention(HEADS)), sentinel)


def test_per_image_sources_follow_the_latent_batch():
    bank2, tokens = make_bank(images=2)
    q, k, v = qkv(batch=2)
    call = AttentionCall(BLOCK, HEADS, GRID)
    out = make_runtime(bank2)(q, k, v, call, plain_self_attention(HEADS))
    for i in range(2):
        rec = BankRecorder()
        rec.record(BLOCK, tokens[i : i + 1], GRID)
        single = make_runtime(rec.build(make_parsing()))(q[i : i + 1], k[i : i + 1], v[i : i + 1], call, plain_self_attention(HEADS))
        torch.testing.assert_close(out[i : i + 1], single, rtol=1e-6, atol=1e-6)


def test_source_batch_that_fits_no_latent_batch_is_a_clear_error():
    bank3, _ = make_bank(images=3)
    q, k, v = qkv(batch=2)
    with pytest.raises(TruePoseInputError, match="source.*3 images for a latent batch of 2"):
        make_runtime(bank3)(q, k, v, AttentionCall(BLOCK, HEADS, GRID), plain_self_attention(HEADS))


def test_projection_is_cached_per_run_and_released():
    bank, _ = make_bank()
    calls = []

    def counting_projection(block, tokens):
        calls.append(block)
        return identity_projection(block, tokens)

    rt = TruePoseAttention(bank, HPFAConfig(strengths={"face": 1.0}), counting_projection)
    q, k, v = qkv()
    for _ in range(3):
        rt(q, k, v, AttentionCall(BLOCK, HEADS, GRID), plain_self_attention(HEADS))
    assert len(calls) == 1
    rt.release()
    rt(q, k, v, AttentionCall(BLOCK, HEADS, GRID), plain_self_attention(HEADS))
    assert len(calls) == 2


def test_blocks_absent_from_the_bank_are_left_alone():
    bank, _ = make_bank()
    q, k, v = qkv()
    sentinel = torch.zeros_like(q)
    out = make_runtime(bank)(q, k, v, AttentionCall(("output", 9, 0), HEADS, GRID), lambda *a: sentinel)
    assert out is sentinel


def test_merged_bank_takes_regions_from_the_other_source():
    a, ta = make_bank(seed=0)
    b, tb = make_bank(seed=5)
    merged = a.merged(b, ["upper"])
    assert torch.equal(merged.region_tokens("upper", BLOCK, 0), tb[0, UPPER_IDX])
    assert torch.equal(merged.region_tokens("face", BLOCK, 0), ta[0, FACE_IDX])


def test_parsing_batch_must_match_the_source_batch():
    rec = BankRecorder()
    rec.record(BLOCK, torch.randn(3, N, HEADS * DIM), GRID)
    two = ParsingMap(torch.zeros(2, 4, 6, dtype=torch.uint8))
    with pytest.raises(TruePoseInputError, match="2 parsing maps for 3 source images"):
        rec.build(two)


def test_config_rejects_unknown_modes_and_bad_strengths():
    with pytest.raises(TruePoseInputError, match="fusion"):
        HPFAConfig(strengths={"face": 1.0}, fusion="sum")
    with pytest.raises(TruePoseInputError, match="face"):
        HPFAConfig(strengths={"face": -1.0})
