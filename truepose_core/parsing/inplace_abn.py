"""InPlaceABN ("activated batch norm") as plain PyTorch: batch-norm maths then a leaky ReLU.

SCHP trained with Mapillary's compiled in-place kernel. Only the forward maths matter for
inference, so no extension is needed. Its parameters are weight, bias, running_mean and
running_var (no num_batches_tracked), which is what the official checkpoints hold.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

LEAKY_RELU = "leaky_relu"
NO_ACTIVATION = "none"


class InPlaceABN(nn.Module):
    """BatchNorm2d + activation (leaky ReLU, slope 0.01, or none).

    The compiled kernel scales by |weight| + eps rather than weight (it must invert the affine
    step in place during backward), so the weights SCHP learnt mean |weight| + eps; `gamma()`
    reproduces that. For a positive weight this differs from BatchNorm2d by eps * weight only.
    """

    def __init__(
        self,
        num_features: int,
        activation: str = LEAKY_RELU,
        slope: float = 0.01,
        eps: float = 1e-5,
        momentum: float = 0.1,
    ) -> None:
        super().__init__()
        if activation not in (LEAKY_RELU, NO_ACTIVATION):
            raise ValueError(f"unsupported activation {activation!r}")
        self.num_features = num_features
        self.activation = activation
        self.slope = slope
        self.eps = eps
        self.momentum = momentum
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def gamma(self) -> torch.Tensor:
        return self.weight.abs() + self.eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.batch_norm(
            x, self.running_mean, self.running_var, self.gamma(), self.bias,
            training=self.training, momentum=self.momentum, eps=self.eps,
        )
        if self.activation == LEAKY_RELU:
            return F.leaky_relu(y, negative_slope=self.slope)
        return y

    def extra_repr(self) -> str:
        return f"{self.num_features}, activation={self.activation}, slope={self.slope}, eps={self.eps}"


def plain_batch_norm(num_features: int) -> InPlaceABN:
    """The backbone's batch norms: the same layer without activation (ReLU follows separately)."""
    return InPlaceABN(num_features, activation=NO_ACTIVATION)
