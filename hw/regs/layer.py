"""Layer parameters + geometry <-> field values of one layer context.

``LayerParams`` carries no geometry yet (a later params version will), so it
comes from an optional :class:`LayerGeometry`. Without one the context is
written with ``enable = 0`` and ``IN_LEN = OUT_LEN = ARRAY_BASE = 0`` (the
placeholder: "mode bits programmed, geometry not"); the tile must not run a
disabled context.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from cimq.arch import ArchConfig
from cimq.errors import CimqInputError
from cimq.hw.regs.definition import CONTEXT_ARRAY, build_register_map
from cimq.params import LayerParams

__all__ = ["LayerGeometry", "ContextConfig", "ROUND_CODES", "encode_context", "decode_context", "check_field_values"]

#: CTRL.round code of each ``LayerParams.rounding``.
ROUND_CODES: dict[str, int] = {"floor": 0, "half_up": 1}


class LayerGeometry(BaseModel):
    """Where a layer sits on the tile's arrays (upper bounds come from the map)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    in_len: int = Field(ge=1, description="Active input rows.")
    out_len: int = Field(ge=1, description="Output columns (weights).")
    array_base: int = Field(0, ge=0, description="First crossbar array of the layer.")


@dataclass(frozen=True)
class ContextConfig:
    """The decoded content of one context, as the hardware sees it."""

    enable: bool
    relu: bool
    rounding: str
    signed_input: bool
    drop_low: int
    in_len: int
    out_len: int
    array_base: int

    @property
    def geometry(self) -> LayerGeometry | None:
        """The geometry, or ``None`` for a disabled (placeholder) context."""
        if not self.enable:
            return None
        return LayerGeometry(in_len=self.in_len, out_len=self.out_len, array_base=self.array_base)

    def layer(self, name: str, fl_w: int, fl_x: int) -> LayerParams:
        """Rebuild ``LayerParams`` with the values registers do not hold."""
        return LayerParams(name=name, fl_w=fl_w, fl_x=fl_x, drop_low=self.drop_low, relu=self.relu,
                           rounding=self.rounding, signed_input=self.signed_input)


def check_field_values(arch: ArchConfig, values: Mapping[str, Mapping[str, int]], *, what: str, source: str | None) -> None:
    """Refuse a value outside its field's 0..limit with a one-line message."""
    arr = build_register_map(arch).array(CONTEXT_ARRAY)
    for reg_name, fields in values.items():
        reg = arr.register(reg_name)
        for name, value in fields.items():
            f = reg.field(name)
            if not 0 <= value <= f.max_value:
                raise CimqInputError(
                    f"{what}: {reg_name}.{name}: {value} is outside the allowed range 0..{f.max_value}", source=source)


def encode_context(arch: ArchConfig, layer: LayerParams | None, geometry: LayerGeometry | None = None, *,
                   what: str = "layer", source: str | None = None) -> dict[str, dict[str, int]]:
    """Field values (register -> field -> value) of one context.

    ``layer=None`` gives the reset values of an unused context. ``what`` names
    the layer in error messages (e.g. ``"layers[2] (fc1)"``).
    """
    arr = build_register_map(arch).array(CONTEXT_ARRAY)
    values = {reg.name: {f.name: f.reset for f in reg.fields} for _, reg in arr.registers}
    if layer is None:
        if geometry is not None:
            raise CimqInputError(f"{what}: geometry given for an unused context", source=source)
        return values
    try:
        layer.check_against(arch)
    except ValueError as exc:
        raise CimqInputError(f"{what}: {exc}", source=source) from None
    values["CTRL"].update(enable=int(geometry is not None), relu=int(layer.relu),
                          round=ROUND_CODES[layer.rounding], signed_input=int(layer.signed_input))
    values["WINDOW"]["drop_low"] = layer.drop_low
    if geometry is not None:
        values["IN_LEN"]["in_len"] = geometry.in_len
        values["OUT_LEN"]["out_len"] = geometry.out_len
        values["ARRAY_BASE"]["array_base"] = geometry.array_base
    check_field_values(arch, values, what=what, source=source)
    return values


def decode_context(arch: ArchConfig, values: Mapping[str, Mapping[str, int]], *, what: str = "context",
                   source: str | None = None) -> ContextConfig:
    """The inverse of :func:`encode_context`; refuses values no encoder writes."""
    check_field_values(arch, values, what=what, source=source)
    ctrl = values["CTRL"]
    codes = {v: k for k, v in ROUND_CODES.items()}
    cfg = ContextConfig(
        enable=bool(ctrl["enable"]), relu=bool(ctrl["relu"]), rounding=codes[ctrl["round"]],
        signed_input=bool(ctrl["signed_input"]), drop_low=values["WINDOW"]["drop_low"],
        in_len=values["IN_LEN"]["in_len"], out_len=values["OUT_LEN"]["out_len"],
        array_base=values["ARRAY_BASE"]["array_base"],
    )
    if cfg.enable and (cfg.in_len < 1 or cfg.out_len < 1):
        raise CimqInputError(f"{what}: enabled with in_len {cfg.in_len}, out_len {cfg.out_len} (both must be at least 1)",
                             source=source)
    return cfg
