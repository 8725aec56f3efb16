"""Integer inference of a captured network on a simulated CIM chip.

:class:`CimNetwork` binds a :class:`~cimq.sim.graph.LayerGraph`, an
:class:`~cimq.arch.ArchConfig` and one :class:`~cimq.params.LayerParams` per
conv/linear layer, then runs images through the contract's chain:

1. the input images are quantized with the first layer's input format;
2. each conv/linear layer: ``acc = crossbar(x) + rint(bias * 2**FL_acc)``, then
   :func:`cimq.fixed.truncate` keeps the ``out_bits`` window (ReLU fused),
   giving codes with ``FL_out = FL_acc - drop_low``;
3. pooling, ReLU, flatten and residual adds act on integer codes
   (:mod:`cimq.sim.intops`).

There is no requantizer between layers (the hardware has none): a layer's
``fl_x`` must equal the ``fl`` of the value it consumes, which
:func:`check_params` verifies before anything runs. :func:`default_layer_params`
builds such a consistent list from one global format.

A :class:`Chip` holds the programmed crossbars of every layer for one sampled
chip; ``chip=None`` runs the ideal chip (exact integer fast path when the ADC
is lossless).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import torch
import torch.nn.functional as F

from cimq.arch import ArchConfig
from cimq.errors import CimqInputError
from cimq.fixed import FixedFormat, Rounding, round_scaled, truncate
from cimq.params import LayerParams, ModelParams
from cimq.sim.crossbar import (
    ProgrammedCrossbar,
    crossbar_conv,
    crossbar_linear,
    exact_conv,
    exact_linear,
    is_lossless,
    program_crossbar,
)
from cimq.sim.graph import AddNode, FlattenNode, InputNode, LayerGraph, MatmulLayer, PoolNode, ReluNode
from cimq.sim.intops import QTensor, add_codes, add_format, pool_codes, relu_codes
from cimq.sim.variation import DeviceModel, NoVariation, layer_rng

__all__ = [
    "Chip",
    "CimNetwork",
    "LayerEvent",
    "LayerObserver",
    "check_params",
    "default_layer_params",
    "propagate_formats",
    "node_format",
    "torch_threads",
    "float_forward",
]

@dataclass(frozen=True, eq=False)
class LayerEvent:
    """What one conv/linear layer did on one batch chunk (given to observers).

    ``x``: input codes; ``acc``: accumulator with bias; ``acc_ideal``: the
    no-variation accumulator on the same input (only with ``compare_ideal``);
    ``out``/``saturated``: the truncation unit's result. ``start`` is the index
    of the chunk's first image.
    """

    layer: MatmulLayer
    params: LayerParams
    start: int
    x: torch.Tensor
    acc: torch.Tensor
    acc_ideal: torch.Tensor | None
    out: torch.Tensor
    saturated: torch.Tensor


LayerObserver = Callable[[LayerEvent], None]


@contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run with ``threads`` intra-op threads (``None``: leave torch's setting)."""
    if threads is None:
        yield
        return
    if threads < 1:
        raise CimqInputError(f"threads: {threads} must be >= 1")
    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def _as_list(params: Sequence[LayerParams] | ModelParams) -> list[LayerParams]:
    return list(params.layers) if isinstance(params, ModelParams) else list(params)


def node_format(node: object, formats: Mapping[str, tuple[int, bool]], arch: ArchConfig) -> tuple[int, bool]:
    """``(FL, signed)`` of a pooling, flatten, ReLU or add node's output from its inputs'.

    The one rule for the nodes between conv/linear layers (no requantization:
    pooling and flatten keep the format, ReLU makes it unsigned, an add takes
    :func:`~cimq.sim.intops.add_format`).
    """
    if isinstance(node, (PoolNode, FlattenNode)):
        return formats[node.input]
    if isinstance(node, ReluNode):
        return formats[node.input][0], False
    if isinstance(node, AddNode):
        (fa, sa), (fb, sb) = formats[node.a], formats[node.b]
        fmt = add_format(fa, sa, fb, sb, arch.out_bits)
        return fmt.fl, fmt.signed
    raise TypeError(f"no format rule for {type(node).__name__}")


def propagate_formats(graph: LayerGraph, params: Mapping[str, LayerParams], arch: ArchConfig) -> dict[str, tuple[int, bool]]:
    """``(fl, signed)`` of every node's value; the input takes the first layer's ``fl_x``."""
    first = graph.matmul_layers[0]
    out: dict[str, tuple[int, bool]] = {}
    for node in graph.nodes:
        if isinstance(node, InputNode):
            out[node.name] = (params[first.name].fl_x, node.signed)
        elif isinstance(node, MatmulLayer):
            p = params[node.name]
            out[node.name] = (p.fl_out, not p.relu)
        else:
            out[node.name] = node_format(node, out, arch)
    return out


