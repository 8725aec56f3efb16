"""Scoreboard: every tile output against the golden simulator's value, in order.

The expected values are in the plan (computed by :mod:`cimq.sim` in the
calling process); this only decodes the payload (``data``, ``saturated`` at
bit ``out_bits``, ``last`` at ``out_bits + 1``) and compares.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from cimq.verification.tile.plan import PlanSegment

__all__ = ["Output", "Mismatch", "Scoreboard", "decode_payload"]


@dataclass(frozen=True)
class Output:
    value: int
    saturated: bool
    last: bool


def decode_payload(raw: int, *, out_bits: int, relu: bool) -> Output:
    value = raw & ((1 << out_bits) - 1)
    if not relu and value >> (out_bits - 1):
        value -= 1 << out_bits
    return Output(value, bool(raw >> out_bits & 1), bool(raw >> (out_bits + 1) & 1))


@dataclass(frozen=True)
class Mismatch:
    segment: str
    vector: int
    output: int
    tag: str
    codes: tuple[int, ...]
    expected: Output
    got: Output

    def __str__(self) -> str:
        shown = ",".join(map(str, self.codes[:16])) + (",..." if len(self.codes) > 16 else "")
        return (f"{self.segment} vector {self.vector}{' ' + self.tag if self.tag else ''} output {self.output}: "
                f"expected {self.expected}, got {self.got}; input codes [{shown}] ({len(self.codes)} rows)")


class Scoreboard:
    def __init__(self, out_bits: int, fault: str = "none", keep: int = 10) -> None:
        self.out_bits = out_bits
        self.fault = fault
        self._expected: deque[tuple[int, str, int, int, PlanSegment, Output]] = deque()
        self._keep = keep
        self.checked = 0
        self.mismatches = 0
        self.unexpected = 0
        self.first: list[Mismatch] = []
        self.per_segment: list[int] = []

    def expect(self, index: int, segment: PlanSegment) -> None:
        while len(self.per_segment) <= index:
            self.per_segment.append(0)
        bump = 1 if self.fault == "reference-off-by-one" else 0
        for v, vec in enumerate(segment.vectors):
            n = len(vec.out)
            for o, (value, sat) in enumerate(zip(vec.out, vec.saturated)):
                self._expected.append((index, segment.label, v, o, segment, Output(value + bump, sat, o == n - 1)))

    def observe(self, raw: int) -> None:
        if not self._expected:
            self.unexpected += 1
            return
        index, label, v, o, segment, expected = self._expected.popleft()
        got = decode_payload(raw, out_bits=self.out_bits, relu=segment.relu)
        if got != expected:
            self.mismatches += 1
            if len(self.first) < self._keep:
                vec = segment.vectors[v]
                self.first.append(Mismatch(label, v, o, vec.tag, tuple(vec.codes), expected, got))
        self.per_segment[index] += 1
        self.checked += 1

    @property
    def outstanding(self) -> int:
        return len(self._expected)
