"""Pure-PyTorch InPlaceABN is batch norm + leaky ReLU(0.01), with the kernel's |weight| + eps scale."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from truepose_core.parsing.inplace_abn import InPlaceABN, plain_batch_norm


def twins(channels=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    abn = InPlaceABN(channels)
    with torch.no_grad():
        abn.weight.copy_(torch.randn(channels, generator=g))  # some negative, as training can leave them
        abn.bias.copy_(torch.randn(channels, generator=g))
        abn.running_mean.copy_(torch.randn(channels, generator=g))
        abn.running_var.copy_(torch.rand(channels, generator=g) + 0.5)
    bn = nn.BatchNorm2d(channels, eps=abn.eps, momentum=abn.momentum)
    with torch.no_grad():
        bn.weight.copy_(abn.weight.abs() + abn.eps)
        bn.bias.copy_(abn.bias)
        bn.running_mean.copy_(abn.running_mean)
        bn.running_var.copy_(abn.running_var)
    x = torch.randn(4, channels, 9, 7, generator=g) * 3 + 1
    return abn, bn, x


@pytest.mark.parametrize("training", [False, True])
def test_equals_batchnorm2d_then_leaky_relu(training):
    abn, bn, x = twins()
    abn.train(training)
    bn.train(training)
    with torch.no_grad():
        expected = F.leaky_relu(bn(x), negative_slope=0.01)
        got = abn(x)
    assert (got - expected).abs().max() < 1e-6
    assert (abn.running_mean - bn.running_mean).abs().max() < 1e-6
    assert (abn.running_var - bn.running_var).abs().max() < 1e-6


def test_backbone_variant_has_no_activation():
    abn, bn, x = twins()
    plain = plain_batch_norm(6)
    plain.load_state_dict(abn.state_dict())
    plain.eval()
    bn.eval()
    with torch.no_grad():
        assert (plain(x) - bn(x)).abs().max() < 1e-6
    assert (plain(x) < 0).any()


def test_state_dict_keys_are_those_of_the_official_checkpoints():
    assert list(InPlaceABN(3).state_dict()) == ["weight", "bias", "running_mean", "running_var"]