def check_params(graph: LayerGraph, arch: ArchConfig, params: Sequence[LayerParams] | ModelParams) -> dict[str, LayerParams]:
    """Validate ``params`` against the graph and ``arch``; return them by layer name.

    Raises :class:`CimqInputError` naming the layer and field.
    """
    plist = _as_list(params)
    by_name: dict[str, LayerParams] = {}
    for i, p in enumerate(plist):
        if p.name in by_name:
            raise CimqInputError(f"layers[{i}].name: {p.name!r} appears twice")
        by_name[p.name] = p
    names = [m.name for m in graph.matmul_layers]
    for n in names:
        if n not in by_name:
            raise CimqInputError(f"layers: no parameters for layer {n!r} (layers of the model: {', '.join(names)})")
    for n in by_name:
        if n not in names:
            raise CimqInputError(f"layers: {n!r} is not a conv/linear layer of the model ({', '.join(names)})")
    for m in graph.matmul_layers:
        p = by_name[m.name]
        try:
            p.check_against(arch)
        except ValueError as exc:
            raise CimqInputError(f"layer {m.name!r}: {exc}") from None
        if p.relu != m.relu:
            raise CimqInputError(f"layer {m.name!r}: relu is {p.relu} but the model has relu={m.relu} after it")
        if p.signed_input != m.signed_input:
            raise CimqInputError(
                f"layer {m.name!r}: signed_input is {p.signed_input} but the model's input to it is "
                f"{'signed' if m.signed_input else 'unsigned (after ReLU)'}"
            )
    fmts = propagate_formats(graph, by_name, arch)
    for m in graph.matmul_layers:
        p = by_name[m.name]
        fl_in, _ = fmts[m.input]
        if p.fl_x != fl_in:
            raise CimqInputError(
                f"layer {m.name!r}: fl_x is {p.fl_x} but its input {m.input!r} has fraction length {fl_in} "
                "(there is no requantizer between layers: set the producer's drop_low so FL_out matches)"
            )
    return by_name


def default_layer_params(
    graph: LayerGraph,
    arch: ArchConfig,
    *,
    fl_w: int | Mapping[str, int] = 6,
    fl_x: int = 6,
    fl_out: int | Mapping[str, int] | None = None,
    rounding: str = "floor",
) -> list[LayerParams]:
    """Consistent per-layer params from a global format (the conventional baseline).

    Every layer gets ``fl_w`` (one value or per layer); the input is quantized
    with ``fl_x``; each layer's ``drop_low`` is chosen so its ``FL_out`` equals
    ``fl_out`` (default: ``fl_x``, i.e. activations keep the global format) and
    the next layer's ``fl_x`` follows its producer.
    """
    params: dict[str, LayerParams] = {}
    fls: dict[str, tuple[int, bool]] = {}
    for node in graph.nodes:
        if isinstance(node, InputNode):
            fls[node.name] = (fl_x, node.signed)
        elif isinstance(node, MatmulLayer):
            fw = fl_w[node.name] if isinstance(fl_w, Mapping) else fl_w
            target = fl_x if fl_out is None else (fl_out[node.name] if isinstance(fl_out, Mapping) else fl_out)
            fin = fls[node.input][0]
            drop = fw + fin - target
            if not 0 <= drop <= arch.max_drop_low:
                raise CimqInputError(
                    f"layer {node.name!r}: FL_out {target} needs drop_low {drop}, outside 0..{arch.max_drop_low} "
                    f"(fl_w {fw} + fl_x {fin})"
                )
            p = LayerParams(name=node.name, fl_w=fw, fl_x=fin, drop_low=drop, relu=node.relu,
                            rounding=rounding, signed_input=node.signed_input)
            params[node.name] = p
            fls[node.name] = (p.fl_out, not p.relu)
        else:
            fls[node.name] = node_format(node, fls, arch)
    return [params[m.name] for m in graph.matmul_layers]


@dataclass(frozen=True, eq=False)
class Chip:
    """Every layer's programmed crossbars for one sampled chip."""

    seed: int
    index: int
    device_model: DeviceModel
    crossbars: Mapping[str, ProgrammedCrossbar]

    @property
    def ideal(self) -> bool:
        return self.device_model.is_ideal


@dataclass(frozen=True, eq=False)
class _Bound:
    layer: MatmulLayer
    params: LayerParams
    index: int
    w_int: torch.Tensor  # (N, K) int64
    w_int_shaped: torch.Tensor  # weight shape
    b_int: torch.Tensor  # (N,) int64


