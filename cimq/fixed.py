"""The fixed-point contract: quantization and accumulator truncation.

Every stage (the golden simulator, the hardware tests, the cocotb scoreboards,
the quantization search) calls these functions; nobody re-derives rounding or
saturation locally. The functions are pure integer/float arithmetic and accept
Python scalars, NumPy arrays or torch tensors (same type out as in), so the
simulator can stay on torch while tests use NumPy.

Conventions (see ``ARCHITECTURE.md``, "The bit-exact contract"):

* A value ``v`` in format ``(wl, fl, signed)`` is the integer ``q`` with
  ``v = q * 2**-fl``. ``fl`` may exceed ``wl`` (implicit leading zeros) or be
  negative (implicit trailing zeros).
* ``truncate`` keeps an ``out_bits`` window of a signed accumulator starting at
  bit ``drop_low``: ``out = sat(round(acc / 2**drop_low))``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

__all__ = [
    "Rounding",
    "Overflow",
    "FixedFormat",
    "round_scaled",
    "truncate",
    "output_range",
]

Array = TypeVar("Array")


class Rounding(str, enum.Enum):
    """How a value between two representable codes is resolved."""

    #: Toward minus infinity (hardware "truncation"; hls4ml ``TRN``).
    FLOOR = "floor"
    #: To nearest, ties toward plus infinity (``floor(v + 1/2)``; hls4ml ``RND``).
    HALF_UP = "half_up"
    #: To nearest, ties to even (``rint``; hls4ml ``RND_CONV``).
    HALF_EVEN = "half_even"


class Overflow(str, enum.Enum):
    """What happens to a code outside the format's range."""

    #: Clamp to the nearest representable code (hls4ml ``SAT``).
    SATURATE = "saturate"
    #: Keep the low ``wl`` bits, two's complement (hls4ml ``WRAP``).
    WRAP = "wrap"


def _backend(x: Any) -> tuple[Any, Any]:
    """Return ``(array, module)`` where module is numpy or torch."""
    module = type(x).__module__
    if module.startswith("torch"):
        import torch

        return x, torch
    return np.asarray(x), np


def _to_int64(a: Any, xp: Any) -> Any:
    if xp is np:
        return a.astype(np.int64)
    return a.to(xp.int64)


def _like_input(result: Any, original: Any) -> Any:
    """Give scalars back as Python ints/bools, arrays as arrays."""
    if isinstance(original, (int, float, np.integer, np.floating)) and hasattr(result, "item"):
        return result.item()
    return result


def round_scaled(v: Any, rounding: Rounding) -> Any:
    """Round real values ``v`` to integers (as int64) with the given mode."""
    a, xp = _backend(v)
    rounding = Rounding(rounding)
    if rounding is Rounding.HALF_EVEN:
        r = xp.round(a)  # numpy and torch both round half to even
    elif rounding is Rounding.HALF_UP:
        r = xp.floor(a + 0.5)
    else:
        r = xp.floor(a)
    return _like_input(_to_int64(r, xp), v)


