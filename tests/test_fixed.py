"""The fixed-point contract against exact rational arithmetic.

Every function of :mod:`cimq.fixed` is checked exhaustively for small widths
against :class:`fractions.Fraction`, so the reference is independent of the
integer tricks (arithmetic shifts, ``floor(v + 1/2)``) the code uses.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import torch

from cimq.fixed import FixedFormat, Overflow, Rounding, output_range, truncate


def exact_round(v: Fraction, rounding: Rounding) -> int:
    fl = math.floor(v)
    if rounding is Rounding.FLOOR:
        return fl
    frac = v - fl
    if frac > Fraction(1, 2):
        return fl + 1
    if frac < Fraction(1, 2):
        return fl
    if rounding is Rounding.HALF_UP:
        return fl + 1
    return fl if fl % 2 == 0 else fl + 1  # ties to even


def exact_quantize(v: Fraction, fmt: FixedFormat) -> int:
    q = exact_round(v * Fraction(2) ** fmt.fl, fmt.rounding)
    lo = -(2 ** (fmt.wl - 1)) if fmt.signed else 0
    hi = 2 ** (fmt.wl - 1) - 1 if fmt.signed else 2**fmt.wl - 1
    if fmt.overflow is Overflow.SATURATE:
        return min(max(q, lo), hi)
    span = 2**fmt.wl
    return (q - lo) % span + lo


# Every value on a grid four times finer than the format's LSB (so ties and
# near-ties occur), over a range wider than the format (so overflow occurs).
@pytest.mark.parametrize("wl", [2, 3, 4, 5])
@pytest.mark.parametrize("fl", [-2, 0, 3, 7])
@pytest.mark.parametrize("signed", [True, False])
@pytest.mark.parametrize("rounding", list(Rounding))
@pytest.mark.parametrize("overflow", list(Overflow))
def test_quantize_exhaustive(wl: int, fl: int, signed: bool, rounding: Rounding, overflow: Overflow) -> None:
    if signed and wl < 2:
        pytest.skip("a signed format needs two bits")
    fmt = FixedFormat(wl, fl, signed, rounding, overflow)
    step = Fraction(2) ** (-fl - 2)
    n = 2 ** (wl + 3)
    values = [k * step for k in range(-n, n + 1)]
    got = fmt.quantize(np.array([float(v) for v in values]))
    want = [exact_quantize(v, fmt) for v in values]
    assert got.dtype == np.int64
    assert got.tolist() == want
    # Torch tensors and Python scalars take the same path to the same answer.
    got_t = fmt.quantize(torch.tensor([float(v) for v in values], dtype=torch.float64))
    assert got_t.tolist() == want
    assert [fmt.quantize(float(v)) for v in values[:: max(1, n // 8)]] == want[:: max(1, n // 8)]


@pytest.mark.parametrize("fl", [9, 12])
def test_fraction_length_beyond_word_length(fl: int) -> None:
    """FL > WL: implicit leading zeros, the largest value is below 2**(wl-1-fl)."""
    fmt = FixedFormat(8, fl)
    assert fmt.to_real(fmt.max_int) == 127 / 2**fl
    assert fmt.quantize(1.0) == 127  # saturates
    assert fmt.quantize(3 / 2**fl) == 3
    assert fmt.il == 8 - fl - 1


def exact_truncate(acc: int, drop_low: int, out_bits: int, relu: bool, rounding: Rounding) -> tuple[int, bool]:
    v = exact_round(Fraction(acc, 2**drop_low), rounding)
    if relu:
        v = max(v, 0)
        lo, hi = 0, 2**out_bits - 1
    else:
        lo, hi = -(2 ** (out_bits - 1)), 2 ** (out_bits - 1) - 1
    return min(max(v, lo), hi), not lo <= v <= hi


@pytest.mark.parametrize("acc_bits,out_bits", [(6, 2), (8, 4), (9, 3)])
@pytest.mark.parametrize("relu", [True, False])
@pytest.mark.parametrize("rounding", [Rounding.FLOOR, Rounding.HALF_UP])
def test_truncate_exhaustive(acc_bits: int, out_bits: int, relu: bool, rounding: Rounding) -> None:
    """Every accumulator value of a small width, every drop_low of the window."""
    accs = np.arange(-(2 ** (acc_bits - 1)), 2 ** (acc_bits - 1), dtype=np.int64)
    for drop_low in range(acc_bits - out_bits + 1):
        out, sat = truncate(accs, drop_low=drop_low, out_bits=out_bits, relu=relu, rounding=rounding)
        want = [exact_truncate(int(a), drop_low, out_bits, relu, rounding) for a in accs]
        assert out.tolist() == [w[0] for w in want]
        assert sat.tolist() == [w[1] for w in want]
        out_t, sat_t = truncate(torch.from_numpy(accs), drop_low=drop_low, out_bits=out_bits, relu=relu, rounding=rounding)
        assert out_t.tolist() == out.tolist() and sat_t.tolist() == sat.tolist()


def test_truncate_wide_accumulator_extremes() -> None:
    """48-bit accumulators (the widest ArchConfig allows) stay exact in int64."""
    accs = [-(2**47), -(2**47) + 1, -1, 0, 1, 2**47 - 1]
    for drop_low in (0, 1, 20, 40):
        for rounding in (Rounding.FLOOR, Rounding.HALF_UP):
            out, sat = truncate(np.array(accs, dtype=np.int64), drop_low=drop_low, out_bits=8, relu=False, rounding=rounding)
            want = [exact_truncate(a, drop_low, 8, False, rounding) for a in accs]
            assert out.tolist() == [w[0] for w in want]
            assert sat.tolist() == [w[1] for w in want]


def test_output_range() -> None:
    assert output_range(8, True) == (0, 255)
    assert output_range(8, False) == (-128, 127)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"wl": 0, "fl": 0}, "Word length must be an integer in 1..62, not 0"),
        ({"wl": 8.0, "fl": 0}, "Word length must be an integer in 1..62, not 8.0"),
        ({"wl": 8, "fl": 65}, "Fraction length must be an integer in -64..64, not 65"),
        ({"wl": 1, "fl": 0, "signed": True}, "A signed format needs a word length of at least 2"),
    ],
)
def test_format_rejects_bad_parameters(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError) as info:
        FixedFormat(**kwargs)
    assert str(info.value) == message


def test_truncate_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError, match="drop_low must be a non-negative integer, not -1"):
        truncate(5, drop_low=-1, out_bits=8, relu=True)
    with pytest.raises(ValueError, match="FLOOR and HALF_UP"):
        truncate(5, drop_low=1, out_bits=8, relu=True, rounding=Rounding.HALF_EVEN)