class CimNetwork:
    """A captured network bound to an architecture and per-layer parameters.

    Parameters
    ----------
    graph, arch, params:
        The layer graph, the tile architecture and one ``LayerParams`` per
        conv/linear layer (validated by :func:`check_params`).
    device:
        Torch device for the simulation (``"cpu"`` or ``"cuda"``).
    threads:
        Intra-op threads while running (``None``: torch's setting).
    batch_size:
        Images per chunk: bounds memory. Results do not depend on it, except
        read noise, whose stream is seeded per chunk from ``(seed, chip,
        layer, first image index)``.
    """

    def __init__(
        self,
        graph: LayerGraph,
        arch: ArchConfig,
        params: Sequence[LayerParams] | ModelParams,
        *,
        device: str = "cpu",
        threads: int | None = None,
        batch_size: int = 256,
    ) -> None:
        if batch_size < 1:
            raise CimqInputError(f"batch_size: {batch_size} must be >= 1")
        self.graph = graph
        self.arch = arch
        self.params = MappingProxyType(check_params(graph, arch, params))
        self.formats = MappingProxyType(propagate_formats(graph, self.params, arch))
        try:
            self.device = torch.device(device)
        except RuntimeError:
            raise CimqInputError(f"device: {device!r} is not a torch device (cpu, cuda)") from None
        self.threads = threads
        self.batch_size = batch_size
        bound: dict[str, _Bound] = {}
        for i, m in enumerate(graph.matmul_layers):
            p = self.params[m.name]
            w = torch.from_numpy(m.weight)
            w_int = p.weight_format(arch).quantize(w)
            b_int = round_scaled(torch.from_numpy(m.bias) * 2.0**p.fl_acc, Rounding.HALF_EVEN)
            bound[m.name] = _Bound(m, p, i, w_int.reshape(w_int.shape[0], -1).contiguous(), w_int, b_int)
        self._bound = MappingProxyType(bound)
        self._ideal: Chip | None = None

    # ------------------------------------------------------------------ chips

    @property
    def layers(self) -> tuple[MatmulLayer, ...]:
        return self.graph.matmul_layers

    def weight_codes(self, name: str) -> torch.Tensor:
        """``w_int`` of a layer in its weight shape (int64)."""
        return self._bound[name].w_int_shaped

    def bias_codes(self, name: str) -> torch.Tensor:
        """``rint(bias * 2**FL_acc)`` of a layer (int64)."""
        return self._bound[name].b_int

    def program(self, device_model: DeviceModel, seed: int, chip: int) -> Chip:
        """Sample one chip: each layer from its own stream ``(seed, chip, layer index)``."""
        xbs = {}
        for name, b in self._bound.items():
            rng = layer_rng(seed, chip, b.index)
            xbs[name] = program_crossbar(b.w_int, self.arch, device_model.programming, rng, device_model.read_noise)
        return Chip(seed, chip, device_model, MappingProxyType(xbs))

    def ideal_chip(self) -> Chip:
        """The chip without variation (cached)."""
        if self._ideal is None:
            self._ideal = self.program(DeviceModel(NoVariation()), 0, 0)
        return self._ideal

    # ------------------------------------------------------------------ layers

    def quantize_input(self, images: torch.Tensor) -> QTensor:
        """Images to codes with the first layer's input format."""
        first = self.params[self.layers[0].name]
        fmt = first.input_format(self.arch)
        if fmt.signed != self.graph.input.signed:
            fmt = FixedFormat(fmt.wl, fmt.fl, self.graph.input.signed, fmt.rounding, fmt.overflow)
        return QTensor(fmt.quantize(torch.as_tensor(images, dtype=torch.float64)), fmt.fl, fmt.signed)

    def _exact_acc(self, b: _Bound, x: torch.Tensor) -> torch.Tensor:
        if b.layer.kind == "conv":
            assert b.layer.geometry is not None
            return exact_conv(b.w_int_shaped, x, b.layer.geometry, self.device)
        return exact_linear(b.w_int, x, self.device)

    def layer_acc(self, name: str, x: torch.Tensor, chip: Chip | None, noise_seed: int | None = None) -> torch.Tensor:
        """The accumulator of one layer (bias included) for input codes ``x``."""
        b = self._bound[name]
        chip = chip or self.ideal_chip()
        xb = chip.crossbars[name]
        if xb.ideal and xb.read_noise == 0 and is_lossless(self.arch):
            acc = self._exact_acc(b, x)
        elif b.layer.kind == "conv":
            assert b.layer.geometry is not None
            acc = crossbar_conv(xb, x, b.layer.geometry, b.params.signed_input, noise_seed=noise_seed, device=self.device)
        else:
            acc = crossbar_linear(xb, x, b.params.signed_input, noise_seed=noise_seed, device=self.device)
        shape = (1, -1, 1, 1) if b.layer.kind == "conv" else (1, -1)
        return acc + b.b_int.view(shape)

    def _noise_seed(self, chip: Chip, b: _Bound, start: int) -> int | None:
        if chip.device_model.read_noise == 0:
            return None
        ss = np.random.SeedSequence([chip.seed, chip.index, b.index, 1, start])
        return int(ss.generate_state(1, dtype=np.uint64)[0] >> 1)

    # ------------------------------------------------------------------ network

    def forward(
        self,
        images: torch.Tensor,
        chip: Chip | None = None,
        *,
        observer: LayerObserver | None = None,
        compare_ideal: bool = False,
    ) -> QTensor:
        """Integer inference; returns the output node's codes (all images)."""
        outs = []
        with torch_threads(self.threads), torch.no_grad():
            for start in range(0, images.shape[0], self.batch_size):
                chunk = images[start : start + self.batch_size]
                outs.append(self._forward_chunk(chunk, chip, observer, compare_ideal, start))
        return QTensor(torch.cat([o.codes for o in outs]), outs[0].fl, outs[0].signed)

    def _forward_chunk(
        self, images: torch.Tensor, chip: Chip | None, observer: LayerObserver | None, compare_ideal: bool, start: int
    ) -> QTensor:
        values: dict[str, QTensor] = {}
        for node in self.graph.nodes:
            if isinstance(node, InputNode):
                values[node.name] = self.quantize_input(images)
            elif isinstance(node, MatmulLayer):
                b = self._bound[node.name]
                x = values[node.input]
                seed = self._noise_seed(chip, b, start) if chip is not None else None
                acc = self.layer_acc(node.name, x.codes, chip, seed)
                p = b.params
                out, sat = truncate(acc, drop_low=p.drop_low, out_bits=self.arch.out_bits, relu=p.relu,
                                    rounding=p.rounding_mode)
                if observer is not None:
                    ideal = self.layer_acc(node.name, x.codes, None) if compare_ideal else None
                    observer(LayerEvent(node, p, start, x.codes, acc, ideal, out, sat))
                values[node.name] = QTensor(out, p.fl_out, not p.relu)
            elif isinstance(node, PoolNode):
                values[node.name] = pool_codes(node, values[node.input])
            elif isinstance(node, ReluNode):
                values[node.name] = relu_codes(values[node.input])
            elif isinstance(node, FlattenNode):
                v = values[node.input]
                values[node.name] = QTensor(v.codes.flatten(1), v.fl, v.signed)
            elif isinstance(node, AddNode):
                values[node.name] = add_codes(values[node.a], values[node.b], self.arch.out_bits)
        return values[self.graph.output]

    def predict(self, images: torch.Tensor, chip: Chip | None = None) -> torch.Tensor:
        """Class indices (argmax of the output codes; first maximum wins)."""
        return self.forward(images, chip).codes.argmax(dim=1)

    def accuracy(self, images: torch.Tensor, labels: torch.Tensor, chip: Chip | None = None) -> float:
        """Top-1 accuracy in percent."""
        pred = self.predict(images, chip)
        return 100.0 * float((pred == labels).double().mean())

    def float_forward(self, images: torch.Tensor) -> torch.Tensor:
        """The float reference: the captured graph (BN folded) in float64, no quantization."""
        return float_forward(self.graph, images)


