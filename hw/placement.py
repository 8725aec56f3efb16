"""Mapping a captured network onto the arrays of one CIM tile.

Every conv/linear layer of a :class:`~cimq.sim.graph.LayerGraph` gets a
:class:`~cimq.hw.regs.layer.LayerGeometry`: ``in_len`` = its crossbar rows
``K`` (``C*kh*kw`` or the linear input size), ``out_len`` = its outputs
``N``, and ``array_base`` = the first physical array. Layers are laid out in
graph order, back to back: a layer with ``R = ceil(K / xbar_rows)`` row chunks
and ``T = ceil(N / outputs_per_array)`` column tiles occupies ``R * T``
consecutive arrays (the order :class:`~cimq.hw.tile.config.TileConfig` uses).
The tile is sized for the model: as many arrays as the layers need and an
input buffer as deep as the longest input vector.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from cimq.arch import ArchConfig
from cimq.errors import CimqInputError
from cimq.hw.regs.definition import MAX_ARRAYS, geometry_limits
from cimq.hw.regs.layer import LayerGeometry
from cimq.hw.tile.config import TileConfig

__all__ = ["ModelPlacement", "place_model"]


@dataclass(frozen=True)
class ModelPlacement:
    """The tile a model needs and where each layer sits (layer order = context order)."""

    config: TileConfig
    geometry: Mapping[str, LayerGeometry]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.geometry)


def place_model(graph, arch: ArchConfig, *, arrays: int | None = None, source: str | None = None) -> ModelPlacement:
    """Place every conv/linear layer of ``graph`` on consecutive arrays.

    ``arrays`` fixes the tile's array count (default: exactly what the layers
    need). Raises :class:`CimqInputError` when the layers need more layer
    contexts than ``arch.layer_contexts``, more arrays than the tile has (or
    than a tile can address), or a longer input than the registers hold.
    """
    layers = graph.matmul_layers
    if not layers:
        raise CimqInputError("the model has no conv/linear layer to place", source=source)
    if len(layers) > arch.layer_contexts:
        raise CimqInputError(
            f"{len(layers)} conv/linear layers do not fit the {arch.layer_contexts} layer contexts "
            f"(arch.layer_contexts)", source=source)
    opa = arch.xbar_cols // arch.slices
    if opa < 1:
        raise CimqInputError(f"xbar_cols {arch.xbar_cols} hold no weight of {arch.slices} slices", source=source)
    max_in, max_out, _ = geometry_limits(arch)
    geometry: dict[str, LayerGeometry] = {}
    base = 0
    for layer in layers:
        k, n = layer.rows, layer.out_features
        if k > max_in or n > max_out:
            raise CimqInputError(f"layer {layer.name!r}: {k} rows x {n} outputs exceed the register limits "
                                 f"{max_in} x {max_out}", source=source)
        need = -(-k // arch.xbar_rows) * -(-n // opa)
        geometry[layer.name] = LayerGeometry(in_len=k, out_len=n, array_base=base)
        base += need
    total = base
    limit = MAX_ARRAYS if arrays is None else arrays
    if total > limit:
        what = f"the tile's {arrays} arrays" if arrays is not None else f"the {MAX_ARRAYS} arrays a tile can address"
        raise CimqInputError(f"the model needs {total} crossbar arrays of {arch.xbar_rows}x{arch.xbar_cols}, "
                             f"more than {what}", source=source)
    try:
        config = TileConfig(arch, arrays=limit if arrays is not None else total,
                            max_in_len=max(layer.rows for layer in layers))
    except ValueError as exc:
        raise CimqInputError(str(exc), source=source) from None
    for name, geo in geometry.items():
        config.check_geometry(geo, what=f"layer {name!r}", source=source)
    return ModelPlacement(config, MappingProxyType(geometry))
