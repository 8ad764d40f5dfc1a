"""HPFA under other patches: a chained host attention keeps its own change, tiled batches (HyperTile)
read their latent's source at the untiled share, merged tokens (no grid) run unrouted."""

import torch
import torch.nn.functional as F

from truepose_core.attention import AttentionCall, BankRecorder, HPFAConfig, TruePoseAttention
from truepose_core.attention.rows import plan_rows
from truepose_core.parsing import ParsingMap

HEADS, DIM, GRID = 2, 8, (4, 6)
BLOCK = ("input", 1, 0)
N = GRID[0] * GRID[1]


def attention(q, k, v):
    b = q.shape[0]
    split = [t.reshape(b, -1, HEADS, DIM).transpose(1, 2) for t in (q, k, v)]
    return F.scaled_dot_product_attention(*split).transpose(1, 2).reshape(b, -1, HEADS * DIM)


def parsing():
    labels = torch.zeros(1, *GRID, dtype=torch.uint8)
    labels[0, 0:2, 0:2] = 13  # face
    labels[0, 2:4, 0:3] = 5  # upper clothes
    return ParsingMap(labels)


def bank_of(tokens):
    recorder = BankRecorder()
    recorder.record(BLOCK, tokens, GRID)
    return recorder.build(parsing())


def runtime(bank, layout=None, strength=1.0, **config):
    config = HPFAConfig(strengths={"face": strength, "upper": strength}, **config)
    return TruePoseAttention(bank, config, lambda block, t: (t * 0.5, t * 2.0), layout)


def qkv(batch, tokens=N, seed=1):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, tokens, HEADS * DIM, generator=g) for _ in range(3)]


def source_tokens(images):
    return torch.randn(images, N, HEADS * DIM, generator=torch.Generator().manual_seed(0))


def test_a_chained_host_keeps_its_change_and_truepose_adds_its_own():
    bank = bank_of(source_tokens(1))
    q, k, v = qkv(2)
    call = AttentionCall(BLOCK, HEADS, GRID, cond_or_uncond=(0, 1))
    alone = runtime(bank)(q, k, v, call, attention)
    shift = torch.full_like(q, 0.25)
    host_calls = []

    def host():  # another pack's replace: the plain attention plus its own change, on the whole batch
        host_calls.append(1)
        return attention(q, k, v) + shift

    chained = runtime(bank)(q, k, v, call, attention, host)
    assert host_calls == [1]
    torch.testing.assert_close(chained, alone + shift, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(alone, attention(q, k, v))  # TruePose did change the cond row
    inactive = runtime(bank, sigma_start=1.0)(q, k, v, AttentionCall(BLOCK, HEADS, GRID, sigma=5.0), attention, host)
    torch.testing.assert_close(inactive, attention(q, k, v) + shift)  # outside the schedule: the host alone


def test_tiled_rows_read_the_source_of_their_latent():
    plan = plan_rows(8, (0, 1), num_sources=2, num_layouts=1, uncond_reads_source=False, device=torch.device("cpu"), tiles=2)
    assert plan.groups == {(0, 0): slice(0, 2), (1, 0): slice(2, 4)} and plan.idle == slice(4, 8)
    tokens = source_tokens(2)
    q, k, v = qkv(4, tokens=N // 2)  # 2 latents x 2 tiles of 12 tokens
    tiled = runtime(bank_of(tokens))(q, k, v, AttentionCall(BLOCK, HEADS, None, tiles=2), attention)
    for latent in range(2):
        rows = slice(2 * latent, 2 * latent + 2)
        # a tile has half the latent's own keys: the source weighs half, to keep its share of the softmax
        alone = runtime(bank_of(tokens[latent : latent + 1]), strength=0.5)
        expected = alone(q[rows], k[rows], v[rows], AttentionCall(BLOCK, HEADS, None), attention)
        torch.testing.assert_close(tiled[rows], expected)


def test_without_a_grid_routing_falls_back_to_unrouted_fusion():
    bank = bank_of(source_tokens(1))
    q, k, v = qkv(1)
    merged = q[:, ::2]  # ToMe: fewer queries than keys, no grid
    call = AttentionCall(BLOCK, HEADS, None)
    out = runtime(bank, layout=parsing())(merged, k, v, call, attention)
    assert out.shape == merged.shape
    torch.testing.assert_close(out, runtime(bank)(merged, k, v, call, attention))
    routed = runtime(bank, layout=parsing())(q, k, v, AttentionCall(BLOCK, HEADS, GRID), attention)
    assert not torch.allclose(routed, runtime(bank)(q, k, v, AttentionCall(BLOCK, HEADS, GRID), attention))  # with a grid: routed