def float_forward(graph: LayerGraph, images: torch.Tensor) -> torch.Tensor:
    """Run the captured graph in float64 (a check of capture and BN folding)."""
    values: dict[str, torch.Tensor] = {}
    with torch.no_grad():
        for node in graph.nodes:
            if isinstance(node, InputNode):
                values[node.name] = torch.as_tensor(images, dtype=torch.float64)
            elif isinstance(node, MatmulLayer):
                x = values[node.input]
                w = torch.from_numpy(node.weight)
                bias = torch.from_numpy(node.bias)
                if node.kind == "conv":
                    g = node.geometry
                    assert g is not None
                    y = F.conv2d(x, w, bias, stride=g.stride, padding=g.padding, dilation=g.dilation)
                else:
                    y = F.linear(x, w, bias)
                values[node.name] = torch.relu(y) if node.relu else y
            elif isinstance(node, PoolNode):
                x = values[node.input]
                if node.adaptive_output is not None:
                    values[node.name] = F.adaptive_avg_pool2d(x, node.adaptive_output)
                elif node.mode == "max":
                    values[node.name] = F.max_pool2d(x, node.kernel, node.stride, node.padding)
                else:
                    values[node.name] = F.avg_pool2d(x, node.kernel, node.stride, node.padding,
                                                     count_include_pad=node.count_include_pad)
            elif isinstance(node, ReluNode):
                values[node.name] = torch.relu(values[node.input])
            elif isinstance(node, FlattenNode):
                values[node.name] = values[node.input].flatten(1)
            elif isinstance(node, AddNode):
                values[node.name] = values[node.a] + values[node.b]
    return values[graph.output]
