"""Run-time layer parameters and the versioned params file (``ModelParams``).

The params file is what the quantization writes and what ``cimq generate`` and
``cimq regs`` consume: the architecture it was made for, one
:class:`LayerParams` per layer, and where the numbers came from.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cimq.arch import ArchConfig
from cimq.fixed import FixedFormat, Rounding

__all__ = ["LayerParams", "AccuracyStat", "Provenance", "ModelParams", "PARAMS_FORMAT", "PARAMS_VERSION"]

PARAMS_FORMAT = "cimq-params"
PARAMS_VERSION = 1


class LayerParams(BaseModel):
    """The per-layer values a tile is programmed with at run time.

    Parameters
    ----------
    name:
        The layer's name in the captured graph.
    fl_w:
        Weight fraction length (``FL_w``); weights are ``weight_bits`` wide.
    fl_x:
        Input activation fraction length (``FL_x``).
    drop_low:
        Accumulator bits discarded below the kept ``out_bits`` window.
    relu:
        Apply ReLU in the truncation unit (unsigned output); signed otherwise.
    rounding:
        ``floor`` or ``half_up`` when dropping the low bits.
    signed_input:
        Inputs are two's complement (no ReLU before this layer); the MSB plane
        is subtracted.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=128)
    fl_w: int = Field(ge=-32, le=32)
    fl_x: int = Field(ge=-32, le=32)
    drop_low: int = Field(ge=0, le=64)
    relu: bool = True
    rounding: Literal["floor", "half_up"] = "floor"
    signed_input: bool = False

    @property
    def fl_acc(self) -> int:
        return self.fl_w + self.fl_x

    @property
    def fl_out(self) -> int:
        return self.fl_acc - self.drop_low

    @property
    def rounding_mode(self) -> Rounding:
        return Rounding(self.rounding)

    def weight_format(self, arch: ArchConfig) -> FixedFormat:
        """Signed weights, round half to even, saturating."""
        return FixedFormat(arch.weight_bits, self.fl_w, True, Rounding.HALF_EVEN)

    def input_format(self, arch: ArchConfig) -> FixedFormat:
        """Activations: unsigned after ReLU (round half up), two's complement otherwise."""
        return FixedFormat(arch.act_bits, self.fl_x, self.signed_input, Rounding.HALF_UP)

    def output_format(self, arch: ArchConfig) -> FixedFormat:
        return FixedFormat(arch.out_bits, self.fl_out, not self.relu, Rounding.HALF_UP)

    def check_against(self, arch: ArchConfig) -> None:
        """Raise ``ValueError`` naming the field if the layer does not fit ``arch``."""
        if self.drop_low > arch.max_drop_low:
            raise ValueError(
                f"drop_low: {self.drop_low} is outside the allowed range 0..{arch.max_drop_low} "
                f"(acc_bits {arch.acc_bits} - out_bits {arch.out_bits})"
            )
        if self.signed_input and arch.dac_bits != 1:
            raise ValueError(
                f"signed_input: true needs dac_bits 1 (the MSB plane is subtracted), "
                f"but dac_bits is {arch.dac_bits}"
            )


class AccuracyStat(BaseModel):
    """Accuracy over Monte Carlo chips, in percent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mean: float = Field(ge=0, le=100)
    ci95: float = Field(0.0, ge=0)
    std: float = Field(0.0, ge=0)
    min: float = Field(0.0, ge=0, le=100)
    chips: int = Field(1, ge=1)


class Provenance(BaseModel):
    """Where the parameters came from, so a result can be reproduced."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tool: str = "cimq"
    seed: int | None = None
    model: str | None = None
    dataset: str | None = None
    variation: str | None = None
    chips: int | None = Field(None, ge=1)
    accuracy: dict[str, AccuracyStat] = Field(default_factory=dict)


class ModelParams(BaseModel):
    """The params file: architecture, per-layer parameters and provenance."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["cimq-params"] = PARAMS_FORMAT
    version: Literal[1] = PARAMS_VERSION
    arch: ArchConfig = Field(default_factory=ArchConfig)
    layers: list[LayerParams] = Field(min_length=1)
    provenance: Provenance = Field(default_factory=Provenance)

    @model_validator(mode="after")
    def _check_layers(self) -> "ModelParams":
        names: set[str] = set()
        for i, layer in enumerate(self.layers):
            try:
                layer.check_against(self.arch)
            except ValueError as exc:
                raise ValueError(f"layers[{i}].{exc}") from None
            if layer.name in names:
                raise ValueError(f"layers[{i}].name: {layer.name!r} appears twice")
            names.add(layer.name)
        return self

    def layer(self, name: str) -> LayerParams:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)
