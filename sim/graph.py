"""The typed layer graph a captured network becomes.

:func:`cimq.sim.capture.capture` produces a :class:`LayerGraph`; the simulator,
the quantization search and the RTL generator all read it. Nodes are frozen
dataclasses in topological order; each names its inputs. Weights are float64
NumPy arrays with batch-norm already folded in.

Row/column mapping of a matmul layer onto crossbars (shared with the RTL):
crossbar row ``k`` of a conv layer is PyTorch's unfold order
``k = c*kh*kw + i*kw + j`` (the flattened ``weight[n]``); of a linear layer the
input feature index. Array ``a`` holds rows ``[a*xbar_rows, (a+1)*xbar_rows)``.
Output ``n``, slice ``s`` sits in global column ``n*slices + s``; columns beyond
``xbar_cols`` go to further tiles (see :class:`cimq.sim.crossbar.ProgrammedCrossbar`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Union

import numpy as np

__all__ = [
    "ConvGeometry",
    "InputNode",
    "MatmulLayer",
    "PoolNode",
    "ReluNode",
    "FlattenNode",
    "AddNode",
    "Node",
    "LayerGraph",
]


@dataclass(frozen=True)
class ConvGeometry:
    """Kernel, stride, zero padding and dilation of a 2-D convolution (groups = 1)."""

    kernel: tuple[int, int]
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    dilation: tuple[int, int] = (1, 1)

    def output_size(self, h: int, w: int) -> tuple[int, int]:
        oh = (h + 2 * self.padding[0] - self.dilation[0] * (self.kernel[0] - 1) - 1) // self.stride[0] + 1
        ow = (w + 2 * self.padding[1] - self.dilation[1] * (self.kernel[1] - 1) - 1) // self.stride[1] + 1
        return oh, ow


@dataclass(frozen=True)
class InputNode:
    """The network input (images)."""

    name: str
    signed: bool
    kind: Literal["input"] = "input"

    @property
    def inputs(self) -> tuple[str, ...]:
        return ()


@dataclass(frozen=True, eq=False)
class MatmulLayer:
    """A conv or linear layer mapped onto crossbars.

    ``weight`` is ``(N, C, kh, kw)`` for conv, ``(N, K)`` for linear; ``bias``
    is ``(N,)`` (zeros when the module had none). ``relu`` says a ReLU follows
    and is fused into truncation; ``signed_input`` says the input may be
    negative (no ReLU before it), so the MSB input plane is subtracted.
    """

    name: str
    kind: Literal["conv", "linear"]
    input: str
    weight: np.ndarray
    bias: np.ndarray
    relu: bool
    signed_input: bool
    geometry: ConvGeometry | None = None

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input,)

    @property
    def out_features(self) -> int:
        return int(self.weight.shape[0])

    @property
    def rows(self) -> int:
        """Crossbar rows: the length of one input vector (``C*kh*kw`` or ``K``)."""
        return int(np.prod(self.weight.shape[1:]))

    def weight_matrix(self) -> np.ndarray:
        """``(N, rows)`` in crossbar row order."""
        return self.weight.reshape(self.weight.shape[0], -1)


@dataclass(frozen=True)
class PoolNode:
    """Max or average pooling; ``adaptive`` keeps ``output_size`` instead of a kernel."""

    name: str
    input: str
    mode: Literal["max", "avg"]
    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    count_include_pad: bool = True
    adaptive_output: tuple[int, int] | None = None
    kind: Literal["pool"] = "pool"

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input,)


@dataclass(frozen=True)
class ReluNode:
    """A ReLU that could not be fused into a matmul layer's truncation."""

    name: str
    input: str
    kind: Literal["relu"] = "relu"

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input,)


@dataclass(frozen=True)
class FlattenNode:
    """Flatten every dimension after the batch."""

    name: str
    input: str
    kind: Literal["flatten"] = "flatten"

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input,)


@dataclass(frozen=True)
class AddNode:
    """Residual addition of two tensors of the same shape."""

    name: str
    a: str
    b: str
    kind: Literal["add"] = "add"

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.a, self.b)


Node = Union[InputNode, MatmulLayer, PoolNode, ReluNode, FlattenNode, AddNode]


@dataclass(frozen=True, eq=False)
class LayerGraph:
    """Nodes in topological order; ``output`` names the node whose value is returned."""

    nodes: tuple[Node, ...]
    output: str

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    @property
    def input(self) -> InputNode:
        node = self.nodes[0]
        assert isinstance(node, InputNode)
        return node

    @property
    def matmul_layers(self) -> tuple[MatmulLayer, ...]:
        return tuple(n for n in self.nodes if isinstance(n, MatmulLayer))

    def consumers(self, name: str) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if name in n.inputs)
