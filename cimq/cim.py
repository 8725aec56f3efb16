"""The CIM arithmetic of the contract: encoding, slicing, planes, ADC, shift-and-add.

One definition of each step, shared by the golden simulator (``cimq.sim``),
the Amaranth component tests and the cocotb scoreboards. Like
:mod:`cimq.fixed`, every function accepts NumPy arrays or torch tensors of
integers and returns the same kind.

Notation (``ARCHITECTURE.md``): ``u = w_int + 2**(WL-1)`` is the offset-binary
weight, slice ``s`` holds ``(u >> cell_bits*s) & (2**cell_bits - 1)`` and input
plane ``b`` holds ``(x >> dac_bits*b) & (2**dac_bits - 1)``.
"""

from __future__ import annotations

from typing import Any

from cimq.arch import ArchConfig
from cimq.fixed import _backend

__all__ = [
    "encode_offset",
    "weight_slices",
    "input_planes",
    "plane_slice_shift",
    "plane_sign",
    "adc_count",
    "offset_correction",
    "conductance_code",
]


def encode_offset(w_int: Any, arch: ArchConfig) -> Any:
    """Signed weight codes to offset binary ``u = w_int + 2**(weight_bits-1)``."""
    a, _ = _backend(w_int)
    return a + (1 << (arch.weight_bits - 1))


def weight_slices(u: Any, arch: ArchConfig) -> list[Any]:
    """Offset-binary weights to ``arch.slices`` cell levels, LSB slice first."""
    a, _ = _backend(u)
    mask = (1 << arch.cell_bits) - 1
    return [(a >> (arch.cell_bits * s)) & mask for s in range(arch.slices)]


def input_planes(x_int: Any, arch: ArchConfig) -> list[Any]:
    """Input codes to ``arch.planes`` DAC steps, LSB plane first.

    Signed inputs are taken as their two's complement bit pattern; the caller
    weights the MSB plane with :func:`plane_sign`.
    """
    a, _ = _backend(x_int)
    mask = (1 << arch.dac_bits) - 1
    return [(a >> (arch.dac_bits * b)) & mask for b in range(arch.planes)]


def plane_slice_shift(plane: int, slice_: int, arch: ArchConfig) -> int:
    """Left shift of the ADC count of ``(plane, slice)`` in shift-and-add."""
    return arch.cell_bits * slice_ + arch.dac_bits * plane


def plane_sign(plane: int, arch: ArchConfig, signed_input: bool) -> int:
    """+1, or -1 for the MSB plane of two's complement inputs (``dac_bits`` 1)."""
    if signed_input and plane == arch.planes - 1:
        if arch.dac_bits != 1:
            raise ValueError("signed inputs need dac_bits 1")
        return -1
    return 1


def adc_count(column_sum: Any, arch: ArchConfig) -> Any:
    """One ADC conversion: ``clamp(floor((S + 2**(GF-1)) / 2**GF), 0, 2**adc_bits - 1)``.

    ``column_sum`` is the integer sum of conductance codes on active rows.
    """
    a, xp = _backend(column_sum)
    gf = arch.g_frac_bits
    rounded = (a + (1 << (gf - 1))) >> gf if gf > 0 else a
    return xp.clip(rounded, 0, (1 << arch.adc_bits) - 1)


def offset_correction(x_sum: Any, arch: ArchConfig) -> Any:
    """The term subtracted from the unsigned accumulation: ``2**(WL-1) * sum(x_int)``."""
    a, _ = _backend(x_sum)
    return a * (1 << (arch.weight_bits - 1))


def conductance_code(level: Any, delta: Any, arch: ArchConfig) -> Any:
    """Programmed level plus deviation (in level steps) to an integer code.

    ``g = rint((level + delta) * 2**GF)``, round half to even. The reference
    column cancels the minimum conductance, so a code may be slightly negative.
    """
    a, xp = _backend(delta)
    lv, _ = _backend(level)
    scaled = (lv + a) * float(1 << arch.g_frac_bits)
    r = xp.round(scaled)
    return r.astype("int64") if xp.__name__ == "numpy" else r.to(xp.int64)
