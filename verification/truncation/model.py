"""Reference model and output decoding for the truncation unit.

The expected values come from :func:`cimq.fixed.truncate` (one vectorised call
per segment, so the model never limits simulation speed). A deliberate fault
can be switched on to prove that the checker fails when the model and the RTL
disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cimq.fixed import truncate
from cimq.verification.truncation.stimulus import Segment

__all__ = ["FAULTS", "Result", "ReferenceModel", "decode_output"]

#: Deliberate reference faults (``CIMQ_FAULT`` / ``cimq verify --inject-fault``).
FAULTS = ("none", "reference-off-by-one")


@dataclass(frozen=True)
class Result:
    """One output of the unit: the window value (signed unless ReLU) and the flag."""

    value: int
    saturated: bool


def decode_output(raw: int, *, out_bits: int, relu: bool) -> Result:
    """Split the raw ``o_stream`` payload (``saturated`` above ``data``) and sign it."""
    value = raw & ((1 << out_bits) - 1)
    if not relu and value >> (out_bits - 1):
        value -= 1 << out_bits
    return Result(value, bool(raw >> out_bits & 1))


class ReferenceModel:
    """Expected outputs of a segment, per :func:`cimq.fixed.truncate`."""

    def __init__(self, out_bits: int, fault: str = "none") -> None:
        if fault not in FAULTS:
            raise ValueError(f"fault must be one of {', '.join(FAULTS)}, not {fault!r}")
        self.out_bits = out_bits
        self.fault = fault

    def predict(self, segment: Segment) -> list[Result]:
        c = segment.config
        out, sat = truncate(
            np.asarray(segment.accs, dtype=np.int64),
            drop_low=c.drop_low,
            out_bits=self.out_bits,
            relu=c.relu,
            rounding=c.rounding,
        )
        if self.fault == "reference-off-by-one":
            out = out + 1
        return [Result(int(v), bool(s)) for v, s in zip(out.tolist(), sat.tolist())]
