"""Capture a trained ``torch.nn.Module`` as a :class:`~cimq.sim.graph.LayerGraph`.

``torch.fx`` traces the module symbolically; every traced operation must be
one the CIM flow maps, otherwise :class:`~cimq.errors.CimqInputError` names the
operation and the node. Supported: ``Conv2d`` (groups 1), ``Linear``, ReLU
(module, ``F.relu``, ``torch.relu``, ``.relu()``), ``MaxPool2d``, ``AvgPool2d``,
``AdaptiveAvgPool2d`` (and their functional forms), ``BatchNorm2d``/``1d``
folded into the preceding conv/linear, flatten (``nn.Flatten``,
``torch.flatten``, ``.flatten(1)``, ``.view(n, -1)``/``.reshape(n, -1)``),
residual add (``+``, ``torch.add``, ``.add``), and ``Dropout``/``Identity``
(dropped: capture is for inference).

Fusion: a ReLU directly after a conv/linear whose only consumer it is becomes
that layer's ``relu`` (done by the truncation unit); other ReLUs stay nodes.
Signedness: a layer's input is unsigned when it comes from a ReLU (fused or
not) through pooling/flatten/adds of unsigned values; the network input is
signed or not as the caller says.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.fx
import torch.nn.functional as F
from torch import nn

from cimq.errors import CimqInputError
from cimq.sim.graph import (
    AddNode,
    ConvGeometry,
    FlattenNode,
    InputNode,
    LayerGraph,
    MatmulLayer,
    Node,
    PoolNode,
    ReluNode,
)

__all__ = ["capture"]

_RELU_FUNCS = {F.relu, torch.relu}
_ADD_FUNCS = {operator.add, torch.add}
_IDENTITY_MODULES = (nn.Dropout, nn.Dropout2d, nn.Dropout1d, nn.AlphaDropout, nn.Identity)
_IDENTITY_FUNCS = {F.dropout, F.dropout2d}


@dataclass
class _Raw:
    """A traced operation before fusion."""

    name: str
    op: str  # input | matmul | bn | relu | pool | flatten | add
    inputs: list[str]
    module: Any = None
    pool: dict[str, Any] = field(default_factory=dict)


def _pair(v: Any) -> tuple[int, int]:
    return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))


def _where(node: torch.fx.Node) -> str:
    return f"node {node.name!r}"


def _bind(args: tuple, kwargs: dict, names: list[str], defaults: dict[str, Any]) -> dict[str, Any]:
    bound = dict(defaults)
    bound.update(dict(zip(names, args)))
    bound.update(kwargs)
    return bound


def _pool_from_module(m: nn.Module, node: torch.fx.Node) -> dict[str, Any]:
    if isinstance(m, nn.MaxPool2d):
        if _pair(m.dilation) != (1, 1) or m.ceil_mode or m.return_indices:
            raise CimqInputError(f"MaxPool2d at {_where(node)}: dilation, ceil_mode and return_indices are not supported")
        stride = m.stride if m.stride is not None else m.kernel_size
        return dict(mode="max", kernel=_pair(m.kernel_size), stride=_pair(stride), padding=_pair(m.padding))
    if isinstance(m, nn.AvgPool2d):
        if m.ceil_mode or m.divisor_override is not None:
            raise CimqInputError(f"AvgPool2d at {_where(node)}: ceil_mode and divisor_override are not supported")
        stride = m.stride if m.stride is not None else m.kernel_size
        return dict(
            mode="avg", kernel=_pair(m.kernel_size), stride=_pair(stride), padding=_pair(m.padding),
            count_include_pad=bool(m.count_include_pad),
        )
    assert isinstance(m, nn.AdaptiveAvgPool2d)
    if m.output_size is None or (isinstance(m.output_size, (tuple, list)) and None in m.output_size):
        raise CimqInputError(f"AdaptiveAvgPool2d at {_where(node)}: output_size with None is not supported")
    return dict(mode="avg", adaptive_output=_pair(m.output_size))


def _pool_from_function(node: torch.fx.Node) -> dict[str, Any]:
    fn = node.target
    if fn is F.max_pool2d:
        b = _bind(node.args[1:], node.kwargs, ["kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"],
                  dict(stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False))
        if _pair(b["dilation"]) != (1, 1) or b["ceil_mode"] or b["return_indices"]:
            raise CimqInputError(f"max_pool2d at {_where(node)}: dilation, ceil_mode and return_indices are not supported")
        stride = b["stride"] if b["stride"] not in (None, [], ()) else b["kernel_size"]
        return dict(mode="max", kernel=_pair(b["kernel_size"]), stride=_pair(stride), padding=_pair(b["padding"]))
    if fn is F.avg_pool2d:
        b = _bind(node.args[1:], node.kwargs, ["kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"],
                  dict(stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None))
        if b["ceil_mode"] or b["divisor_override"] is not None:
            raise CimqInputError(f"avg_pool2d at {_where(node)}: ceil_mode and divisor_override are not supported")
        stride = b["stride"] if b["stride"] not in (None, [], ()) else b["kernel_size"]
        return dict(mode="avg", kernel=_pair(b["kernel_size"]), stride=_pair(stride), padding=_pair(b["padding"]),
                    count_include_pad=bool(b["count_include_pad"]))
    b = _bind(node.args[1:], node.kwargs, ["output_size"], {})
    return dict(mode="avg", adaptive_output=_pair(b["output_size"]))


def _is_flatten_shape(shape_args: tuple, node: torch.fx.Node) -> bool:
    """``.view(n, -1)`` / ``.reshape(x.size(0), -1)``: a batch size, then -1."""
    if len(shape_args) == 1 and isinstance(shape_args[0], (tuple, list)):
        shape_args = tuple(shape_args[0])
    return len(shape_args) == 2 and shape_args[1] == -1


def _trace(model: nn.Module) -> torch.fx.GraphModule:
    try:
        return torch.fx.symbolic_trace(model)
    except Exception as exc:  # tracing failures come as many exception types
        raise CimqInputError(f"torch.fx cannot trace the model: {type(exc).__name__}: {exc}".splitlines()[0]) from None


def _raw_ops(gm: torch.fx.GraphModule) -> tuple[list[_Raw], str]:
    """Traced nodes to raw operations; identity ops become aliases."""
    raws: list[_Raw] = []
    alias: dict[str, str] = {}
    output: str | None = None
    modules = dict(gm.named_modules())
    used_modules: set[str] = set()

    def src(a: Any, node: torch.fx.Node) -> str:
        if not isinstance(a, torch.fx.Node):
            raise CimqInputError(f"{node.op} {node.target} at {_where(node)}: a constant operand is not supported")
        if a.name not in alias:
            raise CimqInputError(f"{node.op} {node.target} at {_where(node)}: its operand {a.name!r} is not a tensor the flow maps")
        return alias[a.name]

    for node in gm.graph.nodes:
        if node.op == "placeholder":
            if any(r.op == "input" for r in raws):
                raise CimqInputError(f"input {_where(node)}: only one network input is supported")
            raws.append(_Raw(node.name, "input", []))
            alias[node.name] = node.name
        elif node.op == "output":
            out = node.args[0]
            if not isinstance(out, torch.fx.Node):
                raise CimqInputError(f"output {_where(node)}: the model must return one tensor")
            output = src(out, node)
        elif node.op == "call_module":
            m = modules[node.target]
            x = src(node.args[0], node)
            if isinstance(m, _IDENTITY_MODULES):
                alias[node.name] = x
                continue
            name = str(node.target)
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                if name in used_modules:
                    raise CimqInputError(f"{type(m).__name__} {name!r} at {_where(node)}: a layer called twice is not supported")
                used_modules.add(name)
                if isinstance(m, nn.Conv2d) and (m.groups != 1 or m.padding_mode != "zeros" or isinstance(m.padding, str)):
                    raise CimqInputError(
                        f"Conv2d {name!r} at {_where(node)}: only groups=1, zero padding given as integers is supported"
                    )
                raws.append(_Raw(name, "matmul", [x], module=m))
            elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
                raws.append(_Raw(name, "bn", [x], module=m))
            elif isinstance(m, nn.ReLU):
                raws.append(_Raw(name, "relu", [x]))
            elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d)):
                raws.append(_Raw(name, "pool", [x], pool=_pool_from_module(m, node)))
            elif isinstance(m, nn.Flatten):
                if m.start_dim != 1 or m.end_dim != -1:
                    raise CimqInputError(f"Flatten {name!r} at {_where(node)}: only start_dim=1, end_dim=-1 is supported")
                raws.append(_Raw(name, "flatten", [x]))
            else:
                raise CimqInputError(f"unsupported module {type(m).__name__} {name!r} at {_where(node)}")
            alias[node.name] = name
        elif node.op == "call_function":
            fn = node.target
            fname = getattr(fn, "__name__", str(fn))
            if fn in _IDENTITY_FUNCS:
                alias[node.name] = src(node.args[0], node)
            elif fn in _RELU_FUNCS:
                raws.append(_Raw(node.name, "relu", [src(node.args[0], node)]))
                alias[node.name] = node.name
            elif fn in _ADD_FUNCS:
                if len(node.args) != 2 or node.kwargs:
                    raise CimqInputError(f"add at {_where(node)}: only a plain two-tensor add is supported")
                raws.append(_Raw(node.name, "add", [src(node.args[0], node), src(node.args[1], node)]))
                alias[node.name] = node.name
            elif fn is torch.flatten:
                b = _bind(node.args[1:], node.kwargs, ["start_dim", "end_dim"], dict(start_dim=0, end_dim=-1))
                if b["start_dim"] != 1 or b["end_dim"] != -1:
                    raise CimqInputError(f"torch.flatten at {_where(node)}: only start_dim=1, end_dim=-1 is supported")
                raws.append(_Raw(node.name, "flatten", [src(node.args[0], node)]))
                alias[node.name] = node.name
            elif fn in (F.max_pool2d, F.avg_pool2d, F.adaptive_avg_pool2d):
                raws.append(_Raw(node.name, "pool", [src(node.args[0], node)], pool=_pool_from_function(node)))
                alias[node.name] = node.name
            elif fn is getattr and len(node.args) == 2 and node.args[1] == "shape":
                continue  # x.shape[0] for a view: only as a view argument
            elif fn is operator.getitem and isinstance(node.args[0], torch.fx.Node) and node.args[0].op != "call_module":
                continue  # x.shape[0] / x.size()[0]
            else:
                raise CimqInputError(f"unsupported function {fname} at {_where(node)}")
        elif node.op == "call_method":
            meth = node.target
            if meth == "size":
                continue
            x = src(node.args[0], node)
            if meth in ("relu", "relu_"):
                raws.append(_Raw(node.name, "relu", [x]))
            elif meth in ("add", "add_"):
                if len(node.args) != 2 or node.kwargs:
                    raise CimqInputError(f"add at {_where(node)}: only a plain two-tensor add is supported")
                raws.append(_Raw(node.name, "add", [x, src(node.args[1], node)]))
            elif meth == "flatten":
                b = _bind(node.args[1:], node.kwargs, ["start_dim", "end_dim"], dict(start_dim=0, end_dim=-1))
                if b["start_dim"] != 1 or b["end_dim"] != -1:
                    raise CimqInputError(f"flatten at {_where(node)}: only start_dim=1, end_dim=-1 is supported")
                raws.append(_Raw(node.name, "flatten", [x]))
            elif meth in ("view", "reshape") and _is_flatten_shape(tuple(node.args[1:]), node):
                raws.append(_Raw(node.name, "flatten", [x]))
            elif meth in ("contiguous",):
                alias[node.name] = x
                continue
            else:
                raise CimqInputError(f"unsupported method .{meth}() at {_where(node)}")
            alias[node.name] = node.name
        else:
            raise CimqInputError(f"unsupported operation {node.op} {node.target} at {_where(node)}")
    if output is None:
        raise CimqInputError("the traced model has no output")
    return raws, output


def _matmul_arrays(m: nn.Module) -> tuple[np.ndarray, np.ndarray]:
    w = m.weight.detach().to(torch.float64).cpu().numpy().copy()
    b = m.bias.detach().to(torch.float64).cpu().numpy().copy() if m.bias is not None else np.zeros(w.shape[0])
    return w, b


def _fold_bn(w: np.ndarray, b: np.ndarray, bn: nn.Module) -> tuple[np.ndarray, np.ndarray]:
    """Eval-mode batch norm folded into the weights and bias before it."""
    if bn.running_mean is None or bn.running_var is None:
        raise CimqInputError("BatchNorm without running statistics (track_running_stats=False) cannot be folded")
    mean = bn.running_mean.detach().to(torch.float64).cpu().numpy()
    var = bn.running_var.detach().to(torch.float64).cpu().numpy()
    gamma = bn.weight.detach().to(torch.float64).cpu().numpy() if bn.weight is not None else np.ones_like(mean)
    beta = bn.bias.detach().to(torch.float64).cpu().numpy() if bn.bias is not None else np.zeros_like(mean)
    scale = gamma / np.sqrt(var + bn.eps)
    return w * scale.reshape((-1,) + (1,) * (w.ndim - 1)), (b - mean) * scale + beta


def capture(model: nn.Module, *, input_signed: bool = False) -> LayerGraph:
    """Trace ``model`` (in eval semantics) into a typed layer graph.

    ``input_signed`` says whether the network input may be negative (e.g.
    normalized images); with ``False`` the first layer quantizes its input as
    unsigned codes and negative values clamp to 0.
    """
    raws, output = _raw_ops(_trace(model))
    users: dict[str, int] = {}
    for r in raws:
        for i in r.inputs:
            users[i] = users.get(i, 0) + 1
    users[output] = users.get(output, 0) + 1

    resolve: dict[str, str] = {}
    mats: dict[str, dict[str, Any]] = {}
    order: list[tuple[str, _Raw]] = []
    kinds: dict[str, str] = {}
    for r in raws:
        ins = [resolve.get(i, i) for i in r.inputs]
        if r.op == "matmul":
            w, b = _matmul_arrays(r.module)
            mats[r.name] = dict(weight=w, bias=b, relu=False, module=r.module, input=ins[0], fused=[])
            order.append((r.name, r))
            kinds[r.name] = "matmul"
        elif r.op == "bn":
            prod = ins[0]
            m = mats.get(prod)
            ok_type = m is not None and (
                (isinstance(r.module, nn.BatchNorm2d) and isinstance(m["module"], nn.Conv2d))
                or (isinstance(r.module, nn.BatchNorm1d) and isinstance(m["module"], nn.Linear))
            )
            if not ok_type or m["relu"] or m["fused"] or users.get(r.inputs[0], 0) != 1:
                raise CimqInputError(
                    f"{type(r.module).__name__} {r.name!r}: batch norm must directly follow a "
                    f"{'Conv2d' if isinstance(r.module, nn.BatchNorm2d) else 'Linear'} that has no other consumer"
                )
            m["weight"], m["bias"] = _fold_bn(m["weight"], m["bias"], r.module)
            m["fused"].append(r.name)
            resolve[r.name] = prod
            users[prod] = users.get(r.name, 0)
        elif r.op == "relu":
            prod = ins[0]
            if prod in mats and not mats[prod]["relu"] and users.get(prod, 0) == 1:
                mats[prod]["relu"] = True
                resolve[r.name] = prod
                users[prod] = users.get(r.name, 0)
            else:
                order.append((r.name, _Raw(r.name, "relu", ins)))
                kinds[r.name] = "relu"
        else:
            order.append((r.name, _Raw(r.name, r.op, ins, pool=r.pool)))
            kinds[r.name] = r.op
    output = resolve.get(output, output)

    unsigned: dict[str, bool] = {}
    nodes: list[Node] = []
    for name, r in order:
        ins = [resolve.get(i, i) for i in r.inputs]
        if r.op == "input":
            nodes.append(InputNode(name, signed=input_signed))
            unsigned[name] = not input_signed
        elif r.op == "matmul":
            m = mats[name]
            mod = m["module"]
            geom = None
            if isinstance(mod, nn.Conv2d):
                geom = ConvGeometry(_pair(mod.kernel_size), _pair(mod.stride), _pair(mod.padding), _pair(mod.dilation))
            nodes.append(
                MatmulLayer(
                    name=name, kind="conv" if geom else "linear", input=ins[0], weight=m["weight"], bias=m["bias"],
                    relu=m["relu"], signed_input=not unsigned[ins[0]], geometry=geom,
                )
            )
            unsigned[name] = m["relu"]
        elif r.op == "relu":
            nodes.append(ReluNode(name, ins[0]))
            unsigned[name] = True
        elif r.op == "pool":
            nodes.append(PoolNode(name, ins[0], **r.pool))
            unsigned[name] = unsigned[ins[0]]
        elif r.op == "flatten":
            nodes.append(FlattenNode(name, ins[0]))
            unsigned[name] = unsigned[ins[0]]
        elif r.op == "add":
            nodes.append(AddNode(name, ins[0], ins[1]))
            unsigned[name] = unsigned[ins[0]] and unsigned[ins[1]]
    if not any(isinstance(n, MatmulLayer) for n in nodes):
        raise CimqInputError("the model has no Conv2d or Linear layer to map onto crossbars")
    if isinstance(nodes[0], InputNode) is False:
        raise CimqInputError("the model has no input")
    return LayerGraph(tuple(nodes), output)