@dataclass(frozen=True)
class FixedFormat:
    """A fixed-point number format: ``wl`` bits, ``fl`` of them fractional.

    Parameters
    ----------
    wl:
        Word length in bits, sign included (at least 1, at most 62).
    fl:
        Fraction length: the weight of the LSB is ``2**-fl``. May exceed ``wl``
        or be negative.
    signed:
        Two's complement when true, unsigned otherwise.
    rounding, overflow:
        Used by :meth:`quantize`.
    """

    wl: int
    fl: int
    signed: bool = True
    rounding: Rounding = Rounding.HALF_EVEN
    overflow: Overflow = Overflow.SATURATE

    def __post_init__(self) -> None:
        if not isinstance(self.wl, int) or isinstance(self.wl, bool) or not 1 <= self.wl <= 62:
            raise ValueError(f"Word length must be an integer in 1..62, not {self.wl!r}")
        if not isinstance(self.fl, int) or isinstance(self.fl, bool) or not -64 <= self.fl <= 64:
            raise ValueError(f"Fraction length must be an integer in -64..64, not {self.fl!r}")
        if self.signed and self.wl < 2:
            raise ValueError("A signed format needs a word length of at least 2")
        object.__setattr__(self, "rounding", Rounding(self.rounding))
        object.__setattr__(self, "overflow", Overflow(self.overflow))

    @property
    def min_int(self) -> int:
        return -(1 << (self.wl - 1)) if self.signed else 0

    @property
    def max_int(self) -> int:
        return (1 << (self.wl - 1)) - 1 if self.signed else (1 << self.wl) - 1

    @property
    def il(self) -> int:
        """Integer bits (sign excluded): ``wl - fl - signed``."""
        return self.wl - self.fl - int(self.signed)

    @property
    def lsb(self) -> float:
        return 2.0**-self.fl

    def quantize(self, x: Array) -> Array:
        """Real values to integer codes (int64), rounded and overflowed per the format."""
        a, xp = _backend(x)
        scaled = a * (2.0**self.fl)
        q = round_scaled(scaled, self.rounding)
        q = self.fit(q)
        return _like_input(q, x)

    def fit(self, q: Array) -> Array:
        """Bring integer codes into range: saturate or wrap."""
        a, xp = _backend(q)
        if self.overflow is Overflow.SATURATE:
            r = xp.clip(a, self.min_int, self.max_int)
        else:
            span = 1 << self.wl
            r = (a - self.min_int) % span + self.min_int
        return _like_input(r, q)

    def overflows(self, q: Array) -> Array:
        """Boolean mask of integer codes outside the format's range."""
        a, _ = _backend(q)
        return _like_input((a < self.min_int) | (a > self.max_int), q)

    def to_real(self, q: Array) -> Array:
        """Integer codes back to real values."""
        a, _ = _backend(q)
        return _like_input(a * (2.0**-self.fl), q)


def output_range(out_bits: int, relu: bool) -> tuple[int, int]:
    """The code range of the truncation output: unsigned after ReLU, signed otherwise."""
    if relu:
        return 0, (1 << out_bits) - 1
    return -(1 << (out_bits - 1)), (1 << (out_bits - 1)) - 1


def truncate(
    acc: Array,
    *,
    drop_low: int,
    out_bits: int,
    relu: bool,
    rounding: Rounding = Rounding.FLOOR,
) -> tuple[Array, Array]:
    """Keep an ``out_bits`` window of a signed integer accumulator.

    ``out = sat(floor(acc / 2**drop_low))`` (``FLOOR``) or
    ``sat(floor(acc / 2**drop_low + 1/2))`` (``HALF_UP``); with ``relu`` the
    result is ``max(0, .)`` saturated to unsigned ``out_bits``, otherwise it is
    saturated to signed ``out_bits``. The discarded high bits are replaced by
    saturation when they are not pure sign extension.

    Returns ``(out, saturated)``: ``saturated`` is true where the kept window
    could not represent the value (a negative value clipped to 0 by ReLU is
    ReLU, not saturation).
    """
    if not isinstance(drop_low, int) or drop_low < 0:
        raise ValueError(f"drop_low must be a non-negative integer, not {drop_low!r}")
    if not isinstance(out_bits, int) or out_bits < 2:
        raise ValueError(f"out_bits must be an integer of at least 2, not {out_bits!r}")
    rounding = Rounding(rounding)
    if rounding is Rounding.HALF_EVEN:
        raise ValueError("truncate supports FLOOR and HALF_UP rounding, not HALF_EVEN")
    a, xp = _backend(acc)
    if rounding is Rounding.HALF_UP and drop_low > 0:
        a = a + (1 << (drop_low - 1))
    shifted = a >> drop_low  # arithmetic shift == floor division by 2**drop_low
    lo, hi = output_range(out_bits, relu)
    if relu:
        saturated = shifted > hi
    else:
        saturated = (shifted > hi) | (shifted < lo)
    out = xp.clip(shifted, lo, hi)
    return _like_input(out, acc), _like_input(saturated, acc)
