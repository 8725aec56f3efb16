"""Capturing torch modules: supported ops, BN folding, fusion, signedness, errors."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cimq.errors import CimqInputError
from cimq.sim.capture import capture
from cimq.sim.graph import AddNode, FlattenNode, MatmulLayer, PoolNode, ReluNode
from cimq.sim.network import float_forward

torch.set_num_threads(1)


class BnNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.AvgPool2d(2)
        self.fc = nn.Linear(8 * 4 * 4, 6)
        self.bn1 = nn.BatchNorm1d(6)
        self.drop = nn.Dropout(0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn(self.conv(x)))
        x = self.drop(self.pool(x))
        x = x.view(x.size(0), -1)
        return self.bn1(self.fc(x))


class ResNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(1, 4, 3, padding=1)
        self.c2 = nn.Conv2d(4, 4, 3, padding=1)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.c1(x))
        z = self.c2(y) + y
        z = z.relu()
        z = torch.flatten(self.gap(F.max_pool2d(z, 2)), 1)
        return self.fc(z.view(z.shape[0], -1))


def _randomize_bn(m: nn.Module) -> None:
    g = torch.Generator().manual_seed(0)
    for bn in m.modules():
        if isinstance(bn, (nn.BatchNorm1d, nn.BatchNorm2d)):
            n = bn.num_features
            bn.running_mean.copy_(torch.randn(n, generator=g))
            bn.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            bn.weight.data.copy_(torch.randn(n, generator=g))
            bn.bias.data.copy_(torch.randn(n, generator=g))


def test_bn_folding_equals_float_module() -> None:
    torch.manual_seed(0)
    m = BnNet().eval()
    _randomize_bn(m)
    graph = capture(m)
    kinds = [n.kind for n in graph.nodes]
    assert kinds == ["input", "conv", "pool", "flatten", "linear"]
    conv = graph.node("conv")
    assert isinstance(conv, MatmulLayer) and conv.relu and not conv.signed_input
    fc = graph.node("fc")
    assert isinstance(fc, MatmulLayer) and not fc.relu and not fc.signed_input
    x = torch.rand(5, 3, 8, 8)
    with torch.no_grad():
        ref = m(x).double()
    assert torch.allclose(float_forward(graph, x), ref, atol=1e-5, rtol=1e-5)


def test_residual_functional_forms_and_signedness() -> None:
    torch.manual_seed(1)
    m = ResNet().eval()
    graph = capture(m, input_signed=True)
    c1, c2 = graph.node("c1"), graph.node("c2")
    assert isinstance(c1, MatmulLayer) and c1.signed_input and c1.relu
    assert isinstance(c2, MatmulLayer) and not c2.signed_input and not c2.relu
    assert any(isinstance(n, AddNode) for n in graph.nodes)
    assert any(isinstance(n, ReluNode) for n in graph.nodes)  # relu after the add stays a node
    assert sum(isinstance(n, FlattenNode) for n in graph.nodes) == 2
    assert any(isinstance(n, PoolNode) and n.adaptive_output == (1, 1) for n in graph.nodes)
    x = torch.randn(4, 1, 4, 4)
    with torch.no_grad():
        ref = m(x).double()
    assert torch.allclose(float_forward(graph, x), ref, atol=1e-5)


def test_relu_not_fused_when_output_is_shared() -> None:
    class Shared(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c = nn.Conv2d(1, 2, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.c(x)
            return torch.relu(y) + y

    graph = capture(Shared())
    c = graph.node("c")
    assert isinstance(c, MatmulLayer) and not c.relu


class _Sig(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.act = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.fc(x))


class _Tanh(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.fc(x))


class _Const(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x) + 1.0


class _BnAlone(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(1)
        self.c = nn.Conv2d(1, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c(self.bn(x))


class _Grouped(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.c = nn.Conv2d(4, 4, 3, groups=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c(x)


class _Control(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x) if x.sum() > 0 else x


class _Permute(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.permute(0, 1))


@pytest.mark.parametrize(
    "model,match",
    [
        (_Sig(), "unsupported module Sigmoid 'act' at node 'act'"),
        (_Tanh(), "unsupported function tanh at node 'tanh'"),
        (_Const(), "constant operand"),
        (_BnAlone(), "BatchNorm2d 'bn': batch norm must directly follow a Conv2d"),
        (_Grouped(), "Conv2d 'c' at node 'c': only groups=1"),
        (_Control(), "torch.fx cannot trace"),
        (_Permute(), r"unsupported method .permute\(\) at node 'permute'"),
        (nn.Sequential(nn.ReLU()), "no Conv2d or Linear"),
    ],
)
def test_unsupported_ops_are_named(model: nn.Module, match: str) -> None:
    with pytest.raises(CimqInputError, match=match):
        capture(model)
