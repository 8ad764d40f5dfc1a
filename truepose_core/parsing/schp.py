"""The SCHP human parser ("AugmentCE2P", Li et al., Self-Correction for Human Parsing).

A ResNet-101 with a deep stem (three 3x3 convs) and a dilated last stage (output stride 16),
a pyramid-pooling context encoder, a decoder that mixes in stride-4 features, an edge branch
over three backbone stages, and a fusion head over decoder + edge features.

Attribute names follow the official checkpoints so they load with strict key and shape
matching; that is why the fusion head is spelled `fushion`.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .inplace_abn import InPlaceABN, plain_batch_norm

RESNET101_BLOCKS = (3, 4, 23, 3)
PYRAMID_SIZES = (1, 2, 3, 6)


def _upsample(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return F.interpolate(x, size=size, mode="bilinear", align_corners=True)


def _conv1x1(cin: int, cout: int, bias: bool = False) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=1, bias=bias)


def _conv_abn(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(_conv1x1(cin, cout), InPlaceABN(cout))


class Bottleneck(nn.Module):
    """ResNet bottleneck: 1x1 reduce, 3x3 (strided or dilated), 1x1 expand x4, residual add."""

    expansion = 4

    def __init__(self, cin: int, width: int, stride: int = 1, dilation: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        cout = width * self.expansion
        self.conv1 = _conv1x1(cin, width)
        self.bn1 = plain_batch_norm(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=dilation, dilation=dilation, bias=False)
        self.bn2 = plain_batch_norm(width)
        self.conv3 = _conv1x1(width, cout)
        self.bn3 = plain_batch_norm(cout)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return F.relu(out + shortcut)


def _stage(cin: int, width: int, blocks: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    cout = width * Bottleneck.expansion
    downsample = None
    if stride != 1 or cin != cout:
        downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), plain_batch_norm(cout))
    layers = [Bottleneck(cin, width, stride, dilation, downsample)]
    layers += [Bottleneck(cout, width, 1, dilation) for _ in range(blocks - 1)]
    return nn.Sequential(*layers)


class PyramidContext(nn.Module):
    """PSP context encoding: pooled features at 1/2/3/6 bins, concatenated with the input."""

    def __init__(self, cin: int = 2048, cout: int = 512, sizes: tuple[int, ...] = PYRAMID_SIZES):
        super().__init__()
        self.stages = nn.ModuleList(
            nn.Sequential(nn.AdaptiveAvgPool2d(size), _conv1x1(cin, cout), InPlaceABN(cout)) for size in sizes
        )
        self.bottleneck = nn.Sequential(
            nn.Conv2d(cin + len(sizes) * cout, cout, 3, padding=1, bias=False), InPlaceABN(cout)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        pooled = [_upsample(stage(x), size) for stage in self.stages]
        return self.bottleneck(torch.cat(pooled + [x], dim=1))


class EdgeBranch(nn.Module):
    """Predicts person-part boundaries from three backbone stages; its features feed the fusion head."""

    def __init__(self, cins: tuple[int, int, int] = (256, 512, 1024), mid: int = 256, cout: int = 2):
        super().__init__()
        self.conv1 = _conv_abn(cins[0], mid)
        self.conv2 = _conv_abn(cins[1], mid)
        self.conv3 = _conv_abn(cins[2], mid)
        self.conv4 = nn.Conv2d(mid, cout, 3, padding=1, bias=True)  # shared by the three stages
        self.conv5 = _conv1x1(cout * 3, cout, bias=True)

    def forward(self, x1: torch.Tensor, x2: torch.Tensor, x3: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        size = x1.shape[-2:]
        feats = [self.conv1(x1), self.conv2(x2), self.conv3(x3)]
        edges = [_upsample(self.conv4(f), size) for f in feats]
        feats = [_upsample(f, size) for f in feats]
        return self.conv5(torch.cat(edges, dim=1)), torch.cat(feats, dim=1)


class ParsingDecoder(nn.Module):
    """Upsamples the context features to stride 4 and mixes in 48 low-level channels."""

    def __init__(self, num_classes: int):
        super().__init__()
        self.conv1 = _conv_abn(512, 256)
        self.conv2 = _conv_abn(256, 48)
        self.conv3 = nn.Sequential(_conv1x1(304, 256), InPlaceABN(256), _conv1x1(256, 256), InPlaceABN(256))
        self.conv4 = _conv1x1(256, num_classes, bias=True)

    def forward(self, context: torch.Tensor, low_level: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        high = _upsample(self.conv1(context), low_level.shape[-2:])
        x = self.conv3(torch.cat([high, self.conv2(low_level)], dim=1))
        return self.conv4(x), x


class AugmentCE2P(nn.Module):
    """forward(x) -> (parsing logits, fused logits, edge logits), all at stride 4."""

    def __init__(self, num_classes: int = 20):
        super().__init__()
        self.num_classes = num_classes
        self.conv1 = nn.Conv2d(3, 64, 3, stride=2, padding=1, bias=False)
        self.bn1 = plain_batch_norm(64)
        self.conv2 = nn.Conv2d(64, 64, 3, padding=1, bias=False)
        self.bn2 = plain_batch_norm(64)
        self.conv3 = nn.Conv2d(64, 128, 3, padding=1, bias=False)
        self.bn3 = plain_batch_norm(128)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        b1, b2, b3, b4 = RESNET101_BLOCKS
        self.layer1 = _stage(128, 64, b1)
        self.layer2 = _stage(256, 128, b2, stride=2)
        self.layer3 = _stage(512, 256, b3, stride=2)
        self.layer4 = _stage(1024, 512, b4, dilation=2)
        self.context_encoding = PyramidContext(2048, 512)
        self.edge = EdgeBranch()
        self.decoder = ParsingDecoder(num_classes)
        self.fushion = nn.Sequential(
            _conv1x1(1024, 256), InPlaceABN(256), nn.Dropout2d(0.1), _conv1x1(256, num_classes, bias=True)
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        x = F.relu(self.bn3(self.conv3(x)))
        x1 = self.layer1(self.maxpool(x))
        x2 = self.layer2(x1)
        x3 = self.layer3(x2)
        context = self.context_encoding(self.layer4(x3))
        parsing, parsing_feats = self.decoder(context, x1)
        edge, edge_feats = self.edge(x1, x2, x3)
        fused = self.fushion(torch.cat([parsing_feats, edge_feats], dim=1))
        return parsing, fused, edge


def classifier_classes(state_dict: dict[str, torch.Tensor]) -> int | None:
    """Number of classes of an SCHP state dict (prefix-free keys), read from the fusion head."""
    head = state_dict.get("fushion.3.weight")
    return None if head is None or head.ndim != 4 else int(head.shape[0])
