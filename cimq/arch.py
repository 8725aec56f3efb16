"""Elaboration-time architecture of a CIM tile (``ArchConfig``).

These parameters fix widths and sizes of the hardware; they are baked into
the generated Verilog and cannot change at run time. Per-layer run-time values
live in :class:`cimq.params.LayerParams` and are programmed through registers.
"""

from __future__ import annotations

import hashlib
import json
import math

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["ArchConfig", "lossless_adc_bits"]


def lossless_adc_bits(xbar_rows: int, cell_bits: int, dac_bits: int) -> int:
    """ADC bits that never clip an ideal column sum of one array."""
    max_sum = xbar_rows * ((1 << cell_bits) - 1) * ((1 << dac_bits) - 1)
    return max(1, math.ceil(math.log2(max_sum + 1)))


class ArchConfig(BaseModel):
    """Widths and sizes of the CIM tile (defaults: ISAAC-like, per the contract).

    Parameters
    ----------
    xbar_rows, xbar_cols:
        Crossbar array size. Layers with more input rows use further arrays
        whose digital results are summed.
    weight_bits, cell_bits:
        Weight word length and bits per memristor cell; each weight occupies
        ``weight_bits / cell_bits`` slice columns.
    act_bits, dac_bits:
        Activation word length and DAC resolution; inputs are applied in
        ``act_bits / dac_bits`` planes.
    adc_bits:
        ADC resolution; ``None`` (the default) picks the lossless width.
    g_frac_bits:
        Conductance codes are integers in units of ``2**-g_frac_bits`` of one
        level step.
    acc_bits, out_bits:
        Accumulator width and the width of the kept truncation window.
    layer_contexts:
        Number of per-layer configuration contexts held in the register bank.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    xbar_rows: int = Field(128, ge=1, le=4096)
    xbar_cols: int = Field(128, ge=1, le=4096)
    weight_bits: int = Field(8, ge=2, le=16)
    cell_bits: int = Field(2, ge=1, le=4)
    act_bits: int = Field(8, ge=2, le=16)
    dac_bits: int = Field(1, ge=1, le=2)
    adc_bits: int | None = Field(None, ge=1, le=16)
    g_frac_bits: int = Field(8, ge=0, le=12)
    acc_bits: int = Field(24, ge=4, le=48)
    out_bits: int = Field(8, ge=2, le=32)
    layer_contexts: int = Field(8, ge=1, le=256)

    @model_validator(mode="after")
    def _check_consistency(self) -> "ArchConfig":
        if self.cell_bits not in (1, 2, 4):
            raise ValueError(f"cell_bits: {self.cell_bits} is not one of 1, 2, 4")
        if self.weight_bits % self.cell_bits:
            raise ValueError(
                f"weight_bits: {self.weight_bits} is not a multiple of cell_bits {self.cell_bits}"
            )
        if self.act_bits % self.dac_bits:
            raise ValueError(
                f"act_bits: {self.act_bits} is not a multiple of dac_bits {self.dac_bits}"
            )
        if self.out_bits > self.acc_bits:
            raise ValueError(
                f"out_bits: {self.out_bits} exceeds acc_bits {self.acc_bits}"
            )
        lossless = lossless_adc_bits(self.xbar_rows, self.cell_bits, self.dac_bits)
        if self.adc_bits is None:
            object.__setattr__(self, "adc_bits", lossless)
        elif self.adc_bits > lossless:
            raise ValueError(
                f"adc_bits: {self.adc_bits} exceeds the lossless width {lossless} "
                f"for {self.xbar_rows} rows"
            )
        # Column sums of conductance codes must stay exact in float32 (2**24),
        # with head-room of two level steps per cell for variation.
        worst = self.xbar_rows * ((1 << self.cell_bits) + 1) * ((1 << self.dac_bits) - 1)
        if worst << self.g_frac_bits >= 1 << 24:
            raise ValueError(
                f"xbar_rows: {self.xbar_rows} with cell_bits {self.cell_bits} and "
                f"g_frac_bits {self.g_frac_bits} lets column sums reach 2**24 "
                "(float32 would no longer be exact)"
            )
        return self

    @property
    def slices(self) -> int:
        """Slice columns per weight."""
        return self.weight_bits // self.cell_bits

    @property
    def planes(self) -> int:
        """Input planes (bit-serial steps) per activation."""
        return self.act_bits // self.dac_bits

    @property
    def max_drop_low(self) -> int:
        """The largest ``drop_low`` whose window still lies inside the accumulator."""
        return self.acc_bits - self.out_bits

    def fingerprint(self) -> str:
        """SHA-256 of the canonical JSON: identifies the architecture an image is for."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()
