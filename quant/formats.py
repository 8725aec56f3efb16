"""Per-layer formats: calibration of activation ranges, consistent chains, overflow bounds.

Three ways to get a consistent list of :class:`~cimq.params.LayerParams`:

* :func:`conventional_params`: the ISAAC/PUMA/PANTHER way, one global format
  for weights and activations and the same fixed window (``drop_low``) in
  every layer (delegates to :func:`cimq.sim.network.default_layer_params`).
* :func:`chain_params`: given each layer's weight FL and a *target* output FL,
  walk the graph in order, derive each layer's ``fl_x`` from its producer and
  its ``drop_low = FL_w + FL_x - FL_out``; ``clamp`` moves targets into
  ``0..arch.max_drop_low`` (phase 1), otherwise an out-of-range target gives
  ``None`` (an infeasible phase-2 candidate).
* :func:`calibrate`: the target FL_out of every layer (and the input FL) from
  the float model's ranges on calibration images.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from cimq.arch import ArchConfig
from cimq.errors import CimqInputError
from cimq.fixed import FixedFormat
from cimq.params import LayerParams
from cimq.sim.graph import InputNode, LayerGraph, MatmulLayer
from cimq.sim.network import CimNetwork, default_layer_params, float_forward, node_format

__all__ = [
    "FL_LIMIT",
    "Calibration",
    "calibrate",
    "covering_fl",
    "conventional_params",
    "chain_params",
    "fl_out_targets",
    "accumulator_bounds",
    "overflowing_layers",
    "layer_outputs_shape",
]

FL_LIMIT = 32
"""``LayerParams`` accepts fraction lengths in ``-32..32``."""


@dataclass(frozen=True)
class Calibration:
    """Observed float ranges and the FL each range asks for.

    ``input_fl``: FL of the network input; ``fl_out[name]``: the largest FL whose
    8-bit output range covers the layer's ``percentile`` of ``|output|``;
    ``quantile[name]``: that percentile value.
    """

    percentile: float
    input_quantile: float
    input_fl: int
    quantile: Mapping[str, float]
    fl_out: Mapping[str, int]


def covering_fl(value: float, max_code: int) -> int:
    """The largest FL with ``max_code * 2**-FL >= value`` (clamped to ``-32..32``)."""
    if not value > 0:
        return FL_LIMIT
    fl = math.floor(math.log2(max_code / value))
    while fl < FL_LIMIT and math.ldexp(max_code, -(fl + 1)) >= value:
        fl += 1
    while fl > -FL_LIMIT and math.ldexp(max_code, -fl) < value:
        fl -= 1
    return max(-FL_LIMIT, min(FL_LIMIT, fl))


def _prefix(graph: LayerGraph, name: str) -> LayerGraph:
    """The graph up to and including node ``name`` (nodes are topologically ordered)."""
    idx = [n.name for n in graph.nodes].index(name)
    return LayerGraph(nodes=graph.nodes[: idx + 1], output=name)


def layer_outputs_shape(graph: LayerGraph, image_shape: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
    """Shape (without the batch) of every conv/linear layer's output, from one zero image."""
    x = torch.zeros((1, *image_shape), dtype=torch.float64)
    return {m.name: tuple(float_forward(_prefix(graph, m.name), x).shape[1:]) for m in graph.matmul_layers}


def calibrate(graph: LayerGraph, arch: ArchConfig, images: torch.Tensor, percentile: float = 99.9) -> Calibration:
    """Per-layer output FL from the float model (BN folded, ReLU fused) on ``images``."""
    if not 50.0 <= percentile <= 100.0:
        raise CimqInputError(f"percentile: {percentile} is outside 50..100")
    signed_in = graph.input.signed
    in_fmt = FixedFormat(arch.act_bits, 0, signed_in)
    in_q = float(np.percentile(np.abs(images.double().numpy()), percentile))
    quant: dict[str, float] = {}
    fls: dict[str, int] = {}
    for m in graph.matmul_layers:
        y = float_forward(_prefix(graph, m.name), images).abs().numpy()
        q = float(np.percentile(y, percentile))
        quant[m.name] = q
        out_fmt = FixedFormat(arch.out_bits, 0, not m.relu)
        fls[m.name] = covering_fl(q, out_fmt.max_int)
    return Calibration(percentile, in_q, covering_fl(in_q, in_fmt.max_int), quant, fls)


def conventional_params(graph: LayerGraph, arch: ArchConfig, fl: int = 6) -> list[LayerParams]:
    """One global format (weights, activations and every FL_out = ``fl``): ``drop_low = fl`` everywhere."""
    return default_layer_params(graph, arch, fl_w=fl, fl_x=fl, fl_out=fl)


def chain_params(
    graph: LayerGraph,
    arch: ArchConfig,
    fl_w: int | Mapping[str, int],
    input_fl: int,
    fl_out: Mapping[str, int],
    *,
    clamp: bool,
    rounding: str = "floor",
) -> list[LayerParams] | None:
    """Consistent params for weight FLs and target output FLs.

    With ``clamp`` a target outside what ``drop_low`` allows is moved to the
    nearest allowed FL_out (window at the bottom or the top of the
    accumulator); without it such a target makes the whole chain infeasible
    (``None``).
    """
    fls: dict[str, tuple[int, bool]] = {}
    out: list[LayerParams] = []
    for node in graph.nodes:
        if isinstance(node, InputNode):
            fls[node.name] = (input_fl, node.signed)
        elif isinstance(node, MatmulLayer):
            fw = fl_w[node.name] if isinstance(fl_w, Mapping) else fl_w
            fin = fls[node.input][0]
            fl_acc = fw + fin
            target = fl_out[node.name]
            lo, hi = fl_acc - arch.max_drop_low, fl_acc
            if not lo <= target <= hi:
                if not clamp:
                    return None
                target = min(hi, max(lo, target))
            if not -FL_LIMIT <= target <= FL_LIMIT or not -FL_LIMIT <= fin <= FL_LIMIT or not -FL_LIMIT <= fw <= FL_LIMIT:
                return None
            p = LayerParams(name=node.name, fl_w=fw, fl_x=fin, drop_low=fl_acc - target, relu=node.relu,
                            rounding=rounding, signed_input=node.signed_input)
            out.append(p)
            fls[node.name] = (p.fl_out, not p.relu)
        else:
            fls[node.name] = node_format(node, fls, arch)
    return out


def fl_out_targets(params: list[LayerParams]) -> dict[str, int]:
    """Each layer's FL_out."""
    return {p.name: p.fl_out for p in params}


def accumulator_bounds(net: CimNetwork) -> dict[str, int]:
    """Per layer the largest ideal ``|acc|`` any input can give: ``max_n sum_k |w_int| x_max + |b_int|``.

    ``x_max`` is the largest magnitude of the layer's input format (255
    unsigned, 128 signed for 8 bits). Exact integers.
    """
    out: dict[str, int] = {}
    for m in net.layers:
        p = net.params[m.name]
        fmt = p.input_format(net.arch)
        x_max = max(abs(fmt.min_int), fmt.max_int)
        w = net.weight_codes(m.name).reshape(m.out_features, -1).abs().sum(1)
        b = net.bias_codes(m.name).abs()
        out[m.name] = int((w * x_max + b).max())
    return out


def overflowing_layers(net: CimNetwork) -> dict[str, int]:
    """Layers whose bound reaches ``2**(acc_bits-1)`` (the accumulator could overflow), with the bound."""
    limit = 1 << (net.arch.acc_bits - 1)
    return {k: v for k, v in accumulator_bounds(net).items() if v >= limit}


